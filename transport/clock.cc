#include "transport/clock.h"

#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <fstream>
#include <string>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

namespace wave {
namespace {

uint64_t ReadTsc() {
#if defined(__x86_64__)
  return __rdtsc();
#else
  return 0;
#endif
}

void CpuRelax() {
#if defined(__x86_64__)
  _mm_pause();
#endif
}

// One (tsc, monotonic) pair: the monotonic read bracketed by two TSC reads, retried until the
// bracket is tight (a preemption inside it would skew the pair by the time it was off cpu).
// Returns the bracket's width in ticks.
uint64_t SamplePair(uint64_t* ticks, uint64_t* ns) {
  constexpr uint64_t kTightTicks = 1'000;  // a few hundred ns on any TSC rate we will meet
  uint64_t best = UINT64_MAX;
  for (int attempt = 0; attempt < 1'000 && best > kTightTicks; ++attempt) {
    const uint64_t a = ReadTsc();
    const uint64_t n = MonotonicNs();
    const uint64_t b = ReadTsc();
    if (b - a < best) {
      best = b - a;
      *ticks = a + (b - a) / 2;
      *ns = n;
    }
  }
  return best;
}

// Long enough that two tight brackets (under 1,000 ticks each) bound the rate's error well
// inside the TicksFor() margin below.
constexpr uint64_t kCalibrationNs = 20'000'000;
// TicksFor() margin: a slot may be late by this fraction of its latency, never early.
constexpr double kRateMargin = 1.0 + 1e-4;

}  // namespace

TscClock::TscClock() {
  uint64_t t0, n0, t1, n1;
  SamplePair(&t0, &n0);
  do {
    usleep(static_cast<useconds_t>(kCalibrationNs / 1'000));
    SamplePair(&t1, &n1);
  } while (n1 - n0 < kCalibrationNs);
  ticks_per_ns_ = static_cast<double>(t1 - t0) / static_cast<double>(n1 - n0);
  base_ticks_ = t1;
  base_ns_ = n1;
}

uint64_t TscClock::Ticks() const { return ReadTsc(); }

uint64_t TscClock::NowNs() const {
  return base_ns_ +
         static_cast<uint64_t>(static_cast<double>(ReadTsc() - base_ticks_) / ticks_per_ns_);
}

uint64_t TscClock::TicksFor(uint64_t ns) const {
  return static_cast<uint64_t>(std::ceil(static_cast<double>(ns) * ticks_per_ns_ * kRateMargin));
}

bool TscClock::Usable() {
#if defined(__x86_64__)
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) != 0) continue;
    const auto has = [&](const char* flag) {
      return (" " + line + " ").find(std::string(" ") + flag + " ") != std::string::npos;
    };
    return has("constant_tsc") && has("nonstop_tsc");
  }
#endif
  return false;
}

const char* LinkClockName(LinkClockKind kind) {
  switch (kind) {
    case LinkClockKind::kMonotonic:
      return "monotonic";
    case LinkClockKind::kTsc:
      return "tsc";
  }
  return "unknown";
}

LinkClockKind LinkClockKindInUse() {
  static const LinkClockKind kind =
      TscClock::Usable() ? LinkClockKind::kTsc : LinkClockKind::kMonotonic;
  return kind;
}

const Clock& LinkClock() {
  static const Clock* const clock = []() -> const Clock* {
    if (LinkClockKindInUse() == LinkClockKind::kTsc) return new TscClock();
    return new MonotonicClock();
  }();
  return *clock;
}

void SpinFor(const Clock& clock, uint64_t ns) {
  const uint64_t until = clock.Ticks() + clock.TicksFor(ns);
  while (clock.Ticks() < until) CpuRelax();
}

}  // namespace wave
