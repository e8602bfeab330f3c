// The pin policy without a kernel: its homes, and a simulated run where it loses nothing.
#include "policies/sched/pin.h"

#include <gtest/gtest.h>

#include "host/sim/sim.h"

namespace wave {
namespace {

TEST(PinPolicy, HomeIsTheKthAllowedCpu) {
  EXPECT_EQ(PinPolicy::HomeCpu(0, CpuSet::FromWord(0b11), 2), 0);
  EXPECT_EQ(PinPolicy::HomeCpu(1, CpuSet::FromWord(0b11), 2), 1);
  EXPECT_EQ(PinPolicy::HomeCpu(7, CpuSet::FromWord(0b11), 2), 1);
  EXPECT_EQ(PinPolicy::HomeCpu(8, CpuSet::FromWord(0b10), 2), 1);  // one cpu allowed: always it
  EXPECT_EQ(PinPolicy::HomeCpu(5, CpuSet::FromWord(0b1010), 4), 3);
  EXPECT_EQ(PinPolicy::HomeCpu(6, CpuSet::FromWord(0b1010), 4), 1);
  EXPECT_EQ(PinPolicy::HomeCpu(3, CpuSet::FromWord(0b1100), 2),
            -1);  // nothing allowed among the cpus there are
  EXPECT_EQ(PinPolicy::HomeCpu(3, CpuSet::FromWord(0), 8), -1);
  // Beyond one word of cpus: the k-th of 1..1023.
  EXPECT_EQ(PinPolicy::HomeCpu(5000, CpuSet::Range(1, 1023), 1024), 5000 % 1023 + 1);
  EXPECT_EQ(PinPolicy::HomeCpu(2, CpuSet::Of({100, 700, 900}), 1024), 900);
}

TEST(PinPolicy, LosesNoTaskOnTheSimulator) {
  SimConfig c;
  c.cpus = 4;
  c.duration_ns = 100'000'000;
  c.workload.load_rps = 50'000;
  c.workload.threads = 16;
  PinPolicy pin;
  absl::StatusOr<SimResult> r = RunSim(c, pin);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_GT(r->arrived, 0u);
  EXPECT_EQ(r->completed, r->arrived);
  EXPECT_EQ(r->lost_tasks, 0u);
  EXPECT_EQ(r->invariant_violations, 0u);
  EXPECT_EQ(r->agent.malformed, 0u);
}

}  // namespace
}  // namespace wave
