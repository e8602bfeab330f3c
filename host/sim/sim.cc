#include "host/sim/sim.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <optional>
#include <queue>
#include <vector>

#include "absl/strings/str_format.h"
#include "host/mech/validate.h"
#include "lib/agent.h"
#include "transport/clock.h"
#include "transport/link.h"
#include "transport/region.h"
#include "transport/session.h"

namespace wave {

const char* PlacementName(Placement p) { return p == Placement::kHost ? "host" : "ipu"; }

const char* WorkloadName(WorkloadKind w) {
  switch (w) {
    case WorkloadKind::kRocksDb:
      return "rocksdb";
    case WorkloadKind::kUniform:
      return "uniform";
    case WorkloadKind::kExponential:
      return "exponential";
  }
  return "?";
}

absl::Status ValidateSimConfig(const SimConfig& c) {
  const int min_cpus = c.placement == Placement::kHost ? 2 : 1;
  if (c.cpus < min_cpus || c.cpus > static_cast<int>(WAVE_MAX_CPUS)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("cpus must be in [%d, %d] with the agent on the %s", min_cpus,
                        WAVE_MAX_CPUS, PlacementName(c.placement)));
  }
  if (!(c.workload.load_rps > 0) || !std::isfinite(c.workload.load_rps)) {
    return absl::InvalidArgumentError("load must be a positive number of requests per second");
  }
  if (c.workload.threads < 1 || c.workload.threads > 1'000'000) {
    return absl::InvalidArgumentError("threads must be in [1, 1000000]");
  }
  if (c.duration_ns == 0) return absl::InvalidArgumentError("duration must be positive");
  if (c.ring_capacity < 16 || (c.ring_capacity & (c.ring_capacity - 1)) != 0) {
    return absl::InvalidArgumentError("ring capacity must be a power of two >= 16");
  }
  if (!(c.ipu_slowdown > 0)) return absl::InvalidArgumentError("ipu slowdown must be positive");
  if (c.workload.kind == WorkloadKind::kUniform && c.workload.min_ns > c.workload.max_ns) {
    return absl::InvalidArgumentError("uniform workload: min above max");
  }
  if (c.workload.scan_fraction < 0 || c.workload.scan_fraction > 1) {
    return absl::InvalidArgumentError("scan fraction must be in [0, 1]");
  }
  if (c.affinity_churn_per_s < 0) return absl::InvalidArgumentError("churn must be >= 0");
  return absl::OkStatus();
}

namespace {

// splitmix64: small, fast, and the same sequence on every platform (std distributions are not).
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t Next() {
    uint64_t z = (s_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, 1).
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  double Exponential(double mean) { return -mean * std::log1p(-Uniform()); }

 private:
  uint64_t s_;
};

enum class EvKind : uint8_t {
  kArrival,
  kTaskDone,    // a = cpu, b = cpu generation
  kSliceEnd,    // a = cpu, b = cpu generation
  kAgentWake,   // the agent looks at its event ring
  kAgentFlush,  // the agent finished a step and publishes its commits
  kHostPoll,    // the host looks at its commit ring
  kChurn,
};

struct SimEvent {
  uint64_t t;
  uint64_t order;  // insertion order breaks ties: determinism
  EvKind kind;
  int a;
  uint64_t b;
};

struct Later {
  bool operator()(const SimEvent& x, const SimEvent& y) const {
    return x.t != y.t ? x.t > y.t : x.order > y.order;
  }
};

enum class HState : uint8_t { kBlocked, kRunnable, kOnCpu };

struct HTask {
  uint64_t id = 0;
  Seq seq = 0;
  HState state = HState::kBlocked;
  int cpu = -1;
  int64_t req = -1;  // request being served
  uint64_t runtime_ns = 0;
};

struct HCpu {
  bool managed = false;
  int task = -1;  // index into tasks_
  uint64_t gen = 0;
  uint64_t run_start = 0;  // when the current task started making progress (after the switch)
  uint64_t busy_since = 0;
};

struct Request {
  uint64_t arrival = 0;
  uint64_t remaining = 0;
  bool done = false;
};

class Simulator {
 public:
  // `policy` is null when the agent is external (config.session names its session).
  Simulator(const SimConfig& config, Policy* policy)
      : cfg_(config), policy_(policy), external_(policy == nullptr), rng_(config.seed) {}

