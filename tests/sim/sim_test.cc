// End-to-end: the simulated host drives the real agent and the FIFO policy through real rings.
#include "host/sim/sim.h"

#include <gtest/gtest.h>

#include "policies/sched/fifo.h"

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
  EXPECT_GT(r.arrived, 0u);
  EXPECT_EQ(r.completed, r.arrived);
  EXPECT_EQ(r.incomplete_requests, 0u);
  EXPECT_EQ(r.lost_tasks, 0u);
  EXPECT_EQ(r.invariant_violations, 0u);
  EXPECT_EQ(r.agent.malformed, 0u);
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

}  // namespace
}  // namespace wave
