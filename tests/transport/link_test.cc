#include "transport/link.h"

#include <cstdint>
#include <cstring>
#include <ostream>
#include <string>
#include <vector>

#include "abi/wave_abi.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/transport/ring_test_util.h"
#include "transport/ring.h"

namespace wave {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::wave::testing::AlignedBuffer;

constexpr LinkConfig kConfig = LinkConfig::Sched(64, 32);
constexpr uint32_t kEvents = 64;
constexpr uint32_t kCommits = 32;

wave_msg TaskEvent(uint64_t task_id, uint64_t seq) {
  wave_msg m;
  std::memset(&m, 0, sizeof(m));
  m.task.hdr.type = WAVE_EV_TASK_WAKEUP;
  m.task.hdr.len = WAVE_MSG_SIZE;
  m.task.task_id = task_id;
  m.task.seq = seq;
  m.task.cpu = -1;
  return m;
}

wave_msg Commit(uint64_t txn_id, uint64_t task_id, int32_t cpu) {
  wave_msg m;
  std::memset(&m, 0, sizeof(m));
  m.commit.hdr.type = WAVE_CMD_COMMIT;
  m.commit.hdr.len = WAVE_MSG_SIZE;
  m.commit.txn_id = txn_id;
  m.commit.task_id = task_id;
  m.commit.cpu = cpu;
  return m;
}

// Pops one message if there is one.
bool Pop(RingConsumer& c, wave_msg* out) {
  absl::StatusOr<uint32_t> n = c.Peek(1);
  EXPECT_TRUE(n.ok()) << n.status();
  if (!n.ok() || *n == 0) return false;
  c.Read(0, out);
  c.Advance(1);
  return true;
}

TEST(LinkTest, RoundTripsBothDirections) {
  AlignedBuffer mem(LinkBytes(kConfig));
  ASSERT_TRUE(LinkFormat(mem.data(), mem.size(), kConfig).ok());
  absl::StatusOr<HostEnd> host = AttachHost(mem.data(), mem.size());
  ASSERT_TRUE(host.ok()) << host.status();
  absl::StatusOr<AgentEnd> agent = AttachAgent(mem.data(), mem.size());
  ASSERT_TRUE(agent.ok()) << agent.status();
  EXPECT_EQ(host->events.capacity(), kEvents);
  EXPECT_EQ(agent->events.capacity(), kEvents);
  EXPECT_EQ(host->commands.capacity(), kCommits);
  EXPECT_EQ(agent->commands.capacity(), kCommits);

  // Enough rounds to go around both rings a few times.
  uint64_t txn = 0;
  for (uint64_t round = 0; round < 100; ++round) {
    for (uint64_t k = 0; k < 3; ++k) {
      ASSERT_TRUE(host->events.Push(TaskEvent(round * 3 + k, round)));
    }
    wave_msg m;
    for (uint64_t k = 0; k < 3; ++k) {
      ASSERT_TRUE(Pop(agent->events, &m));
      EXPECT_EQ(m.hdr.type, WAVE_EV_TASK_WAKEUP);
      EXPECT_EQ(m.task.task_id, round * 3 + k);
      EXPECT_EQ(m.task.seq, round);
      ASSERT_TRUE(agent->commands.Push(Commit(++txn, m.task.task_id, static_cast<int32_t>(k))));
    }
    EXPECT_FALSE(Pop(agent->events, &m));
    agent->events.ReturnCredits();
    for (uint64_t k = 0; k < 3; ++k) {
      ASSERT_TRUE(Pop(host->commands, &m));
      EXPECT_EQ(m.hdr.type, WAVE_CMD_COMMIT);
      EXPECT_EQ(m.commit.txn_id, txn - 2 + k);
      EXPECT_EQ(m.commit.task_id, round * 3 + k);
      EXPECT_EQ(m.commit.cpu, static_cast<int32_t>(k));
    }
    EXPECT_FALSE(Pop(host->commands, &m));
    host->commands.ReturnCredits();
  }
}

TEST(LinkTest, AttachesInALargerRegion) {
  AlignedBuffer mem(LinkBytes(kConfig) + 4096);
  ASSERT_TRUE(LinkFormat(mem.data(), mem.size(), kConfig).ok());
  EXPECT_TRUE(AttachAgent(mem.data(), mem.size()).ok());
  EXPECT_TRUE(AttachHost(mem.data(), mem.size()).ok());
}

TEST(LinkTest, FormatRejectsBadConfigs) {
  AlignedBuffer mem(LinkBytes(kConfig));
  EXPECT_FALSE(LinkFormat(mem.data(), mem.size() - 64, kConfig).ok());
  EXPECT_FALSE(LinkFormat(mem.data(), 32, kConfig).ok());
  EXPECT_FALSE(LinkFormat(mem.data(), mem.size(), LinkConfig::Sched(48, 32)).ok());
  EXPECT_FALSE(LinkFormat(mem.data(), mem.size(), LinkConfig::Sched(64, 1)).ok());
  EXPECT_FALSE(LinkFormat(mem.data(), mem.size(), LinkConfig::Sched(64, 0)).ok());  // both rings
  EXPECT_FALSE(LinkFormat(mem.data(), mem.size(), LinkConfig()).ok());  // no channel at all
  EXPECT_FALSE(LinkFormat(mem.data(), mem.size(), LinkConfig::Sched(64, 32, 4, 3)).ok());
  LinkConfig lanes_alone;
  lanes_alone.channels[WAVE_SUBSYS_MEM] = {.lanes = 2, .lane_depth = 4};
  EXPECT_FALSE(LinkFormat(mem.data(), mem.size(), lanes_alone).ok());
  LinkConfig link_channel;
  link_channel.channels[WAVE_SUBSYS_LINK] = {.to_agent_capacity = 8, .to_host_capacity = 8};
  EXPECT_FALSE(LinkFormat(mem.data(), mem.size(), link_channel).ok());
}

struct BadHeaderCase {
  const char* name;
  void (*corrupt)(wave_link_hdr*);
  std::vector<std::string> message;  // each must appear in the error
};

void PrintTo(const BadHeaderCase& c, std::ostream* os) { *os << c.name; }

class LinkBadHeaderTest : public ::testing::TestWithParam<BadHeaderCase> {};

TEST_P(LinkBadHeaderTest, AttachRejectsWithAClearMessage) {
  const BadHeaderCase& tc = GetParam();
  AlignedBuffer mem(LinkBytes(kConfig));
  ASSERT_TRUE(LinkFormat(mem.data(), mem.size(), kConfig).ok());
  tc.corrupt(static_cast<wave_link_hdr*>(mem.data()));

  absl::StatusOr<AgentEnd> agent = AttachAgent(mem.data(), mem.size());
  ASSERT_FALSE(agent.ok());
  EXPECT_EQ(agent.status().code(), absl::StatusCode::kFailedPrecondition);
  for (const std::string& part : tc.message) {
    EXPECT_THAT(std::string(agent.status().message()), HasSubstr(part));
  }
  absl::StatusOr<HostEnd> host = AttachHost(mem.data(), mem.size());
  ASSERT_FALSE(host.ok());
  EXPECT_EQ(host.status(), agent.status());
}

const LinkLayout kLayout = LinkLayoutFor(kConfig);
const uint64_t kTotal = kLayout.total_bytes;

std::string HalfAt(const char* name, uint64_t off, uint64_t len) {
  return std::string("link ") + name + " half at " + std::to_string(off) + "+" +
         std::to_string(len) + " out of range";
}

INSTANTIATE_TEST_SUITE_P(
    Cases, LinkBadHeaderTest,
    ::testing::Values(
        BadHeaderCase{"Magic",
                      [](wave_link_hdr* h) { h->magic = 0x12345678; },
                      {"not a wave link", "magic 0x12345678"}},
        BadHeaderCase{"RingMagicInsteadOfLinkMagic",
                      [](wave_link_hdr* h) { h->magic = kRingMagic; },
                      {"magic"}},
        BadHeaderCase{"AbiVersion",
                      [](wave_link_hdr* h) { h->abi_major = WAVE_ABI_MAJOR + 1; },
                      {"ABI v" + std::to_string(WAVE_ABI_MAJOR + 1) + ".",
                       "this side speaks ABI v" + std::to_string(WAVE_ABI_MAJOR) + "."}},
        BadHeaderCase{"SlotSize", [](wave_link_hdr* h) { h->slot_size = 128; }, {"128-byte slots"}},
        BadHeaderCase{"TotalBytesBeyondRegion",
                      [](wave_link_hdr* h) { h->total_bytes += 64; },
                      {"link claims", "region has"}},
        BadHeaderCase{"HostHalfPastTheEnd",
                      [](wave_link_hdr* h) { h->host_offset = kTotal + kLinkPage; },
                      {HalfAt("host", kTotal + kLinkPage, kLayout.host_bytes)}},
        BadHeaderCase{"HostHalfInsideTheHeader",
                      [](wave_link_hdr* h) { h->host_offset = 0; },
                      {HalfAt("host", 0, kLayout.host_bytes)}},
        BadHeaderCase{
            "AgentHalfMisaligned",
            [](wave_link_hdr* h) { h->agent_offset += 64; },
            {HalfAt("agent", kLayout.agent_offset + 64, kLayout.agent_bytes), "page-aligned"}},
        BadHeaderCase{"AgentHalfHuge",
                      [](wave_link_hdr* h) { h->agent_bytes = uint64_t{1} << 62; },
                      {HalfAt("agent", kLayout.agent_offset, uint64_t{1} << 62)}},
        BadHeaderCase{"AgentHalfWrapsAround",
                      [](wave_link_hdr* h) { h->agent_offset = ~uint64_t{0} - 4095; },
                      {"agent half at", "out of range"}},
        BadHeaderCase{"HalvesOverlap",
                      [](wave_link_hdr* h) { h->agent_offset = h->host_offset; },
                      {"link halves overlap"}},
        BadHeaderCase{"NoChannels",
                      [](wave_link_hdr* h) { h->channel_count = 0; },
                      {"corrupt link: 0 channels"}},
        BadHeaderCase{"TooManyChannels",
                      [](wave_link_hdr* h) { h->channel_count = WAVE_MAX_CHANNELS + 1; },
                      {"corrupt link:", "channels, expected 1.."}},
        BadHeaderCase{"TableBeyondTheLink",
                      [](wave_link_hdr* h) { h->table_offset = kTotal; },
                      {"channel table at"}},
        // In range, but the half is too short for the ring it holds: caught before any ring
        // could run into the credit lines or past the half.
        BadHeaderCase{"AgentHalfShorterThanItsRing",
                      [](wave_link_hdr* h) { h->agent_bytes = 64; },
                      {"corrupt link: channel 0: a ring or credit line outside its half"}}),
    [](const ::testing::TestParamInfo<BadHeaderCase>& info) { return info.param.name; });

TEST(LinkTest, AttachRejectsACorruptRingHeaderInside) {
  AlignedBuffer mem(LinkBytes(kConfig));
  ASSERT_TRUE(LinkFormat(mem.data(), mem.size(), kConfig).ok());
  auto* commits =
      reinterpret_cast<RingHeader*>(static_cast<uint8_t*>(mem.data()) + kLayout.host_offset);
  commits->magic = 0;  // the first ring of the host half: scheduling's commits
  absl::StatusOr<AgentEnd> agent = AttachAgent(mem.data(), mem.size());
  ASSERT_FALSE(agent.ok());
  EXPECT_THAT(std::string(agent.status().message()),
              AllOf(HasSubstr("not a ring"), HasSubstr("magic 0x00000000")));
  EXPECT_FALSE(AttachHost(mem.data(), mem.size()).ok());
}

TEST(LinkTest, AttachRejectsTinyOrMisalignedRegions) {
  AlignedBuffer mem(LinkBytes(kConfig));
  ASSERT_TRUE(LinkFormat(mem.data(), mem.size(), kConfig).ok());
  absl::StatusOr<AgentEnd> agent = AttachAgent(mem.data(), 32);
  ASSERT_FALSE(agent.ok());
  EXPECT_EQ(agent.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(agent.status().message()), HasSubstr("too small"));
  agent = AttachAgent(static_cast<uint8_t*>(mem.data()) + 8, mem.size() - 8);
  ASSERT_FALSE(agent.ok());
  EXPECT_THAT(std::string(agent.status().message()), HasSubstr("aligned"));
  EXPECT_FALSE(AttachAgent(nullptr, mem.size()).ok());
  // The whole link must fit: a region one line short of what the header claims is refused.
  agent = AttachAgent(mem.data(), mem.size() - 64);
  ASSERT_FALSE(agent.ok());
  EXPECT_THAT(std::string(agent.status().message()), HasSubstr("link claims"));
}

// Write remote, read local: each ring's slots are in its consumer's half and its credit line in
// its producer's half, so neither side polls the other's memory.
TEST(LinkTest, EachRingLivesInItsConsumersHalf) {
  AlignedBuffer mem(LinkBytes(kConfig));
  ASSERT_TRUE(LinkFormat(mem.data(), mem.size(), kConfig).ok());
  absl::StatusOr<LinkLayout> l = ReadLinkLayout(mem.data(), mem.size());
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_EQ(l->host_offset % kLinkPage, 0u);
  EXPECT_EQ(l->agent_offset % kLinkPage, 0u);
  EXPECT_EQ(l->total_bytes, LinkBytes(kConfig));
  auto* base = static_cast<uint8_t*>(mem.data());
  // Where the channel table says the rings and credit lines are: each in its half.
  wave_channel_desc d;
  std::memcpy(&d, base + sizeof(wave_link_hdr), sizeof(d));
  EXPECT_EQ(d.subsystem, WAVE_SUBSYS_SCHED);
  EXPECT_EQ(d.kind, WAVE_CHAN_MAIN);
  auto in = [](uint64_t off, size_t half, size_t bytes) {
    return off >= half && off < half + bytes;
  };
  EXPECT_TRUE(in(d.to_agent_ring, l->agent_offset, l->agent_bytes));
  EXPECT_TRUE(in(d.to_host_credit, l->agent_offset, l->agent_bytes));
  EXPECT_TRUE(in(d.to_host_ring, l->host_offset, l->host_bytes));
  EXPECT_TRUE(in(d.to_agent_credit, l->host_offset, l->host_bytes));
  const auto events = ::wave::testing::ViewRing(base + d.to_agent_ring, kEvents);
  const auto commits = ::wave::testing::ViewRing(base + d.to_host_ring, kCommits);
  EXPECT_EQ(events.header->capacity, kEvents);
  EXPECT_EQ(commits.header->capacity, kCommits);
  auto* events_credit = reinterpret_cast<RingCreditLine*>(base + d.to_agent_credit);
  auto* commits_credit = reinterpret_cast<RingCreditLine*>(base + d.to_host_credit);

  absl::StatusOr<HostEnd> host = AttachHost(mem.data(), mem.size());
  absl::StatusOr<AgentEnd> agent = AttachAgent(mem.data(), mem.size());
  ASSERT_TRUE(host.ok() && agent.ok());
  ASSERT_TRUE(host->events.Push(TaskEvent(7, 1)));
  EXPECT_EQ(events.slot(0).task.task_id, 7u);  // the host wrote into the agent's half
  wave_msg got;
  ASSERT_TRUE(Pop(agent->events, &got));
  agent->events.ReturnCredits();
  EXPECT_EQ(events_credit->head, 1u);  // the agent wrote the credit into the host's half
  ASSERT_TRUE(agent->commands.Push(Commit(1, 7, 0)));
  EXPECT_EQ(commits.slot(0).commit.task_id, 7u);
  ASSERT_TRUE(Pop(host->commands, &got));
  host->commands.ReturnCredits();
  EXPECT_EQ(commits_credit->head, 1u);
}

// A link of several channels: scheduling with a staging lane per cpu, and memory. Both ends see
// every channel the table declares, and every ring carries its own traffic.
TEST(LinkTest, ChannelsOfEverySubsystemRoundTrip) {
  LinkConfig config = LinkConfig::Sched(64, 32, /*stage_cpus=*/3, /*stage_depth=*/4);
  config.channels[WAVE_SUBSYS_MEM] = {.to_agent_capacity = 16, .to_host_capacity = 8};
  AlignedBuffer mem(LinkBytes(config));
  ASSERT_TRUE(LinkFormat(mem.data(), mem.size(), config).ok());
  absl::StatusOr<LinkConfig> read = ReadLinkConfig(mem.data(), mem.size());
  ASSERT_TRUE(read.ok()) << read.status();
  for (uint32_t s = 0; s < WAVE_SUBSYS_COUNT; ++s) {
    EXPECT_EQ(read->channels[s].to_agent_capacity, config.channels[s].to_agent_capacity) << s;
    EXPECT_EQ(read->channels[s].to_host_capacity, config.channels[s].to_host_capacity) << s;
    EXPECT_EQ(read->channels[s].lanes, config.channels[s].lanes) << s;
    EXPECT_EQ(read->channels[s].lane_depth, config.channels[s].lane_depth) << s;
  }
  absl::StatusOr<HostLink> host = AttachHostLink(mem.data(), mem.size());
  absl::StatusOr<AgentLink> agent = AttachAgentLink(mem.data(), mem.size());
  ASSERT_TRUE(host.ok()) << host.status();
  ASSERT_TRUE(agent.ok()) << agent.status();
  ASSERT_TRUE(host->ends[WAVE_SUBSYS_SCHED] && host->ends[WAVE_SUBSYS_MEM]);
  EXPECT_FALSE(host->ends[WAVE_SUBSYS_NET] || agent->ends[WAVE_SUBSYS_NET]);
  HostEnd& hs = *host->ends[WAVE_SUBSYS_SCHED];
  AgentEnd& as = *agent->ends[WAVE_SUBSYS_SCHED];
  HostEnd& hm = *host->ends[WAVE_SUBSYS_MEM];
  AgentEnd& am = *agent->ends[WAVE_SUBSYS_MEM];
  ASSERT_EQ(hs.lanes.size(), 3u);
  ASSERT_EQ(as.lanes.size(), 3u);
  EXPECT_TRUE(hm.lanes.empty());
  EXPECT_EQ(hm.events.capacity(), 16u);
  EXPECT_EQ(am.commands.capacity(), 8u);
  // A full scheduling event ring does not stop memory's.
  for (uint32_t i = 0; i < 64; ++i) ASSERT_TRUE(hs.events.Push(TaskEvent(i, 1)));
  EXPECT_FALSE(hs.events.Push(TaskEvent(99, 1)));
  ASSERT_TRUE(hm.events.Push(TaskEvent(1000, 1)));
  wave_msg got;
  ASSERT_TRUE(Pop(am.events, &got));
  EXPECT_EQ(got.task.task_id, 1000u);
  ASSERT_TRUE(Pop(as.events, &got));
  EXPECT_EQ(got.task.task_id, 0u);
  // Each lane is its own ring.
  for (uint32_t c = 0; c < 3; ++c) ASSERT_TRUE(as.lanes[c].Push(Commit(c + 1, 10 + c, c)));
  for (uint32_t c = 0; c < 3; ++c) {
    ASSERT_TRUE(Pop(hs.lanes[c], &got));
    EXPECT_EQ(got.commit.task_id, 10 + c);
    EXPECT_FALSE(Pop(hs.lanes[c], &got));
  }
  ASSERT_TRUE(am.commands.Push(Commit(7, 77, 0)));
  ASSERT_TRUE(Pop(hm.commands, &got));
  EXPECT_EQ(got.commit.task_id, 77u);
  EXPECT_FALSE(Pop(hs.commands, &got));
  // One subsystem's end alone, and a subsystem the link has none of.
  EXPECT_TRUE(AttachHost(mem.data(), mem.size(), {}, {}, WAVE_SUBSYS_MEM).ok());
  absl::StatusOr<AgentEnd> net = AttachAgent(mem.data(), mem.size(), {}, {}, WAVE_SUBSYS_NET);
  ASSERT_FALSE(net.ok());
  EXPECT_THAT(std::string(net.status().message()), HasSubstr("no network channel"));
}

// The table comes from the other image too: every entry is checked before any ring is attached.
TEST(LinkTest, ACorruptChannelTableIsRefused) {
  LinkConfig config = LinkConfig::Sched(64, 32, /*stage_cpus=*/2, /*stage_depth=*/4);
  config.channels[WAVE_SUBSYS_MEM] = {.to_agent_capacity = 16, .to_host_capacity = 8};
  struct Case {
    const char* name;
    void (*corrupt)(wave_channel_desc* table, const LinkLayout& l);
    const char* message;
  };
  const Case cases[] = {
      {"no subsystem", [](wave_channel_desc* t, const LinkLayout&) { t[0].subsystem = 0; },
       "channel 0: subsystem 0"},
      {"unknown subsystem",
       [](wave_channel_desc* t, const LinkLayout&) { t[3].subsystem = WAVE_SUBSYS_COUNT; },
       "channel 3: subsystem 4"},
      {"unknown kind", [](wave_channel_desc* t, const LinkLayout&) { t[1].kind = 9; },
       "channel 1: kind 9"},
      {"two MAIN channels",
       [](wave_channel_desc* t, const LinkLayout&) { t[3].subsystem = WAVE_SUBSYS_SCHED; },
       "channel 3: a second scheduling channel"},
      {"lanes out of order", [](wave_channel_desc* t, const LinkLayout&) { t[1].index = 1; },
       "channel 1: lane 1 of 4 slots out of place"},
      {"lane with a ring to the agent",
       [](wave_channel_desc* t, const LinkLayout&) { t[2].to_agent_capacity = 4; },
       "channel 2: lane"},
      {"capacity not a power of two",
       [](wave_channel_desc* t, const LinkLayout&) { t[0].to_agent_capacity = 48; },
       "channel 0: capacities 48/32"},
      {"ring in the wrong half",
       [](wave_channel_desc* t, const LinkLayout& l) { t[0].to_host_ring = l.agent_offset; },
       "channel 0: a ring or credit line outside its half"},
      {"rings overlap",
       [](wave_channel_desc* t, const LinkLayout&) { t[3].to_host_ring = t[0].to_host_ring; },
       "rings overlap"},
      {"reserved bits", [](wave_channel_desc* t, const LinkLayout&) { t[2].reserved[1] = 1; },
       "channel 2: reserved fields set"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    AlignedBuffer mem(LinkBytes(config));
    ASSERT_TRUE(LinkFormat(mem.data(), mem.size(), config).ok());
    auto* table = reinterpret_cast<wave_channel_desc*>(static_cast<uint8_t*>(mem.data()) +
                                                       sizeof(wave_link_hdr));
    c.corrupt(table, LinkLayoutFor(config));
    absl::StatusOr<AgentLink> agent = AttachAgentLink(mem.data(), mem.size());
    ASSERT_FALSE(agent.ok());
    EXPECT_EQ(agent.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_THAT(std::string(agent.status().message()),
                AllOf(HasSubstr("corrupt link"), HasSubstr(c.message)));
    EXPECT_EQ(AttachHostLink(mem.data(), mem.size()).status(), agent.status());
  }
}

}  // namespace
}  // namespace wave
