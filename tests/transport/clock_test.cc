// The link clocks: the TSC clock's rate and time base, and the real-time link model built on
// LinkClock() (what `wave sim --session` and `wave agent` use) never delivering early.
#include "transport/clock.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "tests/transport/ring_test_util.h"
#include "transport/ring.h"

namespace wave {
namespace {

using ::wave::testing::AlignedBuffer;
using ::wave::testing::CreditAfter;
using ::wave::testing::StreamMessage;
using ::wave::testing::TestRingBytes;

TEST(TscClockTest, RateAgreesWithTheMonotonicClock) {
  if (!TscClock::Usable()) {
    GTEST_SKIP() << "no invariant TSC here";
  }
  TscClock tsc;
  EXPECT_GT(tsc.ticks_per_ns(), 0.1);  // any x86 of this century runs it above 100 MHz
  const uint64_t t0 = tsc.Ticks();
  const uint64_t n0 = MonotonicNs();
  usleep(20'000);
  const uint64_t t1 = tsc.Ticks();
  const uint64_t n1 = MonotonicNs();
  ASSERT_GT(t1, t0);
  const double ratio = static_cast<double>(t1 - t0) / static_cast<double>(tsc.TicksFor(n1 - n0));
  EXPECT_NEAR(ratio, 1.0, 0.01);
  // NowNs follows CLOCK_MONOTONIC closely (same base, calibrated rate).
  const int64_t skew = static_cast<int64_t>(tsc.NowNs()) - static_cast<int64_t>(MonotonicNs());
  EXPECT_LT(skew < 0 ? -skew : skew, 1'000'000);
}

TEST(TscClockTest, TicksForRoundsUp) {
  if (!TscClock::Usable()) {
    GTEST_SKIP() << "no invariant TSC here";
  }
  TscClock tsc;
  for (uint64_t ns : {1ull, 7ull, 500ull, 1'000ull, 5'000ull, 1'000'000'000ull}) {
    EXPECT_GE(static_cast<double>(tsc.TicksFor(ns)), static_cast<double>(ns) * tsc.ticks_per_ns())
        << ns;
  }
  EXPECT_EQ(tsc.TicksFor(0), 0u);
}

TEST(LinkClockTest, IsOneProcessWideClockOfTheAdvertisedKind) {
  const Clock& a = LinkClock();
  EXPECT_EQ(&a, &LinkClock());
  const LinkClockKind kind = LinkClockKindInUse();
  EXPECT_EQ(kind == LinkClockKind::kTsc, TscClock::Usable());
  EXPECT_STREQ(LinkClockName(kind), kind == LinkClockKind::kTsc ? "tsc" : "monotonic");
  const uint64_t t0 = a.Ticks();
  const uint64_t t1 = a.Ticks();
  EXPECT_LE(t0, t1);
}

// Real time, two threads: every message arrives no earlier than its submit time plus the
// latency, measured on CLOCK_MONOTONIC (independent of the link clock under test).
TEST(LinkClockTest, RealTimeLinkNeverDeliversEarly) {
  constexpr uint32_t kCap = 64;
  constexpr uint64_t kLatencyNs = 20'000;
  constexpr int kMessages = 300;
  AlignedBuffer mem(TestRingBytes(kCap));
  RingCreditLine* credit = CreditAfter(mem.data(), kCap);
  ASSERT_TRUE(RingFormat(mem.data(), RingBytes(kCap), kCap, credit).ok());
  const LinkModel link{.clock = &LinkClock(), .latency_ns = kLatencyNs};
  absl::StatusOr<RingProducer> p = RingProducer::Attach(mem.data(), RingBytes(kCap), credit, link);
  absl::StatusOr<RingConsumer> c = RingConsumer::Attach(mem.data(), RingBytes(kCap), credit, link);
  ASSERT_TRUE(p.ok() && c.ok());

  std::vector<uint64_t> sent_ns(kMessages), got_ns(kMessages);
  std::thread consumer([&] {
    for (int i = 0; i < kMessages;) {
      absl::StatusOr<uint32_t> n = c->Peek(1);
      if (!n.ok()) return;
      if (*n == 0) continue;
      got_ns[static_cast<size_t>(i)] = MonotonicNs();
      c->Advance(1);
      ++i;
    }
  });
  for (int i = 0; i < kMessages; ++i) {
    while (p->Reserve(1) == 0) {
    }
    p->Write(0, StreamMessage(static_cast<uint64_t>(i)));
    sent_ns[static_cast<size_t>(i)] = MonotonicNs();  // before the stamp: a lower bound
    p->Submit(1);
    if (i % 16 == 0) usleep(100);  // a mix of back-to-back and spaced messages
  }
  consumer.join();
  for (int i = 0; i < kMessages; ++i) {
    const size_t k = static_cast<size_t>(i);
    ASSERT_GE(got_ns[k], sent_ns[k] + kLatencyNs) << "message " << i << " arrived early";
  }
}

// The naive layout's cost is charged: with the credit line across the link, a producer that
// must read it pays at least the round trip; with it local (remote_read_ns = 0), nothing.
TEST(LinkClockTest, RemoteCreditReadCostsTheRoundTrip) {
  constexpr uint32_t kCap = 4;
  constexpr uint64_t kRoundTripNs = 2'000'000;  // 2 ms: far above any scheduling noise floor
  AlignedBuffer mem(TestRingBytes(kCap));
  RingCreditLine* credit = CreditAfter(mem.data(), kCap);
  ASSERT_TRUE(RingFormat(mem.data(), RingBytes(kCap), kCap, credit).ok());
  const LinkModel remote{.clock = &LinkClock(), .latency_ns = 0, .remote_read_ns = kRoundTripNs};
  absl::StatusOr<RingProducer> p =
      RingProducer::Attach(mem.data(), RingBytes(kCap), credit, remote);
  ASSERT_TRUE(p.ok()) << p.status();
  for (uint32_t i = 0; i < kCap; ++i) ASSERT_TRUE(p->Push(StreamMessage(i)));  // no credit read
  const uint64_t t0 = MonotonicNs();
  EXPECT_EQ(p->Reserve(1), 0u);  // full: reads the (remote) credit line
  EXPECT_GE(MonotonicNs() - t0, kRoundTripNs);
}

TEST(LinkClockTest, RemoteReadCostNeedsARealClock) {
  constexpr uint32_t kCap = 4;
  AlignedBuffer mem(TestRingBytes(kCap));
  RingCreditLine* credit = CreditAfter(mem.data(), kCap);
  ASSERT_TRUE(RingFormat(mem.data(), RingBytes(kCap), kCap, credit).ok());
  ManualClock manual;
  absl::StatusOr<RingProducer> p = RingProducer::Attach(
      mem.data(), RingBytes(kCap), credit, LinkModel{.clock = &manual, .remote_read_ns = 10});
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  p = RingProducer::Attach(mem.data(), RingBytes(kCap), credit, LinkModel{.remote_read_ns = 10});
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace wave
