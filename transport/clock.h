// Clocks for the link model.
//
// A link model compares the consumer's clock with a `visible_at` the producer computed with its
// own clock, so both sides must read the same time base. Clock::Ticks() is that time base, in
// the clock's own unit; TicksFor() converts a duration in nanoseconds into it.
//  - MonotonicClock: CLOCK_MONOTONIC, in ns (about 20 ns a read through the vDSO here).
//  - TscClock: the invariant TSC, in cycles (about 9 ns a read). The TSC is one counter for the
//    whole machine (constant_tsc + nonstop_tsc), so two processes share the time base exactly;
//    only the rate (cycles per ns, calibrated once per process against CLOCK_MONOTONIC) is
//    local, and it only scales durations. TicksFor() rounds up with a 1e-4 margin so a
//    calibration error can make a slot late by a fraction of a nanosecond, never early.
//  - ManualClock: a simulation's virtual time, in ns.
// LinkClock() picks the TSC where it is invariant, else the monotonic clock; both sides of a
// session state which they use in the handshake.
#ifndef LIBWAVE_TRANSPORT_CLOCK_H_
#define LIBWAVE_TRANSPORT_CLOCK_H_

#include <time.h>

#include <cstdint>

namespace wave {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual uint64_t NowNs() const = 0;
  // The time base that link models compare across the two sides.
  virtual uint64_t Ticks() const { return NowNs(); }
  // A duration in this clock's ticks, rounded up.
  virtual uint64_t TicksFor(uint64_t ns) const { return ns; }
};

inline uint64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

class MonotonicClock final : public Clock {
 public:
  uint64_t NowNs() const override { return MonotonicNs(); }
};

// The invariant TSC. Construct only where TscClock::Usable().
class TscClock final : public Clock {
 public:
  TscClock();
  uint64_t NowNs() const override;
  uint64_t Ticks() const override;
  uint64_t TicksFor(uint64_t ns) const override;

  // True on x86-64 with an invariant TSC (cpu flags constant_tsc and nonstop_tsc).
  static bool Usable();
  double ticks_per_ns() const { return ticks_per_ns_; }

 private:
  double ticks_per_ns_;
  uint64_t base_ticks_;
  uint64_t base_ns_;
};

// A virtual clock owned by a discrete-event simulation. Single-threaded.
class ManualClock final : public Clock {
 public:
  uint64_t NowNs() const override { return now_ns_; }
  void Set(uint64_t ns) { now_ns_ = ns; }
  void Advance(uint64_t ns) { now_ns_ += ns; }

 private:
  uint64_t now_ns_ = 0;
};

// The time base of a link between processes. Values travel in the session handshake.
enum class LinkClockKind : uint32_t { kMonotonic = 1, kTsc = 2 };
const char* LinkClockName(LinkClockKind kind);

// The process-wide clock for emulated links: the TSC when usable, else CLOCK_MONOTONIC.
// The first call may calibrate the TSC (about 20 ms, asleep).
const Clock& LinkClock();
LinkClockKind LinkClockKindInUse();

// Busy-waits for `ns` by `clock` (a remote read's round trip, in emulation).
void SpinFor(const Clock& clock, uint64_t ns);

}  // namespace wave

#endif  // LIBWAVE_TRANSPORT_CLOCK_H_