  absl::StatusOr<SimResult> Run();

 private:
  uint64_t Latency() const {
    return cfg_.placement == Placement::kHost ? cfg_.host_link_latency_ns : cfg_.link_latency_ns;
  }
  void At(uint64_t t, EvKind kind, int a = 0, uint64_t b = 0) {
    queue_.push({t, order_++, kind, a, b});
  }
  uint64_t ServiceTime();
  void Account(uint64_t t);

  // Host -> agent.
  void Emit(const wave_msg& m);
  void EmitTask(uint16_t type, const HTask& task, int cpu, uint32_t flags = 0);
  void EmitCpu(uint16_t type, int cpu);
  void PushBacklog();

  // Host mechanics.
  void OnArrival(uint64_t t);
  void StartRunning(int cpu, int task_idx, uint64_t t, uint64_t slice_ns);
  void OnTaskDone(int cpu, uint64_t gen, uint64_t t);
  void OnSliceEnd(int cpu, uint64_t gen, uint64_t t);
  void LeaveCpu(int cpu, uint64_t t);
  absl::Status OnHostPoll(uint64_t t);
  void OnChurn(uint64_t t);

  // Agent.
  absl::Status OnAgentWake(uint64_t t);
  absl::Status OnAgentFlush(uint64_t t);

  // External agent: the session handshake, and the real-time loop.
  absl::Status SetUpLink();
  absl::Status Step(const SimEvent& ev);
  absl::Status RunVirtual();
  absl::Status RunRealTime();

  SimResult Finish();

  const SimConfig cfg_;
  Policy* policy_;
  const bool external_;
  Rng rng_;
  ManualClock clock_;
  MonotonicClock monotonic_;
  std::optional<Session> session_;  // external mode
  bool arrival_pending_ = false;    // an arrival is queued
  SharedRegion region_;
  std::optional<HostEnd> host_;
  std::optional<Agent> agent_;

  std::priority_queue<SimEvent, std::vector<SimEvent>, Later> queue_;
  uint64_t order_ = 0;
  uint64_t now_ = 0;

  std::vector<HTask> tasks_;
  std::vector<HCpu> cpus_;
  uint64_t managed_mask_ = 0;      // every task may run on every workload cpu
  std::vector<int> idle_workers_;  // stack of blocked worker indices
  std::deque<int64_t> app_queue_;  // requests waiting for a worker
  std::vector<Request> requests_;
  std::vector<uint64_t> latencies_ns_;
  std::deque<wave_msg> backlog_;  // events waiting for ring space

  uint64_t last_wake_scheduled_ = UINT64_MAX;
  uint64_t agent_busy_until_ = 0;
  bool flush_pending_ = false;
  uint64_t agent_busy_ns_ = 0;

  // Accounting.
  uint64_t last_account_t_ = 0;
  int idle_managed_ = 0;
  int runnable_waiting_ = 0;
  uint64_t idle_with_work_ns_ = 0;
  uint64_t cpu_busy_ns_ = 0;

