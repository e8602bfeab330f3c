// Every policy of the registry, on the simulated host: every request completes and nothing is
// lost or broken, on each workload, with and without prestaging, with the agent on the IPU and on
// a host cpu; and under stale commits, an agent failure and a restart with resync.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "host/sim/sim.h"
#include "policies/registry.h"
#include "tests/sim/sim_checks.h"

namespace wave {
namespace {

std::unique_ptr<Policy> Make(const std::string& name) {
  absl::StatusOr<std::unique_ptr<Policy>> p = MakePolicy(name);
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? *std::move(p) : nullptr;
}

// Clean, and the agent kept up: the host never had to take over.
void ExpectCleanWithoutFallback(const SimResult& r) {
  ExpectEveryRequestDone(r);
  EXPECT_EQ(r.agent.unknown_task, 0u);
  EXPECT_EQ(r.fallbacks, 0u);
}

struct Case {
  std::string policy;
  WorkloadKind workload;
  uint32_t prestage;
  Placement placement;
};

std::vector<Case> AllCases() {
  std::vector<Case> cases;
  for (const std::string& policy : PolicyNames()) {
    for (WorkloadKind w :
         {WorkloadKind::kRocksDb, WorkloadKind::kUniform, WorkloadKind::kExponential}) {
      for (uint32_t prestage : {0u, 4u}) {
        for (Placement pl : {Placement::kIpu, Placement::kHost}) {
          cases.push_back({policy, w, prestage, pl});
        }
      }
    }
  }
  return cases;
}

std::string CaseName(const ::testing::TestParamInfo<Case>& info) {
  std::string name = absl::StrCat(info.param.policy, "_", WorkloadName(info.param.workload), "_",
                                  info.param.prestage == 0 ? "noprestage" : "prestage", "_",
                                  PlacementName(info.param.placement));
  for (char& ch : name) {
    if (ch == '-') ch = '_';
  }
  return name;
}

class NoStarvation : public ::testing::TestWithParam<Case> {};

TEST_P(NoStarvation, EveryRequestCompletes) {
  const Case& p = GetParam();
  SimConfig c;
  c.workload.kind = p.workload;
  // About three quarters of the workload cpus busy (rocksdb: 10.2 us of work per request on
  // average, uniform and exponential 10 us), so queues form and the stealing, slicing and
  // staging paths all run; about 30k requests each.
  const bool rocksdb = p.workload == WorkloadKind::kRocksDb;
  c.workload.load_rps = rocksdb ? 150'000 : 500'000;
  c.duration_ns = rocksdb ? 200'000'000 : 60'000'000;
  c.prestage_depth = p.prestage;
  c.placement = p.placement;
  std::unique_ptr<Policy> policy = Make(p.policy);
  ASSERT_NE(policy, nullptr);
  absl::StatusOr<SimResult> r = RunSim(c, *policy);
  ASSERT_TRUE(r.ok()) << r.status();
  ExpectCleanWithoutFallback(*r);
  EXPECT_EQ(r->policy, p.policy);
  EXPECT_GT(r->commits_ok, 0u);
  // fair, gang and pin do not prestage (see their headers).
  if (p.prestage > 0 && p.policy != "fair" && p.policy != "gang" && p.policy != "pin") {
    EXPECT_GT(r->staged_hits, 0u);
  }
}

INSTANTIATE_TEST_SUITE_P(AllPolicies, NoStarvation, ::testing::ValuesIn(AllCases()), CaseName);

class PolicyUnderFailure : public ::testing::TestWithParam<std::string> {};

// Stale commits (sequence bumps racing with decisions), prestaging, then the agent dies and a
// new one, with a fresh policy, takes over after a replay.
TEST_P(PolicyUnderFailure, StaleCommitsFailureAndRestartLoseNothing) {
  SimConfig c;
  c.duration_ns = 200'000'000;
  c.workload.load_rps = 150'000;
  c.prestage_depth = 4;
  c.affinity_churn_per_s = 1'000'000;
  c.agent_fail_at_ns = 50'000'000;
  c.agent_restart_at_ns = 120'000'000;
  const std::string name = GetParam();
  absl::StatusOr<SimResult> r = RunSim(c, [&name] { return Make(name); });
  ASSERT_TRUE(r.ok()) << r.status();
  ExpectEveryRequestDone(*r);
  EXPECT_EQ(r->fallbacks, 1u);
  EXPECT_EQ(r->agent_restarts, 1u);
  EXPECT_EQ(r->agent.resyncs, 1u);
  EXPECT_GT(r->commits_stale, 0u);  // the churn made decisions stale, and they were retried
}

INSTANTIATE_TEST_SUITE_P(AllPolicies, PolicyUnderFailure, ::testing::ValuesIn(PolicyNames()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           for (char& ch : name) {
                             if (ch == '-') ch = '_';
                           }
                           return name;
                         });

// The slicing policies never let a cpu-bound task keep the others off the cpus: every worker
// runs within the window. (The FIFOs run a task until it blocks, so there they would starve;
// that is what slices are for.)
TEST(NoStarvationCpuBound, SlicingPoliciesRunEveryWorker) {
  for (const std::string name : {"shinjuku", "fair"}) {
    SCOPED_TRACE(name);
    SimConfig c;
    c.duration_ns = 100'000'000;
    c.workload.kind = WorkloadKind::kCpuBound;
    c.workload.threads = 40;
    c.workload.nice = {0, 19};  // even the lightest weight gets its turns
    std::unique_ptr<Policy> policy = Make(name);
    ASSERT_NE(policy, nullptr);
    absl::StatusOr<SimResult> r = RunSim(c, *policy);
    ASSERT_TRUE(r.ok()) << r.status();
    ExpectCleanWithoutFallback(*r);
    for (size_t i = 0; i < r->task_runtime_ns.size(); ++i) {
      EXPECT_GT(r->task_runtime_ns[i], 0u) << "worker " << i << " never ran";
    }
  }
}

}  // namespace
}  // namespace wave
