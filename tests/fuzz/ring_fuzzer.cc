// libFuzzer target: the ring (transport/ring.h) and the link (transport/link.h) with the other
// side's memory under the fuzzer's control.
//
// Ring mode runs a producer and a consumer on one formatted ring, in this process, and lets the
// input interleave their operations with arbitrary writes into the memory the other side owns:
// slots, stamps, visible_at, the header and the credit line. Checked:
//  - nothing reads or writes outside the ring (ASan: the ring and its credit line are separate
//    heap blocks of exactly their size);
//  - a delivered slot always carries the stamp of its index;
//  - a corrupt stamp at the head is reported through status(), and the consumer stays broken;
//    a credit outside [what the producer knew, what it wrote] stops the producer the same way;
//    neither reports anything while the memory is intact;
//  - with the memory intact, delivery is exactly the messages submitted, in order, each once,
//    as soon as the link model makes it visible and no sooner; Reserve grants exactly the room
//    that the credits allow;
//  - attaching again accepts a header exactly when it is valid (magic, ABI version, slot size,
//    capacity a power of two in range that fits the memory).
// Link mode formats a link, patches its header and halves with the input, then attaches both
// ends to the first `bytes` of it (the rest poisoned for ASan): attach fails with a message, or
// succeeds with both halves and both rings inside those bytes, and the rings then work.
#include <sanitizer/asan_interface.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <utility>

#include "abi/wave_abi.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/fuzz_input.h"
#include "transport/clock.h"
#include "transport/link.h"
#include "transport/ring.h"

namespace wave::fuzz {
namespace {

// Heap memory of exactly `bytes`, 64-byte aligned, zeroed: ASan flags any access past the end.
class Block {
 public:
  explicit Block(size_t bytes) : bytes_(bytes) {
    void* p = nullptr;
    FUZZ_CHECK(posix_memalign(&p, kCacheLine, bytes) == 0);
    std::memset(p, 0, bytes);
    data_ = static_cast<uint8_t*>(p);
  }
  ~Block() {
    ASAN_UNPOISON_MEMORY_REGION(data_, bytes_);
    std::free(data_);
  }
  Block(const Block&) = delete;
  Block& operator=(const Block&) = delete;

  uint8_t* data() const { return data_; }
  size_t size() const { return bytes_; }

