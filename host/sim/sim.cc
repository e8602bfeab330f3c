#include "host/sim/sim.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <optional>
#include <queue>
#include <vector>

#include "absl/strings/str_format.h"
#include "host/mech/validate.h"
#include "lib/sched/agent.h"
#include "lib/sched/nice.h"
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
    case WorkloadKind::kRpc:
      return "rpc";
    case WorkloadKind::kVms:
      return "vms";
    case WorkloadKind::kCpuBound:
      return "cpubound";
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
  if (c.workload.kind == WorkloadKind::kVms &&
      (c.workload.vms < 1 || c.workload.vms > 64 || c.workload.vcpus_per_vm < 1 ||
       c.workload.vcpus_per_vm > static_cast<int>(WAVE_MAX_CPUS) || c.workload.antagonists < 0 ||
       c.workload.antagonists > 1024 || !(c.workload.vm_alone_rate >= 0) ||
       c.workload.vm_alone_rate > 1)) {
    return absl::InvalidArgumentError(
        "vms workload: 1-64 vms of 1-64 vcpus, 0-1024 antagonists, alone rate in [0, 1]");
  }
  for (int n : c.workload.nice) {
    if (n < kMinNice || n > kMaxNice) {
      return absl::InvalidArgumentError(
          absl::StrFormat("nice values must be in [%d, %d], got %d", kMinNice, kMaxNice, n));
    }
  }
  if (c.prestage_depth != 0 && (c.prestage_depth < 2 || c.prestage_depth > kMaxStageDepth ||
                                (c.prestage_depth & (c.prestage_depth - 1)) != 0)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "prestage depth must be 0 (off) or a power of two in [2, %u]", kMaxStageDepth));
  }
  // A resync replays every task and cpu in one batch: the event ring must hold it.
  const uint64_t replay = static_cast<uint64_t>(c.workload.threads) + c.cpus + 2;
  if (c.ring_capacity < replay) {
    return absl::InvalidArgumentError(
        absl::StrFormat("ring capacity %u cannot hold a resync replay of %u threads + %u cpus + 2",
                        c.ring_capacity, c.workload.threads, c.cpus));
  }
  if (c.heartbeat_period_ns == 0 || c.heartbeat_timeout_ns == 0) {
    return absl::InvalidArgumentError("heartbeat period and timeout must be positive");
  }
  if (c.fallback_slice_ns == 0)
    return absl::InvalidArgumentError("fallback slice must be positive");
  if (c.agent_restart_at_ns != 0 &&
      (c.agent_fail_at_ns == 0 || c.agent_restart_at_ns <= c.agent_fail_at_ns)) {
    return absl::InvalidArgumentError("an agent restart must come after an agent failure");
  }
  if (!c.session.empty() && (c.agent_fail_at_ns != 0 || c.agent_restart_at_ns != 0)) {
    return absl::InvalidArgumentError(
        "agent failure knobs are for the in-process agent; kill the agent process instead");
  }
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
  kWorkEnd,     // cpubound: the workers' work ends
  kTaskDone,    // a = cpu, b = cpu generation
  kSliceEnd,    // a = cpu, b = cpu generation
  kAgentWake,   // the agent looks at its event ring
  kAgentFlush,  // the agent finished a step and publishes its commits
  kHostPoll,    // the host looks at its commit ring
  kChurn,
  kAgentBeat,     // the (in-process) agent stores its heartbeat
  kHostCheck,     // the host checks the agent's heartbeat
  kAgentRestart,  // test knob: a new agent starts
  kNetDeliver,    // rpc: the host's network stack hands request b to thread a
  kVcpuWake,      // vms: vCPU thread a ends its halt
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
  int nice = 0;
  int vm = -1;  // vms: the VM whose vCPU this is, or -1
};

// vms: one VM's progress, integrated at every change of how many of its vCPUs run or are
// active (not halted).
struct HVm {
  int running = 0;
  int active = 0;
  uint64_t since = 0;
  double useful_ns = 0;  // vCPU-ns of useful work

  void Accrue(uint64_t t, double alone_rate) {
    if (t > since) {
      const double dt = static_cast<double>(t - since);
      useful_ns += running == active ? dt * running : dt * running * alone_rate;
    }
    since = std::max(since, t);
  }
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
  bool get = false;  // a rocksdb GET
};

// cpubound: work that outlasts any run (and whose end time cannot overflow).
constexpr uint64_t kEndlessNs = uint64_t{1} << 62;

enum class Mode : uint8_t { kAgent, kFallback };

class Simulator {
 public:
  // `policy` is null when the agent is external (config.session names its session);
  // `make_policy` (may be null) makes the policy of a restarted agent.
  Simulator(const SimConfig& config, Policy* policy, PolicyFactory make_policy = nullptr,
            bool kernel = false)
      : cfg_(config),
        policy_(policy),
        make_policy_(std::move(make_policy)),
        external_(policy == nullptr && !kernel),
        kernel_(kernel),
        rng_(config.seed) {
    if (kernel_) mode_ = Mode::kFallback;  // the host's own policy, from the start
  }

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
  // A task event with the task's state; the cpu set (NEW, AFFINITY) is the managed cpus.
  wave_msg TaskMsg(uint16_t type, const HTask& task, int cpu, uint32_t flags = 0) const;
  void EmitTask(uint16_t type, const HTask& task, int cpu, uint32_t flags = 0);
  void EmitCpu(uint16_t type, int cpu, uint64_t task_id = 0, uint32_t flags = 0);
  void WakeAgent();
  // After an overflow (or for a new agent): RESYNC_BEGIN, every task, every idle cpu,
  // RESYNC_END, in one batch once the ring has room for it.
  void TryResync();

