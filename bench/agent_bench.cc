// The agent's speed: decisions per second of the real agent loop (events in, the policy, commits
// out) against a host echo that answers every commit, on one core, next to what the same
// messages cost through the bare rings in the same run.
//
//   bazel run -c opt //bench:agent_bench
//   bazel run -c opt //bench:agent_bench -- --benchmark_filter='fifo/64/'
//
// BM_AgentLoop/<policy>/<cpus>/<tasks>: every task is runnable and every cpu busy once warm; each
// round the echo ends the kEndedPerRound longest-running tasks (each blocks, its cpu goes idle,
// it wakes again: three events), the agent polls, its policy places the waiting tasks on the
// freed cpus, it flushes, and the echo answers each commit (COMMIT_RESULT, then ON_CPU). So a
// decision is six messages through the link and a round frees the same number of cpus at 8 cpus
// and at 1,024: the cost per decision at 1,024 cpus is that of a policy that visits what
// changed, not every cpu. Counters: agent_ns_per_decision (the agent's part: polling the
// events, the policy, flushing the commits) and decisions_per_s (its inverse: what one core
// running the agent decides per second); ns_per_decision (the whole loop, the echo's work
// included); ring_ns_per_decision (the same six messages per decision pushed and popped through
// a bare ring, in the same batches, measured right after in the same run) and loop_over_ring.
#include <chrono>
#include <cstdint>
#include <cstring>
#include <deque>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "abi/wave_abi.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "bench/bench_util.h"
#include "benchmark/benchmark.h"
#include "lib/sched/agent.h"
#include "lib/sched/policy.h"
#include "policies/registry.h"
#include "transport/link.h"
#include "transport/region.h"

namespace wave::bench {
namespace {

// Policies by the benchmark's first argument.
constexpr const char* kPolicies[] = {"fifo", "fifo-percpu", "shinjuku"};
constexpr uint32_t kEndedPerRound = 8;
// Events and commits rings: a round's messages fit many times over; the start-up (every task
// new, every cpu idle) goes in chunks.
constexpr uint32_t kEventRing = 16384;
constexpr uint32_t kCommitRing = 4096;
constexpr int kMessagesPerDecision = 6;  // commit; result, ON_CPU; BLOCKED, IDLE, WAKEUP
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double NsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
}

wave_msg TaskEvent(uint16_t type, uint64_t task, uint64_t seq, int cpu, uint64_t now) {
  wave_msg m;
  wave_msg_init(&m, type);
  m.task.task_id = task;
  m.task.seq = seq;
  m.task.cpu = cpu;
  m.task.time_ns = now;
  return m;
}

wave_msg CpuEvent(uint16_t type, int cpu, uint64_t now) {
  wave_msg m;
  wave_msg_init(&m, type);
  m.cpu.cpu = cpu;
  m.cpu.time_ns = now;
  return m;
}

// The host side: knows each task's sequence and what runs where, answers every commit OK.
class Echo {
 public:
  Echo(HostEnd host, uint64_t tasks) : host_(std::move(host)), seq_(tasks + 1, 0) {}

  // Pushes `m`; false when the event ring is full (the caller lets the agent drain it).
  bool Push(const wave_msg& m) { return host_.events.Push(m); }
  // Queues `m` for the next Send(), which publishes the round's messages in one batch, as a host
  // mechanism does.
  void Queue(const wave_msg& m) { out_.push_back(m); }
  absl::Status Send() {
    const uint32_t n = static_cast<uint32_t>(out_.size());
    if (host_.events.Reserve(n) < n) return absl::ResourceExhaustedError("event ring full");
    for (uint32_t i = 0; i < n; ++i) host_.events.Write(i, out_[i]);
    host_.events.Submit(n);
    out_.clear();
    return absl::OkStatus();
  }
  uint64_t now() const { return now_; }
  void Tick() { now_ += 1000; }
  size_t running() const { return running_.size(); }

  absl::Status NewTask(uint64_t task) {
    wave_msg m = TaskEvent(WAVE_EV_TASK_NEW, task, ++seq_[task], -1, now_);
    m.task.flags = WAVE_TASK_F_RUNNABLE | WAVE_TASK_CPUS_ALL;
    return Push(m) ? absl::OkStatus() : absl::ResourceExhaustedError("event ring full");
  }

