// Two-process sessions: handshake, mismatch errors on both sides, heartbeats, close.
#include "transport/session.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "absl/strings/str_format.h"
#include "transport/clock.h"

namespace wave {
namespace {

constexpr uint64_t kSecond = 1'000'000'000;

std::string UniqueName(const char* what) {
  return std::string("test-") + what + "-" + std::to_string(getpid());
}

SessionParams Params() {
  SessionParams p;
  p.link = LinkConfig::Sched(256, 256);
  p.num_cpus = 4;
  return p;
}

TEST(Session, HandshakeThenMessagesFlowBothWays) {
  const std::string name = UniqueName("ok");
  absl::StatusOr<Session> host = Session::Create(name, Params());
  ASSERT_TRUE(host.ok()) << host.status();
  absl::StatusOr<Session> agent = Session::Join(name, Params(), kSecond);
  ASSERT_TRUE(agent.ok()) << agent.status();
  ASSERT_TRUE(host->WaitForAgent(kSecond).ok());
  ASSERT_TRUE(agent->WaitForAccept(kSecond).ok());
  EXPECT_EQ(agent->params().num_cpus, 4u);

  absl::StatusOr<HostEnd> h = host->AttachHost();
  absl::StatusOr<AgentEnd> a = agent->AttachAgent();
  ASSERT_TRUE(h.ok() && a.ok());
  wave_msg m{};
  m.hdr.type = WAVE_EV_CPU_IDLE;
  m.hdr.len = WAVE_MSG_SIZE;
  m.cpu.cpu = 3;
  ASSERT_TRUE(h->events.Push(m));
  absl::StatusOr<uint32_t> n = a->events.Peek(8);
  ASSERT_TRUE(n.ok());
  ASSERT_EQ(*n, 1u);
  wave_msg got;
  a->events.Read(0, &got);
  EXPECT_EQ(got.cpu.cpu, 3);
  m.hdr.type = WAVE_CMD_COMMIT;
  ASSERT_TRUE(a->commands.Push(m));
  n = h->commands.Peek(8);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1u);
}

TEST(Session, RingSizeMismatchIsOneClearLineOnBothSides) {
  const std::string name = UniqueName("size");
  absl::StatusOr<Session> host = Session::Create(name, Params());
  ASSERT_TRUE(host.ok()) << host.status();
  SessionParams mine = Params();
  mine.link.sched().to_agent_capacity = 1024;
  absl::StatusOr<Session> agent = Session::Join(name, mine, kSecond);
  ASSERT_FALSE(agent.ok());
  const std::string want =
      "session mismatch: event ring size is 256 on the host, 1024 on the agent";
  EXPECT_EQ(agent.status().message(), want);
  absl::Status h = host->WaitForAgent(kSecond);
  EXPECT_EQ(h.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(h.message(), want);
}

TEST(Session, AbiMajorVersionMismatchIsReported) {
  const std::string name = UniqueName("abi");
  absl::StatusOr<Session> host = Session::Create(name, Params());
  ASSERT_TRUE(host.ok());
  SessionParams mine = Params();
  mine.abi_major = WAVE_ABI_MAJOR + 1;
  absl::StatusOr<Session> agent = Session::Join(name, mine, kSecond);
  ASSERT_FALSE(agent.ok());
  EXPECT_EQ(
      agent.status().message(),
      absl::StrFormat("session mismatch: ABI version is %u.%u on the host, %u.%u on the agent",
                      WAVE_ABI_MAJOR, WAVE_ABI_MINOR, WAVE_ABI_MAJOR + 1, WAVE_ABI_MINOR));
  EXPECT_EQ(host->WaitForAgent(kSecond).message(), agent.status().message());
}

// An agent one minor version newer (knowing a feature the host does not) or older (lacking one
// the host offers) joins, and both sides use the features both offered.
TEST(Session, AgentOneMinorVersionApartJoinsWithTheCommonFeatures) {
  constexpr uint64_t kNewerFeature = 1ull << 40;  // a feature of minor + 1
  struct Case {
    int minor_delta;
    uint64_t agent_features;
    uint64_t want;
  };
  const Case cases[] = {
      {+1, WAVE_FEATURES | kNewerFeature, WAVE_FEATURES},
      {-1, WAVE_FEATURES & ~WAVE_FEAT_GROUPS, WAVE_FEATURES & ~WAVE_FEAT_GROUPS},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.minor_delta);
    const std::string name = UniqueName("minor");
    absl::StatusOr<Session> host = Session::Create(name, Params());
    ASSERT_TRUE(host.ok()) << host.status();
    SessionParams mine = Params();
    mine.abi_minor = static_cast<uint16_t>(WAVE_ABI_MINOR + c.minor_delta);
    mine.features = c.agent_features;
    absl::StatusOr<Session> agent = Session::Join(name, mine, kSecond);
    ASSERT_TRUE(agent.ok()) << agent.status();
    ASSERT_TRUE(host->WaitForAgent(kSecond).ok());
    ASSERT_TRUE(agent->WaitForAccept(kSecond).ok());
    EXPECT_EQ(host->features(), c.want);
    EXPECT_EQ(agent->features(), c.want);
  }
}

TEST(Session, EachFieldMismatchIsNamed) {
  const SessionParams h = Params();
  EXPECT_EQ(SessionMismatch(h, h), "");
  SessionParams a = h;
  a.slot_size = 128;
  EXPECT_NE(SessionMismatch(h, a).find("slot size is 64 on the host, 128"), std::string::npos);
  a = h;
  a.magic = 1;
  EXPECT_NE(SessionMismatch(h, a).find("magic"), std::string::npos);
  a = h;
  a.link.sched().to_host_capacity = 16;
  EXPECT_NE(SessionMismatch(h, a).find("commit ring size"), std::string::npos);
  a = h;
  a.num_cpus = 8;
  EXPECT_NE(SessionMismatch(h, a).find("cpu count"), std::string::npos);
  a.num_cpus = 0;  // "take the host's"
  EXPECT_EQ(SessionMismatch(h, a), "");
  a = h;
  a.link_latency_ns = 500;
  EXPECT_EQ(SessionMismatch(h, a),
            "session mismatch: link latency (ns) is 1000 on the host, 500 on the agent");
  a.link_latency_ns = kTakeHosts;
  EXPECT_EQ(SessionMismatch(h, a), "");
  a = h;
  a.link_clock = static_cast<uint32_t>(h.link_clock == static_cast<uint32_t>(LinkClockKind::kTsc)
                                           ? LinkClockKind::kMonotonic
                                           : LinkClockKind::kTsc);
  EXPECT_NE(SessionMismatch(h, a).find("session mismatch: link clock is"), std::string::npos);
}

TEST(Session, AgentTakesTheHostsLinkLatency) {
  const std::string name = UniqueName("latency");
  SessionParams hp = Params();
  hp.link_latency_ns = 2'500;
  absl::StatusOr<Session> host = Session::Create(name, hp);
  ASSERT_TRUE(host.ok()) << host.status();
  SessionParams ap = Params();
  ap.link_latency_ns = kTakeHosts;
  absl::StatusOr<Session> agent = Session::Join(name, ap, kSecond);
  ASSERT_TRUE(agent.ok()) << agent.status();
  ASSERT_TRUE(host->WaitForAgent(kSecond).ok());
  EXPECT_EQ(agent->link_model().latency_ns, 2'500u);
  EXPECT_EQ(host->link_model().latency_ns, 2'500u);
  EXPECT_EQ(agent->link_model().clock, &LinkClock());
}

TEST(Session, BadNamesAndMissingHostAreErrors) {
  EXPECT_EQ(Session::Create("../etc", Params()).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Session::Create("", Params()).status().code(), absl::StatusCode::kInvalidArgument);
  absl::StatusOr<Session> s = Session::Join(UniqueName("nobody"), Params(), 10'000'000);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kUnavailable);
}

TEST(Session, LiveHostKeepsItsNameDeadHostsRegionIsReplaced) {
  const std::string name = UniqueName("reuse");
  absl::StatusOr<Session> host = Session::Create(name, Params());
  ASSERT_TRUE(host.ok());
  EXPECT_EQ(Session::Create(name, Params()).status().code(), absl::StatusCode::kAlreadyExists);

  // A host that dies without cleaning up leaves its region behind.
  const std::string dead = UniqueName("dead");
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    absl::StatusOr<Session> s = Session::Create(dead, Params());
    _exit(s.ok() ? 0 : 1);  // _exit: no destructor, the file stays
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_EQ(WEXITSTATUS(status), 0);
  absl::StatusOr<Session> again = Session::Create(dead, Params());
  EXPECT_TRUE(again.ok()) << again.status();
}

TEST(Session, AgentDeathIsDetectedWithinTheHeartbeat) {
  const std::string name = UniqueName("death");
  absl::StatusOr<Session> host = Session::Create(name, Params());
  ASSERT_TRUE(host.ok());
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    absl::StatusOr<Session> a = Session::Join(name, Params(), 5 * kSecond);
    if (!a.ok() || !a->WaitForAccept(5 * kSecond).ok()) _exit(1);
    for (;;) {  // beat until killed
      a->Beat();
      usleep(1000);
    }
  }
  ASSERT_TRUE(host->WaitForAgent(5 * kSecond).ok());
  const uint64_t timeout = 50'000'000;  // 50 ms
  MonotonicClock clock;
  // Alive while it beats.
  usleep(20'000);
  EXPECT_TRUE(host->CheckPeer(timeout).ok());
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  const uint64_t killed = clock.NowNs();
  absl::Status s;
  while ((s = host->CheckPeer(timeout)).ok() && clock.NowNs() - killed < 10 * kSecond) {
    usleep(1000);
  }
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_NE(s.message().find("agent has been silent"), absl::string_view::npos);
  // Detected after the timeout, not long after it (generous slack for a loaded 2-core machine).
  EXPECT_LT(clock.NowNs() - killed, timeout + 2 * kSecond);
}

// A clock the test moves by hand.
class TestClock : public Clock {
 public:
  explicit TestClock(uint64_t start_ns) : now_ns_(start_ns) {}
  uint64_t NowNs() const override { return now_ns_; }
  void Advance(uint64_t ns) { now_ns_ += ns; }

 private:
  uint64_t now_ns_;
};

// Two images share no clock: the host's monotonic clock here reads three hours more than the
// agent's. Heartbeats are counters read against the reader's own clock, so each side still tells
// a live peer (one whose count moved within the timeout, on its own clock) from a dead one.
TEST(Session, PeersWhoseClocksDifferByHoursTellLiveFromDead) {
  constexpr uint64_t kHours = 3ull * 3600 * kSecond;
  constexpr uint64_t kTimeout = 50'000'000;  // 50 ms
  TestClock host_clock(kHours + 123);
  TestClock agent_clock(7);
  const std::string name = UniqueName("clocks");
  absl::StatusOr<Session> host = Session::Create(name, Params(), &host_clock);
  ASSERT_TRUE(host.ok()) << host.status();
  absl::StatusOr<Session> agent = Session::Join(name, Params(), kSecond, &agent_clock);
  ASSERT_TRUE(agent.ok()) << agent.status();
  ASSERT_TRUE(host->WaitForAgent(kSecond).ok());
  ASSERT_TRUE(agent->WaitForAccept(kSecond).ok());
  for (int round = 0; round < 10; ++round) {  // both beat: both alive, round after round
    host_clock.Advance(40'000'000);
    agent_clock.Advance(40'000'000);
    host->Beat();
    agent->Beat();
    EXPECT_TRUE(host->CheckPeer(kTimeout).ok()) << round;
    EXPECT_TRUE(agent->CheckPeer(kTimeout).ok()) << round;
  }
  // The agent goes silent: alive within the timeout of the host's clock, dead after it.
  host_clock.Advance(30'000'000);
  host->Beat();
  EXPECT_TRUE(host->CheckPeer(kTimeout).ok());
  host_clock.Advance(30'000'000);
  absl::Status dead = host->CheckPeer(kTimeout);
  EXPECT_EQ(dead.code(), absl::StatusCode::kUnavailable) << dead;
  EXPECT_NE(dead.message().find("agent has been silent for 60 ms"), absl::string_view::npos)
      << dead;
  // It beats again: alive again. Now the host goes silent, and the agent sees it on its clock.
  agent->Beat();
  EXPECT_TRUE(host->CheckPeer(kTimeout).ok());
  EXPECT_TRUE(agent->CheckPeer(kTimeout).ok());  // the host's last beat, seen now
  agent_clock.Advance(45'000'000);
  EXPECT_TRUE(agent->CheckPeer(kTimeout).ok());
  agent_clock.Advance(10'000'000);
  dead = agent->CheckPeer(kTimeout);
  EXPECT_EQ(dead.code(), absl::StatusCode::kUnavailable) << dead;
  EXPECT_NE(dead.message().find("host has been silent for 55 ms"), absl::string_view::npos) << dead;
}

// The hello lists the channels the host offers; the agent answers with the subsystems it serves,
// and the session serves those both have. An agent that serves none of them is told so.
TEST(Session, TheSessionServesTheSubsystemsBothHave) {
  SessionParams hp = Params();
  hp.link.channels[WAVE_SUBSYS_MEM] = {.to_agent_capacity = 64, .to_host_capacity = 32};
  {
    const std::string name = UniqueName("serves");
    absl::StatusOr<Session> host = Session::Create(name, hp);
    ASSERT_TRUE(host.ok()) << host.status();
    SessionParams ap = Params();  // serves scheduling only (the default)
    absl::StatusOr<Session> agent = Session::Join(name, ap, kSecond);
    ASSERT_TRUE(agent.ok()) << agent.status();
    ASSERT_TRUE(host->WaitForAgent(kSecond).ok());
    EXPECT_EQ(host->served(), 1u << WAVE_SUBSYS_SCHED);
    EXPECT_EQ(agent->served(), 1u << WAVE_SUBSYS_SCHED);
    // Every channel the host offered is in the link, served or not.
    absl::StatusOr<AgentLink> link = agent->AttachAgentLink();
    ASSERT_TRUE(link.ok()) << link.status();
    ASSERT_TRUE(link->ends[WAVE_SUBSYS_MEM].has_value());
    EXPECT_EQ(link->ends[WAVE_SUBSYS_MEM]->events.capacity(), 64u);
    EXPECT_EQ(link->ends[WAVE_SUBSYS_MEM]->commands.capacity(), 32u);
    EXPECT_FALSE(link->ends[WAVE_SUBSYS_NET].has_value());
  }
  {
    const std::string name = UniqueName("serves-none");
    absl::StatusOr<Session> host = Session::Create(name, Params());
    ASSERT_TRUE(host.ok()) << host.status();
    SessionParams ap = Params();
    ap.serves = 1u << WAVE_SUBSYS_MEM;
    absl::StatusOr<Session> agent = Session::Join(name, ap, kSecond);
    ASSERT_FALSE(agent.ok());
    const std::string want =
        "session mismatch: the host offers scheduling, the agent serves memory";
    EXPECT_EQ(agent.status().message(), want);
    EXPECT_EQ(host->WaitForAgent(kSecond).message(), want);
  }
}

TEST(Session, HostCloseTellsTheAgent) {
  const std::string name = UniqueName("close");
  absl::StatusOr<Session> host = Session::Create(name, Params());
  ASSERT_TRUE(host.ok());
  absl::StatusOr<Session> agent = Session::Join(name, Params(), kSecond);
  ASSERT_TRUE(agent.ok());
  ASSERT_TRUE(host->WaitForAgent(kSecond).ok());
  EXPECT_TRUE(agent->CheckPeer(kSecond).ok());
  host->Close();
  EXPECT_EQ(agent->CheckPeer(kSecond).code(), absl::StatusCode::kCancelled);
}

}  // namespace
}  // namespace wave