 private:
  size_t bytes_;
  uint8_t* data_;
};

// Overwrites `n` bytes at `dst`; true when that changed anything.
bool Poke(uint8_t* dst, const uint8_t* src, size_t n) {
  if (std::memcmp(dst, src, n) == 0) return false;
  std::memcpy(dst, src, n);
  return true;
}

// The ring layout documented in ring.h, computed here rather than taken from ring.cc.
size_t SlotsOffset(uint32_t capacity) {
  const size_t visible =
      (static_cast<size_t>(capacity) * sizeof(uint64_t) + kCacheLine - 1) / kCacheLine * kCacheLine;
  return sizeof(RingHeader) + visible;
}
size_t LayoutBytes(uint32_t capacity) {
  return SlotsOffset(capacity) + static_cast<size_t>(capacity) * WAVE_MSG_SIZE;
}
uint32_t* StampAt(uint8_t* ring, uint32_t capacity, uint32_t index) {
  uint8_t* slot = ring + SlotsOffset(capacity) + (index & (capacity - 1)) * size_t{WAVE_MSG_SIZE};
  return &reinterpret_cast<wave_msg*>(slot)->hdr.stamp;
}
bool StampIsWrittenOrEmpty(uint32_t stamp, uint32_t index, uint32_t capacity) {
  return stamp == index + 1 || stamp == index + 1 - capacity;
}

// Whether a ring header is one that Attach must accept for `bytes` of memory.
bool HeaderValid(const uint8_t* ring, size_t bytes, uint32_t* capacity) {
  if (bytes < sizeof(RingHeader)) return false;
  RingHeader h;
  std::memcpy(&h, ring, sizeof(h));
  *capacity = h.capacity;
  const uint32_t c = h.capacity;
  return h.magic == kRingMagic && h.abi_major == WAVE_ABI_MAJOR && h.slot_size == WAVE_MSG_SIZE &&
         c >= kMinRingCapacity && c <= kMaxRingCapacity && (c & (c - 1)) == 0 &&
         LayoutBytes(c) <= bytes;
}

// Message number `k` of the stream: the ring must carry every byte but the stamp unchanged.
wave_msg StreamMessage(uint64_t k, uint8_t fill) {
  wave_msg m;
  std::memset(m.raw, fill, sizeof(m.raw));
  m.hdr.stamp = 0xdeadbeef;  // the ring owns the stamp: Write must not copy this
  m.hdr.type = WAVE_EV_TASK_NEW;
  m.hdr.len = WAVE_MSG_SIZE;
  m.task.task_id = k;
  return m;
}
bool SameBody(const wave_msg& a, const wave_msg& b) {
  return std::memcmp(a.raw + sizeof(uint32_t), b.raw + sizeof(uint32_t),
                     WAVE_MSG_SIZE - sizeof(uint32_t)) == 0;
}

class RingHarness {
 public:
  explicit RingHarness(FuzzReader& in)
      : capacity_(CapacityFromSelector(in.Byte())),
        ring_(RingBytes(capacity_)),
        credit_mem_(sizeof(RingCreditLine)),
        credit_(reinterpret_cast<RingCreditLine*>(credit_mem_.data())) {
    credit_batch_ = in.Byte() % (capacity_ + 2);
    const uint8_t link_flags = in.Byte();
    const uint16_t latency = in.Take<uint16_t>();
    const uint32_t first = in.Take<uint32_t>();
    if ((link_flags & kRingLinkModel) != 0) link_ = LinkModel{&clock_, latency, 0};

    FUZZ_CHECK(LayoutBytes(capacity_) == ring_.size());
    FUZZ_CHECK(RingFormat(ring_.data(), ring_.size(), capacity_, credit_).ok());
    // Start the free-running indices at `first`: the credit line holds it and every slot the
    // empty stamp of the lap before.
    credit_->head = first;
    for (uint32_t i = first; i != first + capacity_; ++i) {
      *StampAt(ring_.data(), capacity_, i) = i + 1 - capacity_;
    }
    absl::StatusOr<RingProducer> p =
        RingProducer::Attach(ring_.data(), ring_.size(), credit_, link_);
    absl::StatusOr<RingConsumer> c =
        RingConsumer::Attach(ring_.data(), ring_.size(), credit_, link_, credit_batch_);
    FUZZ_CHECK(p.ok() && c.ok());
    producer_ = *std::move(p);
    consumer_ = *std::move(c);
    FUZZ_CHECK(producer_.tail() == first && producer_.InFlight() == 0);
    FUZZ_CHECK(consumer_.head() == first && consumer_.capacity() == capacity_);
  }

  void Run(FuzzReader& in) {
    while (!in.empty()) {
      switch (in.Byte() % kRingOpCount) {
        case kOpProduce:
          Produce(in);
          break;
        case kOpConsume:
          Consume(in);
          break;
        case kOpPoke:
          PokeMemory(in);
          break;
        case kOpStamp: {
          const uint8_t slot = in.Byte();
          const uint32_t value = in.Take<uint32_t>();
          uint32_t* stamp = StampAt(ring_.data(), consumer_.capacity(), slot);
          if (*stamp != value) intact_ = false;
          *stamp = value;
          break;
        }
        case kOpCredit: {
          const uint32_t value = in.Take<uint32_t>();
          if (credit_->head != value) intact_ = false;
          credit_->head = value;
          break;
        }
        case kOpReturnCredits:
          consumer_.ReturnCredits();
          if (intact_) FUZZ_CHECK(credit_->head == consumer_.head());
          break;
        case kOpTick:
          clock_.Advance(in.Take<uint16_t>());
          break;
        case kOpReattach:
          Reattach(in.Byte());
          break;
        default:
          break;
      }
      FUZZ_CHECK(producer_.InFlight() <= producer_.capacity());
    }
  }

