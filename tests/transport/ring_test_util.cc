#include "tests/transport/ring_test_util.h"

#include <time.h>

#include <cstring>
#include <new>
#include <random>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"

namespace wave::testing {
namespace {

constexpr std::align_val_t kAlign{kCacheLine};

uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

double NowSeconds() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Mostly small bursts, sometimes one, sometimes larger than the ring.
uint32_t NextBurst(std::mt19937_64& rng, uint32_t capacity) {
  const uint64_t r = rng();
  switch (r & 7) {
    case 0:
      return 1;
    case 1:
      return 1 + static_cast<uint32_t>((r >> 8) % (2ull * capacity));
    default:
      return 1 + static_cast<uint32_t>((r >> 8) % 64);
  }
}

// Spins, then yields, then checks the clock, the peer and the abort flag. Returns an error
// message when the stream should give up, empty otherwise.
class IdleWait {
 public:
  explicit IdleWait(const StreamOptions& options)
      : options_(options), last_progress_(NowSeconds()) {}

  void Progress() { spins_ = 0; }

  std::string Idle(uint64_t moved) {
    ++spins_;
    if (spins_ % 64 != 0) return "";
    std::this_thread::yield();
    if (spins_ % 1024 != 0) return "";
    const double now = NowSeconds();
    if (moved != last_moved_) {
      last_moved_ = moved;
      last_progress_ = now;
    }
    if (Aborted()) return "aborted: the other side failed";
    if (options_.peer_alive && !options_.peer_alive()) return "the other side is gone";
    if (now - last_progress_ > options_.stall_seconds) {
      return absl::StrFormat("no progress for %.0f s after %u messages", options_.stall_seconds,
                             moved);
    }
    return "";
  }

  bool Aborted() const {
    return options_.abort != nullptr && options_.abort->load(std::memory_order_relaxed) != 0;
  }