  // Answers every commit the agent flushed: OK, then ON_CPU. Returns how many.
  absl::StatusOr<uint32_t> Answer() {
    absl::StatusOr<uint32_t> n = host_.commands.Peek(kCommitRing);
    if (!n.ok()) return n.status();
    for (uint32_t i = 0; i < *n; ++i) {
      wave_msg c;
      host_.commands.Read(i, &c);
      if (c.hdr.type != WAVE_CMD_COMMIT) return absl::InternalError("not a commit");
      const uint64_t task = c.commit.task_id;
      if (task >= seq_.size() || c.commit.seq != seq_[task]) {
        return absl::InternalError("a commit the echo cannot take: the agent's model is off");
      }
      wave_msg r;
      wave_msg_init(&r, WAVE_EV_COMMIT_RESULT);
      r.result.txn_id = c.commit.txn_id;
      r.result.task_id = task;
      r.result.cpu = c.commit.cpu;
      r.result.seq = seq_[task];
      r.result.time_ns = now_;
      r.result.status = WAVE_COMMIT_OK;
      Queue(r);
      Queue(TaskEvent(WAVE_EV_TASK_ON_CPU, task, ++seq_[task], c.commit.cpu, now_));
      running_.push_back({task, c.commit.cpu});
    }
    host_.commands.Advance(*n);
    host_.commands.ReturnCredits();
    if (absl::Status s = Send(); !s.ok()) return s;
    return *n;
  }

  // The `n` longest-running tasks block, their cpus go idle, and they wake again.
  absl::Status End(uint32_t n) {
    for (uint32_t i = 0; i < n && !running_.empty(); ++i) {
      const auto [task, cpu] = running_.front();
      running_.pop_front();
      Queue(TaskEvent(WAVE_EV_TASK_BLOCKED, task, ++seq_[task], cpu, now_));
      Queue(CpuEvent(WAVE_EV_CPU_IDLE, cpu, now_));
      Queue(TaskEvent(WAVE_EV_TASK_WAKEUP, task, ++seq_[task], -1, now_));
    }
    return Send();
  }

 private:
  HostEnd host_;
  std::vector<uint64_t> seq_;  // by task id (1..tasks)
  std::deque<std::pair<uint64_t, int>> running_;
  std::vector<wave_msg> out_;
  uint64_t now_ = 1000;
};

// The agent and its echo on one link, warmed up: every task known, every cpu busy.
struct Loop {
  SharedRegion region;
  std::unique_ptr<Policy> policy;
  std::optional<Agent> agent;
  std::optional<Echo> echo;

  // Agent: poll until the event ring is empty, flush.
  absl::Status Drain() {
    for (;;) {
      absl::StatusOr<PollResult> r = agent->RunOnce();
      if (!r.ok()) return r.status();
      if (r->events == 0) return absl::OkStatus();
    }
  }