  // Host mechanics.
  void OnArrival(uint64_t t);
  // vms: task_idx starts (+1) or stops (-1) running at t.
  void VmChange(int task_idx, uint64_t t, int delta);
  void OnVcpuBurstDone(int cpu, int idx, uint64_t t);
  void OnVcpuWake(int idx, uint64_t t);
  uint64_t VcpuBurst();
  // Thread w wakes up to serve request r.
  void Wake(int w, int64_t r, uint64_t t);
  void OnRpcArrival(int64_t r, uint64_t t);
  void OnNetDeliver(int w, int64_t r, uint64_t t);
  // A request of `service_ns` arrives: an idle worker wakes for it, or it waits for one.
  void AddRequest(uint64_t t, uint64_t service_ns);
  void OnWorkEnd(uint64_t t);
  void StartRunning(int cpu, int task_idx, uint64_t t, uint64_t slice_ns);
  void OnTaskDone(int cpu, uint64_t gen, uint64_t t);
  void OnSliceEnd(int cpu, uint64_t gen, uint64_t t);
  void LeaveCpu(int cpu, uint64_t t);
  // The task on `cpu` stops running and stays runnable (slice end or preemption).
  void Preempt(int cpu, uint64_t t);
  // `cpu` has nothing to run: a staged decision, the fallback queue, or CPU_IDLE.
  void CpuFreed(int cpu, uint64_t t);
  // Takes `cpu`'s staged decisions in order until one is valid (runs it: true) or none is left.
  bool TakeStaged(int cpu, uint64_t t);
  absl::Status OnHostPoll(uint64_t t);
  void OnChurn(uint64_t t);
  HostTaskView TaskView(int idx) const;
  // Only a commit of the current epoch is the live agent's.
  bool CurrentEpoch(const wave_a2k_commit& c) const { return wave_txn_epoch(c.txn_id) == epoch_; }

  // Failure handling.
  void EnterFallback(uint64_t t, const std::string& why);
  void FallbackDispatch(uint64_t t);
  void LeaveFallback(uint64_t t);
  // Arrivals are over and every request is done (periodic heartbeats stop then).
  bool Done(uint64_t t) const {
    return t > cfg_.duration_ns && !arrival_pending_ && res_.completed == res_.arrived;
  }
  absl::Status RestartAgent(uint64_t t);
  absl::Status RealTimeAgentCheck(uint64_t t);

  // Agent.
  absl::Status OnAgentWake(uint64_t t);
  absl::Status OnAgentFlush(uint64_t t);
  absl::Status AttachInProcess();
  // The scheduling channel of the run, with a staging lane per cpu when it prestages.
  LinkConfig SimLinkConfig() const {
    return LinkConfig::Sched(cfg_.ring_capacity, cfg_.ring_capacity,
                             cfg_.prestage_depth == 0 ? 0u : static_cast<uint32_t>(cfg_.cpus),
                             cfg_.prestage_depth);
  }

  // External agent: the session handshake, and the real-time loop.
  absl::Status SetUpLink();
  absl::Status Step(const SimEvent& ev);
  absl::Status RunVirtual();
  absl::Status RunRealTime();

  SimResult Finish();

  const SimConfig cfg_;
  Policy* policy_;
  PolicyFactory make_policy_;
  std::unique_ptr<Policy> owned_policy_;  // a restarted agent's
  const bool external_;
  const bool kernel_;  // no agent at all: the host's policy runs everything
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
  CpuSet managed_;                              // every task may run on every workload cpu
  std::vector<int> idle_workers_;               // stack of blocked worker indices
  std::deque<int64_t> app_queue_;               // requests waiting for a worker
  std::vector<std::deque<int64_t>> rpc_queue_;  // rpc: requests waiting for their flow's thread
  std::vector<int64_t> pending_rpc_;            // rpc: the request waking each thread, or -1
  std::vector<HVm> vms_;                        // vms
  std::vector<Request> requests_;
  std::vector<uint64_t> latencies_ns_;
  std::vector<uint64_t> get_latencies_ns_;

  // Transactions and resync.
  CommitAssembler assembler_;
  std::vector<CommitUnit> units_;
  uint32_t epoch_ = 0;  // of the last resync (abi/wave_link.h): 1..65535, wrapping
  bool need_resync_ = false;
  uint32_t resync_reason_ = 0;
  // Failure handling.
  Mode mode_ = Mode::kAgent;
  bool agent_failed_ = false;  // in-process agent stopped (test knob)
  uint64_t last_beat_ = 0;     // the in-process agent's last heartbeat
  uint64_t fallback_since_ = 0;
  std::deque<int> host_rq_;  // the host's own run queue, in fallback
  bool reopened_ = false;    // external: the session waits for a new agent
  AgentStats past_agents_;   // stats of agents replaced by a restart

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
    case WorkloadKind::kRpc:
      return std::max<uint64_t>(1, static_cast<uint64_t>(rng_.Exponential(w.mean_ns)));
    case WorkloadKind::kVms:
      return UINT64_MAX / 4;  // endless
    case WorkloadKind::kCpuBound:
      return kEndlessNs;  // no arrivals: the workers' work is made in Run()
  }
  return w.get_ns;
}

void Simulator::Account(uint64_t t) {
  if (t > last_account_t_) {
    idle_with_work_ns_ += (t - last_account_t_) * std::min(idle_managed_, runnable_waiting_);
    last_account_t_ = t;
  }
}

void Simulator::WakeAgent() {
  if (external_) return;  // the agent polls on its own
  const uint64_t wake = now_ + Latency();
  if (wake != last_wake_scheduled_) {
    At(wake, EvKind::kAgentWake);
    last_wake_scheduled_ = wake;
  }
}

void Simulator::Emit(const wave_msg& m) {
  if (mode_ == Mode::kFallback) return;  // no agent to tell; a new one gets a replay
  if (need_resync_) {  // the agent's view is already lost; the replay will carry this too
    ++res_.event_ring_full;
    return;
  }
  if (!host_->events.Push(m)) {
    if (!host_->events.status().ok()) {
      EnterFallback(now_, "event ring: " + std::string(host_->events.status().message()));
      return;
    }
    ++res_.event_ring_full;  // never block the host: drop, and resynchronise the agent
    need_resync_ = true;
    resync_reason_ = WAVE_RESYNC_OVERFLOW;
    return;
  }
  ++res_.events_sent;
  WakeAgent();
}