 private:
  const StreamOptions& options_;
  uint64_t spins_ = 0;
  uint64_t last_moved_ = 0;
  double last_progress_;
};

StreamResult Fail(const StreamOptions& options, StreamResult r, std::string error) {
  if (options.abort != nullptr) options.abort->store(1, std::memory_order_relaxed);
  r.ok = false;
  r.error = std::move(error);
  return r;
}

}  // namespace

AlignedBuffer::AlignedBuffer(size_t bytes)
    : size_(bytes), data_(::operator new((bytes + kCacheLine - 1) & ~(kCacheLine - 1), kAlign)) {
  std::memset(data_, 0, (bytes + kCacheLine - 1) & ~(kCacheLine - 1));
}

AlignedBuffer::~AlignedBuffer() { ::operator delete(data_, kAlign); }

size_t TestRingBytes(uint32_t capacity) { return RingBytes(capacity) + sizeof(RingCreditLine); }

RingCreditLine* CreditAfter(void* mem, uint32_t capacity) {
  return reinterpret_cast<RingCreditLine*>(static_cast<uint8_t*>(mem) + RingBytes(capacity));
}

RingView ViewRing(void* mem, uint32_t capacity) {
  auto* base = static_cast<uint8_t*>(mem);
  const size_t vis_bytes =
      (static_cast<size_t>(capacity) * sizeof(uint64_t) + kCacheLine - 1) & ~(kCacheLine - 1);
  RingView v;
  v.header = reinterpret_cast<RingHeader*>(base);
  v.credit = CreditAfter(mem, capacity);
  v.visible_at = reinterpret_cast<uint64_t*>(base + kCacheLine);
  v.slots = reinterpret_cast<wave_msg*>(base + kCacheLine + vis_bytes);
  v.capacity = capacity;
  return v;
}

void FormatRingAt(void* mem, uint32_t capacity, uint32_t first_index) {
  if (!RingFormat(mem, RingBytes(capacity), capacity, CreditAfter(mem, capacity)).ok()) {
    std::abort();
  }
  RingView v = ViewRing(mem, capacity);
  for (uint32_t k = 0; k < capacity; ++k) {
    const uint32_t idx = first_index + k;
    v.slot(idx).hdr.stamp = idx + 1 - capacity;
  }
  v.credit->head = first_index;
}

wave_msg StreamMessage(uint64_t i) {
  wave_msg m;
  std::memset(&m, 0, sizeof(m));
  m.task.hdr.stamp = static_cast<uint32_t>(SplitMix64(~i));  // garbage on purpose
  m.task.hdr.type = static_cast<uint16_t>(WAVE_EV_TASK_NEW + i % 10);
  m.task.hdr.len = WAVE_MSG_SIZE;
  m.task.task_id = i;
  m.task.seq = SplitMix64(i);
  m.task.time_ns = SplitMix64(i + 1);
  m.task.runtime_ns = SplitMix64(i + 2);
  m.task.cpus = SplitMix64(i + 3);
  const uint64_t r = SplitMix64(i + 4);
  m.task.cpu = static_cast<int32_t>(r);
  m.task.nice = static_cast<int16_t>(r >> 32);
  m.task.cpus_word = static_cast<uint16_t>(r >> 48);
  m.task.flags = static_cast<uint32_t>(i);
  m.task.gang = static_cast<uint32_t>(i >> 32) ^ 0xa5a5a5a5u;
  return m;
}

uint64_t PayloadHash(const wave_msg& msg) {
  uint64_t h = 0;
  for (size_t off = sizeof(uint32_t); off < WAVE_MSG_SIZE; off += sizeof(uint32_t)) {
    uint32_t w;
    std::memcpy(&w, msg.raw + off, sizeof(w));
    h = SplitMix64(h ^ w);
  }
  return h;
}

StreamResult ProduceStream(RingProducer& producer, const StreamOptions& options) {
  StreamResult r;
  std::mt19937_64 rng(options.seed);
  IdleWait wait(options);
  while (r.count < options.count) {
    if (wait.Aborted()) return Fail(options, r, "aborted: the other side failed");
    uint64_t want = NextBurst(rng, producer.capacity());
    if (want > options.count - r.count) want = options.count - r.count;
    const uint32_t got = producer.Reserve(static_cast<uint32_t>(want));
    if (got == 0) {
      if (!producer.status().ok()) {
        return Fail(options, r, "producer: " + producer.status().ToString());
      }
      std::string e = wait.Idle(r.count);
      if (!e.empty()) return Fail(options, r, "producer: " + e);
      continue;
    }
    if (got > want) {
      return Fail(options, r, absl::StrFormat("Reserve(%u) returned %u", want, got));
    }
    for (uint32_t k = 0; k < got; ++k) {
      const wave_msg m = StreamMessage(r.count + k);
      producer.Write(k, m);
      r.checksum = ChecksumAdd(r.checksum, PayloadHash(m));
    }
    if (got > 1 && (rng() & 3) == 0) {
      const uint32_t first = 1 + static_cast<uint32_t>(rng() % (got - 1));
      producer.Submit(first);
      producer.Submit(got - first);
    } else {
      producer.Submit(got);
    }
    r.count += got;
    wait.Progress();
  }
  r.ok = true;
  return r;
}

StreamResult ConsumeStream(RingConsumer& consumer, const StreamOptions& options) {
  StreamResult r;
  std::mt19937_64 rng(options.seed);
  IdleWait wait(options);
  while (r.count < options.count) {
    if (wait.Aborted()) return Fail(options, r, "aborted: the other side failed");
    const uint32_t want = NextBurst(rng, consumer.capacity());
    absl::StatusOr<uint32_t> n = consumer.Peek(want);
    if (!n.ok()) return Fail(options, r, "consumer: " + n.status().ToString());
    if (*n == 0) {
      std::string e = wait.Idle(r.count);
      if (!e.empty()) return Fail(options, r, "consumer: " + e);
      continue;
    }
    if (*n > want || r.count + *n > options.count) {
      return Fail(options, r,
                  absl::StrFormat("Peek(%u) returned %u after %u of %u messages", want, *n, r.count,
                                  options.count));
    }
    for (uint32_t k = 0; k < *n; ++k) {
      wave_msg got;
      consumer.Read(k, &got);
      const uint64_t i = r.count + k;
      const wave_msg want_msg = StreamMessage(i);
      const uint32_t want_stamp = static_cast<uint32_t>(options.first_index + i + 1);
      if (got.hdr.stamp != want_stamp ||
          std::memcmp(got.raw + sizeof(uint32_t), want_msg.raw + sizeof(uint32_t),
                      WAVE_MSG_SIZE - sizeof(uint32_t)) != 0) {
        return Fail(options, r,
                    absl::StrFormat("message %u: got task_id %u stamp %u, want task_id %u stamp "
                                    "%u (or the payload differs)",
                                    i, got.task.task_id, got.hdr.stamp, i, want_stamp));
      }
      r.checksum = ChecksumAdd(r.checksum, PayloadHash(got));
    }
    consumer.Advance(*n);
    r.count += *n;
    wait.Progress();
  }
  r.ok = true;
  return r;
}

}  // namespace wave::testing
