// End-to-end: the simulated host drives the real agent and the FIFO policy through real rings.
#include "host/sim/sim.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <numeric>

#include "policies/sched/fifo.h"
#include "tests/sim/sim_checks.h"

namespace wave {
namespace {

SimConfig ShortRun() {
  SimConfig c;
  c.duration_ns = 200'000'000;  // 0.2 s of virtual time
  return c;
}

SimResult MustRun(const SimConfig& c) {
  FifoPolicy fifo;
  absl::StatusOr<SimResult> r = RunSim(c, fifo);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : SimResult{};
}

void ExpectClean(const SimResult& r) {
  ExpectEveryRequestDone(r);
  EXPECT_EQ(r.agent.unknown_task, 0u);
  // Every commit was answered, and every ok commit started exactly one run.
  EXPECT_EQ(r.commits_ok + r.commits_stale + r.commits_rejected, r.agent.commits_sent);
}

TEST(SimFifo, EveryRequestCompletesOnIpu) {
  SimResult r = MustRun(ShortRun());
  ExpectClean(r);
  EXPECT_EQ(r.workload_cpus, 8);
  EXPECT_EQ(r.commits_stale, 0u);
  EXPECT_EQ(r.commits_rejected, 0u);
}

TEST(SimFifo, EveryRequestCompletesOnHost) {
  SimConfig c = ShortRun();
  c.placement = Placement::kHost;
  SimResult r = MustRun(c);
  ExpectClean(r);
  EXPECT_EQ(r.workload_cpus, 7);
}

TEST(SimFifo, AllWorkloads) {
  for (WorkloadKind w :
       {WorkloadKind::kRocksDb, WorkloadKind::kUniform, WorkloadKind::kExponential}) {
    SimConfig c = ShortRun();
    c.workload.kind = w;
    c.workload.load_rps = 200'000;
    SCOPED_TRACE(WorkloadName(w));
    ExpectClean(MustRun(c));
  }
}

TEST(SimFifo, StaleCommitsAreRejectedAndRequeued) {
  SimConfig c = ShortRun();
  c.affinity_churn_per_s = 2'000'000;  // sequence bumps racing with commits
  c.workload.load_rps = 150'000;
  SimResult r = MustRun(c);
  ExpectClean(r);
  EXPECT_GT(r.commits_stale, 0u);
}

TEST(SimFifo, SameSeedSameResult) {
  SimResult a = MustRun(ShortRun());
  SimResult b = MustRun(ShortRun());
  EXPECT_EQ(a.completed, b.completed);
  EXPECT_EQ(a.latency_p99_us, b.latency_p99_us);
  EXPECT_EQ(a.events_sent, b.events_sent);
  SimConfig other = ShortRun();
  other.seed = 2;
  SimResult c = MustRun(other);
  EXPECT_NE(a.events_sent, c.events_sent);
}

TEST(SimWorkload, RocksDbReportsTheGetsOwnTail) {
  SimConfig c = ShortRun();
  c.workload.load_rps = 150'000;  // FIFO: GETs wait behind scans
  SimResult r = MustRun(c);
  ExpectClean(r);
  EXPECT_GT(r.get_latency_p99_us, 10.0);
  EXPECT_LE(r.get_latency_p99_us, r.latency_max_us);
  c.workload.kind = WorkloadKind::kUniform;
  EXPECT_EQ(MustRun(c).get_latency_p99_us, 0.0);  // no GETs
}

// Records the nice value each task arrives with.
class NiceRecorder : public FifoPolicy {
 public:
  void OnTaskNew(Task& task, const TaskNew& ev) override {
    nice[task.id()] = task.nice();
    FifoPolicy::OnTaskNew(task, ev);
  }
  std::map<uint64_t, int> nice;
};

TEST(SimWorkload, NiceValuesReachTheAgentInTurn) {
  SimConfig c = ShortRun();
  c.workload.threads = 5;
  c.workload.nice = {0, -5, 19};
  NiceRecorder p;
  absl::StatusOr<SimResult> r = RunSim(c, p);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(p.nice, (std::map<uint64_t, int>{{1, 0}, {2, -5}, {3, 19}, {4, 0}, {5, -5}}));
  c.workload.nice = {0, 20};
  EXPECT_EQ(ValidateSimConfig(c).code(), absl::StatusCode::kInvalidArgument);
  c.workload.nice = {-21};
  EXPECT_EQ(ValidateSimConfig(c).code(), absl::StatusCode::kInvalidArgument);
}

TEST(SimWorkload, CpuBoundWorkersRunUntilTheEndThenFinish) {
  SimConfig c = ShortRun();
  c.workload.kind = WorkloadKind::kCpuBound;
  c.workload.threads = 12;
  SimResult r = MustRun(c);
  ExpectClean(r);
  EXPECT_EQ(r.arrived, 12u);  // one endless request per worker, no arrivals
  ASSERT_EQ(r.task_runtime_ns.size(), 12u);
  // FIFO never preempts: the first 8 workers hold the 8 cpus for the whole window, the other 4
  // run only to finish once the work ends.
  for (size_t i = 0; i < 12; ++i) {
    if (i < 8) {
      EXPECT_GT(r.task_runtime_ns[i], c.duration_ns - 100'000) << i;
      EXPECT_LE(r.task_runtime_ns[i], c.duration_ns) << i;
    } else {
      EXPECT_EQ(r.task_runtime_ns[i], 0u) << i;
    }
  }
  EXPECT_GE(r.end_ns, c.duration_ns);
  EXPECT_LT(r.end_ns, c.duration_ns + 100'000);  // a switch and a round trip, not a drain
  EXPECT_GT(r.cpu_utilization, 0.99);
}

TEST(SimWorkload, RuntimeIsCpuTimeOfEachWorker) {
  SimResult r = MustRun(ShortRun());
  ASSERT_EQ(r.task_runtime_ns.size(), 256u);
  const uint64_t total =
      std::accumulate(r.task_runtime_ns.begin(), r.task_runtime_ns.end(), uint64_t{0});
  // Busy cpu time is the tasks' cpu time plus one switch per run.
  const double busy = r.cpu_utilization * static_cast<double>(r.end_ns) * r.workload_cpus;
  EXPECT_LT(static_cast<double>(total), busy);
  EXPECT_GT(static_cast<double>(total), busy - static_cast<double>(r.commits_ok) * 600.0);
}

}  // namespace
}  // namespace wave