void Simulator::TryResync() {
  if (!need_resync_ || mode_ == Mode::kFallback) return;
  RingProducer& ring = host_->events;
  int idle = 0;
  for (int c = 0; c < cfg_.cpus; ++c) idle += cpus_[c].managed && cpus_[c].task == -1;
  const uint32_t n = static_cast<uint32_t>(tasks_.size() + idle + 2);
  if (!ring.ReserveBulk(n)) return;  // not yet: try again at the next step
  epoch_ = wave_epoch_next(epoch_);
  ++res_.resyncs;
  uint32_t i = 0;
  wave_msg m;
  wave_msg_init(&m, WAVE_EV_RESYNC_BEGIN);
  m.resync.time_ns = now_;
  m.resync.epoch = epoch_;
  m.resync.reason = resync_reason_;
  m.resync.subsystem = WAVE_SUBSYS_SCHED;
  ring.Write(i++, m);
  for (const HTask& task : tasks_) {
    const uint32_t flags = task.state == HState::kRunnable ? WAVE_TASK_F_RUNNABLE
                           : task.state == HState::kOnCpu  ? WAVE_TASK_F_ON_CPU
                                                           : 0;
    m = TaskMsg(WAVE_EV_TASK_NEW, task, task.state == HState::kOnCpu ? task.cpu : -1, flags);
    ring.Write(i++, m);
  }
  for (int c = 0; c < cfg_.cpus; ++c) {
    if (!cpus_[c].managed || cpus_[c].task != -1) continue;
    wave_msg_init(&m, WAVE_EV_CPU_IDLE);
    m.cpu.time_ns = now_;
    m.cpu.cpu = c;
    ring.Write(i++, m);
  }
  wave_msg_init(&m, WAVE_EV_RESYNC_END);
  m.resync.time_ns = now_;
  m.resync.epoch = epoch_;
  m.resync.subsystem = WAVE_SUBSYS_SCHED;
  m.resync.records = i - 1;
  ring.Write(i++, m);
  ring.Submit(i);
  res_.events_sent += i;
  need_resync_ = false;
  resync_reason_ = 0;
  // Decisions staged on the forgotten state: drop what is there (later ones fail the epoch).
  for (RingConsumer& staged : host_->lanes) {
    absl::StatusOr<uint32_t> k = staged.Peek(staged.capacity());
    if (k.ok()) staged.Advance(*k);
    staged.ReturnCredits();
  }
  WakeAgent();
}

wave_msg Simulator::TaskMsg(uint16_t type, const HTask& task, int cpu, uint32_t flags) const {
  wave_msg m;
  wave_msg_init(&m, type);
  m.task.task_id = task.id;
  m.task.seq = task.seq;
  m.task.time_ns = now_;
  m.task.runtime_ns = task.runtime_ns;
  m.task.cpu = cpu;
  m.task.flags = flags;
  m.task.gang = task.vm >= 0 ? static_cast<uint32_t>(task.vm + 1) : 0;
  m.task.nice = static_cast<int16_t>(task.nice);
  // Every task may run on every workload cpu: ALL, or a RANGE without the agent's cpu, never
  // chunks.
  wave_msg no_chunks[kMaxCpuChunks];
  EncodeTaskCpus(managed_, cfg_.cpus, &m.task, no_chunks);
  return m;
}

void Simulator::EmitTask(uint16_t type, const HTask& task, int cpu, uint32_t flags) {
  Emit(TaskMsg(type, task, cpu, flags));
}

void Simulator::VmChange(int task_idx, uint64_t t, int delta) {
  const HTask& task = tasks_[task_idx];
  if (task.vm < 0) return;  // antagonists are accounted through runtime_ns
  HVm& vm = vms_[task.vm];
  vm.Accrue(t, cfg_.workload.vm_alone_rate);
  vm.running += delta;
}

// vms: a vCPU finished its burst: it halts for a while, then wakes with the next one.
void Simulator::OnVcpuBurstDone(int cpu, int idx, uint64_t t) {
  HTask& task = tasks_[idx];
  requests_[task.req].done = true;
  task.req = -1;
  LeaveCpu(cpu, t);
  task.state = HState::kBlocked;
  ++task.seq;
  HVm& vm = vms_[task.vm];
  vm.Accrue(t, cfg_.workload.vm_alone_rate);
  --vm.active;
  EmitTask(WAVE_EV_TASK_BLOCKED, task, cpu);
  const uint64_t halt = std::max<uint64_t>(
      1, static_cast<uint64_t>(rng_.Exponential(static_cast<double>(cfg_.workload.vm_halt_ns))));
  At(t + halt, EvKind::kVcpuWake, idx);
  CpuFreed(cpu, t);
}

void Simulator::OnVcpuWake(int idx, uint64_t t) {
  HTask& task = tasks_[idx];
  HVm& vm = vms_[task.vm];
  vm.Accrue(t, cfg_.workload.vm_alone_rate);
  ++vm.active;
  const int64_t r = static_cast<int64_t>(requests_.size());
  requests_.push_back({t, VcpuBurst(), false});
  Wake(idx, r, t);
}

uint64_t Simulator::VcpuBurst() {
  return std::max<uint64_t>(
      1, static_cast<uint64_t>(rng_.Exponential(static_cast<double>(cfg_.workload.vm_burst_ns))));
}

void Simulator::EmitCpu(uint16_t type, int cpu, uint64_t task_id, uint32_t flags) {
  wave_msg m;
  wave_msg_init(&m, type);
  m.cpu.time_ns = now_;
  m.cpu.cpu = cpu;
  m.cpu.task_id = task_id;
  m.cpu.flags = flags;
  Emit(m);
}

void Simulator::OnArrival(uint64_t t) {
  arrival_pending_ = t < cfg_.duration_ns;
  if (t < cfg_.duration_ns) {
    At(t + std::max<uint64_t>(
               1, static_cast<uint64_t>(rng_.Exponential(1e9 / cfg_.workload.load_rps))),
       EvKind::kArrival);
  }
  AddRequest(t, ServiceTime());
}

void Simulator::AddRequest(uint64_t t, uint64_t service_ns) {
  const WorkloadConfig& wl = cfg_.workload;
  const int64_t r = static_cast<int64_t>(requests_.size());
  const bool get = wl.kind == WorkloadKind::kRocksDb && service_ns == wl.get_ns;
  requests_.push_back({.arrival = t, .remaining = service_ns, .done = false, .get = get});
  ++res_.arrived;
  if (cfg_.workload.kind == WorkloadKind::kRpc) {
    OnRpcArrival(r, t);
    return;
  }
  if (idle_workers_.empty()) {
    app_queue_.push_back(r);
    return;
  }
  const int w = idle_workers_.back();
  idle_workers_.pop_back();
  Wake(w, r, t);
}

