// The pieces every host mechanism shares (host/mech): the streamed replay, the commit pump and
// its back-pressure rule, and the supervisor of an external agent's life.
#include <gtest/gtest.h>
#include <unistd.h>

#include <map>
#include <string>
#include <vector>

#include "abi/wave_abi.h"
#include "host/mech/commit_pump.h"
#include "host/mech/replay.h"
#include "host/mech/supervisor.h"
#include "lib/sched/agent.h"
#include "lib/sched/null_policy.h"
#include "transport/link.h"
#include "transport/region.h"
#include "transport/session.h"

namespace wave {
namespace {

// Both ends of a scheduling link in this process.
struct Link {
  explicit Link(uint32_t events, uint32_t commits) {
    const LinkConfig config = LinkConfig::Sched(events, commits);
    region = *SharedRegion::CreateAnonymous(LinkBytes(config));
    EXPECT_TRUE(LinkFormat(region.data(), region.size(), config).ok());
    host = *AttachHost(region.data(), region.size());
    agent = *AttachAgent(region.data(), region.size());
  }
  SharedRegion region;
  HostEnd host;
  AgentEnd agent;
};

wave_msg TaskNew(uint64_t id, uint64_t seq, bool runnable) {
  wave_msg m;
  wave_msg_init(&m, WAVE_EV_TASK_NEW);
  m.task.task_id = id;
  m.task.seq = seq;
  m.task.cpu = -1;
  m.task.flags = runnable ? WAVE_TASK_F_RUNNABLE : 0;
  return m;
}

// ---- the replay ----

// A replay of 100,000 tasks streams through a ring of 4,096 slots while the agent drains it: the
// agent ends up knowing every task, in the state the snapshot gave, and learns the new epoch.
TEST(ReplayWriter, AHundredThousandTaskReplayStreamsThroughA4096SlotRing) {
  constexpr uint64_t kTasks = 100'000;
  constexpr int kCpus = 64;
  Link link(4096, 4096);
  NullPolicy policy;
  Agent agent(std::move(link.agent), policy, AgentOptions{.num_cpus = kCpus, .max_burst = 0});
  ReplayWriter replay;
  replay.Begin(/*epoch=*/5, WAVE_RESYNC_AGENT_START, WAVE_SUBSYS_SCHED, 1000);
  for (uint64_t id = 1; id <= kTasks; ++id) replay.Add(TaskNew(id, id * 3, id % 2 == 0));
  for (int c = 0; c < kCpus; ++c) {
    wave_msg m;
    wave_msg_init(&m, WAVE_EV_CPU_IDLE);
    m.cpu.cpu = c;
    replay.Add(m);
  }
  EXPECT_EQ(replay.records(), kTasks + kCpus);
  int rounds = 0;
  while (!replay.Step(link.host.events, 2000)) {
    ++rounds;
    ASSERT_LT(rounds, 1000);
    ASSERT_TRUE(agent.RunOnce().ok());
    agent.ReturnCredits();
  }
  while (agent.RunOnce()->events > 0) agent.ReturnCredits();
  EXPECT_GT(rounds, 20);  // it did not fit one batch
  EXPECT_FALSE(replay.active());
  EXPECT_EQ(replay.records(), kTasks + kCpus);
  EXPECT_EQ(agent.tasks().size(), kTasks);  // no task lost
  EXPECT_EQ(agent.stats().resyncs, 1u);
  EXPECT_EQ(agent.stats().events_by_type[WAVE_EV_RESYNC_END], 1u);
  EXPECT_EQ(agent.stats().malformed, 0u);
  for (uint64_t id : {uint64_t{1}, uint64_t{2}, kTasks}) {
    const Task* t = agent.tasks().Find(id);
    ASSERT_NE(t, nullptr) << id;
    EXPECT_EQ(t->seq(), id * 3);
    EXPECT_EQ(t->runnable(), id % 2 == 0);
  }
  EXPECT_EQ(agent.cpus().AvailableCount(), kCpus);
}

TEST(ReplayWriter, LeavesRoomForTheMechanismAndCanBeCancelled) {
  Link link(16, 16);
  ReplayWriter replay;
  replay.Begin(1, WAVE_RESYNC_OVERFLOW, WAVE_SUBSYS_SCHED, 0);
  for (uint64_t id = 1; id <= 40; ++id) replay.Add(TaskNew(id, 1, false));
  EXPECT_FALSE(replay.Step(link.host.events, 0, /*keep_free=*/4));
  EXPECT_EQ(link.host.events.InFlight(), 12u);  // 16 slots, 4 kept free
  EXPECT_EQ(replay.left(), 42u - 12u);          // BEGIN + 40 + END
  replay.Cancel();
  EXPECT_FALSE(replay.active());
  EXPECT_TRUE(replay.Step(link.host.events, 0));  // nothing left to do
}

// ---- the commit pump ----

// A host of `cpus` cpus and tasks 1..tasks, every one runnable at seq 1, every cpu free.
class FakeHost : public CommitHost {
 public:
  FakeHost(RingProducer& events, int tasks) : events_(events), tasks_(tasks) {}
  bool LookupTask(const wave_a2k_commit& c, HostTaskView* view, CpuSet*) override {
    if (c.task_id == 0 || c.task_id > static_cast<uint64_t>(tasks_)) return false;
    *view = HostTaskView{.seq = 1, .cpus = nullptr, .runnable = true, .on_cpu = false};
    return true;
  }
  bool LookupCpu(const wave_a2k_commit&, HostCpuView* view) override {
    *view = HostCpuView{.managed = true, .busy = false};
    return true;
  }
  uint32_t Enact(const wave_a2k_commit& c) override {
    enacted.push_back(c.task_id);
    return later ? kAnsweredLater : uint32_t{WAVE_COMMIT_OK};
  }
  uint32_t AnswerRoom() override { return room; }
  void Answer(const wave_msg& m) override {
    ASSERT_GT(room, 0u) << "answered beyond the room given";
    --room;
    ++answers[m.result.txn_id];
    statuses.push_back(m.result.status);
    EXPECT_TRUE(events_.Push(m));
  }
  uint64_t NowNs() override { return 7; }

