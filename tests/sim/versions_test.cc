// An agent one minor version newer (it knows a feature the host does not) or one older (it lacks
// one the host offers) than the host joins a session and schedules a real run: the two use the
// features both offered, and nothing is lost.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>

#include "abi/wave_abi.h"
#include "host/sim/sim.h"
#include "lib/runtime.h"
#include "lib/sched/sched.h"
#include "policies/sched/fifo.h"
#include "policies/sched/gang.h"
#include "transport/session.h"

namespace wave {
namespace {

constexpr uint64_t kNewerFeature = 1ull << 40;  // what a minor + 1 agent would also know

struct AgentRun {
  uint64_t features = 0;  // as the agent's session agreed them
  AgentStats stats;
  absl::Status status;
};

// The agent of another build: its own version and features, the runtime's loop.
void VersionedAgent(const std::string& name, int minor_delta, uint64_t features, Policy& policy,
                    AgentRun* out) {
  SessionParams expect;
  expect.abi_minor = static_cast<uint16_t>(WAVE_ABI_MINOR + minor_delta);
  expect.features = features;
  expect.link = LinkConfig::Sched(0, 0);  // whatever the host has
  expect.link_latency_ns = kTakeHosts;
  absl::StatusOr<Session> s = Session::Join(name, expect, 10'000'000'000);
  if (!s.ok()) {
    out->status = s.status();
    return;
  }
  if (absl::Status a = s->WaitForAccept(10'000'000'000); !a.ok()) {
    out->status = a;
    return;
  }
  out->features = s->features();
  const LinkModel link = s->link_model();
  absl::StatusOr<AgentEnd> end = s->AttachAgent(link, link);
  if (!end.ok()) {
    out->status = end.status();
    return;
  }
  Runtime rt;
  SchedSubsystem sched(policy, SchedOptions{.num_cpus = static_cast<int>(s->params().num_cpus),
                                            .features = s->features()});
  out->status = rt.Attach(sched, *std::move(end));
  if (out->status.ok()) out->status = rt.Run(LoopOptions{.session = &*s});
  out->stats = sched.stats();
}

SimConfig ExternalRun(const std::string& name) {
  SimConfig c;
  c.session = name + "-" + std::to_string(getpid());
  c.duration_ns = 200'000'000;
  c.workload.load_rps = 20'000;
  c.heartbeat_timeout_ns = 2'000'000'000;  // a loaded machine must not fail the agent
  return c;
}

TEST(SessionVersions, AnAgentOneMinorVersionNewerJoinsAndSchedules) {
  const SimConfig c = ExternalRun("newer");
  FifoPolicy fifo;
  AgentRun agent;
  std::thread t(VersionedAgent, c.session, +1, WAVE_FEATURES | kNewerFeature, std::ref(fifo),
                &agent);
  absl::StatusOr<SimResult> r = RunSimExternal(c);
  t.join();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(agent.status.ok()) << agent.status;
  EXPECT_EQ(agent.features, WAVE_FEATURES);  // the newer feature is not used
  EXPECT_GT(r->arrived, 0u);
  EXPECT_EQ(r->completed, r->arrived);
  EXPECT_EQ(r->lost_tasks, 0u);
  EXPECT_EQ(r->fallbacks, 0u);
  EXPECT_GT(r->commits_ok, 0u);
  EXPECT_EQ(agent.stats.malformed + agent.stats.unknown_type, 0u);
}

TEST(SessionVersions, AnAgentOneMinorVersionOlderJoinsWithoutWhatItLacks) {
  // An older agent that does not know group commits: the gang policy commits one by one.
  SimConfig c = ExternalRun("older");
  c.workload.kind = WorkloadKind::kVms;
  GangPolicy gang;
  AgentRun agent;
  std::thread t(VersionedAgent, c.session, -1, WAVE_FEATURES & ~WAVE_FEAT_GROUPS, std::ref(gang),
                &agent);
  absl::StatusOr<SimResult> r = RunSimExternal(c);
  t.join();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(agent.status.ok()) << agent.status;
  EXPECT_EQ(agent.features, WAVE_FEATURES & ~WAVE_FEAT_GROUPS);
  EXPECT_EQ(r->fallbacks, 0u);
  EXPECT_GT(r->commits_ok, 0u);
  EXPECT_EQ(r->agent.results[WAVE_COMMIT_MALFORMED], 0u);      // no group was sent
  EXPECT_EQ(r->agent.results[WAVE_COMMIT_GROUP_ABORTED], 0u);  // nor aborted
  EXPECT_GT(r->vm_oncpu_cpus, 0.0);
}

}  // namespace
}  // namespace wave
