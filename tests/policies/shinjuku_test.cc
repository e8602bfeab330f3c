// Shinjuku on the simulated host: slices bound how long a task holds a cpu, so GETs stop waiting
// behind 5 ms range scans. Compared with the centralized FIFO in the same test, same seed.
// Figures go to the test log (bazel test --test_output=all //tests/policies:shinjuku_test).
#include "policies/sched/shinjuku.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <memory>

#include "host/sim/sim.h"
#include "policies/sched/fifo.h"
#include "tests/policies/policy_spy.h"
#include "tests/sim/sim_checks.h"

namespace wave {
namespace {

// rocksdb at 150k req/s: about two thirds of 8 cpus busy; FIFO's GET tail is the scans'.
SimConfig Moderate(Placement placement, uint32_t prestage) {
  SimConfig c;
  c.duration_ns = 500'000'000;
  c.workload.load_rps = 150'000;
  c.placement = placement;
  c.prestage_depth = prestage;
  return c;
}

void Print(const char* what, const SimConfig& c, const SpiedRun& run) {
  std::printf(
      "figures: %-34s %-4s prestage %u: GET p99 %8.2f us, p99 %8.2f us, p50 %6.2f us, longest "
      "stint %8.2f us, preemptions %llu\n",
      what, PlacementName(c.placement), c.prestage_depth, run.result.get_latency_p99_us,
      run.result.latency_p99_us, run.result.latency_p50_us,
      static_cast<double>(run.spy.max_stint_runtime_ns) / 1e3,
      static_cast<unsigned long long>(run.spy.preempted));
}

class ShinjukuVsFifo : public ::testing::TestWithParam<PlacementAndPrestage> {};

// The GETs' tail, and the bound itself, from the host's events: no task stays on a cpu longer
// than the slice plus the context switch without being preempted, whether its decision was a
// commit or staged.
TEST_P(ShinjukuVsFifo, SlicesBoundStintsAndTheGetTail) {
  const SimConfig c = Moderate(std::get<0>(GetParam()), std::get<1>(GetParam()));
  const ShinjukuOptions opts;
  const SpiedRun fifo = RunSpied(c, std::make_unique<FifoPolicy>());
  const SpiedRun shinjuku = RunSpied(c, std::make_unique<ShinjukuPolicy>(opts));
  Print("fifo", c, fifo);
  Print("shinjuku (30 us slices)", c, shinjuku);
  // FIFO: a GET behind a scan waits for it, and at this load enough do to make the GETs' p99
  // itself a scan-length wait. Scans (and runs of requests a worker serves back to back) hold
  // their cpu whole.
  EXPECT_GT(fifo.result.get_latency_p99_us, 1'000.0);
  EXPECT_GE(fifo.spy.max_stint_runtime_ns, c.workload.scan_ns);
  EXPECT_EQ(fifo.spy.preempted, 0u);
  // Shinjuku: the GETs' p99 is far below the 5 ms scan time, and so is the overall p99 (the
  // scans are only 0.5% of the requests); the median request (a GET on a free cpu) pays
  // nothing for it.
  EXPECT_LT(shinjuku.result.get_latency_p99_us, 200.0);
  EXPECT_LT(shinjuku.result.latency_p99_us, 1'000.0);
  EXPECT_LT(shinjuku.result.get_latency_p99_us * 10, fifo.result.get_latency_p99_us);
  EXPECT_LT(shinjuku.result.latency_p50_us, fifo.result.latency_p50_us + 1.0);
  // The bound.
  EXPECT_GT(shinjuku.spy.preempted, 1'000u);  // every scan is cut into slices
  EXPECT_LE(shinjuku.spy.max_stint_runtime_ns, opts.slice_ns);
  EXPECT_LE(shinjuku.spy.max_stint_ns, opts.slice_ns + c.ctx_switch_ns);
}

INSTANTIATE_TEST_SUITE_P(PlacementsAndPrestaging, ShinjukuVsFifo, AllPlacementsAndPrestaging(),
                         PlacementAndPrestageName);

TEST(Shinjuku, TheSliceIsAKnob) {
  const SimConfig c = Moderate(Placement::kIpu, 0);
  const ShinjukuOptions opts{.slice_ns = 100'000};
  const SpiedRun r = RunSpied(c, std::make_unique<ShinjukuPolicy>(opts));
  Print("shinjuku (100 us slices)", c, r);
  EXPECT_LE(r.spy.max_stint_runtime_ns, opts.slice_ns);
  EXPECT_GT(r.spy.max_stint_runtime_ns, ShinjukuOptions{}.slice_ns);  // longer than the default's
  EXPECT_LT(r.result.get_latency_p99_us, 1'000.0);
}

// A host that does not end slices: the agent preempts (PREEMPT commits) a task that has been on
// its cpu longer than preempt_after_ns, but only while work waits (a scan alone on the cpus
// still runs whole), and only when it hears from the host; the GETs' tail still stays far below
// the scan time.
TEST(Shinjuku, AgentPreemptionAloneBoundsTheTail) {
  const SimConfig c = Moderate(Placement::kIpu, 0);
  const ShinjukuOptions opts{.slice_ns = 0, .preempt_after_ns = 30'000};
  const SpiedRun r = RunSpied(c, std::make_unique<ShinjukuPolicy>(opts));
  Print("shinjuku (agent preempts at 30 us)", c, r);
  EXPECT_GT(r.spy.preempted, 1'000u);
  EXPECT_EQ(r.result.agent.events_by_type[WAVE_EV_TASK_PREEMPTED], r.spy.preempted);
  EXPECT_LT(r.result.get_latency_p99_us, 200.0);
}

}  // namespace
}  // namespace wave