 private:
  struct Expected {
    wave_msg msg;
    uint64_t visible_at;
  };

  void Produce(FuzzReader& in) {
    const uint32_t n = in.Byte() % (capacity_ + 2);
    const uint8_t submit_raw = in.Byte();
    const bool bulk = (in.Byte() & kProduceBulk) != 0;
    const uint8_t fill = in.Byte();

    const bool ok_before = producer_.status().ok();
    const uint32_t tail = producer_.tail();
    const uint32_t in_flight = producer_.InFlight();
    const uint32_t known_head = tail - in_flight;
    const uint32_t credit = credit_->head;
    const uint32_t cap = producer_.capacity();

    uint32_t got = 0;
    if (bulk) {
      got = producer_.ReserveBulk(n) ? n : 0;
    } else {
      got = producer_.Reserve(n);
    }
    FUZZ_CHECK(got <= n);
    if (!ok_before) {
      FUZZ_CHECK(got == 0 && !producer_.status().ok());
    } else if (cap - in_flight >= n) {
      // Room by the shadow copy alone: granted without looking at the credit line.
      FUZZ_CHECK(got == n && producer_.status().ok() && producer_.InFlight() == in_flight);
    } else if (credit - known_head > tail - known_head) {
      // Out of range: a consumer that credits slots never written, or takes back credits.
      FUZZ_CHECK(got == 0 && absl::IsDataLoss(producer_.status()));
    } else {
      FUZZ_CHECK(producer_.status().ok() && producer_.InFlight() == tail - credit);
      const uint32_t room = cap - (tail - credit);
      const uint32_t want = n < room ? n : room;
      FUZZ_CHECK(got == (bulk ? (want == n ? n : 0) : want));
    }
    if (intact_) FUZZ_CHECK(producer_.status().ok());

    for (uint32_t i = 0; i < got; ++i) producer_.Write(i, StreamMessage(next_ + i, fill));
    const uint32_t submit = submit_raw % (n + 2);
    const uint32_t published = submit < got ? submit : got;
    const uint64_t visible_at = clock_.Ticks() + (link_.clock != nullptr ? link_.latency_ns : 0);
    producer_.Submit(submit);
    FUZZ_CHECK(producer_.tail() == tail + published);
    for (uint32_t i = 0; i < published; ++i) {
      expected_.push_back({StreamMessage(next_ + i, fill), visible_at});
    }
    next_ += published;
  }