  uint32_t room = 1000;
  bool later = false;
  std::vector<uint64_t> enacted;
  std::map<uint64_t, int> answers;  // txn id -> answers
  std::vector<uint32_t> statuses;

 private:
  RingProducer& events_;
  const int tasks_;
};

wave_msg Commit(uint64_t txn, uint64_t task, int cpu, uint32_t group = 0, uint32_t size = 0) {
  wave_msg m;
  wave_msg_init(&m, WAVE_CMD_COMMIT);
  m.commit.txn_id = txn;
  m.commit.task_id = task;
  m.commit.seq = 1;
  m.commit.cpu = cpu;
  m.commit.group = group;
  m.commit.group_size = size;
  return m;
}

TEST(CommitPump, ACommitIsTakenOnlyWhenItsAnswerFits) {
  Link link(64, 64);
  FakeHost host(link.host.events, 10);
  CommitPump pump(CommitPumpOptions{.num_cpus = 8});
  pump.set_epoch(3);
  const uint64_t t = wave_txn_first(3);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(link.agent.commands.Push(Commit(t + i, 1 + i, i)));
  host.room = 3;
  absl::StatusOr<uint32_t> n = pump.Pump(link.host.commands, host);
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 3u);
  EXPECT_EQ(host.answers.size(), 3u);
  EXPECT_EQ(link.agent.commands.InFlight(), 5u - 0);  // credits: 3 back once the host returns them
  host.room = 1000;
  n = pump.Pump(link.host.commands, host);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 2u);
  ASSERT_EQ(host.answers.size(), 5u);
  for (const auto& [txn, answers] : host.answers) EXPECT_EQ(answers, 1) << txn;  // exactly once
  EXPECT_EQ(host.enacted, (std::vector<uint64_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(pump.stats().received, 5u);
  EXPECT_EQ(pump.stats().results[WAVE_COMMIT_OK], 5u);
}

TEST(CommitPump, AGroupIsTakenWholeOrNotAtAll) {
  Link link(64, 64);
  FakeHost host(link.host.events, 10);
  CommitPump pump(CommitPumpOptions{.num_cpus = 8});
  const uint64_t t = wave_txn_first(0);
  ASSERT_TRUE(link.agent.commands.Push(Commit(t, 1, 0)));
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(link.agent.commands.Push(Commit(t + 1 + i, 2 + i, 1 + i, /*group=*/9, 3)));
  }
  host.room = 3;  // the plain commit and two of the group's three answers: the group waits
  ASSERT_EQ(*pump.Pump(link.host.commands, host), 1u);
  EXPECT_EQ(host.enacted, (std::vector<uint64_t>{1}));
  host.room = 3;
  ASSERT_EQ(*pump.Pump(link.host.commands, host), 3u);
  EXPECT_EQ(host.enacted, (std::vector<uint64_t>{1, 2, 3, 4}));
  EXPECT_EQ(pump.stats().enacted, 2u);  // two units
}

TEST(CommitPump, OldEpochsAreDroppedAndGroupsRefusedWhereTheHostHasNone) {
  Link link(64, 64);
  FakeHost host(link.host.events, 10);
  CommitPump pump(CommitPumpOptions{.num_cpus = 8, .groups = false});
  pump.set_epoch(2);
  ASSERT_TRUE(link.agent.commands.Push(Commit(wave_txn_first(1), 1, 0)));  // forgotten state
  ASSERT_TRUE(link.agent.commands.Push(Commit(wave_txn_first(2), 2, 1, /*group=*/4, 1)));
  ASSERT_TRUE(link.agent.commands.Push(Commit(wave_txn_first(2) + 1, 3, 2)));
  ASSERT_EQ(*pump.Pump(link.host.commands, host), 3u);
  EXPECT_EQ(pump.stats().old_epoch, 1u);
  EXPECT_EQ(host.statuses, (std::vector<uint32_t>{WAVE_COMMIT_MALFORMED, WAVE_COMMIT_OK}));
  EXPECT_EQ(host.enacted, (std::vector<uint64_t>{3}));
}

TEST(CommitPump, AKernelSideMayAnswerLaterAndUncheckedCommitsAreOnlyRouted) {
  Link link(64, 64);
  FakeHost host(link.host.events, 10);
  host.later = true;
  CommitPump pump(CommitPumpOptions{.num_cpus = 4, .host_checks = false});
  const uint64_t t = wave_txn_first(0);
  ASSERT_TRUE(link.agent.commands.Push(Commit(t, 99, 1)));      // unknown: routed all the same
  ASSERT_TRUE(link.agent.commands.Push(Commit(t + 1, 1, 77)));  // no such cpu: cannot be routed
  ASSERT_EQ(*pump.Pump(link.host.commands, host), 2u);
  EXPECT_EQ(host.enacted, (std::vector<uint64_t>{99}));
  EXPECT_EQ(pump.stats().answered_later, 1u);
  EXPECT_EQ(host.statuses, (std::vector<uint32_t>{WAVE_COMMIT_CPU_NOT_ALLOWED}));
}

// ---- the supervisor ----

TEST(AgentSupervisor, AcceptsDropsAndAcceptsAgain) {
  const std::string name = "test-supervisor-" + std::to_string(getpid());
  SessionParams params;
  params.link = LinkConfig::Sched(64, 64);
  params.link_latency_ns = 0;
  absl::StatusOr<Session> host = Session::Create(name, params);
  ASSERT_TRUE(host.ok()) << host.status();
  AgentSupervisor sup(*host, SupervisorOptions{.heartbeat_timeout_ns = 20'000'000}, 0);
  EXPECT_EQ(sup.Check(1).kind, AgentSupervisor::Change::kNone);  // nobody yet

  absl::StatusOr<Session> a1 = Session::Join(name, params, 1'000'000'000);
  ASSERT_TRUE(a1.ok()) << a1.status();
  AgentSupervisor::Change c = sup.Check(1'000);
  ASSERT_EQ(c.kind, AgentSupervisor::Change::kJoined);
  ASSERT_TRUE(c.link.has_value() && c.link->ends[WAVE_SUBSYS_SCHED].has_value());
  EXPECT_TRUE(a1->WaitForAccept(1'000'000'000).ok());
  EXPECT_TRUE(sup.attached());
  EXPECT_EQ(sup.without_agent_ns(5'000), 1'000u);

  // It goes silent: lost, and the session waits for another.
  usleep(40'000);
  c = sup.Check(50'000);
  ASSERT_EQ(c.kind, AgentSupervisor::Change::kLost);
  EXPECT_NE(c.why.find("agent has been silent"), std::string::npos) << c.why;
  EXPECT_EQ(a1->CheckPeer(1'000'000'000).code(), absl::StatusCode::kAborted);

  // One that does not match is told why; the next that does is accepted.
  SessionParams wrong = params;
  wrong.link.sched().to_agent_capacity = 128;
  EXPECT_FALSE(Session::Join(name, wrong, 1'000'000'000).ok());
  EXPECT_EQ(sup.Check(60'000).kind, AgentSupervisor::Change::kNone);
  EXPECT_NE(sup.last_error().find("event ring size is 64 on the host, 128"), std::string::npos)
      << sup.last_error();
  absl::StatusOr<Session> a2 = Session::Join(name, params, 1'000'000'000);
  ASSERT_TRUE(a2.ok()) << a2.status();
  c = sup.Check(70'000);
  ASSERT_EQ(c.kind, AgentSupervisor::Change::kJoined);
  EXPECT_EQ(sup.agents(), 2u);
  EXPECT_EQ(sup.lost(), 1u);
  EXPECT_EQ(sup.without_agent_ns(80'000), 1'000u + 20'000u);

  // A broken ring: dropped at once.
  EXPECT_TRUE(sup.Drop("commit ring: corrupt", 90'000).ok());
  EXPECT_FALSE(sup.attached());
  EXPECT_EQ(sup.last_error(), "commit ring: corrupt");
}

}  // namespace
}  // namespace wave
