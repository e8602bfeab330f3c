// Shared pieces of the microbenchmarks: thread pinning, a spin hint, a ring with both ends.
#ifndef LIBWAVE_BENCH_BENCH_UTIL_H_
#define LIBWAVE_BENCH_BENCH_UTIL_H_

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "abi/wave_abi.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "transport/clock.h"
#include "transport/region.h"
#include "transport/ring.h"

namespace wave::bench {

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

inline bool PinThisThread(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof(set), &set) == 0;
}

// Pins the calling thread for its lifetime, then restores its affinity.
class ScopedPin {
 public:
  explicit ScopedPin(int cpu) {
    saved_ok_ = pthread_getaffinity_np(pthread_self(), sizeof(saved_), &saved_) == 0;
    ok_ = PinThisThread(cpu);
  }
  ~ScopedPin() {
    if (saved_ok_) pthread_setaffinity_np(pthread_self(), sizeof(saved_), &saved_);
  }
  ScopedPin(const ScopedPin&) = delete;
  ScopedPin& operator=(const ScopedPin&) = delete;
  bool ok() const { return ok_; }

 private:
  cpu_set_t saved_;
  bool saved_ok_ = false;
  bool ok_ = false;
};

// A formatted ring in shared memory with both ends attached (through `link`, if any), and its
// credit line in its own cache line after it: [ring][credit line].
struct BenchRing {
  SharedRegion region;
  RingProducer producer;
  RingConsumer consumer;

  // A fresh producer end on the same (idle) ring, with another link model.
  absl::StatusOr<RingProducer> ReattachProducer(LinkModel link) {
    const size_t ring_bytes = region.size() - sizeof(RingCreditLine);
    auto* credit =
        reinterpret_cast<RingCreditLine*>(static_cast<uint8_t*>(region.data()) + ring_bytes);
    return RingProducer::Attach(region.data(), ring_bytes, credit, link);
  }
};

inline absl::StatusOr<BenchRing> MakeRing(uint32_t capacity, LinkModel link = {}) {
  const size_t ring_bytes = RingBytes(capacity);
  absl::StatusOr<SharedRegion> region =
      SharedRegion::CreateAnonymous(ring_bytes + sizeof(RingCreditLine));
  if (!region.ok()) return region.status();
  auto* credit =
      reinterpret_cast<RingCreditLine*>(static_cast<uint8_t*>(region->data()) + ring_bytes);
  absl::Status s = RingFormat(region->data(), ring_bytes, capacity, credit);
  if (!s.ok()) return s;
  absl::StatusOr<RingProducer> p = RingProducer::Attach(region->data(), ring_bytes, credit, link);
  if (!p.ok()) return p.status();
  absl::StatusOr<RingConsumer> c = RingConsumer::Attach(region->data(), ring_bytes, credit, link);
  if (!c.ok()) return c.status();
  return BenchRing{*std::move(region), *std::move(p), *std::move(c)};
}

// The median of the values that are not NaN (0 if none is).
inline double Median(std::vector<double> v) {
  v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return std::isnan(x); }), v.end());
  if (v.empty()) return 0;
  auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
  std::nth_element(v.begin(), mid, v.end());
  return *mid;
}

inline wave_msg TemplateMessage() {
  wave_msg m;
  wave_msg_init(&m, WAVE_EV_TASK_WAKEUP);
  m.task.cpu = -1;
  return m;
}

// A value alone on its 128 bytes (the adjacent-line prefetcher pairs 64-byte lines). A flag
// that one benchmark thread polls while it sits among the other thread's hot locals would share
// their line, and the false sharing would be measured as the ring's cost.
template <typename T>
struct alignas(128) Padded {
  T value{};
};

// An error raised on a helper thread, read by the benchmark thread.
struct HelperError {
  std::atomic<bool> failed{false};
  std::string what;
  void Set(std::string w) {
    what = std::move(w);
    failed.store(true, std::memory_order_release);
  }
};

// A ping-pong partner: echoes each message from `in` to `out` (sequence + 1) until a message of
// type `stop` arrives or the ring breaks.
inline void EchoUntilStop(RingConsumer& in, RingProducer& out, uint16_t stop, HelperError& error) {
  for (;;) {
    absl::StatusOr<uint32_t> n = in.Peek(1);
    if (!n.ok()) {
      error.Set(n.status().ToString());
      return;
    }
    if (*n == 0) {
      CpuRelax();
      continue;
    }
    wave_msg m;
    in.Read(0, &m);
    in.Advance(1);
    if (m.hdr.type == stop) return;
    ++m.task.seq;
    while (!out.Push(m)) CpuRelax();
  }
}

// The pinger's half of a ping-pong: sends `msg`, spins for the echo and reads it into `back`.
// False when the ring broke or the echo thread reported an error.
inline bool RoundTrip(RingProducer& out, RingConsumer& in, const wave_msg& msg,
                      const HelperError& error, wave_msg* back) {
  while (!out.Push(msg)) CpuRelax();
  for (;;) {
    absl::StatusOr<uint32_t> n = in.Peek(1);
    if (!n.ok() || error.failed.load(std::memory_order_relaxed)) return false;
    if (*n == 1) break;
    CpuRelax();
  }
  in.Read(0, back);
  in.Advance(1);
  return true;
}

}  // namespace wave::bench

#endif  // LIBWAVE_BENCH_BENCH_UTIL_H_