  void Consume(FuzzReader& in) {
    const uint32_t max = in.Byte() % (capacity_ + 2);
    const uint8_t advance_raw = in.Byte();

    const bool ok_before = consumer_.status().ok();
    const uint32_t head = consumer_.head();
    const uint32_t cap = consumer_.capacity();
    const uint32_t head_stamp = *StampAt(ring_.data(), cap, head);
    const uint32_t credit_before = credit_->head;

    absl::StatusOr<uint32_t> peeked = consumer_.Peek(max);
    if (!ok_before) {
      FUZZ_CHECK(!peeked.ok() && !consumer_.status().ok());  // broken stays broken
      return;
    }
    if (max > 0 && !StampIsWrittenOrEmpty(head_stamp, head, cap)) {
      FUZZ_CHECK(!peeked.ok() && absl::IsDataLoss(peeked.status()));
      FUZZ_CHECK(consumer_.status() == peeked.status());
      FUZZ_CHECK(!intact_);
      return;
    }
    FUZZ_CHECK(peeked.ok() && consumer_.status().ok());
    const uint32_t n = *peeked;
    FUZZ_CHECK(n <= max && n <= cap);

    const uint64_t now = clock_.Ticks();
    for (uint32_t i = 0; i < n; ++i) {
      wave_msg m;
      consumer_.Read(i, &m);
      FUZZ_CHECK(m.hdr.stamp == head + i + 1);  // never a slot whose stamp is wrong
      if (intact_) {
        FUZZ_CHECK(i < expected_.size());
        FUZZ_CHECK(SameBody(m, expected_[i].msg));
        FUZZ_CHECK(link_.clock == nullptr || expected_[i].visible_at <= now);
      }
    }
    if (intact_) {
      // Everything submitted and visible is delivered, up to `max`.
      uint32_t ready = 0;
      while (ready < expected_.size() && ready < max &&
             (link_.clock == nullptr || expected_[ready].visible_at <= now)) {
        ++ready;
      }
      FUZZ_CHECK(n == ready);
    }

    const uint32_t advance = advance_raw % (n + 2);
    const uint32_t taken = advance < n ? advance : n;
    consumer_.Advance(advance);
    FUZZ_CHECK(consumer_.head() == head + taken);
    // The consumer only ever writes its own head into the credit line.
    FUZZ_CHECK(credit_->head == credit_before || credit_->head == consumer_.head());
    if (intact_) {
      for (uint32_t i = 0; i < taken; ++i) expected_.pop_front();
    }
  }

  void PokeMemory(FuzzReader& in) {
    const size_t total = ring_.size() + sizeof(RingCreditLine);
    const size_t off = in.Take<uint16_t>() % total;
    size_t len = in.Byte() % 64 + 1;
    uint8_t bytes[64];
    in.Bytes(bytes, len);
    // The ring, then the credit line: two blocks, poked as one address space.
    size_t done = 0;
    if (off < ring_.size()) {
      const size_t n = len < ring_.size() - off ? len : ring_.size() - off;
      if (Poke(ring_.data() + off, bytes, n)) intact_ = false;
      done = n;
    }
    if (done < len) {
      const size_t coff = off + done - ring_.size();
      size_t n = len - done;
      if (n > sizeof(RingCreditLine) - coff) n = sizeof(RingCreditLine) - coff;
      if (Poke(credit_mem_.data() + coff, bytes + done, n)) intact_ = false;
    }
  }

  void Reattach(uint8_t which) {
    uint32_t header_capacity = 0;
    const size_t short_by = size_t{8} * (which >> kReattachShortShift);
    if (short_by > 0) {
      // Attach to less memory than the ring has: accepted exactly when the header fits it.
      const size_t bytes = ring_.size() - short_by;
      const bool fits = HeaderValid(ring_.data(), bytes, &header_capacity);
      if ((which & kReattachConsumer) != 0) {
        FUZZ_CHECK(RingConsumer::Attach(ring_.data(), bytes, credit_, link_).ok() == fits);
      }
      if ((which & kReattachProducer) != 0) {
        FUZZ_CHECK(RingProducer::Attach(ring_.data(), bytes, credit_, link_).ok() == fits);
      }
      return;
    }
    const bool valid = HeaderValid(ring_.data(), ring_.size(), &header_capacity);
    if ((which & kReattachConsumer) != 0) {
      consumer_.ReturnCredits();  // a clean restart: the new consumer starts at the old head
      absl::StatusOr<RingConsumer> c =
          RingConsumer::Attach(ring_.data(), ring_.size(), credit_, link_, credit_batch_);
      FUZZ_CHECK(c.ok() == valid);
      if (c.ok()) {
        FUZZ_CHECK(c->capacity() == header_capacity && c->head() == credit_->head);
        FUZZ_CHECK(c->status().ok());
        if (intact_) FUZZ_CHECK(c->head() == consumer_.head());
        consumer_ = *std::move(c);
      } else {
        FUZZ_CHECK(!c.status().message().empty());
      }
    }
    if ((which & kReattachProducer) != 0) {
      absl::StatusOr<RingProducer> p =
          RingProducer::Attach(ring_.data(), ring_.size(), credit_, link_);
      FUZZ_CHECK(p.ok() == valid);
      if (p.ok()) {
        FUZZ_CHECK(p->capacity() == header_capacity && p->tail() == credit_->head);
        FUZZ_CHECK(p->InFlight() == 0 && p->status().ok());
        // Slots in flight past the credit will be written again: the stream no longer holds.
        if (p->tail() != producer_.tail()) intact_ = false;
        producer_ = *std::move(p);
      } else {
        FUZZ_CHECK(!p.status().message().empty());
      }
    }
  }

