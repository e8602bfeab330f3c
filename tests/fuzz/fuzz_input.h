// The byte formats of the fuzz inputs, in one place: FuzzReader takes values off the front of a
// fuzzer's input, FuzzWriter appends them in the same order (the seed generator uses it), so a
// seed and the fuzzer that reads it cannot drift apart. Values are little-endian, packed.
//
// Past the end of the input a reader yields zeros: every input decodes to something, and a
// mutation that truncates an input still reaches the code under test.
#ifndef LIBWAVE_TESTS_FUZZ_FUZZ_INPUT_H_
#define LIBWAVE_TESTS_FUZZ_FUZZ_INPUT_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

namespace wave::fuzz {

class FuzzReader {
 public:
  FuzzReader(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  size_t remaining() const { return size_ - pos_; }
  bool empty() const { return pos_ == size_; }

  // Copies `n` bytes to `out`, zero-padded past the end of the input.
  void Bytes(void* out, size_t n) {
    const size_t take = n < remaining() ? n : remaining();
    if (take > 0) std::memcpy(out, data_ + pos_, take);
    if (take < n) std::memset(static_cast<uint8_t*>(out) + take, 0, n - take);
    pos_ += take;
  }

  template <typename T>
  T Take() {
    static_assert(std::is_trivially_copyable_v<T>);
    T v;
    Bytes(&v, sizeof(v));
    return v;
  }
  uint8_t Byte() { return Take<uint8_t>(); }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

class FuzzWriter {
 public:
  void Bytes(const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    bytes_.insert(bytes_.end(), b, b + n);
  }
  template <typename T>
  void Put(T v) {
    static_assert(std::is_trivially_copyable_v<T>);
    Bytes(&v, sizeof(v));
  }
  void Byte(uint8_t b) { Put(b); }

  const std::vector<uint8_t>& bytes() const { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
};

// ---- commit_fuzzer ----
//
//   u8  num_cpus                 the host's cpu count, 0..255 (past one 64-bit word on purpose)
//   u8  num_tasks                tasks the host knows, taken modulo kMaxTasks + 1
//   u64 managed_mask, busy_mask  cpu i is managed / busy iff bit i % 64 is set
//   num_tasks x { u64 id, u64 seq, u64 cpu_mask (cpu i allowed iff bit i % 64), u8 state }
//   records until the input ends:
//     u8 control
//       bit 0     end of batch after this record (CommitAssembler::EndOfBatch)
//       bit 1     replay: the next byte picks an already enacted commit to feed again, and no
//                 commit bytes follow; otherwise 64 raw commit bytes follow
//       bits 2-3  a host event before the commit is fed: kEvNone, kEvWake (off cpu, runnable,
//                 seq + 1), kEvBlock (off cpu, blocked, seq + 1), kEvCpuToggle (busy flips)
//       bits 4-7  the event's target: task index modulo num_tasks, or cpu index
inline constexpr int kMaxTasks = 8;
inline constexpr uint8_t kTaskRunnable = 1u << 0;
inline constexpr uint8_t kTaskOnCpu = 1u << 1;
inline constexpr uint8_t kCtlEndOfBatch = 1u << 0;
inline constexpr uint8_t kCtlReplay = 1u << 1;
inline constexpr int kCtlEventShift = 2;
inline constexpr int kCtlTargetShift = 4;
enum CommitFuzzEvent : uint8_t { kEvNone = 0, kEvWake = 1, kEvBlock = 2, kEvCpuToggle = 3 };

// ---- ring_fuzzer ----
//
//   u8 mode: bit 0 clear: ring mode; set: link mode.
//
// Ring mode: one ring, its producer and its consumer in this process.
//   u8  capacity selector        capacity = 2 << (selector % 6): 2..64
//   u8  credit batch             taken modulo capacity + 2 (0: the default; capacity + 1: clamped)
//   u8  link flags               bit 0: link model on a ManualClock
//   u16 latency_ns
//   u32 first index              where the free-running indices start (crosses 2^32 quickly)
//   ops until the input ends, each a u8 op (op % kRingOpCount) and its operands:
//     kOpProduce       u8 n, u8 submit, u8 flags (bit 0: bulk), u8 fill: reserve n, write,
//                      submit `submit` of them
//     kOpConsume       u8 max, u8 advance: peek up to max, read and check each, advance
//     kOpPoke          u16 offset, u8 len, len bytes: overwrite ring memory or the credit line
//                      (offset modulo their total size: header, visible_at, slots, credit line)
//     kOpStamp         u8 slot, u32 value: overwrite one slot's stamp
//     kOpCredit        u32 value: overwrite the credit line's head
//     kOpReturnCredits
//     kOpTick          u16 ns: advance the link clock
//     kOpReattach      u8 which (bit 0: consumer, bit 1: producer; bits 2-7: short): attach
//                      again; with short > 0, only ask Attach about the first RingBytes -
//                      8 * short bytes (accepted exactly when the header fits them)
//
// Link mode: a formatted link region, patched, then attached by both ends.
//   u8  event capacity selector, u8 commit capacity selector (2 << (s % 6)) of scheduling's
//   u8  channels                 bits 0-2: scheduling lanes (4 slots each); bit 3: a memory
//                                channel (16/8 slots) too
//   u16 shrink                   the region is passed as LinkBytes - shrink % (LinkBytes + 1)
//                                bytes when bit 15 is set, else whole
//   patches until the input ends: u8 where (bit 0 clear: offset = u8 modulo the header's 64
//   bytes; set: offset = u16 modulo the region), u8 len (len % 64 + 1), len bytes.
inline constexpr uint8_t kLinkLanes = 0x07;
inline constexpr uint8_t kLinkMemChannel = 1u << 3;
enum RingFuzzOp : uint8_t {
  kOpProduce = 0,
  kOpConsume,
  kOpPoke,
  kOpStamp,
  kOpCredit,
  kOpReturnCredits,
  kOpTick,
  kOpReattach,
  kRingOpCount
};
inline constexpr uint8_t kModeLink = 1u << 0;
inline constexpr uint8_t kRingLinkModel = 1u << 0;
inline constexpr uint8_t kProduceBulk = 1u << 0;
inline constexpr uint8_t kReattachConsumer = 1u << 0;
inline constexpr uint8_t kReattachProducer = 1u << 1;
inline constexpr int kReattachShortShift = 2;
inline constexpr uint8_t kPatchAnywhere = 1u << 0;
inline constexpr uint16_t kShrink = 1u << 15;

inline uint32_t CapacityFromSelector(uint8_t s) { return 2u << (s % 6); }

}  // namespace wave::fuzz

#endif  // LIBWAVE_TESTS_FUZZ_FUZZ_INPUT_H_
