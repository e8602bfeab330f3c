#include "transport/ring.h"

#include <atomic>
#include <cstdint>
#include <ostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "abi/wave_abi.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/transport/ring_test_util.h"
#include "transport/clock.h"

namespace wave {
namespace {

using ::testing::HasSubstr;
using ::wave::testing::AlignedBuffer;
using ::wave::testing::ConsumeStream;
using ::wave::testing::CreditAfter;
using ::wave::testing::FormatRingAt;
using ::wave::testing::ProduceStream;
using ::wave::testing::RingView;
using ::wave::testing::StreamMessage;
using ::wave::testing::StreamOptions;
using ::wave::testing::StreamResult;
using ::wave::testing::TestRingBytes;
using ::wave::testing::ViewRing;

// A formatted ring in its own aligned memory, with both ends attached.
struct TestRing {
  explicit TestRing(uint32_t capacity, uint32_t credit_batch = 0, LinkModel link = {})
      : mem(TestRingBytes(capacity)), capacity(capacity) {
    EXPECT_TRUE(
        RingFormat(mem.data(), RingBytes(capacity), capacity, CreditAfter(mem.data(), capacity))
            .ok());
    Attach(credit_batch, link);
  }
  void Attach(uint32_t credit_batch = 0, LinkModel link = {}) {
    RingCreditLine* credit = CreditAfter(mem.data(), capacity);
    absl::StatusOr<RingProducer> p =
        RingProducer::Attach(mem.data(), RingBytes(capacity), credit, link);
    absl::StatusOr<RingConsumer> c =
        RingConsumer::Attach(mem.data(), RingBytes(capacity), credit, link, credit_batch);
    EXPECT_TRUE(p.ok()) << p.status();
    EXPECT_TRUE(c.ok()) << c.status();
    if (p.ok()) producer = *std::move(p);
    if (c.ok()) consumer = *std::move(c);
  }
  RingView view() const { return ViewRing(mem.data(), producer.capacity()); }