void Simulator::Wake(int w, int64_t r, uint64_t t) {
  HTask& task = tasks_[w];
  task.req = r;
  task.state = HState::kRunnable;
  ++task.seq;
  ++runnable_waiting_;
  if (mode_ == Mode::kFallback) {
    host_rq_.push_back(w);
    FallbackDispatch(t);
    return;
  }
  // A decision staged for this wakeup (e.g. on a NET_RPC) at the head of an idle cpu's staging
  // ring runs now, with no round trip. Only heads are looked at: a cheap check per wakeup.
  for (size_t c = 0; c < host_->lanes.size(); ++c) {
    if (!cpus_[c].managed || cpus_[c].task != -1) continue;
    RingConsumer& ring = host_->lanes[c];
    absl::StatusOr<uint32_t> n = ring.Peek(1);
    if (!n.ok() || *n == 0) continue;
    wave_msg head;
    ring.Read(0, &head);
    if (head.commit.task_id != task.id) continue;
    if (TakeStaged(static_cast<int>(c), t) && task.state == HState::kOnCpu) return;
  }
  EmitTask(WAVE_EV_TASK_WAKEUP, task, -1);
}

// rpc: request r arrives at the NIC for its flow's thread.
void Simulator::OnRpcArrival(int64_t r, uint64_t t) {
  const int w = static_cast<int>(rng_.Next() % tasks_.size());
  HTask& task = tasks_[w];
  if (task.state != HState::kBlocked || pending_rpc_[w] >= 0) {
    rpc_queue_[w].push_back(r);  // the handler is busy (or about to wake): it takes this next
    return;
  }
  pending_rpc_[w] = r;
  At(t + cfg_.workload.net_stack_ns, EvKind::kNetDeliver, w, static_cast<uint64_t>(r));
  // The NIC is on the IPU: an agent there hears of the RPC now, not after the host's stack.
  if (cfg_.placement == Placement::kIpu && agent_.has_value() && mode_ == Mode::kAgent &&
      !agent_failed_) {
    wave_msg m;
    wave_msg_init(&m, WAVE_EV_NET_RPC);
    m.net_rpc.rpc_id = static_cast<uint64_t>(r);
    m.net_rpc.flow_id = static_cast<uint64_t>(w);
    m.net_rpc.task_id = task.id;
    m.net_rpc.time_ns = t;
    m.net_rpc.bytes = 512;
    agent_->DeliverLocal(m);
    At(t, EvKind::kAgentWake);
  }
}

void Simulator::OnNetDeliver(int w, int64_t r, uint64_t t) {
  pending_rpc_[w] = -1;
  Wake(w, r, t);
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
  VmChange(task_idx, c.run_start, +1);
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
  VmChange(c.task, std::max(t, c.run_start), -1);
  if (t > c.run_start) task.runtime_ns += t - c.run_start;
  cpu_busy_ns_ += t - c.busy_since;
  task.cpu = -1;
  c.task = -1;
  ++c.gen;
  ++idle_managed_;
}

void Simulator::Preempt(int cpu, uint64_t t) {
  HCpu& c = cpus_[cpu];
  const int idx = c.task;
  HTask& task = tasks_[idx];
  Request& req = requests_[task.req];
  const uint64_t ran = t > c.run_start ? t - c.run_start : 0;
  req.remaining = req.remaining > ran ? req.remaining - ran : 0;
  LeaveCpu(cpu, t);
  task.state = HState::kRunnable;
  ++runnable_waiting_;
  ++task.seq;
  if (mode_ == Mode::kFallback) {
    host_rq_.push_back(idx);
    return;
  }
  EmitTask(WAVE_EV_TASK_PREEMPTED, task, cpu);
}

void Simulator::CpuFreed(int cpu, uint64_t t) {
  if (mode_ == Mode::kFallback) {
    FallbackDispatch(t);
    return;
  }
  if (TakeStaged(cpu, t)) return;
  if (cfg_.prestage_depth > 0 && runnable_waiting_ > 0) ++res_.staged_misses;
  EmitCpu(WAVE_EV_CPU_IDLE, cpu);
}

HostTaskView Simulator::TaskView(int idx) const {
  const HTask& task = tasks_[idx];
  return HostTaskView{.seq = task.seq,
                      .cpus = &managed_,
                      .runnable = task.state == HState::kRunnable,
                      .on_cpu = task.state == HState::kOnCpu};
}

bool Simulator::TakeStaged(int cpu, uint64_t t) {
  if (mode_ == Mode::kFallback || static_cast<size_t>(cpu) >= host_->lanes.size()) return false;
  RingConsumer& ring = host_->lanes[cpu];
  bool ran = false;
  while (!ran) {
    absl::StatusOr<uint32_t> n = ring.Peek(1);
    if (!n.ok()) {
      EnterFallback(t, absl::StrFormat("staging ring of cpu %d: %s", cpu, n.status().message()));
      return false;
    }
    if (*n == 0) break;
    wave_msg m;
    ring.Read(0, &m);  // the copy is validated, never the shared slot
    const wave_a2k_commit& c = m.commit;
    const bool known = c.task_id >= 1 && c.task_id <= tasks_.size();
    const int idx = known ? static_cast<int>(c.task_id - 1) : -1;
    // A decision for a wakeup still to come (a sleeping task, one sequence ahead) is not stale
    // yet: leave it at the head, where the wakeup will look for it.
    if (known && CurrentEpoch(c) && tasks_[idx].state == HState::kBlocked &&
        c.seq == tasks_[idx].seq + 1) {
      break;
    }
    ring.Advance(1);
    if (!CurrentEpoch(c)) {
      ++res_.commits_old_epoch;
      continue;
    }
    const HostTaskView tv = known ? TaskView(idx) : HostTaskView{};
    const HostCpuView cv{.managed = cpus_[cpu].managed, .busy = cpus_[cpu].task != -1};
    wave_commit_status st = ValidateCommit(c, known ? &tv : nullptr, cfg_.cpus, &cv);
    // A staged decision belongs to its ring's cpu, carries no group and never preempts.
    if (st == WAVE_COMMIT_OK &&
        (c.cpu != cpu || c.group != 0 || (c.flags & WAVE_COMMIT_F_PREEMPT) != 0)) {
      st = WAVE_COMMIT_MALFORMED;
    }
    if (external_) {
      ++res_.agent.staged_sent;
      ++res_.agent.results[st];
      ++(st == WAVE_COMMIT_OK ? res_.agent.staged_ok : res_.agent.staged_aborted);
    }
    if (st == WAVE_COMMIT_OK) {
      StartRunning(cpu, idx, t, c.slice_ns);
      ++res_.staged_hits;
      ran = true;
    } else {
      ++res_.staged_aborts;
    }
    Emit(MakeCommitResult(c, st, known ? tasks_[idx].seq : 0, t, WAVE_RESULT_F_STAGED));
  }
  ring.ReturnCredits();
  return ran;
}

