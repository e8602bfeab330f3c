// Checks shared by the tests that run the simulated host (tests/sim, tests/policies).
#ifndef LIBWAVE_TESTS_SIM_SIM_CHECKS_H_
#define LIBWAVE_TESTS_SIM_SIM_CHECKS_H_

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <tuple>

#include "host/sim/sim.h"

namespace wave {

// Every request arrived was completed, and nothing was lost, broken or malformed.
inline void ExpectEveryRequestDone(const SimResult& r) {
  EXPECT_GT(r.arrived, 0u);
  EXPECT_EQ(r.completed, r.arrived);
  EXPECT_EQ(r.incomplete_requests, 0u);
  EXPECT_EQ(r.lost_tasks, 0u);
  EXPECT_EQ(r.invariant_violations, 0u);
  EXPECT_EQ(r.agent.malformed, 0u);
}

// Runs the simulation and checks ExpectEveryRequestDone; a failure (and an empty result) if it
// did not run.
inline SimResult RunClean(const SimConfig& c, Policy& policy) {
  absl::StatusOr<SimResult> r = RunSim(c, policy);
  EXPECT_TRUE(r.ok()) << r.status();
  if (!r.ok()) return SimResult{};
  ExpectEveryRequestDone(*r);
  return *r;
}

// A test parameter: where the agent runs and how deep it prestages, every combination that
// matters (ipu and host, prestaging off and 4 deep), named like "ipu_prestage".
using PlacementAndPrestage = std::tuple<Placement, uint32_t>;
inline auto AllPlacementsAndPrestaging() {
  return ::testing::Combine(::testing::Values(Placement::kIpu, Placement::kHost),
                            ::testing::Values(0u, 4u));
}
inline std::string PlacementAndPrestageName(
    const ::testing::TestParamInfo<PlacementAndPrestage>& info) {
  return std::string(PlacementName(std::get<0>(info.param))) +
         (std::get<1>(info.param) == 0 ? "_noprestage" : "_prestage");
}

}  // namespace wave

#endif  // LIBWAVE_TESTS_SIM_SIM_CHECKS_H_
