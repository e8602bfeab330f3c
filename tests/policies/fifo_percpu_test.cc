// The per-cpu FIFO on the simulated host: tasks go back to the cpu they last ran on far more
// often than under the centralized FIFO, idle cpus steal, and prestaging each cpu's own queue
// hides the link. Figures go to the test log
// (bazel test --test_output=all //tests/policies:fifo_percpu_test).
#include "policies/sched/fifo_percpu.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <memory>

#include "host/sim/sim.h"
#include "policies/sched/fifo.h"
#include "tests/policies/policy_spy.h"
#include "tests/sim/sim_checks.h"

namespace wave {
namespace {

SimConfig Rocksdb(double load, uint32_t prestage) {
  SimConfig c;
  c.duration_ns = 200'000'000;
  c.workload.load_rps = load;
  c.prestage_depth = prestage;
  return c;
}

void Print(const char* policy, const SimConfig& c, const SpiedRun& o) {
  std::printf(
      "figures: %-11s rocksdb %6.0f req/s prestage %u: same cpu as last run %5.1f%%, p50 %7.2f "
      "us, p99 %8.2f us, staged hits %llu\n",
      policy, c.workload.load_rps, c.prestage_depth, 100 * o.spy.same_cpu_fraction(),
      o.result.latency_p50_us, o.result.latency_p99_us,
      static_cast<unsigned long long>(o.result.staged_hits));
}

TEST(FifoPerCpu, TasksReturnToTheirCpu) {
  for (uint32_t prestage : {0u, 4u}) {
    const SimConfig c = Rocksdb(100'000, prestage);
    const SpiedRun fifo = RunSpied(c, std::make_unique<FifoPolicy>());
    const SpiedRun percpu = RunSpied(c, std::make_unique<PerCpuFifoPolicy>());
    Print("fifo", c, fifo);
    Print("fifo-percpu", c, percpu);
    EXPECT_GT(percpu.spy.same_cpu_fraction(), 0.0);
    EXPECT_GT(percpu.spy.same_cpu_fraction(), fifo.spy.same_cpu_fraction() + 0.2);
  }
}

TEST(FifoPerCpu, IdleCpusSteal) {
  const SimConfig c = Rocksdb(150'000, 0);
  PerCpuFifoPolicy percpu;
  RunClean(c, percpu);
  EXPECT_GT(percpu.steals(), 0u);
  for (int cpu = 0; cpu < c.cpus; ++cpu) EXPECT_EQ(percpu.queue_length(cpu), 0u);
}

TEST(FifoPerCpu, PrestagingHidesTheLink) {
  for (uint32_t prestage : {0u, 4u}) {
    const SimConfig c = Rocksdb(200'000, prestage);
    Print("fifo-percpu", c, RunSpied(c, std::make_unique<PerCpuFifoPolicy>()));
  }
  const SpiedRun off = RunSpied(Rocksdb(200'000, 0), std::make_unique<PerCpuFifoPolicy>());
  const SpiedRun on = RunSpied(Rocksdb(200'000, 4), std::make_unique<PerCpuFifoPolicy>());
  EXPECT_EQ(off.result.staged_hits, 0u);
  EXPECT_GT(on.result.staged_hits, on.result.commits_ok / 4);
  EXPECT_LT(on.result.latency_p50_us, off.result.latency_p50_us);
}

}  // namespace
}  // namespace wave
