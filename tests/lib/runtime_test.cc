// The runtime without any real subsystem: channels of several subsystems on one link, each
// drained and decided on its own, what no subsystem may act on counted and skipped, cross-
// subsystem input only through subscriptions, resync per channel, poll periods, and the loop's
// ends (stop flag, a host that closes, a host that goes silent).
#include "lib/runtime.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <vector>

#include "abi/wave_abi.h"
#include "lib/subsystem.h"
#include "transport/link.h"
#include "transport/region.h"
#include "transport/session.h"

namespace wave {
namespace {

// A subsystem that records what reaches it and queues one command per Decide when asked to.
class FakeSubsystem : public Subsystem {
 public:
  explicit FakeSubsystem(uint16_t id, std::vector<uint16_t> subscriptions = {},
                         uint64_t poll_period_ns = 0)
      : id_(id), subscriptions_(std::move(subscriptions)), poll_period_ns_(poll_period_ns) {}

  uint16_t id() const override { return id_; }
  void Attach(AgentEnd* end) override { end_ = end; }
  void OnMessage(const wave_msg& m) override { messages.push_back(m.hdr.type); }
  void OnResyncBegin(const wave_k2a_resync& m) override { resyncs.push_back(m.epoch); }
  void OnResyncEnd(const wave_k2a_resync&) override { ++resync_ends; }
  std::vector<uint16_t> subscriptions() const override { return subscriptions_; }
  void OnSubscribed(const wave_msg& m) override { subscribed.push_back(m.hdr.type); }
  uint32_t Decide() override {
    ++decides;
    if (!command_each_decide) return 0;
    ++queued_;
    return 1;
  }
  absl::StatusOr<uint32_t> Flush() override {
    uint32_t sent = 0;
    while (queued_ > 0) {
      wave_msg m;
      wave_msg_init(&m, WAVE_CMD_COMMIT);
      if (!end_->commands.Push(m)) break;
      --queued_;
      ++sent;
    }
    return sent;
  }
  size_t queued_commands() const override { return queued_; }
  uint64_t poll_period_ns() const override { return poll_period_ns_; }
  ChannelStats& channel_stats() override { return stats; }

  std::vector<uint16_t> messages;
  std::vector<uint16_t> subscribed;
  std::vector<uint32_t> resyncs;
  int resync_ends = 0;
  int decides = 0;
  bool command_each_decide = false;
  ChannelStats stats;

 private:
  const uint16_t id_;
  const std::vector<uint16_t> subscriptions_;
  const uint64_t poll_period_ns_;
  AgentEnd* end_ = nullptr;
  size_t queued_ = 0;
};

wave_msg Msg(uint16_t type) {
  wave_msg m;
  wave_msg_init(&m, type);
  return m;
}

wave_msg Resync(uint16_t type, uint32_t epoch, uint32_t subsystem) {
  wave_msg m = Msg(type);
  m.resync.epoch = epoch;
  m.resync.subsystem = subsystem;
  return m;
}

// A link with scheduling and memory channels, both ends attached in this process.
class TwoChannels {
 public:
  TwoChannels() {
    LinkConfig config = LinkConfig::Sched(64, 64);
    config.channels[WAVE_SUBSYS_MEM] = {.to_agent_capacity = 16, .to_host_capacity = 16};
    absl::StatusOr<SharedRegion> r = SharedRegion::CreateAnonymous(LinkBytes(config));
    EXPECT_TRUE(r.ok());
    region_ = *std::move(r);
    EXPECT_TRUE(LinkFormat(region_.data(), region_.size(), config).ok());
    absl::StatusOr<HostLink> h = AttachHostLink(region_.data(), region_.size());
    absl::StatusOr<AgentLink> a = AttachAgentLink(region_.data(), region_.size());
    EXPECT_TRUE(h.ok() && a.ok());
    host = *std::move(h);
    agent = *std::move(a);
  }
  HostEnd& host_end(uint16_t s) { return *host.ends[s]; }
  AgentEnd take_agent(uint16_t s) { return *std::move(agent.ends[s]); }