void Simulator::OnTaskDone(int cpu, uint64_t gen, uint64_t t) {
  HCpu& c = cpus_[cpu];
  if (gen != c.gen || c.task == -1) return;
  const int idx = c.task;
  HTask& task = tasks_[idx];
  if (task.vm >= 0) {
    OnVcpuBurstDone(cpu, idx, t);
    return;
  }
  Request& req = requests_[task.req];
  if (req.done) ++res_.invariant_violations;
  req.done = true;
  req.remaining = 0;
  ++res_.completed;
  if (t <= cfg_.duration_ns) ++res_.completed_in_window;
  latencies_ns_.push_back(t - req.arrival);
  if (req.get) get_latencies_ns_.push_back(t - req.arrival);
  std::deque<int64_t>& next =
      cfg_.workload.kind == WorkloadKind::kRpc ? rpc_queue_[idx] : app_queue_;
  if (!next.empty()) {  // the worker loops to the next request without blocking
    task.req = next.front();
    next.pop_front();
    task.runtime_ns += t - c.run_start;
    c.run_start = t;
    At(t + requests_[task.req].remaining, EvKind::kTaskDone, cpu, c.gen);
    return;
  }
  task.req = -1;
  LeaveCpu(cpu, t);
  task.state = HState::kBlocked;
  ++task.seq;
  if (cfg_.workload.kind != WorkloadKind::kRpc) idle_workers_.push_back(idx);
  EmitTask(WAVE_EV_TASK_BLOCKED, task, cpu);
  CpuFreed(cpu, t);
}

// cpubound: the work is over. A running worker finishes now (or once its switch-in is done), a
// waiting one as soon as it next runs.
void Simulator::OnWorkEnd(uint64_t t) {
  for (Request& req : requests_) req.remaining = 0;
  for (int c = 0; c < cfg_.cpus; ++c) {
    const HCpu& cpu = cpus_[c];
    if (cpu.task != -1) At(std::max(t, cpu.run_start), EvKind::kTaskDone, c, cpu.gen);
  }
}

void Simulator::OnSliceEnd(int cpu, uint64_t gen, uint64_t t) {
  HCpu& c = cpus_[cpu];
  if (gen != c.gen || c.task == -1) return;
  Preempt(cpu, t);
  CpuFreed(cpu, t);
}

