#include "transport/ring.h"

#include <cstring>

#include "absl/strings/str_format.h"

namespace wave {
namespace {

bool IsPowerOfTwo(uint32_t v) { return v != 0 && (v & (v - 1)) == 0; }

// Stamp ordering: the producer's release store of a stamp publishes the slot body and its
// visible_at written before it; the consumer's acquire load of the stamp makes them visible.
uint32_t LoadStamp(const wave_msg* slot) {
  return __atomic_load_n(&slot->hdr.stamp, __ATOMIC_ACQUIRE);  // acquire
}
void StoreStamp(wave_msg* slot, uint32_t stamp) {
  __atomic_store_n(&slot->hdr.stamp, stamp, __ATOMIC_RELEASE);  // release
}

struct RingParts {
  RingHeader* header;
  uint64_t* visible_at;
  wave_msg* slots;
  uint32_t capacity;
};

size_t VisibleAtBytes(uint32_t capacity) { return wave_ring_visible_at_bytes(capacity); }

RingParts Carve(void* mem, uint32_t capacity) {
  auto* base = static_cast<uint8_t*>(mem);
  RingParts p;
  p.header = reinterpret_cast<RingHeader*>(base);
  p.visible_at = reinterpret_cast<uint64_t*>(base + sizeof(RingHeader));
  p.slots = reinterpret_cast<wave_msg*>(base + sizeof(RingHeader) + VisibleAtBytes(capacity));
  p.capacity = capacity;
  return p;
}

// Reads the header of a ring someone else formatted: every field is checked before use.
absl::StatusOr<RingParts> CheckedParts(void* mem, size_t bytes, const RingCreditLine* credit) {
  if (credit == nullptr || reinterpret_cast<uintptr_t>(credit) % kCacheLine != 0) {
    return absl::InvalidArgumentError("ring credit line is null or not 64-byte aligned");
  }
  if (mem == nullptr || reinterpret_cast<uintptr_t>(mem) % kCacheLine != 0) {
    return absl::InvalidArgumentError("ring memory is null or not 64-byte aligned");
  }
  if (bytes < sizeof(RingHeader)) {
    return absl::InvalidArgumentError(absl::StrFormat("ring memory too small: %u bytes", bytes));
  }
  RingHeader h;
  std::memcpy(&h, mem, sizeof(h));  // one read of the other side's header
  if (h.magic != kRingMagic) {
    return absl::FailedPreconditionError(
        absl::StrFormat("not a ring: magic 0x%08x, expected 0x%08x", h.magic, kRingMagic));
  }
  if (h.abi_major != WAVE_ABI_MAJOR) {
    return absl::FailedPreconditionError(
        absl::StrFormat("ring ABI version %u.%u, this side speaks %u.%u", h.abi_major, h.abi_minor,
                        WAVE_ABI_MAJOR, WAVE_ABI_MINOR));
  }
  if (h.slot_size != WAVE_MSG_SIZE) {
    return absl::FailedPreconditionError(
        absl::StrFormat("ring slot size %u, expected %u", h.slot_size, WAVE_MSG_SIZE));
  }
  if (!IsPowerOfTwo(h.capacity) || h.capacity < kMinRingCapacity || h.capacity > kMaxRingCapacity) {
    return absl::FailedPreconditionError(
        absl::StrFormat("ring capacity %u is not a power of two in [%u, %u]", h.capacity,
                        kMinRingCapacity, kMaxRingCapacity));
  }
  if (RingBytes(h.capacity) > bytes) {
    return absl::FailedPreconditionError(
        absl::StrFormat("ring of %u slots needs %u bytes, region has %u", h.capacity,
                        RingBytes(h.capacity), bytes));
  }
  return Carve(mem, h.capacity);
}

}  // namespace

size_t RingBytes(uint32_t capacity) { return static_cast<size_t>(wave_ring_bytes(capacity)); }

absl::Status RingFormat(void* mem, size_t bytes, uint32_t capacity, RingCreditLine* credit) {
  if (credit == nullptr || reinterpret_cast<uintptr_t>(credit) % kCacheLine != 0) {
    return absl::InvalidArgumentError("ring credit line is null or not 64-byte aligned");
  }
  if (!IsPowerOfTwo(capacity) || capacity < kMinRingCapacity || capacity > kMaxRingCapacity) {
    return absl::InvalidArgumentError(
        absl::StrFormat("ring capacity %u is not a power of two in [%u, %u]", capacity,
                        kMinRingCapacity, kMaxRingCapacity));
  }
  if (mem == nullptr || reinterpret_cast<uintptr_t>(mem) % kCacheLine != 0) {
    return absl::InvalidArgumentError("ring memory is null or not 64-byte aligned");
  }
  if (bytes < RingBytes(capacity)) {
    return absl::InvalidArgumentError(absl::StrFormat("ring of %u slots needs %u bytes, got %u",
                                                      capacity, RingBytes(capacity), bytes));
  }
  RingParts p = Carve(mem, capacity);
  std::memset(mem, 0, RingBytes(capacity));
  for (uint32_t k = 0; k < capacity; ++k) {
    p.slots[k].hdr.stamp = k + 1 - capacity;  // "lap -1": empty
  }
  std::memset(credit, 0, sizeof(*credit));
  RingHeader h{};
  h.magic = kRingMagic;
  h.abi_major = WAVE_ABI_MAJOR;
  h.abi_minor = WAVE_ABI_MINOR;
  h.slot_size = WAVE_MSG_SIZE;
  h.capacity = capacity;
  std::memcpy(p.header, &h, sizeof(h));
  __atomic_thread_fence(__ATOMIC_RELEASE);
  return absl::OkStatus();
}

// ---- producer ----

absl::StatusOr<RingProducer> RingProducer::Attach(void* mem, size_t bytes, RingCreditLine* credit,
                                                  LinkModel link) {
  absl::StatusOr<RingParts> p = CheckedParts(mem, bytes, credit);
  if (!p.ok()) return p.status();
  if (link.remote_read_ns != 0 &&
      (link.clock == nullptr || dynamic_cast<const ManualClock*>(link.clock) != nullptr)) {
    // Spinning on a clock that only the caller advances would never end.
    return absl::InvalidArgumentError("a remote-read cost needs a real-time link clock");
  }
  RingProducer r;
  r.mask_ = p->capacity - 1;
  r.slots_ = p->slots;
  r.visible_at_ = p->visible_at;
  r.credit_ = credit;
  r.link_ = link;
  if (link.clock != nullptr) r.latency_ticks_ = link.clock->TicksFor(link.latency_ns);
  // A producer attaching to a live ring starts where the consumer's credits say.
  r.tail_ = r.cached_head_ = __atomic_load_n(&credit->head, __ATOMIC_ACQUIRE);
  return r;
}

uint32_t RingProducer::Reserve(uint32_t n) {
  if (!status_.ok()) return reserved_ = 0;
  const uint32_t cap = mask_ + 1;
  uint32_t free_slots = cap - (tail_ - cached_head_);
  if (free_slots < n) {
    if (link_.remote_read_ns != 0) {
      SpinFor(*link_.clock, link_.remote_read_ns);  // the credit line is across the link
    }
    const uint32_t credit = __atomic_load_n(&credit_->head, __ATOMIC_ACQUIRE);  // acquire
    // The credit must lie between what we knew and what we wrote: anything else is a corrupt
    // (or hostile) consumer, and following it would overwrite unread slots.
    if (credit - cached_head_ > tail_ - cached_head_) {
      status_ = absl::DataLossError(
          absl::StrFormat("ring credit %u out of range [%u, %u]: consumer state is corrupt", credit,
                          cached_head_, tail_));
      return reserved_ = 0;
    }
    cached_head_ = credit;
    free_slots = cap - (tail_ - cached_head_);
  }
  reserved_ = n < free_slots ? n : free_slots;
  return reserved_;
}

void RingProducer::Write(uint32_t i, const wave_msg& msg) {
  wave_msg* slot = &slots_[(tail_ + i) & mask_];
  // Everything but the stamp: the consumer must never see a stamp this side did not mean.
  std::memcpy(reinterpret_cast<uint8_t*>(slot) + sizeof(uint32_t),
              reinterpret_cast<const uint8_t*>(&msg) + sizeof(uint32_t),
              WAVE_MSG_SIZE - sizeof(uint32_t));
}

void RingProducer::Submit(uint32_t n) {
  if (n > reserved_) n = reserved_;
  if (link_.clock != nullptr) {
    const uint64_t visible = link_.clock->Ticks() + latency_ticks_;
    for (uint32_t i = 0; i < n; ++i) visible_at_[(tail_ + i) & mask_] = visible;
  }
  for (uint32_t i = 0; i < n; ++i) {
    const uint32_t idx = tail_ + i;
    StoreStamp(&slots_[idx & mask_], idx + 1);
  }
  tail_ += n;
  reserved_ -= n;
}

bool RingProducer::Push(const wave_msg& msg) {
  if (Reserve(1) == 0) return false;
  Write(0, msg);
  Submit(1);
  return true;
}

// ---- consumer ----

absl::StatusOr<RingConsumer> RingConsumer::Attach(void* mem, size_t bytes, RingCreditLine* credit,
                                                  LinkModel link, uint32_t credit_batch) {
  absl::StatusOr<RingParts> p = CheckedParts(mem, bytes, credit);
  if (!p.ok()) return p.status();
  RingConsumer r;
  r.mask_ = p->capacity - 1;
  r.slots_ = p->slots;
  r.visible_at_ = p->visible_at;
  r.credit_ = credit;
  r.link_ = link;
  r.credit_batch_ = credit_batch == 0 ? (p->capacity / 4 > 0 ? p->capacity / 4 : 1) : credit_batch;
  if (r.credit_batch_ > p->capacity) r.credit_batch_ = p->capacity;
  // The consumer writes the credit line: its value is this side's own head from before (read
  // once, at attach; from then on the consumer only writes it).
  r.head_ = r.credited_ = __atomic_load_n(&credit->head, __ATOMIC_ACQUIRE);
  return r;
}

absl::StatusOr<uint32_t> RingConsumer::Peek(uint32_t max) {
  if (!status_.ok()) return status_;
  const uint32_t cap = mask_ + 1;
  if (max > cap) max = cap;
  uint64_t now = 0;  // read lazily: an empty poll costs one stamp load, no clock read
  bool have_now = false;
  uint32_t n = 0;
  for (; n < max; ++n) {
    const uint32_t idx = head_ + n;
    const wave_msg* slot = &slots_[idx & mask_];
    const uint32_t stamp = LoadStamp(slot);
    if (stamp != idx + 1) {
      if (stamp == idx + 1 - cap) break;  // not written yet this lap
      if (n > 0) break;                   // deliver the good ones; the error surfaces next time
      status_ = absl::DataLossError(
          absl::StrFormat("corrupt ring slot %u: stamp %u, expected %u (written) or %u (empty)",
                          idx, stamp, idx + 1, idx + 1 - cap));
      return status_;
    }
    if (link_.clock != nullptr) {
      if (!have_now) {
        now = link_.clock->Ticks();
        have_now = true;
      }
      if (visible_at_[idx & mask_] > now) break;  // still on the wire
    }
  }
  peeked_ = n;
  return n;
}

void RingConsumer::Read(uint32_t i, wave_msg* out) const {
  std::memcpy(out, &slots_[(head_ + i) & mask_], WAVE_MSG_SIZE);
}

void RingConsumer::Advance(uint32_t n) {
  if (n > peeked_) n = peeked_;
  head_ += n;
  peeked_ -= n;
  if (head_ - credited_ >= credit_batch_) ReturnCredits();
}

void RingConsumer::ReturnCredits() {
  if (credited_ == head_) return;
  __atomic_store_n(&credit_->head, head_, __ATOMIC_RELEASE);  // release
  credited_ = head_;
}

}  // namespace wave
