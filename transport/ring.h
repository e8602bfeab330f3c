// A single-producer/single-consumer ring of 64-byte slots in shared memory, built for a link that
// is slow and not cache coherent (PCIe between a host and an IPU).
//
// Rules (see DESIGN.md, "transport"):
//  - Each slot carries a stamp, written last by the producer with release ordering. The consumer
//    decides that a slot is whole from its stamp alone: it never reads the producer's index.
//    The stamp of free-running index i is i + 1; an unwritten slot holds the stamp of the
//    previous lap (i + 1 - capacity). Any other value is corruption and is reported, not followed.
//  - Indices are free-running 32-bit counters masked by a power-of-two capacity.
//  - Write remote, read local. The slots live in the consumer's memory: the producer only writes
//    across the link (posted writes, cheap on PCIe) and the consumer polls its own memory. The
//    consumer returns credits (its head) lazily, in batches of `credit_batch`, into a credit
//    line that lives in the *producer's* memory; the producer reads that local line only when
//    its shadow copy says the ring is full, and checks the value before believing it. Neither
//    side ever reads the other's memory on a hot path (a non-posted PCIe read is a round trip).
//  - Doorbells are batched: Submit(n) publishes a whole burst; the stamps are the doorbell.
//  - Producer-local and consumer-local state live in the objects below (each on its own cache
//    line), never in the shared memory the other side writes.
//  - An optional link model makes a slot visible only once the clock passes its `visible_at`
//    (producer's Ticks() at submit + the one-way latency), so a slow link can be emulated on one
//    machine, and charges `remote_read_ns` for each credit read when the credit line was placed
//    in the consumer's memory instead (the naive layout, kept to measure what it costs).
//
// Memory of one ring, in the consumer's memory (RingBytes(capacity) bytes, 64-byte aligned):
//   [RingHeader 64B][visible_at: capacity x u64][slots: capacity x 64B]
// and one RingCreditLine (64 bytes) in the producer's memory. Both layouts are the ABI's
// (abi/wave_link.h); this file is their one implementation in C++.
#ifndef LIBWAVE_TRANSPORT_RING_H_
#define LIBWAVE_TRANSPORT_RING_H_

#include <cstddef>
#include <cstdint>

#include "abi/wave_abi.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "transport/clock.h"

namespace wave {

inline constexpr size_t kCacheLine = 64;
inline constexpr uint32_t kRingMagic = WAVE_RING_MAGIC;
inline constexpr uint32_t kMinRingCapacity = WAVE_RING_MIN_CAPACITY;
inline constexpr uint32_t kMaxRingCapacity = WAVE_RING_MAX_CAPACITY;

// Written once by RingFormat; read (and checked) by both sides at attach (abi/wave_link.h).
using RingHeader = wave_ring_hdr;
// Consumer -> producer: the consumer's head, stored lazily (release) and loaded (acquire) by the
// producer only when it believes the ring is full.
using RingCreditLine = wave_ring_credit;

// Bytes needed for a ring of `capacity` slots. REQUIRES: capacity is a power of two.
size_t RingBytes(uint32_t capacity);

// Formats `mem` as an empty ring and `credit` as its empty credit line. `mem` must be 64-byte
// aligned and RingBytes(capacity) long.
absl::Status RingFormat(void* mem, size_t bytes, uint32_t capacity, RingCreditLine* credit);

// The link model. With a clock, a slot becomes visible to the consumer only when
// clock->Ticks() >= the producer's clock->Ticks() at submit + clock->TicksFor(latency_ns).
// Both sides must use clocks with one time base (see clock.h). `remote_read_ns`: what one read
// of the other side's memory costs (a PCIe round trip); the producer pays it on each credit read
// when it was attached with the credit line on the consumer's side.
struct LinkModel {
  const Clock* clock = nullptr;
  uint64_t latency_ns = 0;
  uint64_t remote_read_ns = 0;
};

class RingProducer {
 public:
  RingProducer() = default;
  // Attaches to a formatted ring (`mem`, in the consumer's memory) and its credit line
  // (normally in this side's memory). Checks the header against `bytes` before trusting it.
  static absl::StatusOr<RingProducer> Attach(void* mem, size_t bytes, RingCreditLine* credit,
                                             LinkModel link = {});

  // Burst: how many of the next `n` slots are free (0 when full or broken). Reads the remote
  // credit cell only when the local shadow says there is not room for all `n`.
  uint32_t Reserve(uint32_t n);
  // Bulk: all `n` or nothing (a failed bulk reservation reserves nothing).
  bool ReserveBulk(uint32_t n) {
    if (Reserve(n) >= n) return true;
    reserved_ = 0;
    return false;
  }
  // Copies `msg` into reserved slot i (0-based after the tail), leaving the stamp alone.
  // REQUIRES: i < the last Reserve() result.
  void Write(uint32_t i, const wave_msg& msg);
  // Publishes the first `n` reserved slots in order: one release store of each stamp.
  void Submit(uint32_t n);
  // Convenience: reserve, write and submit one message. False when full or broken.
  bool Push(const wave_msg& msg);

  // Slots not yet credited back by the consumer (as far as this side knows).
  uint32_t InFlight() const { return tail_ - cached_head_; }
  uint32_t capacity() const { return mask_ + 1; }
  uint32_t tail() const { return tail_; }
  // Ok, or why the ring stopped (an out-of-range credit from the other side).
  const absl::Status& status() const { return status_; }

 private:
  alignas(kCacheLine) uint32_t tail_ = 0;
  uint32_t cached_head_ = 0;
  uint32_t mask_ = 0;
  uint32_t reserved_ = 0;
  wave_msg* slots_ = nullptr;
  uint64_t* visible_at_ = nullptr;
  RingCreditLine* credit_ = nullptr;
  LinkModel link_;
  uint64_t latency_ticks_ = 0;
  absl::Status status_;
};

class RingConsumer {
 public:
  RingConsumer() = default;
  // `mem`: the ring, in this side's memory; `credit`: its credit line, in the producer's.
  // `credit_batch`: return credits once this many slots were consumed (0: capacity / 4).
  static absl::StatusOr<RingConsumer> Attach(void* mem, size_t bytes, RingCreditLine* credit,
                                             LinkModel link = {}, uint32_t credit_batch = 0);

  // How many slots, up to `max`, are whole and visible from the head on. Stops at the first
  // slot not yet written. A corrupt stamp at the head is an error; the ring then stays broken.
  absl::StatusOr<uint32_t> Peek(uint32_t max);
  // Copies peeked slot i out of shared memory (read once; validate the copy, not the slot).
  // REQUIRES: i < the last Peek() result.
  void Read(uint32_t i, wave_msg* out) const;
  // Releases `n` peeked slots; returns credits when a batch has accumulated.
  void Advance(uint32_t n);
  // Returns credits now (e.g. before the consumer goes idle).
  void ReturnCredits();

  uint32_t head() const { return head_; }
  uint32_t capacity() const { return mask_ + 1; }
  const absl::Status& status() const { return status_; }

 private:
  alignas(kCacheLine) uint32_t head_ = 0;
  uint32_t credited_ = 0;
  uint32_t credit_batch_ = 0;
  uint32_t mask_ = 0;
  uint32_t peeked_ = 0;
  const wave_msg* slots_ = nullptr;
  const uint64_t* visible_at_ = nullptr;
  RingCreditLine* credit_ = nullptr;
  LinkModel link_;
  absl::Status status_;
};

}  // namespace wave

#endif  // LIBWAVE_TRANSPORT_RING_H_