absl::Status Simulator::OnHostPoll(uint64_t t) {
  clock_.Set(t);
  if (mode_ == Mode::kFallback) return absl::OkStatus();  // nobody to listen to
  RingConsumer& ring = host_->commands;
  units_.clear();
  for (;;) {
    absl::StatusOr<uint32_t> n = ring.Peek(ring.capacity());
    if (!n.ok()) {
      EnterFallback(t, "commit ring: " + std::string(n.status().message()));
      return absl::OkStatus();
    }
    if (*n == 0) break;
    wave_msg m;
    for (uint32_t i = 0; i < *n; ++i) {
      ring.Read(i, &m);  // the copy is validated, never the shared slot
      if (!CurrentEpoch(m.commit)) {
        ++res_.commits_old_epoch;
        continue;
      }
      assembler_.Add(m.commit, &units_);
    }
    ring.Advance(*n);
  }
  assembler_.EndOfBatch(&units_);  // a group must arrive whole, in one batch
  ring.ReturnCredits();

  std::vector<HostTaskView> tv;
  std::vector<HostCpuView> cv;
  std::vector<const HostTaskView*> tp;
  std::vector<const HostCpuView*> cp;
  std::vector<wave_commit_status> st;
  for (const CommitUnit& unit : units_) {
    const size_t n = unit.members.size();
    tv.assign(n, HostTaskView{});
    cv.assign(n, HostCpuView{});
    tp.assign(n, nullptr);
    cp.assign(n, nullptr);
    st.assign(n, WAVE_COMMIT_MALFORMED);
    for (size_t i = 0; i < n; ++i) {
      const wave_a2k_commit& c = unit.members[i];
      // Worker ids are 1..threads; anything else is unknown to this host.
      if (c.task_id >= 1 && c.task_id <= tasks_.size()) {
        tv[i] = TaskView(static_cast<int>(c.task_id - 1));
        tp[i] = &tv[i];
      }
      if (c.cpu >= 0 && c.cpu < cfg_.cpus) {
        cv[i] = HostCpuView{.managed = cpus_[c.cpu].managed, .busy = cpus_[c.cpu].task != -1};
        cp[i] = &cv[i];
      }
    }
    const bool ok = ValidateUnit(unit, tp.data(), cfg_.cpus, cp.data(), st.data());
    for (size_t i = 0; i < n; ++i) {
      const wave_a2k_commit& c = unit.members[i];
      const bool known = tp[i] != nullptr;
      const int idx = known ? static_cast<int>(c.task_id - 1) : -1;
      if (external_) {  // the host's view of the agent's commits
        ++res_.agent.commits_sent;
        ++res_.agent.results[st[i]];
      }
      if (ok) {
        if (cpus_[c.cpu].task != -1) Preempt(c.cpu, t);  // a PREEMPT commit to a busy cpu
        StartRunning(c.cpu, idx, t, c.slice_ns);
      }
      Emit(MakeCommitResult(c, st[i], known ? tasks_[idx].seq : 0, t));
    }
  }
  // Idle cpus take what was staged for them meanwhile.
  for (int c = 0; c < cfg_.cpus && !host_->lanes.empty(); ++c) {
    if (cpus_[c].managed && cpus_[c].task == -1) TakeStaged(c, t);
  }
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

// ---- failure handling ----

void Simulator::EnterFallback(uint64_t t, const std::string& why) {
  if (mode_ == Mode::kFallback) return;
  mode_ = Mode::kFallback;
  fallback_since_ = t;
  ++res_.fallbacks;
  if (!why.empty()) {
    ++res_.agent_errors;
    res_.last_agent_error = why;
  }
  if (cfg_.agent_fail_at_ns != 0 && t >= cfg_.agent_fail_at_ns) {
    res_.fallback_detect_ns = std::max(res_.fallback_detect_ns, t - cfg_.agent_fail_at_ns);
  }
  // Every runnable task is now the host's to run, oldest id first (deterministic).
  host_rq_.clear();
  for (size_t i = 0; i < tasks_.size(); ++i) {
    if (tasks_[i].state == HState::kRunnable) host_rq_.push_back(static_cast<int>(i));
  }
  need_resync_ = false;
  assembler_ = CommitAssembler{};
  FallbackDispatch(t);
}

void Simulator::FallbackDispatch(uint64_t t) {
  for (int c = 0; c < cfg_.cpus; ++c) {
    if (!cpus_[c].managed || cpus_[c].task != -1) continue;
    // Only runnable tasks are queued, and they leave the queue only here; check anyway.
    while (!host_rq_.empty() && tasks_[host_rq_.front()].state != HState::kRunnable) {
      host_rq_.pop_front();
    }
    if (host_rq_.empty()) return;
    const int idx = host_rq_.front();
    host_rq_.pop_front();
    StartRunning(c, idx, t, cfg_.fallback_slice_ns);
  }
}

// A new agent has attached to a fresh link: it gets a replay, then the cpus back.
void Simulator::LeaveFallback(uint64_t t) {
  res_.fallback_ns += t - fallback_since_;
  mode_ = Mode::kAgent;
  host_rq_.clear();
  ++res_.agent_restarts;
  need_resync_ = true;
  resync_reason_ = WAVE_RESYNC_AGENT_START;
  TryResync();
}

absl::Status Simulator::RestartAgent(uint64_t t) {
  if (make_policy_ == nullptr) {
    return absl::FailedPreconditionError("an agent restart needs a policy factory");
  }
  past_agents_ += agent_->stats();
  agent_.reset();
  owned_policy_ = make_policy_();
  policy_ = owned_policy_.get();
  if (absl::Status s = AttachInProcess(); !s.ok()) return s;
  agent_failed_ = false;
  last_beat_ = t;
  At(t + cfg_.heartbeat_period_ns, EvKind::kAgentBeat);
  if (mode_ == Mode::kFallback) LeaveFallback(t);
  return absl::OkStatus();
}

// ---- the in-process agent ----

absl::Status Simulator::OnAgentWake(uint64_t t) {
  if (agent_failed_) return absl::OkStatus();
  if (flush_pending_ || t < agent_busy_until_) return absl::OkStatus();  // the flush re-polls
  clock_.Set(t);
  absl::StatusOr<PollResult> r = agent_->Poll();
  if (!r.ok()) return r.status();
  if (r->events == 0 && agent_->queued_commits() == 0) {
    agent_->ReturnCredits();
    return absl::OkStatus();
  }
  double cost = static_cast<double>(cfg_.agent_poll_cost_ns + r->events * cfg_.agent_event_cost_ns +
                                    r->commands * cfg_.agent_commit_cost_ns);
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
  if (agent_failed_) return absl::OkStatus();
  clock_.Set(t);
  absl::StatusOr<uint32_t> n = agent_->Flush();
  if (!n.ok()) return n.status();
  agent_->ReturnCredits();
  // Commits, and staged decisions for idle cpus, reach the host a link latency later.
  if (*n > 0 || cfg_.prestage_depth > 0) At(t + Latency(), EvKind::kHostPoll);
  TryResync();
  // Look again right away: events may have become visible while the agent was busy.
  At(t, EvKind::kAgentWake);
  return absl::OkStatus();
}

absl::StatusOr<SimResult> Simulator::Run() {
  if (absl::Status s = ValidateSimConfig(cfg_); !s.ok()) return s;
  if (!kernel_) {
    if (absl::Status s = SetUpLink(); !s.ok()) return s;
  }

  cpus_.assign(cfg_.cpus, HCpu{});
  // cpu 0 runs the agent when it is on the host.
  const int first = cfg_.placement == Placement::kHost && !kernel_ ? 1 : 0;
  for (int c = first; c < cfg_.cpus; ++c) {
    cpus_[c].managed = true;
    managed_.Set(c);
  }
  res_.workload_cpus = cfg_.cpus - first;

  const WorkloadConfig& w = cfg_.workload;
  const bool vms = w.kind == WorkloadKind::kVms;
  const int threads = vms ? w.vms * w.vcpus_per_vm + w.antagonists : w.threads;
  tasks_.resize(threads);
  vms_.assign(vms ? w.vms : 0, HVm{});
  for (int i = 0; i < threads; ++i) {
    HTask& task = tasks_[i];
    task.id = static_cast<uint64_t>(i) + 1;
    task.seq = 1;
    if (!w.nice.empty()) task.nice = w.nice[static_cast<size_t>(i) % w.nice.size()];
    if (!vms) {
      EmitTask(WAVE_EV_TASK_NEW, task, -1);
      continue;
    }
    // Runnable from the start: vCPUs with a first burst, antagonists with endless work.
    if (i < w.vms * w.vcpus_per_vm) {
      task.vm = i / w.vcpus_per_vm;
      ++vms_[task.vm].active;
    }
    task.req = static_cast<int64_t>(requests_.size());
    requests_.push_back({0, task.vm >= 0 ? VcpuBurst() : kEndlessNs, false});
    task.state = HState::kRunnable;
    ++runnable_waiting_;
    EmitTask(WAVE_EV_TASK_NEW, task, -1, WAVE_TASK_F_RUNNABLE);
  }
  // Stack order: the lowest id is handed the first request.
  if (!vms) {
    for (int i = w.threads - 1; i >= 0; --i) idle_workers_.push_back(i);
  }
  rpc_queue_.assign(tasks_.size(), {});
  pending_rpc_.assign(tasks_.size(), -1);
  for (int c = first; c < cfg_.cpus; ++c) {
    EmitCpu(WAVE_EV_CPU_IDLE, c);
    ++idle_managed_;
  }
  if (vms) {
    if (kernel_) {
      for (int i = 0; i < threads; ++i) host_rq_.push_back(i);
      FallbackDispatch(0);
    }
  } else if (w.kind == WorkloadKind::kCpuBound) {
    for (int i = 0; i < w.threads; ++i) AddRequest(0, kEndlessNs);
    At(cfg_.duration_ns, EvKind::kWorkEnd);
  } else {
    At(static_cast<uint64_t>(rng_.Exponential(1e9 / w.load_rps)), EvKind::kArrival);
  }
  if (cfg_.affinity_churn_per_s > 0) {
    At(static_cast<uint64_t>(rng_.Exponential(1e9 / cfg_.affinity_churn_per_s)), EvKind::kChurn);
  }
  if (!external_ && !kernel_) {  // the in-process agent's heartbeat, and the host watching it
    At(cfg_.heartbeat_period_ns, EvKind::kAgentBeat);
    At(cfg_.heartbeat_period_ns, EvKind::kHostCheck);
    if (cfg_.agent_restart_at_ns != 0) At(cfg_.agent_restart_at_ns, EvKind::kAgentRestart);
  }

  absl::Status s = external_ ? RunRealTime() : RunVirtual();
  if (session_.has_value()) session_->Close();  // the agent exits cleanly, or notices
  if (!s.ok()) return s;
  return Finish();
}

absl::Status Simulator::SetUpLink() {
  if (external_) {
    SessionParams params;
    params.num_cpus = static_cast<uint32_t>(cfg_.cpus);
    params.link_latency_ns = static_cast<uint32_t>(Latency());
    params.link = SimLinkConfig();
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
  return AttachInProcess();
}

// The in-process link: formatted fresh (also for a restarted agent), both ends attached.
absl::Status Simulator::AttachInProcess() {
  const LinkConfig lc = SimLinkConfig();
  if (region_.data() == nullptr) {
    absl::StatusOr<SharedRegion> region = SharedRegion::CreateAnonymous(LinkBytes(lc));
    if (!region.ok()) return region.status();
    region_ = *std::move(region);
  }
  if (absl::Status s = LinkFormat(region_.data(), region_.size(), lc); !s.ok()) return s;
  const LinkModel link{.clock = &clock_, .latency_ns = Latency()};
  absl::StatusOr<HostEnd> host = AttachHost(region_.data(), region_.size(), link, link);
  if (!host.ok()) return host.status();
  absl::StatusOr<AgentEnd> agent_end = AttachAgent(region_.data(), region_.size(), link, link);
  if (!agent_end.ok()) return agent_end.status();
  host_.emplace(*std::move(host));
  agent_.emplace(*std::move(agent_end), *policy_, AgentOptions{.num_cpus = cfg_.cpus});
  assembler_ = CommitAssembler{};
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
    TryResync();
    session_->Beat();
    if (rt >= next_check) {
      next_check = rt + kCheckPeriodNs;
      if (absl::Status s = RealTimeAgentCheck(rt); !s.ok()) return s;
    }
    if (Done(rt)) break;
    if (rt > end) break;
  }
  if (mode_ == Mode::kFallback) res_.fallback_ns += now_ - fallback_since_;
  return absl::OkStatus();
}

// The external agent: presumed dead once silent for the timeout (or once it broke a ring):
// the host takes over and reopens the session; a new agent that joins takes over again.
absl::Status Simulator::RealTimeAgentCheck(uint64_t t) {
  if (mode_ == Mode::kAgent) {
    absl::Status peer = session_->CheckPeer(cfg_.heartbeat_timeout_ns);
    if (peer.ok()) return absl::OkStatus();
    EnterFallback(t, "");
    res_.last_agent_error = std::string(peer.message());
  }
  if (!reopened_) {
    if (absl::Status s = session_->Reopen(); !s.ok()) return s;
    reopened_ = true;
    return absl::OkStatus();
  }
  absl::StatusOr<bool> joined = session_->TryAccept();
  if (!joined.ok()) {  // a mismatching agent was told why; keep waiting for another
    res_.last_agent_error = std::string(joined.status().message());
    return absl::OkStatus();
  }
  if (!*joined) return absl::OkStatus();
  const LinkModel link = session_->link_model();
  absl::StatusOr<HostEnd> host = session_->AttachHost(link, link);
  if (!host.ok()) return host.status();
  host_.emplace(*std::move(host));
  assembler_ = CommitAssembler{};
  reopened_ = false;
  LeaveFallback(t);
  return absl::OkStatus();
}

// One queued event: account for the time up to it, then apply it.
absl::Status Simulator::Step(const SimEvent& ev) {
  // Heartbeats are bookkeeping, not work: they move neither the accounting nor the end time.
  if (ev.kind == EvKind::kAgentBeat) {
    if (agent_failed_) return absl::OkStatus();
    if (cfg_.agent_fail_at_ns != 0 && ev.t >= cfg_.agent_fail_at_ns && res_.agent_restarts == 0) {
      agent_failed_ = true;  // the test knob: from now on this agent does nothing at all
      return absl::OkStatus();
    }
    last_beat_ = ev.t;
    if (!Done(ev.t)) At(ev.t + cfg_.heartbeat_period_ns, EvKind::kAgentBeat);
    return absl::OkStatus();
  }
  if (ev.kind == EvKind::kHostCheck) {
    if (mode_ == Mode::kAgent && ev.t > last_beat_ &&
        ev.t - last_beat_ > cfg_.heartbeat_timeout_ns) {
      now_ = std::max(now_, ev.t);
      EnterFallback(ev.t, "");
    }
    if (!Done(ev.t)) At(ev.t + cfg_.heartbeat_period_ns, EvKind::kHostCheck);
    return absl::OkStatus();
  }
  Account(ev.t);
  now_ = ev.t;
  switch (ev.kind) {
    case EvKind::kArrival:
      OnArrival(ev.t);
      return absl::OkStatus();
    case EvKind::kWorkEnd:
      OnWorkEnd(ev.t);
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
    case EvKind::kAgentRestart:
      return RestartAgent(ev.t);
    case EvKind::kVcpuWake:
      OnVcpuWake(ev.a, ev.t);
      return absl::OkStatus();
    case EvKind::kNetDeliver:
      OnNetDeliver(ev.a, static_cast<int64_t>(ev.b), ev.t);
      return absl::OkStatus();
    case EvKind::kAgentBeat:
    case EvKind::kHostCheck:
      return absl::OkStatus();  // handled above
  }
  return absl::OkStatus();
}

absl::Status Simulator::RunVirtual() {
  // Endless work (vms) has nothing to drain: the run is its duration.
  const uint64_t end =
      cfg_.duration_ns + (cfg_.workload.kind == WorkloadKind::kVms ? 0 : cfg_.drain_limit_ns);
  while (!queue_.empty() && queue_.top().t <= end) {
    const SimEvent ev = queue_.top();
    queue_.pop();
    if (absl::Status s = Step(ev); !s.ok()) return s;
  }
  if (cfg_.workload.kind == WorkloadKind::kVms) {  // endless work: the run is its duration
    Account(end);
    now_ = std::max(now_, end);
  }
  if (mode_ == Mode::kFallback && !kernel_) res_.fallback_ns += now_ - fallback_since_;
  return absl::OkStatus();
}

SimResult Simulator::Finish() {
  SimResult& r = res_;
  r.config = cfg_;
  r.policy = kernel_ ? "kernel" : policy_ != nullptr ? policy_->name() : "external";
  r.end_ns = now_;
  for (int c = 0; c < cfg_.cpus; ++c) {
    if (cpus_[c].task != -1) cpu_busy_ns_ += now_ - cpus_[c].busy_since;
  }
  const bool cpu_idle = idle_managed_ > 0;
  for (const HTask& t : tasks_) {
    if (t.state == HState::kRunnable && cpu_idle) ++r.lost_tasks;
    r.task_runtime_ns.push_back(t.runtime_ns);
  }
  r.incomplete_requests = r.arrived - r.completed;
  r.throughput_rps =
      static_cast<double>(r.completed_in_window) / (static_cast<double>(cfg_.duration_ns) / 1e9);
  // In us, of a sorted non-empty sample.
  auto pct = [](const std::vector<uint64_t>& v, double p) {
    size_t rank = static_cast<size_t>(std::ceil(p * static_cast<double>(v.size())));
    rank = std::clamp<size_t>(rank, 1, v.size());
    return static_cast<double>(v[rank - 1]) / 1e3;
  };
  if (!get_latencies_ns_.empty()) {
    std::sort(get_latencies_ns_.begin(), get_latencies_ns_.end());
    r.get_latency_p99_us = pct(get_latencies_ns_, 0.99);
  }
  if (!latencies_ns_.empty()) {
    std::vector<uint64_t>& v = latencies_ns_;
    std::sort(v.begin(), v.end());
    r.latency_p50_us = pct(v, 0.50);
    r.latency_p99_us = pct(v, 0.99);
    r.latency_p999_us = pct(v, 0.999);
    r.latency_max_us = static_cast<double>(v.back()) / 1e3;
    long double sum = 0;
    for (uint64_t x : v) sum += x;
    r.latency_mean_us = static_cast<double>(sum / v.size() / 1e3);
  }
  if (agent_.has_value()) {
    r.agent = past_agents_;
    r.agent += agent_->stats();
  }
  const AgentStats& a = r.agent;
  r.commits_ok = a.commits_ok();
  r.commits_stale = a.commits_stale();
  r.commits_rejected = a.commits_rejected();
  const double elapsed = static_cast<double>(std::max<uint64_t>(now_, 1));
  r.agent_busy_fraction = static_cast<double>(agent_busy_ns_) / elapsed;
  const double cpu_time = elapsed * std::max(1, r.workload_cpus);
  r.cpu_utilization = static_cast<double>(cpu_busy_ns_) / cpu_time;
  r.idle_with_work_fraction = static_cast<double>(idle_with_work_ns_) / cpu_time;
  if (cfg_.workload.kind == WorkloadKind::kVms) {
    // Close the books at the end: running vCPUs and antagonists count up to now.
    const double run_s = static_cast<double>(std::max<uint64_t>(now_, 1));
    double useful = 0;
    for (HVm& vm : vms_) {
      vm.Accrue(now_, cfg_.workload.vm_alone_rate);
      useful += vm.useful_ns;
    }
    double vcpu_ns = 0, antagonist_ns = 0;
    for (int c = 0; c < cfg_.cpus; ++c) {
      if (cpus_[c].task == -1 || now_ <= cpus_[c].run_start) continue;
      (tasks_[cpus_[c].task].vm >= 0 ? vcpu_ns : antagonist_ns) +=
          static_cast<double>(now_ - cpus_[c].run_start);
    }
    for (const HTask& t : tasks_) {
      (t.vm >= 0 ? vcpu_ns : antagonist_ns) += static_cast<double>(t.runtime_ns);
    }
    r.vm_useful_cpus = useful / run_s;
    r.vm_oncpu_cpus = vcpu_ns / run_s;
    r.antagonist_cpus = antagonist_ns / run_s;
  }
  return r;
}

}  // namespace