  SimResult res_;
};

uint64_t Simulator::ServiceTime() {
  const WorkloadConfig& w = cfg_.workload;
  switch (w.kind) {
    case WorkloadKind::kRocksDb:
      return rng_.Uniform() < w.scan_fraction ? w.scan_ns : w.get_ns;
    case WorkloadKind::kUniform:
      return w.min_ns + static_cast<uint64_t>(rng_.Uniform() * (w.max_ns - w.min_ns + 1));
    case WorkloadKind::kExponential:
      return std::max<uint64_t>(1, static_cast<uint64_t>(rng_.Exponential(w.mean_ns)));
  }
  return w.get_ns;
}

void Simulator::Account(uint64_t t) {
  if (t > last_account_t_) {
    idle_with_work_ns_ += (t - last_account_t_) * std::min(idle_managed_, runnable_waiting_);
    last_account_t_ = t;
  }
}

void Simulator::Emit(const wave_msg& m) {
  ++res_.events_sent;
  if (!backlog_.empty() || !host_->events.Push(m)) {
    if (backlog_.empty()) ++res_.event_ring_full;
    backlog_.push_back(m);
    return;
  }
  if (external_) return;  // the agent polls on its own
  const uint64_t wake = now_ + Latency();
  if (wake != last_wake_scheduled_) {
    At(wake, EvKind::kAgentWake);
    last_wake_scheduled_ = wake;
  }
}

void Simulator::PushBacklog() {
  bool pushed = false;
  while (!backlog_.empty() && host_->events.Push(backlog_.front())) {
    backlog_.pop_front();
    pushed = true;
  }
  if (pushed && !external_) {
    At(now_ + Latency(), EvKind::kAgentWake);
    last_wake_scheduled_ = now_ + Latency();
  }
}

void Simulator::EmitTask(uint16_t type, const HTask& task, int cpu, uint32_t flags) {
  wave_msg m;
  wave_msg_init(&m, type);
  m.task.task_id = task.id;
  m.task.seq = task.seq;
  m.task.time_ns = now_;
  m.task.runtime_ns = task.runtime_ns;
  m.task.cpu_mask = managed_mask_;
  m.task.cpu = cpu;
  m.task.flags = flags;
  Emit(m);
}

void Simulator::EmitCpu(uint16_t type, int cpu) {
  wave_msg m;
  wave_msg_init(&m, type);
  m.cpu.time_ns = now_;
  m.cpu.cpu = cpu;
  Emit(m);
}

void Simulator::OnArrival(uint64_t t) {
  arrival_pending_ = t < cfg_.duration_ns;
  if (t < cfg_.duration_ns) {
    At(t + std::max<uint64_t>(
               1, static_cast<uint64_t>(rng_.Exponential(1e9 / cfg_.workload.load_rps))),
       EvKind::kArrival);
  }
  const int64_t r = static_cast<int64_t>(requests_.size());
  requests_.push_back({t, ServiceTime(), false});
  ++res_.arrived;
  if (idle_workers_.empty()) {
    app_queue_.push_back(r);
    return;
  }
  const int w = idle_workers_.back();
  idle_workers_.pop_back();
  HTask& task = tasks_[w];
  task.req = r;
  task.state = HState::kRunnable;
  ++task.seq;
  ++runnable_waiting_;
  EmitTask(WAVE_EV_TASK_WAKEUP, task, -1);
}

void Simulator::StartRunning(int cpu, int task_idx, uint64_t t, uint64_t slice_ns) {
  HCpu& c = cpus_[cpu];
  HTask& task = tasks_[task_idx];
  if (c.task != -1 || task.state != HState::kRunnable) ++res_.invariant_violations;
  c.task = task_idx;
  ++c.gen;
  c.busy_since = t;
  c.run_start = t + cfg_.ctx_switch_ns;
  --idle_managed_;
  --runnable_waiting_;
  task.state = HState::kOnCpu;
  task.cpu = cpu;
  ++task.seq;
  EmitTask(WAVE_EV_TASK_ON_CPU, task, cpu);
  const uint64_t remaining = requests_[task.req].remaining;
  if (slice_ns != 0 && slice_ns < remaining) {
    At(c.run_start + slice_ns, EvKind::kSliceEnd, cpu, c.gen);
  } else {
    At(c.run_start + remaining, EvKind::kTaskDone, cpu, c.gen);
  }
}

// The running task leaves `cpu` (blocked or preempted); the cpu goes idle.
void Simulator::LeaveCpu(int cpu, uint64_t t) {
  HCpu& c = cpus_[cpu];
  HTask& task = tasks_[c.task];
  if (t > c.run_start) task.runtime_ns += t - c.run_start;
  cpu_busy_ns_ += t - c.busy_since;
  task.cpu = -1;
  c.task = -1;
  ++c.gen;
  ++idle_managed_;
}

void Simulator::OnTaskDone(int cpu, uint64_t gen, uint64_t t) {
  HCpu& c = cpus_[cpu];
  if (gen != c.gen || c.task == -1) return;
  const int idx = c.task;
  HTask& task = tasks_[idx];
  Request& req = requests_[task.req];
  if (req.done) ++res_.invariant_violations;
  req.done = true;
  req.remaining = 0;
  ++res_.completed;
  if (t <= cfg_.duration_ns) ++res_.completed_in_window;
  latencies_ns_.push_back(t - req.arrival);
  if (!app_queue_.empty()) {  // the worker loops to the next request without blocking
    task.req = app_queue_.front();
    app_queue_.pop_front();
    task.runtime_ns += t - c.run_start;
    c.run_start = t;
    At(t + requests_[task.req].remaining, EvKind::kTaskDone, cpu, c.gen);
    return;
  }
  task.req = -1;
  LeaveCpu(cpu, t);
  task.state = HState::kBlocked;
  ++task.seq;
  EmitTask(WAVE_EV_TASK_BLOCKED, task, cpu);
  EmitCpu(WAVE_EV_CPU_IDLE, cpu);
  idle_workers_.push_back(idx);
}

void Simulator::OnSliceEnd(int cpu, uint64_t gen, uint64_t t) {
  HCpu& c = cpus_[cpu];
  if (gen != c.gen || c.task == -1) return;
  HTask& task = tasks_[c.task];
  Request& req = requests_[task.req];
  const uint64_t ran = t > c.run_start ? t - c.run_start : 0;
  req.remaining = req.remaining > ran ? req.remaining - ran : 0;
  LeaveCpu(cpu, t);
  task.state = HState::kRunnable;
  ++runnable_waiting_;
  ++task.seq;
  EmitTask(WAVE_EV_TASK_PREEMPTED, task, cpu);
  EmitCpu(WAVE_EV_CPU_IDLE, cpu);
}

absl::Status Simulator::OnHostPoll(uint64_t t) {
  clock_.Set(t);
  RingConsumer& ring = host_->commits;
  for (;;) {
    absl::StatusOr<uint32_t> n = ring.Peek(ring.capacity());
    if (!n.ok()) return n.status();
    if (*n == 0) break;
    wave_msg m;
    for (uint32_t i = 0; i < *n; ++i) {
      ring.Read(i, &m);  // the copy is validated, never the shared slot
      const wave_a2k_commit& c = m.commit;
      HostTaskView tv;
      const HostTaskView* tvp = nullptr;
      // Worker ids are 1..threads; anything else is unknown to this host.
      const bool known = c.task_id >= 1 && c.task_id <= tasks_.size();
      const int idx = known ? static_cast<int>(c.task_id - 1) : -1;
      if (known) {
        const HTask& task = tasks_[idx];
        tv.seq = task.seq;
        tv.cpu_mask = managed_mask_;
        tv.runnable = task.state == HState::kRunnable;
        tv.on_cpu = task.state == HState::kOnCpu;
        tvp = &tv;
      }
      HostCpuView cv;
      const HostCpuView* cvp = nullptr;
      if (c.cpu >= 0 && c.cpu < cfg_.cpus) {
        cv.managed = cpus_[c.cpu].managed;
        cv.busy = cpus_[c.cpu].task != -1;
        cvp = &cv;
      }
      wave_commit_status st = ValidateCommit(c, tvp, cfg_.cpus, cvp);
      // Preemption is not part of this mechanism yet: a PREEMPT commit to a busy cpu is busy.
      if (st == WAVE_COMMIT_OK && cv.busy) st = WAVE_COMMIT_CPU_BUSY;
      if (external_) {  // the host's view of the agent's commits
        ++res_.agent.commits_sent;
        ++res_.agent.results[st < WAVE_COMMIT_STATUS_COUNT ? st : WAVE_COMMIT_MALFORMED];
      }
      if (st == WAVE_COMMIT_OK) {
        StartRunning(c.cpu, idx, t, c.slice_ns);
        Emit(MakeCommitResult(c, st, tasks_[idx].seq, t));
      } else {
        Emit(MakeCommitResult(c, st, known ? tasks_[idx].seq : 0, t));
      }
    }
    ring.Advance(*n);
  }
  ring.ReturnCredits();
  return absl::OkStatus();
}

void Simulator::OnChurn(uint64_t t) {
  if (t < cfg_.duration_ns) {
    At(t + std::max<uint64_t>(
               1, static_cast<uint64_t>(rng_.Exponential(1e9 / cfg_.affinity_churn_per_s))),
       EvKind::kChurn);
  }
  HTask& task = tasks_[rng_.Next() % tasks_.size()];
  if (task.state != HState::kRunnable) return;
  ++task.seq;
  EmitTask(WAVE_EV_TASK_AFFINITY, task, -1);
}

absl::Status Simulator::OnAgentWake(uint64_t t) {
  if (flush_pending_ || t < agent_busy_until_) return absl::OkStatus();  // the flush re-polls
  clock_.Set(t);
  absl::StatusOr<PollResult> r = agent_->Poll();
  if (!r.ok()) return r.status();
  if (r->events == 0 && agent_->queued_commits() == 0) {
    agent_->ReturnCredits();
    return absl::OkStatus();
  }
  double cost = static_cast<double>(cfg_.agent_poll_cost_ns + r->events * cfg_.agent_event_cost_ns +
                                    r->commits * cfg_.agent_commit_cost_ns);
  if (cfg_.placement == Placement::kIpu) cost *= cfg_.ipu_slowdown;
  const uint64_t c = std::max<uint64_t>(1, static_cast<uint64_t>(cost));
  agent_busy_until_ = t + c;
  agent_busy_ns_ += c;
  flush_pending_ = true;
  At(t + c, EvKind::kAgentFlush);
  return absl::OkStatus();
}

absl::Status Simulator::OnAgentFlush(uint64_t t) {
  flush_pending_ = false;
  clock_.Set(t);
  absl::StatusOr<uint32_t> n = agent_->Flush();
  if (!n.ok()) return n.status();
  agent_->ReturnCredits();
  if (*n > 0) At(t + Latency(), EvKind::kHostPoll);
  PushBacklog();
  // Look again right away: events may have become visible while the agent was busy.
  At(t, EvKind::kAgentWake);
  return absl::OkStatus();
}

absl::StatusOr<SimResult> Simulator::Run() {
  if (absl::Status s = ValidateSimConfig(cfg_); !s.ok()) return s;
  if (absl::Status s = SetUpLink(); !s.ok()) return s;

  cpus_.assign(cfg_.cpus, HCpu{});
  const int first = cfg_.placement == Placement::kHost ? 1 : 0;  // cpu 0 runs the agent
  for (int c = first; c < cfg_.cpus; ++c) {
    cpus_[c].managed = true;
    managed_mask_ |= 1ull << c;
  }
  res_.workload_cpus = cfg_.cpus - first;

  tasks_.resize(cfg_.workload.threads);
  for (int i = 0; i < cfg_.workload.threads; ++i) {
    tasks_[i].id = static_cast<uint64_t>(i) + 1;
    tasks_[i].seq = 1;
    EmitTask(WAVE_EV_TASK_NEW, tasks_[i], -1);
  }
  // Stack order: the lowest id is handed the first request.
  for (int i = cfg_.workload.threads - 1; i >= 0; --i) idle_workers_.push_back(i);
  for (int c = first; c < cfg_.cpus; ++c) {
    EmitCpu(WAVE_EV_CPU_IDLE, c);
    ++idle_managed_;
  }
  At(static_cast<uint64_t>(rng_.Exponential(1e9 / cfg_.workload.load_rps)), EvKind::kArrival);
  if (cfg_.affinity_churn_per_s > 0) {
    At(static_cast<uint64_t>(rng_.Exponential(1e9 / cfg_.affinity_churn_per_s)), EvKind::kChurn);
  }

  absl::Status s = external_ ? RunRealTime() : RunVirtual();
  if (session_.has_value()) session_->Close();  // the agent exits cleanly, or notices
  if (!s.ok()) return s;
  return Finish();
}

absl::Status Simulator::SetUpLink() {
  if (external_) {
    SessionParams params;
    params.event_capacity = cfg_.ring_capacity;
    params.commit_capacity = cfg_.ring_capacity;
    params.num_cpus = static_cast<uint32_t>(cfg_.cpus);
    params.link_latency_ns = static_cast<uint32_t>(Latency());
    absl::StatusOr<Session> session = Session::Create(cfg_.session, params);
    if (!session.ok()) return session.status();
    // Closed (below) only once accepted: a rejected or absent agent has nothing to be told.
    if (absl::Status s = session->WaitForAgent(cfg_.agent_join_timeout_ns); !s.ok()) return s;
    session_.emplace(*std::move(session));
    const LinkModel link = session_->link_model();
    absl::StatusOr<HostEnd> host = session_->AttachHost(link, link);
    if (!host.ok()) return host.status();
    host_.emplace(*std::move(host));
    return absl::OkStatus();
  }
  LinkConfig lc{.event_capacity = cfg_.ring_capacity, .commit_capacity = cfg_.ring_capacity};
  absl::StatusOr<SharedRegion> region = SharedRegion::CreateAnonymous(LinkBytes(lc));
  if (!region.ok()) return region.status();
  region_ = *std::move(region);
  if (absl::Status s = LinkFormat(region_.data(), region_.size(), lc); !s.ok()) return s;
  const LinkModel link{.clock = &clock_, .latency_ns = Latency()};
  absl::StatusOr<HostEnd> host = AttachHost(region_.data(), region_.size(), link, link);
  if (!host.ok()) return host.status();
  absl::StatusOr<AgentEnd> agent_end = AttachAgent(region_.data(), region_.size(), link, link);
  if (!agent_end.ok()) return agent_end.status();
  host_.emplace(*std::move(host));
  agent_.emplace(*std::move(agent_end), *policy_, AgentOptions{.num_cpus = cfg_.cpus});
  return absl::OkStatus();
}

// Real time: an event runs once the monotonic clock, counted from the start, passes its time;
// in between, the host polls the commit ring, as a kernel does at every scheduling point.
absl::Status Simulator::RunRealTime() {
  constexpr uint64_t kCheckPeriodNs = 1'000'000;
  const uint64_t t0 = monotonic_.NowNs();
  const uint64_t end = cfg_.duration_ns + cfg_.drain_limit_ns;
  uint64_t next_check = 0;
  for (;;) {
    const uint64_t rt = monotonic_.NowNs() - t0;
    while (!queue_.empty() && queue_.top().t <= rt) {
      const SimEvent ev = queue_.top();
      queue_.pop();
      if (absl::Status s = Step(ev); !s.ok()) return s;
    }
    Account(rt);
    now_ = rt;
    if (absl::Status s = OnHostPoll(rt); !s.ok()) return s;
    PushBacklog();
    session_->Beat();
    if (rt >= next_check) {
      next_check = rt + kCheckPeriodNs;
      if (absl::Status s = session_->CheckPeer(cfg_.heartbeat_timeout_ns); !s.ok()) return s;
    }
    if (rt > cfg_.duration_ns && !arrival_pending_ && res_.completed == res_.arrived) break;
    if (rt > end) break;
  }
  return absl::OkStatus();
}

// One queued event: account for the time up to it, then apply it.
absl::Status Simulator::Step(const SimEvent& ev) {
  Account(ev.t);
  now_ = ev.t;
  switch (ev.kind) {
    case EvKind::kArrival:
      OnArrival(ev.t);
      return absl::OkStatus();
    case EvKind::kTaskDone:
      OnTaskDone(ev.a, ev.b, ev.t);
      return absl::OkStatus();
    case EvKind::kSliceEnd:
      OnSliceEnd(ev.a, ev.b, ev.t);
      return absl::OkStatus();
    case EvKind::kChurn:
      OnChurn(ev.t);
      return absl::OkStatus();
    case EvKind::kAgentWake:  // the agent's events are queued only in virtual time
      return OnAgentWake(ev.t);
    case EvKind::kAgentFlush:
      return OnAgentFlush(ev.t);
    case EvKind::kHostPoll:
      return OnHostPoll(ev.t);
  }
  return absl::OkStatus();
}

absl::Status Simulator::RunVirtual() {
  const uint64_t end = cfg_.duration_ns + cfg_.drain_limit_ns;
  while (!queue_.empty() && queue_.top().t <= end) {
    const SimEvent ev = queue_.top();
    queue_.pop();
    if (absl::Status s = Step(ev); !s.ok()) return s;
  }
  return absl::OkStatus();
}

SimResult Simulator::Finish() {
  SimResult& r = res_;
  r.config = cfg_;
  r.policy = policy_ != nullptr ? policy_->name() : "external";
  r.end_ns = now_;
  for (int c = 0; c < cfg_.cpus; ++c) {
    if (cpus_[c].task != -1) cpu_busy_ns_ += now_ - cpus_[c].busy_since;
  }
  const bool cpu_idle = idle_managed_ > 0;
  for (const HTask& t : tasks_) {
    if (t.state == HState::kRunnable && cpu_idle) ++r.lost_tasks;
  }
  r.incomplete_requests = r.arrived - r.completed;
  r.throughput_rps =
      static_cast<double>(r.completed_in_window) / (static_cast<double>(cfg_.duration_ns) / 1e9);
  if (!latencies_ns_.empty()) {
    std::vector<uint64_t>& v = latencies_ns_;
    std::sort(v.begin(), v.end());
    auto pct = [&](double p) {
      size_t rank = static_cast<size_t>(std::ceil(p * static_cast<double>(v.size())));
      rank = std::clamp<size_t>(rank, 1, v.size());
      return static_cast<double>(v[rank - 1]) / 1e3;
    };
    r.latency_p50_us = pct(0.50);
    r.latency_p99_us = pct(0.99);
    r.latency_p999_us = pct(0.999);
    r.latency_max_us = static_cast<double>(v.back()) / 1e3;
    long double sum = 0;
    for (uint64_t x : v) sum += x;
    r.latency_mean_us = static_cast<double>(sum / v.size() / 1e3);
  }
  if (agent_.has_value()) r.agent = agent_->stats();
  const AgentStats& a = r.agent;
  r.commits_ok = a.commits_ok();
  r.commits_stale = a.commits_stale();
  r.commits_rejected = a.commits_rejected();
  const double elapsed = static_cast<double>(std::max<uint64_t>(now_, 1));
  r.agent_busy_fraction = static_cast<double>(agent_busy_ns_) / elapsed;
  const double cpu_time = elapsed * std::max(1, r.workload_cpus);
  r.cpu_utilization = static_cast<double>(cpu_busy_ns_) / cpu_time;
  r.idle_with_work_fraction = static_cast<double>(idle_with_work_ns_) / cpu_time;
  return r;
}

}  // namespace

absl::StatusOr<SimResult> RunSim(const SimConfig& config, Policy& policy) {
  if (!config.session.empty()) {
    return absl::InvalidArgumentError("RunSim runs the agent in-process: use RunSimExternal");
  }
  Simulator sim(config, &policy);
  return sim.Run();
}

absl::StatusOr<SimResult> RunSimExternal(const SimConfig& config) {
  if (config.session.empty()) return absl::InvalidArgumentError("no session to run the agent");
  if (config.heartbeat_timeout_ns == 0) {
    return absl::InvalidArgumentError("heartbeat timeout must be positive");
  }
  Simulator sim(config, nullptr);
  return sim.Run();
}

}  // namespace wave
