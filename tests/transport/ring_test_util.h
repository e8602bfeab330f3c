// Helpers shared by the transport tests: aligned test memory, a view of a ring's documented
// layout (to corrupt it on purpose), a deterministic message stream with a checksum, and
// producer/consumer loops that never hang (they give up after a stall timeout or a peer abort).
#ifndef LIBWAVE_TESTS_TRANSPORT_RING_TEST_UTIL_H_
#define LIBWAVE_TESTS_TRANSPORT_RING_TEST_UTIL_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "abi/wave_abi.h"
#include "transport/ring.h"

namespace wave::testing {

// Zeroed, 64-byte aligned heap memory.
class AlignedBuffer {
 public:
  explicit AlignedBuffer(size_t bytes);
  ~AlignedBuffer();
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;

  void* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  size_t size_;
  void* data_;
};

// Tests keep a ring's credit line (which a link puts in the producer's memory) right after the
// ring: [ring: RingBytes(capacity)][credit line 64B], TestRingBytes(capacity) in all.
size_t TestRingBytes(uint32_t capacity);
RingCreditLine* CreditAfter(void* mem, uint32_t capacity);

// The parts of a formatted ring, per the layout documented in ring.h (and the test placement of
// the credit line above):
//   [RingHeader 64B][visible_at: capacity x u64, padded to 64B][slots][credit line 64B]
struct RingView {
  RingHeader* header;
  RingCreditLine* credit;
  uint64_t* visible_at;
  wave_msg* slots;
  uint32_t capacity;

  wave_msg& slot(uint32_t index) const { return slots[index & (capacity - 1)]; }
};
RingView ViewRing(void* mem, uint32_t capacity);

// Formats a ring (test placement: TestRingBytes(capacity) at `mem`) whose free-running indices
// start at `first_index` instead of 0 (to cross the 32-bit wrap quickly): the credit line holds
// `first_index` and every slot the "empty" stamp of the lap before it.
void FormatRingAt(void* mem, uint32_t capacity, uint32_t first_index);

// Message number `i` of a test stream: a function of `i` alone, so a consumer can check every
// byte. The stamp is deliberately garbage: the ring owns it and must not take it from Write.
wave_msg StreamMessage(uint64_t i);
// A hash of everything in a slot but the stamp.
uint64_t PayloadHash(const wave_msg& msg);
// Order-sensitive running checksum.
inline constexpr uint64_t kChecksumSeed = 0xcbf29ce484222325ull;
inline uint64_t ChecksumAdd(uint64_t sum, uint64_t hash) {
  return (sum ^ hash) * 0x100000001b3ull + (sum >> 29);
}

struct StreamOptions {
  uint64_t count = 0;         // messages to move
  uint32_t first_index = 0;   // the ring's free-running index of message 0
  uint64_t seed = 1;          // burst sizes
  double stall_seconds = 10;  // give up after this long without progress
  // Either side sets it when it fails; both sides stop. May live in shared memory.
  std::atomic<uint32_t>* abort = nullptr;
  // Called now and then while idle; returning false ends the stream with an error (e.g. the
  // peer process died).
  std::function<bool()> peer_alive;
};

struct StreamResult {
  bool ok = false;
  std::string error;
  uint64_t count = 0;  // messages moved
  uint64_t checksum = kChecksumSeed;
};

// Sends StreamMessage(0..count) in random bursts (Reserve/Write/Submit, sometimes submitting a
// reservation in two parts).
StreamResult ProduceStream(RingProducer& producer, const StreamOptions& options);
// Receives them in random bursts (Peek/Read/Advance) and checks order, contents and stamps.
StreamResult ConsumeStream(RingConsumer& consumer, const StreamOptions& options);

}  // namespace wave::testing

#endif  // LIBWAVE_TESTS_TRANSPORT_RING_TEST_UTIL_H_
