// Clocks for the link model: the real monotonic clock, and a manual one for simulations.
#ifndef LIBWAVE_TRANSPORT_CLOCK_H_
#define LIBWAVE_TRANSPORT_CLOCK_H_

#include <time.h>

#include <cstdint>

namespace wave {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual uint64_t NowNs() const = 0;
};

class MonotonicClock final : public Clock {
 public:
  uint64_t NowNs() const override {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
  }
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

}  // namespace wave

#endif  // LIBWAVE_TRANSPORT_CLOCK_H_
