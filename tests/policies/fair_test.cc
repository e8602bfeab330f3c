// Fair share on the simulated host: cpu-bound workers with different nice values get cpu time in
// proportion to their weights (the Linux table, lib/nice.h), equal ones get equal time, and the
// round-robin Shinjuku, blind to nice, does not: the weights are what makes the difference.
// Figures go to the test log (bazel test --test_output=all //tests/policies:fair_test).
#include "policies/sched/fair.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <memory>
#include <numeric>
#include <vector>

#include "host/sim/sim.h"
#include "lib/sched/nice.h"
#include "policies/sched/shinjuku.h"
#include "tests/sim/sim_checks.h"

namespace wave {
namespace {

SimConfig CpuBound(int threads, std::vector<int> nice, Placement placement, uint32_t prestage) {
  SimConfig c;
  c.duration_ns = 1'000'000'000;
  c.placement = placement;
  c.prestage_depth = prestage;
  c.workload.kind = WorkloadKind::kCpuBound;
  c.workload.threads = threads;
  c.workload.nice = std::move(nice);
  return c;
}

int NiceOf(const SimConfig& c, size_t worker) {
  return c.workload.nice[worker % c.workload.nice.size()];
}

// Each worker's cpu time over what its weight entitles it to: the total cpu time shared by
// weight (none of these workers is entitled to more than one cpu, so all of it is shareable).
std::vector<double> ShareOverEntitlement(const SimConfig& c, const SimResult& r) {
  const double total = static_cast<double>(
      std::accumulate(r.task_runtime_ns.begin(), r.task_runtime_ns.end(), uint64_t{0}));
  double weights = 0;
  for (size_t i = 0; i < r.task_runtime_ns.size(); ++i) weights += NiceToWeight(NiceOf(c, i));
  std::vector<double> out;
  for (size_t i = 0; i < r.task_runtime_ns.size(); ++i) {
    const double entitled = total * NiceToWeight(NiceOf(c, i)) / weights;
    out.push_back(static_cast<double>(r.task_runtime_ns[i]) / entitled);
  }
  return out;
}

// Mean cpu time by nice value, printed with each level's ratio to the first level's, next to
// the weights' ratio.
void PrintByNice(const char* policy, const SimConfig& c, const SimResult& r) {
  std::map<int, std::pair<double, int>> by_nice;  // nice -> (sum of ms, tasks)
  for (size_t i = 0; i < r.task_runtime_ns.size(); ++i) {
    auto& [ms, n] = by_nice[NiceOf(c, i)];
    ms += static_cast<double>(r.task_runtime_ns[i]) / 1e6;
    ++n;
  }
  const int base = by_nice.rbegin()->first;  // the lightest
  const double base_ms = by_nice[base].first / by_nice[base].second;
  for (const auto& [nice, v] : by_nice) {
    const double mean = v.first / v.second;
    std::printf(
        "figures: %-8s %-4s prestage %u, %d workers on %d cpus: nice %3d x%-2d %8.2f ms cpu "
        "each, %5.2fx nice %d (weights %5.2fx)\n",
        policy, PlacementName(c.placement), c.prestage_depth, c.workload.threads, r.workload_cpus,
        nice, v.second, mean, mean / base_ms, base,
        static_cast<double>(NiceToWeight(nice)) / NiceToWeight(base));
  }
}

class FairShares : public ::testing::TestWithParam<PlacementAndPrestage> {};

TEST_P(FairShares, CpuTimeFollowsTheWeights) {
  // nice -5, 0 and 5: weights 3121, 1024 and 335, about 3x apart.
  const SimConfig c = CpuBound(24, {-5, 0, 5}, std::get<0>(GetParam()), std::get<1>(GetParam()));
  FairPolicy fair;
  const SimResult r = RunClean(c, fair);
  PrintByNice("fair", c, r);
  const std::vector<double> ratio = ShareOverEntitlement(c, r);
  for (size_t i = 0; i < ratio.size(); ++i) {
    EXPECT_NEAR(ratio[i], 1.0, 0.05) << "worker " << i << ", nice " << NiceOf(c, i);
  }
  // Work conserving: the cpus were busy all along (switches and decision round trips aside).
  EXPECT_GT(r.cpu_utilization, 0.98);
}

TEST_P(FairShares, EqualNiceGetsEqualTime) {
  const SimConfig c = CpuBound(20, {0}, std::get<0>(GetParam()), std::get<1>(GetParam()));
  FairPolicy fair;
  const SimResult r = RunClean(c, fair);
  for (double x : ShareOverEntitlement(c, r)) EXPECT_NEAR(x, 1.0, 0.03);
}

INSTANTIATE_TEST_SUITE_P(PlacementsAndPrestaging, FairShares, AllPlacementsAndPrestaging(),
                         PlacementAndPrestageName);

// Round robin (Shinjuku's slices) shares the cpus equally whatever the nice values: without the
// weights the heavy workers get a third of their share and the light ones three times theirs.
TEST(FairShares, RoundRobinIgnoresNiceAndFairDoesNot) {
  const SimConfig c = CpuBound(24, {-5, 0, 5}, Placement::kIpu, 0);
  ShinjukuPolicy rr(ShinjukuOptions{.slice_ns = 1'000'000});
  const SimResult r = RunClean(c, rr);
  PrintByNice("shinjuku", c, r);
  const std::vector<double> ratio = ShareOverEntitlement(c, r);
  EXPECT_LT(ratio[0], 0.5);  // nice -5
  EXPECT_GT(ratio[2], 2.0);  // nice 5
}

// A server: GET workers sleep between requests and wake with at most wakeup_credit_ns of credit
// below the smallest virtual runtime, while a worker in a 5 ms scan accrues virtual runtime
// with every slice: the woken GETs go first, so the scans hold up the GETs for at most a slice
// (the FIFO's GET p99 at this load is 2.5 ms: shinjuku_test).
TEST(FairShares, ScansHoldUpGetsForAtMostASlice) {
  SimConfig c;
  c.duration_ns = 500'000'000;
  c.workload.load_rps = 150'000;
  FairPolicy fair;
  const SimResult r = RunClean(c, fair);
  std::printf("figures: fair     rocksdb 150000 req/s: GET p99 %.2f us, p99 %.2f us\n",
              r.get_latency_p99_us, r.latency_p99_us);
  EXPECT_LT(r.get_latency_p99_us, static_cast<double>(FairOptions{}.slice_ns) / 1e3);
}

}  // namespace
}  // namespace wave
