// The emulated PCIe link: how closely the ring's link model (LinkModel{LinkClock(), latency})
// delivers the one-way latency it is configured with.
//
// BM_EmulatedLink/<latency_ns>: two threads pinned to CPUs 0 and 1 bounce one message over two
// rings, both with the link model `wave sim`/`wave agent` use (LinkClock(): the invariant TSC
// where there is one, else CLOCK_MONOTONIC) at that latency. Counters:
//   configured_ns        the configured one-way latency
//   measured_one_way_ns  round trip / 2
//   overhead_ns          measured - configured
//   error_pct            100 * (measured - configured) / configured (not for latency 0)
//   median_one_way_ns    the median over batches of kBatch round trips of (batch time / round
//                        trips / 2): the emulation's accuracy without the tail that preemption
//                        adds on a busy machine (one preempted hop spoils one batch, not the
//                        median)
//   median_error_pct     error_pct of that median
// Latency 0 (a clock, but no delay) is the baseline: the cost of the ring plus the clock reads.
// The pinger reads the steady clock once per batch, not per round trip, so the mean is not
// perturbed. The counter clock_tsc says which link clock ran (1: TSC, 0: monotonic).
//   bazel run -c opt //bench:link_bench      (or tools/bench for the whole table)
#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "abi/wave_abi.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "bench/bench_util.h"
#include "benchmark/benchmark.h"
#include "transport/clock.h"
#include "transport/region.h"
#include "transport/ring.h"

namespace wave {
namespace {

using bench::BenchRing;
using bench::CpuRelax;
using bench::EchoUntilStop;
using bench::HelperError;
using bench::MakeRing;
using bench::PinThisThread;
using bench::RoundTrip;
using bench::ScopedPin;
using bench::TemplateMessage;

constexpr int kFirstCpu = 0;   // the benchmark thread: pinger
constexpr int kSecondCpu = 1;  // the helper thread: ponger
constexpr uint32_t kRingCapacity = 256;
// Each case runs for about this long (round trips = kCaseNs / (2 * latency + kRingRoundTripNs)).
constexpr int64_t kCaseNs = 400'000'000;
constexpr int64_t kRingRoundTripNs = 1'000;  // a generous guess at the ring's own round trip
constexpr int64_t kMinRoundTrips = 10'000;
constexpr int64_t kMaxRoundTrips = 400'000;
constexpr uint64_t kBatch = 16;  // round trips per clock read of the pinger (for the median)

void BM_EmulatedLink(benchmark::State& state) {
  const auto latency_ns = static_cast<uint64_t>(state.range(0));
  const LinkModel link{.clock = &LinkClock(), .latency_ns = latency_ns};
  absl::StatusOr<BenchRing> ping = MakeRing(kRingCapacity, link);
  absl::StatusOr<BenchRing> pong = MakeRing(kRingCapacity, link);
  if (!ping.ok() || !pong.ok()) {
    state.SkipWithError("cannot make the rings");
    return;
  }
  ScopedPin pin(kFirstCpu);
  if (!pin.ok()) {
    state.SkipWithError("cannot pin the pinger to cpu 0");
    return;
  }

  constexpr uint16_t kStop = WAVE_MSG_NONE;
  HelperError error;
  std::atomic<bool> ready{false};
  std::thread ponger([&] {
    if (!PinThisThread(kSecondCpu)) error.Set("cannot pin the ponger to cpu 1");
    RingConsumer& in = ping->consumer;
    RingProducer& out = pong->producer;
    ready.store(true, std::memory_order_release);
    EchoUntilStop(in, out, kStop, error);
  });
  while (!ready.load(std::memory_order_acquire)) CpuRelax();

  RingProducer& out = ping->producer;
  RingConsumer& in = pong->consumer;
  wave_msg msg = TemplateMessage();
  using Clock = std::chrono::steady_clock;
  std::vector<Clock::time_point> marks;  // when each batch of kBatch round trips started
  marks.reserve(static_cast<size_t>(state.max_iterations / kBatch + 2));
  uint64_t round_trips = 0;
  const auto start = Clock::now();
  for (auto _ : state) {
    if (round_trips % kBatch == 0) marks.push_back(Clock::now());
    msg.task.task_id = round_trips;
    wave_msg back;
    if (!RoundTrip(out, in, msg, error, &back)) break;
    benchmark::DoNotOptimize(back);
    ++round_trips;
  }
  const auto end = Clock::now();
  const auto elapsed = end - start;
  msg.hdr.type = kStop;
  while (!error.failed.load(std::memory_order_relaxed) && !out.Push(msg)) CpuRelax();
  ponger.join();
  if (error.failed.load(std::memory_order_acquire)) {
    state.SkipWithError(error.what.c_str());
    return;
  }
  if (!in.status().ok()) {
    state.SkipWithError(in.status().ToString().c_str());
    return;
  }
  if (round_trips == 0) return;
  const double configured = static_cast<double>(latency_ns);
  const double measured = std::chrono::duration<double, std::nano>(elapsed).count() /
                          (2.0 * static_cast<double>(round_trips));
  state.counters["configured_ns"] = configured;
  state.counters["clock_tsc"] = LinkClockKindInUse() == LinkClockKind::kTsc ? 1 : 0;
  state.counters["measured_one_way_ns"] = measured;
  state.counters["overhead_ns"] = measured - configured;
  if (latency_ns > 0) state.counters["error_pct"] = 100.0 * (measured - configured) / configured;

  // Batch k ends where batch k + 1 starts (the last one, maybe partial, where the loop ended).
  marks.push_back(end);
  std::vector<double> one_way;
  one_way.reserve(marks.size());
  for (size_t k = 0; k + 1 < marks.size(); ++k) {
    const uint64_t in_batch = std::min<uint64_t>(kBatch, round_trips - k * kBatch);
    if (in_batch == 0) continue;
    one_way.push_back(std::chrono::duration<double, std::nano>(marks[k + 1] - marks[k]).count() /
                      (2.0 * static_cast<double>(in_batch)));
  }
  auto mid = one_way.begin() + static_cast<std::ptrdiff_t>(one_way.size() / 2);
  std::nth_element(one_way.begin(), mid, one_way.end());
  state.counters["median_one_way_ns"] = *mid;
  if (latency_ns > 0) {
    state.counters["median_error_pct"] = 100.0 * (*mid - configured) / configured;
  }
}

int64_t RoundTripsFor(int64_t latency_ns) {
  return std::clamp(kCaseNs / (2 * latency_ns + kRingRoundTripNs), kMinRoundTrips, kMaxRoundTrips);
}

// One registration per latency so each case runs for about the same wall time.
void RegisterLinkCases() {
  for (int64_t latency_ns : {0, 500, 1'000, 2'000, 5'000}) {
    benchmark::RegisterBenchmark("BM_EmulatedLink", BM_EmulatedLink)
        ->Arg(latency_ns)
        ->Iterations(RoundTripsFor(latency_ns))
        ->UseRealTime();
  }
}
[[maybe_unused]] const int kRegistered = (RegisterLinkCases(), 0);

}  // namespace
}  // namespace wave