absl::StatusOr<SimResult> RunSim(const SimConfig& config, Policy& policy) {
  if (!config.session.empty()) {
    return absl::InvalidArgumentError("RunSim runs the agent in-process: use RunSimExternal");
  }
  if (config.agent_restart_at_ns != 0) {
    return absl::InvalidArgumentError("an agent restart needs a fresh policy: use a factory");
  }
  Simulator sim(config, &policy);
  return sim.Run();
}

absl::StatusOr<SimResult> RunSim(const SimConfig& config, const PolicyFactory& make_policy) {
  if (!config.session.empty()) {
    return absl::InvalidArgumentError("RunSim runs the agent in-process: use RunSimExternal");
  }
  std::unique_ptr<Policy> first = make_policy();
  if (first == nullptr) return absl::InvalidArgumentError("the policy factory made no policy");
  Simulator sim(config, first.get(), make_policy);
  return sim.Run();
}

absl::StatusOr<SimResult> RunSimKernel(const SimConfig& config) {
  if (!config.session.empty())
    return absl::InvalidArgumentError("the kernel baseline has no agent");
  if (config.agent_fail_at_ns != 0 || config.agent_restart_at_ns != 0 ||
      config.prestage_depth != 0) {
    return absl::InvalidArgumentError("the kernel baseline has no agent to fail or prestage");
  }
  Simulator sim(config, nullptr, nullptr, /*kernel=*/true);
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