  // One round: the echo ends some tasks and answers the commits; returns the decisions. The
  // agent's part of it (Drain) is added to *agent_ns.
  absl::StatusOr<uint32_t> Round(double* agent_ns) {
    echo->Tick();
    if (absl::Status s = echo->End(kEndedPerRound); !s.ok()) return s;
    const auto start = std::chrono::steady_clock::now();
    if (absl::Status s = Drain(); !s.ok()) return s;
    *agent_ns += NsSince(start);
    return echo->Answer();
  }
};

absl::StatusOr<std::unique_ptr<Loop>> MakeLoop(const std::string& policy_name, int cpus,
                                               uint64_t tasks) {
  auto loop = std::make_unique<Loop>();
  const LinkConfig config = LinkConfig::Sched(kEventRing, kCommitRing);
  absl::StatusOr<SharedRegion> region = SharedRegion::CreateAnonymous(LinkBytes(config));
  if (!region.ok()) return region.status();
  loop->region = *std::move(region);
  if (absl::Status s = LinkFormat(loop->region.data(), loop->region.size(), config); !s.ok()) {
    return s;
  }
  absl::StatusOr<HostEnd> host = AttachHost(loop->region.data(), loop->region.size());
  if (!host.ok()) return host.status();
  absl::StatusOr<AgentEnd> agent_end = AttachAgent(loop->region.data(), loop->region.size());
  if (!agent_end.ok()) return agent_end.status();
  absl::StatusOr<std::unique_ptr<Policy>> policy = MakePolicy(policy_name);
  if (!policy.ok()) return policy.status();
  loop->policy = *std::move(policy);
  loop->agent.emplace(*std::move(agent_end), *loop->policy, AgentOptions{.num_cpus = cpus});
  loop->echo.emplace(*std::move(host), tasks);
  // Start-up: every cpu idle, every task new and runnable, in chunks the event ring holds.
  for (int c = 0; c < cpus; ++c) {
    while (!loop->echo->Push(CpuEvent(WAVE_EV_CPU_IDLE, c, loop->echo->now()))) {
      if (absl::Status s = loop->Drain(); !s.ok()) return s;
    }
  }
  for (uint64_t t = 1; t <= tasks; ++t) {
    while (!loop->echo->NewTask(t).ok()) {
      if (absl::Status s = loop->Drain(); !s.ok()) return s;
      if (absl::StatusOr<uint32_t> n = loop->echo->Answer(); !n.ok()) return n.status();
    }
  }
  // Until every cpu that can be busy is.
  const size_t busy = std::min<uint64_t>(tasks, static_cast<uint64_t>(cpus));
  for (int i = 0; i < 64 && loop->echo->running() < busy; ++i) {
    if (absl::Status s = loop->Drain(); !s.ok()) return s;
    if (absl::StatusOr<uint32_t> n = loop->echo->Answer(); !n.ok()) return n.status();
  }
  if (loop->echo->running() < busy) return absl::InternalError("the agent did not fill the cpus");
  return loop;
}

// The same messages per decision through a bare ring, in the loop's batches: each round,
// kEndedPerRound decisions' events pushed, then popped; ns per decision over `decisions`.
double RingNsPerDecision(BenchRing& ring, uint64_t decisions) {
  const wave_msg m = TemplateMessage();
  const uint32_t batch = kEndedPerRound * kMessagesPerDecision;
  const uint64_t rounds = decisions / kEndedPerRound + 1;
  const auto start = std::chrono::steady_clock::now();
  for (uint64_t r = 0; r < rounds; ++r) {
    if (ring.producer.Reserve(batch) < batch) return kNaN;
    for (uint32_t i = 0; i < batch; ++i) ring.producer.Write(i, m);
    ring.producer.Submit(batch);
    absl::StatusOr<uint32_t> n = ring.consumer.Peek(batch);
    if (!n.ok() || *n != batch) return kNaN;
    wave_msg out;
    for (uint32_t i = 0; i < batch; ++i) {
      ring.consumer.Read(i, &out);
      benchmark::DoNotOptimize(out);
    }
    ring.consumer.Advance(batch);
    ring.consumer.ReturnCredits();
  }
  return NsSince(start) / static_cast<double>(rounds * kEndedPerRound);
}

// Rounds per chunk: the counters are medians over chunks (a chunk in which the thread was
// switched out is an outlier, not a shift), each chunk followed by its ring baseline.
constexpr uint64_t kRoundsPerChunk = 512;

void BM_AgentLoop(benchmark::State& state) {
  const std::string policy = kPolicies[state.range(0)];
  const int cpus = static_cast<int>(state.range(1));
  const uint64_t tasks = static_cast<uint64_t>(state.range(2));
  ScopedPin pin(0);
  absl::StatusOr<std::unique_ptr<Loop>> loop = MakeLoop(policy, cpus, tasks);
  if (!loop.ok()) {
    state.SkipWithError(loop.status().ToString().c_str());
    return;
  }
  absl::StatusOr<BenchRing> ring = MakeRing(kEventRing);
  if (!ring.ok()) {
    state.SkipWithError(ring.status().ToString().c_str());
    return;
  }
  std::vector<double> agent_ns, loop_ns, ring_ns, ratio;
  uint64_t decisions = 0, rounds = 0;
  double agent = 0;
  auto chunk_start = std::chrono::steady_clock::now();
  auto end_chunk = [&] {
    if (decisions > 0) {
      const double d = static_cast<double>(decisions);
      const double whole = NsSince(chunk_start) / d;
      const double bare = RingNsPerDecision(*ring, decisions);
      agent_ns.push_back(agent / d);
      loop_ns.push_back(whole);
      ring_ns.push_back(bare);
      ratio.push_back(whole / bare);
    }
    decisions = rounds = 0;
    agent = 0;
  };
  for (auto _ : state) {
    absl::StatusOr<uint32_t> n = (*loop)->Round(&agent);
    if (!n.ok()) {
      state.SkipWithError(n.status().ToString().c_str());
      return;
    }
    decisions += *n;
    if (++rounds < kRoundsPerChunk) continue;
    state.PauseTiming();
    end_chunk();
    state.ResumeTiming();
    chunk_start = std::chrono::steady_clock::now();
  }
  if (agent_ns.empty()) end_chunk();  // a short run (the library's first, sizing one)
  if (agent_ns.empty()) {
    state.SkipWithError("no decisions");
    return;
  }
  const double per = Median(agent_ns);
  state.SetLabel(policy);
  state.counters["decisions_per_s"] = 1e9 / per;
  state.counters["agent_ns_per_decision"] = per;
  state.counters["ns_per_decision"] = Median(loop_ns);
  state.counters["ring_ns_per_decision"] = Median(ring_ns);
  state.counters["loop_over_ring"] = Median(ratio);
  state.counters["chunks"] = static_cast<double>(agent_ns.size());
  state.counters["pinned"] = pin.ok() ? 1 : 0;
}

void Args(benchmark::internal::Benchmark* b) {
  for (int p = 0; p < static_cast<int>(std::size(kPolicies)); ++p) {
    for (int cpus : {8, 64, 256, 1024}) {
      for (int tasks : {1000, 100000}) b->Args({p, cpus, tasks});
    }
  }
}

BENCHMARK(BM_AgentLoop)->Apply(Args)->ArgNames({"policy", "cpus", "tasks"})->MinTime(0.5);

}  // namespace
}  // namespace wave::bench