  HostLink host;
  AgentLink agent;

 private:
  SharedRegion region_;
};

uint32_t Drain(RingConsumer& ring) {
  absl::StatusOr<uint32_t> n = ring.Peek(ring.capacity());
  EXPECT_TRUE(n.ok());
  ring.Advance(*n);
  ring.ReturnCredits();
  return *n;
}

TEST(Runtime, EachSubsystemGetsItsOwnChannelAndDecidesOnItsOwn) {
  TwoChannels link;
  Runtime rt;
  FakeSubsystem sched(WAVE_SUBSYS_SCHED);
  FakeSubsystem mem(WAVE_SUBSYS_MEM);
  mem.command_each_decide = true;
  ASSERT_TRUE(rt.Attach(sched, link.take_agent(WAVE_SUBSYS_SCHED)).ok());
  ASSERT_TRUE(rt.Attach(mem, link.take_agent(WAVE_SUBSYS_MEM)).ok());
  FakeSubsystem again(WAVE_SUBSYS_SCHED);
  EXPECT_EQ(rt.Attach(again, AgentEnd{}).code(), absl::StatusCode::kAlreadyExists);

  // A full scheduling ring and one memory message: both drained, each decides once.
  for (int i = 0; i < 64; ++i) {
    ASSERT_TRUE(link.host_end(WAVE_SUBSYS_SCHED).events.Push(Msg(WAVE_EV_CPU_IDLE)));
  }
  ASSERT_TRUE(link.host_end(WAVE_SUBSYS_MEM).events.Push(Msg(WAVE_EV_RESYNC_END)));
  absl::StatusOr<PollResult> r = rt.RunOnce();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->events, 65u);
  EXPECT_EQ(r->commands, 1u);  // memory's
  EXPECT_EQ(sched.messages.size(), 64u);
  EXPECT_EQ(sched.decides, 1);
  EXPECT_EQ(mem.resync_ends, 1);
  EXPECT_EQ(mem.decides, 1);
  EXPECT_EQ(rt.commands_sent(), 1u);
  EXPECT_EQ(Drain(link.host_end(WAVE_SUBSYS_MEM).commands), 1u);
  EXPECT_EQ(Drain(link.host_end(WAVE_SUBSYS_SCHED).commands), 0u);
  EXPECT_EQ(sched.stats.events, 64u);
  EXPECT_EQ(mem.stats.events, 1u);
  // Nothing new: no decision.
  r = rt.RunOnce();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->events, 0u);
  EXPECT_EQ(sched.decides, 1);
  EXPECT_EQ(sched.stats.polls, 2u);
}

TEST(Runtime, WhatNoSubsystemMayActOnIsCountedAndSkipped) {
  TwoChannels link;
  Runtime rt;
  FakeSubsystem sched(WAVE_SUBSYS_SCHED);
  ASSERT_TRUE(rt.Attach(sched, link.take_agent(WAVE_SUBSYS_SCHED)).ok());
  RingProducer& ev = link.host_end(WAVE_SUBSYS_SCHED).events;
  wave_msg bad_len = Msg(WAVE_EV_CPU_IDLE);
  bad_len.hdr.len = 32;
  ASSERT_TRUE(ev.Push(bad_len));
  ASSERT_TRUE(ev.Push(Msg(0x01ff)));            // a scheduling type of a newer minor version
  ASSERT_TRUE(ev.Push(Msg(0x0250)));            // memory's range, not yet defined
  ASSERT_TRUE(ev.Push(Msg(WAVE_CMD_COMMIT)));   // a command, on the event ring
  ASSERT_TRUE(ev.Push(Msg(WAVE_EV_NET_RPC)));   // another subsystem's event, no subscriber
  ASSERT_TRUE(ev.Push(Msg(WAVE_EV_TASK_NEW)));  // and one that is scheduling's
  ASSERT_TRUE(rt.RunOnce().ok());
  EXPECT_EQ(sched.stats.events, 6u);
  EXPECT_EQ(sched.stats.malformed, 3u);
  EXPECT_EQ(sched.stats.unknown_type, 2u);
  EXPECT_EQ(sched.stats.events_by_type.unknown(), 2u);
  EXPECT_EQ(sched.messages, (std::vector<uint16_t>{WAVE_EV_TASK_NEW}));
}