  uint32_t capacity_;
  Block ring_;
  Block credit_mem_;
  RingCreditLine* credit_;
  uint32_t credit_batch_ = 0;
  ManualClock clock_;
  LinkModel link_;
  RingProducer producer_;
  RingConsumer consumer_;
  // The memory holds only what the producer and consumer wrote: the stream must be exact.
  bool intact_ = true;
  std::deque<Expected> expected_;  // submitted, not yet consumed (while intact_)
  uint64_t next_ = 0;              // number of the next message produced
};

// A half of a link, as a formatted link region declares it.
bool HalfInside(uint64_t off, uint64_t len, size_t bytes) {
  return off >= sizeof(wave_link_hdr) && off % kLinkPage == 0 && len >= kCacheLine &&
         len <= bytes && off <= bytes - len;
}

// Pushes one message from `producer` and checks what `consumer` then sees.
void RoundTrip(RingProducer& producer, RingConsumer& consumer, uint64_t k, bool intact) {
  const wave_msg sent = StreamMessage(k, 0x5a);
  const uint32_t tail = producer.tail();
  const bool pushed = producer.Push(sent);
  if (intact) FUZZ_CHECK(pushed);
  const uint32_t head = consumer.head();
  absl::StatusOr<uint32_t> n = consumer.Peek(consumer.capacity());
  if (intact) FUZZ_CHECK(n.ok() && *n == 1 && head == tail);
  if (!n.ok()) {
    FUZZ_CHECK(!consumer.status().ok());
    return;
  }
  FUZZ_CHECK(*n <= consumer.capacity());
  for (uint32_t i = 0; i < *n; ++i) {
    wave_msg m;
    consumer.Read(i, &m);
    FUZZ_CHECK(m.hdr.stamp == head + i + 1);
    if (intact) FUZZ_CHECK(SameBody(m, sent));
  }
  consumer.Advance(*n);
}

void RunLink(FuzzReader& in) {
  LinkConfig config;
  ChannelConfig& sched = config.sched();
  sched.to_agent_capacity = CapacityFromSelector(in.Byte());
  sched.to_host_capacity = CapacityFromSelector(in.Byte());
  const uint8_t channels = in.Byte();
  sched.lanes = channels & kLinkLanes;
  sched.lane_depth = sched.lanes == 0 ? 0 : 4;
  if ((channels & kLinkMemChannel) != 0) {
    config.channels[WAVE_SUBSYS_MEM] = {.to_agent_capacity = 16, .to_host_capacity = 8};
  }
  const uint16_t shrink = in.Take<uint16_t>();
  const size_t total = LinkBytes(config);
  Block region(total);
  FUZZ_CHECK(LinkFormat(region.data(), total, config).ok());

  bool intact = true;
  while (!in.empty()) {
    const uint8_t where = in.Byte();
    const uint16_t off_raw = in.Take<uint16_t>();
    const size_t off = (where & kPatchAnywhere) != 0 ? off_raw % total : off_raw % 64;
    size_t len = in.Byte() % 64 + 1;
    if (len > total - off) len = total - off;
    uint8_t bytes[64];
    in.Bytes(bytes, len);
    if (Poke(region.data() + off, bytes, len)) intact = false;
  }
  const size_t bytes = (shrink & kShrink) != 0 ? total - (shrink & ~kShrink) % (total + 1) : total;
  if (bytes != total) intact = false;
  ASAN_POISON_MEMORY_REGION(region.data() + bytes, total - bytes);

  absl::StatusOr<LinkLayout> layout = ReadLinkLayout(region.data(), bytes);
  absl::StatusOr<HostLink> host = AttachHostLink(region.data(), bytes);
  absl::StatusOr<AgentLink> agent = AttachAgentLink(region.data(), bytes);
  if (intact) FUZZ_CHECK(layout.ok() && host.ok() && agent.ok());
  if (!layout.ok()) {
    FUZZ_CHECK(!host.ok() && !agent.ok() && !layout.status().message().empty());
  }
  if (!host.ok()) FUZZ_CHECK(!host.status().message().empty());
  if (!agent.ok()) FUZZ_CHECK(!agent.status().message().empty());
  if (!layout.ok()) return;
  if (intact) {  // what was formatted is what both ends see
    FUZZ_CHECK(host->ends[WAVE_SUBSYS_SCHED].has_value() && agent->ends[WAVE_SUBSYS_SCHED]);
    FUZZ_CHECK(host->ends[WAVE_SUBSYS_SCHED]->lanes.size() == sched.lanes);
    FUZZ_CHECK(host->ends[WAVE_SUBSYS_MEM].has_value() == ((channels & kLinkMemChannel) != 0));
  }

  // A layout accepted for `bytes` keeps both halves inside them, apart.
  const LinkLayout& l = *layout;
  FUZZ_CHECK(l.total_bytes <= bytes);
  FUZZ_CHECK(HalfInside(l.host_offset, l.host_bytes, l.total_bytes));
  FUZZ_CHECK(HalfInside(l.agent_offset, l.agent_bytes, l.total_bytes));
  FUZZ_CHECK(l.host_offset + l.host_bytes <= l.agent_offset ||
             l.agent_offset + l.agent_bytes <= l.host_offset);
  // Each ring fits its half, leaving room in the half for the other ring's credits.
  if (host.ok()) {
    for (const std::optional<HostEnd>& e : host->ends) {
      if (!e) continue;
      FUZZ_CHECK(LayoutBytes(e->commands.capacity()) + kCacheLine <= l.host_bytes);
      FUZZ_CHECK(LayoutBytes(e->events.capacity()) + kCacheLine <= l.agent_bytes);
    }
  }
  if (agent.ok()) {
    for (const std::optional<AgentEnd>& e : agent->ends) {
      if (!e) continue;
      FUZZ_CHECK(LayoutBytes(e->commands.capacity()) + kCacheLine <= l.host_bytes);
      FUZZ_CHECK(LayoutBytes(e->events.capacity()) + kCacheLine <= l.agent_bytes);
    }
  }
  if (!host.ok() || !agent.ok()) return;
  uint64_t k = 0;
  for (uint32_t s = 0; s < WAVE_SUBSYS_COUNT; ++s) {
    std::optional<HostEnd>& h = host->ends[s];
    std::optional<AgentEnd>& a = agent->ends[s];
    FUZZ_CHECK(h.has_value() == a.has_value());  // both ends read one table
    if (!h) continue;
    FUZZ_CHECK(h->lanes.size() == a->lanes.size());
    RoundTrip(h->events, a->events, ++k, intact);
    RoundTrip(a->commands, h->commands, ++k, intact);
    for (size_t i = 0; i < h->lanes.size(); ++i) RoundTrip(a->lanes[i], h->lanes[i], ++k, intact);
  }
}

void RunOne(const uint8_t* data, size_t size) {
  FuzzReader in(data, size);
  if ((in.Byte() & kModeLink) != 0) {
    RunLink(in);
    return;
  }
  RingHarness ring(in);
  ring.Run(in);
}

}  // namespace
}  // namespace wave::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  wave::fuzz::RunOne(data, size);
  return 0;
}