  AlignedBuffer mem;
  uint32_t capacity;
  RingProducer producer;
  RingConsumer consumer;
};

// Pushes StreamMessage(first..first+n); returns how many went in.
uint32_t PushRange(RingProducer& p, uint64_t first, uint32_t n) {
  uint32_t got = p.Reserve(n);
  for (uint32_t k = 0; k < got; ++k) p.Write(k, StreamMessage(first + k));
  p.Submit(got);
  return got;
}

// Peeks up to `max`, checks each is StreamMessage(first + k) and advances past them.
uint32_t PopRange(RingConsumer& c, uint64_t first, uint32_t max) {
  absl::StatusOr<uint32_t> n = c.Peek(max);
  EXPECT_TRUE(n.ok()) << n.status();
  if (!n.ok()) return 0;
  for (uint32_t k = 0; k < *n; ++k) {
    wave_msg m;
    c.Read(k, &m);
    EXPECT_EQ(m.task.task_id, first + k);
    EXPECT_EQ(m.task.seq, StreamMessage(first + k).task.seq);
  }
  c.Advance(*n);
  return *n;
}

uint32_t PeekCount(RingConsumer& c, uint32_t max) {
  absl::StatusOr<uint32_t> n = c.Peek(max);
  EXPECT_TRUE(n.ok()) << n.status();
  return n.ok() ? *n : 0;
}

TEST(RingLayoutTest, MatchesDocumentedLayout) {
  // The corruption tests below poke the documented layout directly; make sure it holds.
  for (uint32_t cap : {2u, 4u, 8u, 16u, 1024u, kMaxRingCapacity}) {
    const size_t vis = (static_cast<size_t>(cap) * 8 + 63) / 64 * 64;
    EXPECT_EQ(RingBytes(cap), 64 + vis + static_cast<size_t>(cap) * 64) << cap;
    EXPECT_EQ(RingBytes(cap) % kCacheLine, 0u);
  }
  TestRing r(8);
  RingView v = r.view();
  EXPECT_EQ(v.header->magic, kRingMagic);
  EXPECT_EQ(v.header->capacity, 8u);
  ASSERT_TRUE(r.producer.Push(StreamMessage(7)));
  EXPECT_EQ(v.slot(0).task.task_id, 7u);
  EXPECT_EQ(v.slot(0).hdr.stamp, 1u);
}

// ---- two threads, millions of messages ----

struct StressCase {
  uint32_t capacity;
  uint32_t credit_batch;  // 0: default (capacity / 4)
  uint64_t count;
  uint32_t first_index;  // the free-running index of message 0
};

void PrintTo(const StressCase& c, std::ostream* os) {
  *os << "{capacity " << c.capacity << ", credit_batch " << c.credit_batch << ", count " << c.count
      << ", first_index " << c.first_index << "}";
}

class RingStressTest : public ::testing::TestWithParam<StressCase> {};

TEST_P(RingStressTest, TwoThreadsFifoWithChecksum) {
  const StressCase& tc = GetParam();
  AlignedBuffer mem(TestRingBytes(tc.capacity));
  FormatRingAt(mem.data(), tc.capacity, tc.first_index);
  RingCreditLine* credit = CreditAfter(mem.data(), tc.capacity);
  absl::StatusOr<RingProducer> producer =
      RingProducer::Attach(mem.data(), RingBytes(tc.capacity), credit);
  ASSERT_TRUE(producer.ok()) << producer.status();
  absl::StatusOr<RingConsumer> consumer =
      RingConsumer::Attach(mem.data(), RingBytes(tc.capacity), credit, {}, tc.credit_batch);
  ASSERT_TRUE(consumer.ok()) << consumer.status();
  ASSERT_EQ(producer->tail(), tc.first_index);
  ASSERT_EQ(consumer->head(), tc.first_index);

  std::atomic<uint32_t> abort{0};
  StreamOptions po;
  po.count = tc.count;
  po.first_index = tc.first_index;
  po.seed = 0x5eed0001;
  po.abort = &abort;
  StreamOptions co = po;
  co.seed = 0x5eed0002;

  StreamResult produced;
  std::thread producer_thread([&] { produced = ProduceStream(*producer, po); });
  StreamResult consumed = ConsumeStream(*consumer, co);
  producer_thread.join();

  ASSERT_TRUE(produced.ok) << produced.error;
  ASSERT_TRUE(consumed.ok) << consumed.error;
  EXPECT_EQ(produced.count, tc.count);
  EXPECT_EQ(consumed.count, tc.count);
  EXPECT_EQ(consumed.checksum, produced.checksum);
  EXPECT_EQ(producer->tail(), static_cast<uint32_t>(tc.first_index + tc.count));
  EXPECT_EQ(consumer->head(), static_cast<uint32_t>(tc.first_index + tc.count));
  EXPECT_EQ(PeekCount(*consumer, tc.capacity), 0u);
  EXPECT_TRUE(producer->status().ok());
  EXPECT_TRUE(consumer->status().ok());
}

INSTANTIATE_TEST_SUITE_P(Cases, RingStressTest,
                         ::testing::Values(
                             // Millions of messages through a small ring: thousands of laps.
                             StressCase{256, 0, 4'000'000, 0},
                             // The smallest ring, credits after every slot.
                             StressCase{2, 1, 200'000, 0},
                             // Credits only once the whole ring is drained.
                             StressCase{1024, 1024, 2'000'000, 0},
                             // Free-running 32-bit indices wrap around in the middle of the stream.
                             StressCase{64, 0, 1'000'000, 0xffffffffu - 300'000}),
                         [](const ::testing::TestParamInfo<StressCase>& info) {
                           return "Cap" + std::to_string(info.param.capacity) + "Batch" +
                                  std::to_string(info.param.credit_batch) +
                                  (info.param.first_index != 0 ? "IndexWrap" : "");
                         });

// ---- edges ----

TEST(RingTest, EmptyRingPeeksNothing) {
  TestRing r(8);
  EXPECT_EQ(PeekCount(r.consumer, 8), 0u);
  EXPECT_EQ(PeekCount(r.consumer, 1), 0u);
  ASSERT_EQ(PushRange(r.producer, 0, 3), 3u);
  EXPECT_EQ(PopRange(r.consumer, 0, 8), 3u);
  EXPECT_EQ(PeekCount(r.consumer, 8), 0u);  // empty again
  EXPECT_EQ(r.consumer.head(), 3u);
}

TEST(RingTest, PeekNeverReportsMoreThanAsked) {
  TestRing r(8);
  ASSERT_EQ(PushRange(r.producer, 0, 8), 8u);
  EXPECT_EQ(PeekCount(r.consumer, 0), 0u);
  EXPECT_EQ(PeekCount(r.consumer, 3), 3u);
  EXPECT_EQ(PeekCount(r.consumer, 100), 8u);
}

TEST(RingTest, FullRingReservesNothing) {
  TestRing r(8, /*credit_batch=*/2);
  EXPECT_EQ(r.producer.Reserve(100), 8u);  // never more than the capacity
  EXPECT_EQ(r.producer.Reserve(5), 5u);
  ASSERT_EQ(PushRange(r.producer, 0, 8), 8u);
  EXPECT_EQ(r.producer.InFlight(), 8u);
  EXPECT_EQ(r.producer.Reserve(1), 0u);
  EXPECT_FALSE(r.producer.ReserveBulk(1));
  EXPECT_FALSE(r.producer.Push(StreamMessage(99)));
  EXPECT_TRUE(r.producer.status().ok());
  EXPECT_EQ(r.producer.tail(), 8u);

  // The consumer sees all eight, and only those.
  EXPECT_EQ(PeekCount(r.consumer, 100), 8u);
  EXPECT_EQ(PopRange(r.consumer, 0, 2), 2u);  // one credit batch
  EXPECT_EQ(r.producer.Reserve(8), 2u);
}

TEST(RingTest, ReserveBulkIsAllOrNothing) {
  TestRing r(8, /*credit_batch=*/1);
  ASSERT_EQ(PushRange(r.producer, 0, 5), 5u);  // 3 free
  EXPECT_FALSE(r.producer.ReserveBulk(4));
  EXPECT_FALSE(r.producer.ReserveBulk(9));  // more than the ring can ever hold
  EXPECT_EQ(r.producer.InFlight(), 5u);
  EXPECT_EQ(r.producer.tail(), 5u);
  EXPECT_EQ(PeekCount(r.consumer, 8), 5u);  // nothing more became visible

  ASSERT_TRUE(r.producer.ReserveBulk(3));
  for (uint32_t k = 0; k < 3; ++k) r.producer.Write(k, StreamMessage(5 + k));
  r.producer.Submit(3);
  EXPECT_EQ(r.producer.Reserve(1), 0u);
  EXPECT_FALSE(r.producer.ReserveBulk(1));

  EXPECT_EQ(PopRange(r.consumer, 0, 4), 4u);
  EXPECT_FALSE(r.producer.ReserveBulk(5));
  EXPECT_TRUE(r.producer.ReserveBulk(4));
  EXPECT_EQ(PopRange(r.consumer, 4, 8), 4u);
  EXPECT_EQ(PeekCount(r.consumer, 8), 0u);
}

TEST(RingTest, LazyCredits) {
  constexpr uint32_t kCap = 16;
  TestRing r(kCap, /*credit_batch=*/4);
  RingView v = r.view();
  ASSERT_EQ(PushRange(r.producer, 0, kCap), kCap);
  ASSERT_EQ(r.producer.Reserve(1), 0u);

  // Three consumed: below the batch, nothing is written to the credit line...
  EXPECT_EQ(PopRange(r.consumer, 0, 3), 3u);
  EXPECT_EQ(r.consumer.head(), 3u);
  EXPECT_EQ(v.credit->head, 0u);
  // ...so the producer still sees a full ring.
  EXPECT_EQ(r.producer.Reserve(1), 0u);
  EXPECT_EQ(r.producer.InFlight(), kCap);

  // The fourth crosses the batch: credits for all four.
  EXPECT_EQ(PopRange(r.consumer, 3, 1), 1u);
  EXPECT_EQ(v.credit->head, 4u);
  EXPECT_EQ(r.producer.Reserve(kCap), 4u);
  EXPECT_EQ(r.producer.InFlight(), kCap - 4);

  // Two more, below the batch; ReturnCredits hands them over at once.
  EXPECT_EQ(PopRange(r.consumer, 4, 2), 2u);
  EXPECT_EQ(r.producer.Reserve(kCap), 4u);
  r.consumer.ReturnCredits();
  EXPECT_EQ(v.credit->head, 6u);
  EXPECT_EQ(r.producer.Reserve(kCap), 6u);
  r.consumer.ReturnCredits();  // nothing new: harmless
  EXPECT_EQ(v.credit->head, 6u);

  // The freed slots carry the next lap in order.
  ASSERT_EQ(PushRange(r.producer, kCap, 6), 6u);
  EXPECT_EQ(PopRange(r.consumer, 6, 100), kCap);  // 6..15 then 16..21
  EXPECT_EQ(PeekCount(r.consumer, 100), 0u);
}

TEST(RingTest, ProducerReadsCreditsOnlyWhenShort) {
  TestRing r(8, /*credit_batch=*/1);
  RingView v = r.view();
  ASSERT_EQ(PushRange(r.producer, 0, 4), 4u);
  EXPECT_EQ(PopRange(r.consumer, 0, 2), 2u);
  EXPECT_EQ(v.credit->head, 2u);
  // Room for four by the producer's own count: it does not look at the credit line.
  EXPECT_EQ(r.producer.Reserve(4), 4u);
  EXPECT_EQ(r.producer.InFlight(), 4u);
  // Short: it reads the credits and sees the two returned slots.
  EXPECT_EQ(r.producer.Reserve(6), 6u);
  EXPECT_EQ(r.producer.InFlight(), 2u);
}

// ---- corruption ----

TEST(RingTest, CorruptStampIsDetectedAndTheRingStaysBroken) {
  TestRing r(8);
  RingView v = r.view();
  ASSERT_EQ(PushRange(r.producer, 0, 3), 3u);
  const uint32_t good = v.slot(1).hdr.stamp;
  ASSERT_EQ(good, 2u);
  v.slot(1).hdr.stamp = 12345;

  // The whole slot before the bad one is delivered; the error surfaces at the bad one.
  EXPECT_EQ(PopRange(r.consumer, 0, 8), 1u);
  absl::StatusOr<uint32_t> n = r.consumer.Peek(8);
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(n.status().message()), HasSubstr("stamp 12345"));
  EXPECT_EQ(r.consumer.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(r.consumer.head(), 1u);

  // Repairing the slot does not revive the ring.
  v.slot(1).hdr.stamp = good;
  n = r.consumer.Peek(8);
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().code(), absl::StatusCode::kDataLoss);
}

TEST(RingTest, StampOfAnotherLapIsCorruption) {
  constexpr uint32_t kCap = 8;
  for (uint32_t bad : {1u + kCap, 1u + 2 * kCap, 1u - 2 * kCap, 0u, 0xffffffffu}) {
    TestRing r(kCap);
    r.view().slot(0).hdr.stamp = bad;  // neither "written" (1) nor "empty" (1 - kCap)
    absl::StatusOr<uint32_t> n = r.consumer.Peek(kCap);
    ASSERT_FALSE(n.ok()) << "stamp " << bad;
    EXPECT_EQ(n.status().code(), absl::StatusCode::kDataLoss);
  }
}

TEST(RingTest, CorruptStampInAnUnwrittenSlotIsDetected) {
  TestRing r(8);
  ASSERT_EQ(PushRange(r.producer, 0, 2), 2u);
  r.view().slot(2).hdr.stamp = 777;  // a slot the producer has not written
  EXPECT_EQ(PopRange(r.consumer, 0, 8), 2u);
  absl::StatusOr<uint32_t> n = r.consumer.Peek(8);
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().code(), absl::StatusCode::kDataLoss);
}

TEST(RingTest, CreditBeyondTheTailIsDetected) {
  TestRing r(8);
  ASSERT_EQ(PushRange(r.producer, 0, 4), 4u);
  r.view().credit->head = 100;  // the consumer cannot have read what was never written
  EXPECT_EQ(r.producer.Reserve(8), 0u);
  EXPECT_EQ(r.producer.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(r.producer.status().message()), HasSubstr("credit 100"));

  // It stays broken, even once the credit line looks sane again.
  r.view().credit->head = 0;
  EXPECT_EQ(r.producer.Reserve(1), 0u);
  EXPECT_FALSE(r.producer.Push(StreamMessage(0)));
  EXPECT_EQ(r.producer.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(r.producer.tail(), 4u);
}

TEST(RingTest, CreditBehindWhatTheProducerKnewIsDetected) {
  TestRing r(8, /*credit_batch=*/1);
  ASSERT_EQ(PushRange(r.producer, 0, 8), 8u);
  EXPECT_EQ(PopRange(r.consumer, 0, 4), 4u);
  EXPECT_EQ(r.producer.Reserve(4), 4u);  // the producer now knows head == 4
  r.view().credit->head = 2;             // a credit going backwards
  EXPECT_EQ(r.producer.Reserve(8), 0u);
  EXPECT_EQ(r.producer.status().code(), absl::StatusCode::kDataLoss);
}

// ---- attach and format ----

TEST(RingAttachTest, RejectsBadHeaders) {
  constexpr uint32_t kCap = 16;
  struct Case {
    const char* name;
    void (*corrupt)(RingHeader*);
    const char* message;
  };
  const Case cases[] = {
      {"magic", [](RingHeader* h) { h->magic ^= 1; }, "magic"},
      {"abi", [](RingHeader* h) { h->abi_major = WAVE_ABI_MAJOR + 1; }, "ABI version"},
      {"slot size", [](RingHeader* h) { h->slot_size = 128; }, "slot size 128"},
      {"not a power of two", [](RingHeader* h) { h->capacity = 12; }, "power of two"},
      {"zero capacity", [](RingHeader* h) { h->capacity = 0; }, "power of two"},
      {"capacity one", [](RingHeader* h) { h->capacity = 1; }, "power of two"},
      {"huge capacity", [](RingHeader* h) { h->capacity = 1u << 31; }, "power of two"},
      {"larger than region", [](RingHeader* h) { h->capacity = 2 * kCap; }, "needs"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    AlignedBuffer mem(TestRingBytes(kCap));
    RingCreditLine* credit = CreditAfter(mem.data(), kCap);
    ASSERT_TRUE(RingFormat(mem.data(), RingBytes(kCap), kCap, credit).ok());
    c.corrupt(static_cast<RingHeader*>(mem.data()));
    absl::StatusOr<RingProducer> p = RingProducer::Attach(mem.data(), RingBytes(kCap), credit);
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_THAT(std::string(p.status().message()), HasSubstr(c.message));
    absl::StatusOr<RingConsumer> k = RingConsumer::Attach(mem.data(), RingBytes(kCap), credit);
    ASSERT_FALSE(k.ok());
    EXPECT_EQ(k.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_THAT(std::string(k.status().message()), HasSubstr(c.message));
  }
}

TEST(RingAttachTest, RejectsRegionShorterThanTheRing) {
  constexpr uint32_t kCap = 16;
  AlignedBuffer mem(TestRingBytes(kCap));
  RingCreditLine* credit = CreditAfter(mem.data(), kCap);
  ASSERT_TRUE(RingFormat(mem.data(), RingBytes(kCap), kCap, credit).ok());
  EXPECT_TRUE(RingProducer::Attach(mem.data(), RingBytes(kCap), credit).ok());
  absl::StatusOr<RingProducer> p = RingProducer::Attach(mem.data(), RingBytes(kCap) - 64, credit);
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(std::string(p.status().message()), HasSubstr("needs"));
  absl::StatusOr<RingConsumer> c = RingConsumer::Attach(mem.data(), 32, credit);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(RingConsumer::Attach(nullptr, RingBytes(kCap), credit).ok());
  EXPECT_FALSE(
      RingConsumer::Attach(static_cast<uint8_t*>(mem.data()) + 8, RingBytes(kCap), credit).ok());
  // The credit line must be there and aligned too.
  EXPECT_EQ(RingProducer::Attach(mem.data(), RingBytes(kCap), nullptr).status().code(),
            absl::StatusCode::kInvalidArgument);
  auto* misaligned = reinterpret_cast<RingCreditLine*>(reinterpret_cast<uint8_t*>(credit) + 4);
  EXPECT_EQ(RingConsumer::Attach(mem.data(), RingBytes(kCap), misaligned).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(RingFormatTest, RejectsBadSizes) {
  AlignedBuffer mem(RingBytes(64) + 64);
  AlignedBuffer credit_mem(sizeof(RingCreditLine));
  auto* credit = static_cast<RingCreditLine*>(credit_mem.data());
  for (uint32_t cap : {0u, 1u, 3u, 12u, 100u, kMaxRingCapacity * 2, 0x80000000u, 0xffffffffu}) {
    absl::Status s = RingFormat(mem.data(), mem.size(), cap, credit);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << cap;
  }
  // Too short for the ring it is asked to hold.
  EXPECT_EQ(RingFormat(mem.data(), RingBytes(64) - 1, 64, credit).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RingFormat(mem.data(), 0, 2, credit).code(), absl::StatusCode::kInvalidArgument);
  // Null or misaligned.
  EXPECT_EQ(RingFormat(nullptr, RingBytes(2), 2, credit).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RingFormat(mem.data(), RingBytes(2), 2, nullptr).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RingFormat(static_cast<uint8_t*>(mem.data()) + 32, RingBytes(2), 2, credit).code(),
            absl::StatusCode::kInvalidArgument);
  // The smallest legal ring works.
  ASSERT_TRUE(RingFormat(mem.data(), RingBytes(kMinRingCapacity), kMinRingCapacity, credit).ok());
  absl::StatusOr<RingProducer> p = RingProducer::Attach(mem.data(), mem.size(), credit);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->capacity(), kMinRingCapacity);
}

// ---- the stamp belongs to the ring ----

TEST(RingTest, WriteNeverTouchesTheStamp) {
  TestRing r(4);
  wave_msg m = StreamMessage(42);
  // Slot i is stamped i + 1 when submitted; 2, 4 and 6 are exactly those stamps for the
  // messages they ride on, 0xfffffffd the "empty" stamp of slot 0.
  for (uint32_t garbage : {0u, 2u, 0xdeadbeefu, 4u, 0xfffffffdu, 6u, 1u}) {
    m.hdr.stamp = garbage;
    m.task.task_id = garbage;
    ASSERT_EQ(r.producer.Reserve(1), 1u);
    r.producer.Write(0, m);
    // Written but not submitted: not visible and not corrupt.
    EXPECT_EQ(PeekCount(r.consumer, 4), 0u) << garbage;
    r.producer.Submit(1);
    ASSERT_EQ(PeekCount(r.consumer, 4), 1u) << garbage;
    wave_msg out;
    r.consumer.Read(0, &out);
    EXPECT_EQ(out.hdr.stamp, r.producer.tail());  // index + 1
    EXPECT_EQ(out.task.task_id, garbage);
    EXPECT_EQ(out.task.seq, m.task.seq);
    r.consumer.Advance(1);
    r.consumer.ReturnCredits();
  }
  EXPECT_TRUE(r.consumer.status().ok());
}

TEST(RingTest, AdvanceNeverPassesWhatWasPeeked) {
  TestRing r(8);
  ASSERT_EQ(PushRange(r.producer, 0, 5), 5u);
  EXPECT_EQ(PeekCount(r.consumer, 2), 2u);
  r.consumer.Advance(5);  // only the two peeked slots are released
  EXPECT_EQ(r.consumer.head(), 2u);
  r.consumer.Advance(1);  // nothing peeked any more
  EXPECT_EQ(r.consumer.head(), 2u);
  EXPECT_EQ(PopRange(r.consumer, 2, 8), 3u);
}

TEST(RingTest, SubmitInParts) {
  TestRing r(8);
  ASSERT_EQ(r.producer.Reserve(5), 5u);
  for (uint32_t k = 0; k < 5; ++k) r.producer.Write(k, StreamMessage(k));
  r.producer.Submit(2);
  EXPECT_EQ(PeekCount(r.consumer, 8), 2u);
  r.producer.Submit(3);
  EXPECT_EQ(PopRange(r.consumer, 0, 8), 5u);
  r.producer.Submit(4);  // nothing reserved any more: publishes nothing
  EXPECT_EQ(PeekCount(r.consumer, 8), 0u);
  EXPECT_EQ(r.producer.tail(), 5u);
}

// ---- link model ----

TEST(RingLinkModelTest, VisibleExactlyAtSubmitTimePlusLatency) {
  constexpr uint64_t kLatency = 1000;
  ManualClock clock;
  clock.Set(5000);
  TestRing r(8, 0, LinkModel{&clock, kLatency});

  ASSERT_TRUE(r.producer.Push(StreamMessage(0)));  // at 5000: visible at 6000
  clock.Set(5500);
  ASSERT_TRUE(r.producer.Push(StreamMessage(1)));  // visible at 6500

  clock.Set(5000);
  EXPECT_EQ(PeekCount(r.consumer, 8), 0u);
  clock.Set(5999);
  EXPECT_EQ(PeekCount(r.consumer, 8), 0u);
  clock.Set(6000);
  EXPECT_EQ(PeekCount(r.consumer, 8), 1u);
  clock.Set(6499);
  EXPECT_EQ(PeekCount(r.consumer, 8), 1u);
  clock.Set(6500);
  EXPECT_EQ(PopRange(r.consumer, 0, 8), 2u);
}

TEST(RingLinkModelTest, RandomScheduleNeverEarlyNeverLate) {
  constexpr uint64_t kLatency = 700;
  constexpr uint32_t kCap = 32;
  ManualClock clock;
  TestRing r(kCap, 1, LinkModel{&clock, kLatency});
  std::mt19937_64 rng(12345);
  std::vector<uint64_t> submitted_at;  // by message number
  uint64_t consumed = 0;
  for (int step = 0; step < 20000; ++step) {
    clock.Advance(rng() % 100);
    if (rng() % 2 == 0) {
      const uint32_t n = r.producer.Reserve(1 + rng() % 4);
      for (uint32_t k = 0; k < n; ++k) r.producer.Write(k, StreamMessage(submitted_at.size() + k));
      r.producer.Submit(n);
      for (uint32_t k = 0; k < n; ++k) submitted_at.push_back(clock.NowNs());
    } else {
      // Every message whose time has come is visible; no other is.
      uint64_t due = consumed;
      while (due < submitted_at.size() && submitted_at[due] + kLatency <= clock.NowNs()) ++due;
      const uint32_t n = PeekCount(r.consumer, kCap);
      ASSERT_EQ(consumed + n, due) << "at " << clock.NowNs();
      for (uint32_t k = 0; k < n; ++k) {
        wave_msg m;
        r.consumer.Read(k, &m);
        ASSERT_EQ(m.task.task_id, consumed + k);
      }
      r.consumer.Advance(n);
      consumed += n;
    }
  }
  EXPECT_GT(consumed, 5000u);
}

}  // namespace
}  // namespace wave