TEST(Runtime, CrossSubsystemInputIsASubscription) {
  TwoChannels link;
  Runtime rt;
  FakeSubsystem sched(WAVE_SUBSYS_SCHED, {WAVE_EV_NET_RPC});
  FakeSubsystem mem(WAVE_SUBSYS_MEM);
  ASSERT_TRUE(rt.Attach(sched, link.take_agent(WAVE_SUBSYS_SCHED)).ok());
  ASSERT_TRUE(rt.Attach(mem, link.take_agent(WAVE_SUBSYS_MEM)).ok());
  // From the agent's own side (the NIC): the subscriber hears it and decides at the next poll.
  rt.DeliverLocal(Msg(WAVE_EV_NET_RPC));
  EXPECT_EQ(sched.subscribed, (std::vector<uint16_t>{WAVE_EV_NET_RPC}));
  absl::StatusOr<PollResult> r = rt.Poll();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->events, 1u);
  EXPECT_EQ(sched.decides, 1);
  EXPECT_EQ(mem.decides, 0);
  EXPECT_EQ(sched.stats.events_by_type[WAVE_EV_NET_RPC], 1u);
  // From another channel: the subscriber, not the channel's owner.
  ASSERT_TRUE(link.host_end(WAVE_SUBSYS_MEM).events.Push(Msg(WAVE_EV_NET_RPC)));
  ASSERT_TRUE(rt.Poll().ok());
  EXPECT_EQ(sched.subscribed.size(), 2u);
  EXPECT_TRUE(mem.messages.empty());
  EXPECT_EQ(mem.stats.malformed, 0u);
  // No subscriber: unrouted.
  rt.DeliverLocal(Msg(WAVE_EV_CPU_IDLE));
  EXPECT_EQ(rt.unrouted(), 1u);
}

TEST(Runtime, ResyncIsPerChannel) {
  TwoChannels link;
  Runtime rt;
  FakeSubsystem sched(WAVE_SUBSYS_SCHED);
  FakeSubsystem mem(WAVE_SUBSYS_MEM);
  ASSERT_TRUE(rt.Attach(sched, link.take_agent(WAVE_SUBSYS_SCHED)).ok());
  ASSERT_TRUE(rt.Attach(mem, link.take_agent(WAVE_SUBSYS_MEM)).ok());
  ASSERT_TRUE(
      link.host_end(WAVE_SUBSYS_MEM).events.Push(Resync(WAVE_EV_RESYNC_BEGIN, 7, WAVE_SUBSYS_MEM)));
  ASSERT_TRUE(rt.RunOnce().ok());
  EXPECT_EQ(mem.resyncs, (std::vector<uint32_t>{7}));
  EXPECT_TRUE(sched.resyncs.empty());
}

class StepClock : public Clock {
 public:
  uint64_t NowNs() const override { return now; }
  uint64_t now = 0;
};

