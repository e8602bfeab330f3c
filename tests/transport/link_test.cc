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

constexpr LinkConfig kConfig{.event_capacity = 64, .commit_capacity = 32};

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
  EXPECT_EQ(host->events.capacity(), kConfig.event_capacity);
  EXPECT_EQ(agent->events.capacity(), kConfig.event_capacity);
  EXPECT_EQ(host->commits.capacity(), kConfig.commit_capacity);
  EXPECT_EQ(agent->commits.capacity(), kConfig.commit_capacity);

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
      ASSERT_TRUE(agent->commits.Push(Commit(++txn, m.task.task_id, static_cast<int32_t>(k))));
    }
    EXPECT_FALSE(Pop(agent->events, &m));
    agent->events.ReturnCredits();
    for (uint64_t k = 0; k < 3; ++k) {
      ASSERT_TRUE(Pop(host->commits, &m));
      EXPECT_EQ(m.hdr.type, WAVE_CMD_COMMIT);
      EXPECT_EQ(m.commit.txn_id, txn - 2 + k);
      EXPECT_EQ(m.commit.task_id, round * 3 + k);
      EXPECT_EQ(m.commit.cpu, static_cast<int32_t>(k));
    }
    EXPECT_FALSE(Pop(host->commits, &m));
    host->commits.ReturnCredits();
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
  EXPECT_FALSE(LinkFormat(mem.data(), mem.size(), LinkConfig{.event_capacity = 48}).ok());
  EXPECT_FALSE(LinkFormat(mem.data(), mem.size(), LinkConfig{.commit_capacity = 1}).ok());
}

struct BadHeaderCase {
  const char* name;
  void (*corrupt)(LinkHeader*);
  std::vector<std::string> message;  // each must appear in the error
};

void PrintTo(const BadHeaderCase& c, std::ostream* os) { *os << c.name; }

class LinkBadHeaderTest : public ::testing::TestWithParam<BadHeaderCase> {};

TEST_P(LinkBadHeaderTest, AttachRejectsWithAClearMessage) {
  const BadHeaderCase& tc = GetParam();
  AlignedBuffer mem(LinkBytes(kConfig));
  ASSERT_TRUE(LinkFormat(mem.data(), mem.size(), kConfig).ok());
  tc.corrupt(static_cast<LinkHeader*>(mem.data()));

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
                      [](LinkHeader* h) { h->magic = 0x12345678; },
                      {"not a wave link", "magic 0x12345678"}},
        BadHeaderCase{
            "RingMagicInsteadOfLinkMagic", [](LinkHeader* h) { h->magic = kRingMagic; }, {"magic"}},
        BadHeaderCase{"AbiVersion",
                      [](LinkHeader* h) { h->abi_major = WAVE_ABI_MAJOR + 1; },
                      {"ABI v" + std::to_string(WAVE_ABI_MAJOR + 1) + ".",
                       "this side speaks ABI v" + std::to_string(WAVE_ABI_MAJOR) + "."}},
        BadHeaderCase{"SlotSize", [](LinkHeader* h) { h->slot_size = 128; }, {"128-byte slots"}},
        BadHeaderCase{"TotalBytesBeyondRegion",
                      [](LinkHeader* h) { h->total_bytes += 64; },
                      {"link claims", "region has"}},
        BadHeaderCase{"HostHalfPastTheEnd",
                      [](LinkHeader* h) { h->host_offset = kTotal + kLinkPage; },
                      {HalfAt("host", kTotal + kLinkPage, kLayout.host_bytes)}},
        BadHeaderCase{"HostHalfInsideTheHeader",
                      [](LinkHeader* h) { h->host_offset = 0; },
                      {HalfAt("host", 0, kLayout.host_bytes)}},
        BadHeaderCase{
            "AgentHalfMisaligned",
            [](LinkHeader* h) { h->agent_offset += 64; },
            {HalfAt("agent", kLayout.agent_offset + 64, kLayout.agent_bytes), "page-aligned"}},
        BadHeaderCase{"AgentHalfHuge",
                      [](LinkHeader* h) { h->agent_bytes = uint64_t{1} << 62; },
                      {HalfAt("agent", kLayout.agent_offset, uint64_t{1} << 62)}},
        BadHeaderCase{"AgentHalfWrapsAround",
                      [](LinkHeader* h) { h->agent_offset = ~uint64_t{0} - 4095; },
                      {"agent half at", "out of range"}},
        BadHeaderCase{"HalvesOverlap",
                      [](LinkHeader* h) { h->agent_offset = h->host_offset; },
                      {"link halves overlap"}},
        // In range, but the half is too short for the ring it holds: caught before any ring
        // could run into the credit lines or past the half.
        BadHeaderCase{"AgentHalfShorterThanItsRing",
                      [](LinkHeader* h) { h->agent_bytes = kLinkPage; },
                      {"link halves too small for their rings"}}),
    [](const ::testing::TestParamInfo<BadHeaderCase>& info) { return info.param.name; });

TEST(LinkTest, AttachRejectsACorruptRingHeaderInside) {
  AlignedBuffer mem(LinkBytes(kConfig));
  ASSERT_TRUE(LinkFormat(mem.data(), mem.size(), kConfig).ok());
  auto* commits =
      reinterpret_cast<RingHeader*>(static_cast<uint8_t*>(mem.data()) + kLayout.host_offset);
  commits->magic = 0;
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
  const auto events = ::wave::testing::ViewRing(base + l->agent_offset, kConfig.event_capacity);
  const auto commits = ::wave::testing::ViewRing(base + l->host_offset, kConfig.commit_capacity);
  EXPECT_EQ(events.header->capacity, kConfig.event_capacity);
  EXPECT_EQ(commits.header->capacity, kConfig.commit_capacity);
  // After each half's ring: the credit line of the ring going the other way.
  auto* events_credit =
      reinterpret_cast<RingCreditLine*>(base + l->host_offset + RingBytes(kConfig.commit_capacity));
  auto* commits_credit =
      reinterpret_cast<RingCreditLine*>(base + l->agent_offset + RingBytes(kConfig.event_capacity));

  absl::StatusOr<HostEnd> host = AttachHost(mem.data(), mem.size());
  absl::StatusOr<AgentEnd> agent = AttachAgent(mem.data(), mem.size());
  ASSERT_TRUE(host.ok() && agent.ok());
  ASSERT_TRUE(host->events.Push(TaskEvent(7, 1)));
  EXPECT_EQ(events.slot(0).task.task_id, 7u);  // the host wrote into the agent's half
  wave_msg got;
  ASSERT_TRUE(Pop(agent->events, &got));
  agent->events.ReturnCredits();
  EXPECT_EQ(events_credit->head, 1u);  // the agent wrote the credit into the host's half
  ASSERT_TRUE(agent->commits.Push(Commit(1, 7, 0)));
  EXPECT_EQ(commits.slot(0).commit.task_id, 7u);
  ASSERT_TRUE(Pop(host->commits, &got));
  host->commits.ReturnCredits();
  EXPECT_EQ(commits_credit->head, 1u);
}

}  // namespace
}  // namespace wave