TEST(Runtime, AChannelWithAPollPeriodIsLookedAtNoMoreOftenThanThat) {
  TwoChannels link;
  StepClock clock;
  Runtime rt(RuntimeOptions{.clock = &clock});
  FakeSubsystem sched(WAVE_SUBSYS_SCHED);
  FakeSubsystem mem(WAVE_SUBSYS_MEM, {}, /*poll_period_ns=*/1'000'000);
  ASSERT_TRUE(rt.Attach(sched, link.take_agent(WAVE_SUBSYS_SCHED)).ok());
  ASSERT_TRUE(rt.Attach(mem, link.take_agent(WAVE_SUBSYS_MEM)).ok());
  ASSERT_TRUE(link.host_end(WAVE_SUBSYS_MEM).events.Push(Msg(WAVE_EV_RESYNC_END)));
  ASSERT_TRUE(rt.Poll().ok());  // due at once
  EXPECT_EQ(mem.resync_ends, 1);
  ASSERT_TRUE(link.host_end(WAVE_SUBSYS_MEM).events.Push(Msg(WAVE_EV_RESYNC_END)));
  for (int i = 0; i < 10; ++i) {
    clock.now += 50'000;
    ASSERT_TRUE(rt.Poll().ok());
  }
  EXPECT_EQ(mem.resync_ends, 1);  // 0.5 ms later: not yet
  EXPECT_EQ(sched.stats.polls, 11u);
  clock.now = 1'000'000;
  ASSERT_TRUE(rt.Poll().ok());
  EXPECT_EQ(mem.resync_ends, 2);
  EXPECT_EQ(mem.stats.polls, 2u);
}

TEST(Runtime, TheLoopEndsOnStopOnAClosedSessionAndOnASilentHost) {
  {  // stop: once set, the loop drains and leaves
    TwoChannels link;
    Runtime rt;
    FakeSubsystem sched(WAVE_SUBSYS_SCHED);
    ASSERT_TRUE(rt.Attach(sched, link.take_agent(WAVE_SUBSYS_SCHED)).ok());
    for (int i = 0; i < 10; ++i) {
      ASSERT_TRUE(link.host_end(WAVE_SUBSYS_SCHED).events.Push(Msg(WAVE_EV_CPU_IDLE)));
    }
    std::atomic<bool> stop{true};
    EXPECT_TRUE(rt.Run(LoopOptions{.stop = &stop}).ok());
    EXPECT_EQ(sched.messages.size(), 10u);
  }
  const std::string name = "test-runtime-" + std::to_string(getpid());
  SessionParams params;
  params.link = LinkConfig::Sched(64, 64);
  params.link_latency_ns = 0;
  {  // the host closes the session: an ok end
    absl::StatusOr<Session> host = Session::Create(name, params);
    ASSERT_TRUE(host.ok()) << host.status();
    absl::StatusOr<Session> agent = Session::Join(name, params, 1'000'000'000);
    ASSERT_TRUE(agent.ok()) << agent.status();
    ASSERT_TRUE(host->WaitForAgent(1'000'000'000).ok());
    ASSERT_TRUE(agent->WaitForAccept(1'000'000'000).ok());
    absl::StatusOr<AgentEnd> end = agent->AttachAgent();
    ASSERT_TRUE(end.ok());
    Runtime rt;
    FakeSubsystem sched(WAVE_SUBSYS_SCHED);
    ASSERT_TRUE(rt.Attach(sched, *std::move(end)).ok());
    host->Close();
    EXPECT_TRUE(rt.Run(LoopOptions{.session = &*agent}).ok());
  }
  {  // the host goes silent: an error that says so
    absl::StatusOr<Session> host = Session::Create(name, params);
    ASSERT_TRUE(host.ok()) << host.status();
    absl::StatusOr<Session> agent = Session::Join(name, params, 1'000'000'000);
    ASSERT_TRUE(agent.ok());
    ASSERT_TRUE(host->WaitForAgent(1'000'000'000).ok());
    ASSERT_TRUE(agent->WaitForAccept(1'000'000'000).ok());
    absl::StatusOr<AgentEnd> end = agent->AttachAgent();
    ASSERT_TRUE(end.ok());
    Runtime rt;
    FakeSubsystem sched(WAVE_SUBSYS_SCHED);
    ASSERT_TRUE(rt.Attach(sched, *std::move(end)).ok());
    const absl::Status s = rt.Run(LoopOptions{
        .session = &*agent, .heartbeat_timeout_ns = 20'000'000, .idle_sleep_ns = 100'000});
    EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
    EXPECT_NE(s.message().find("host has been silent"), absl::string_view::npos) << s;
  }
}

}  // namespace
}  // namespace wave
