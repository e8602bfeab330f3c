// A set of cpu ids, and its encoding on the link (wave_sched.h, WAVE_TASK_CPUS_*). Both halves
// use it: the host encodes a task's allowed cpus into its TASK_NEW / TASK_AFFINITY (and the
// TASK_CPUS chunks before it), the agent decodes them; the host validates commits against it.
//
//   CpuSet s = CpuSet::Range(1, 255);
//   s.Test(7);                                         // true
//   for (int c = s.First(); c >= 0; c = s.Next(c)) ...  // in order
//
// Sizes grow with the highest cpu in the set, not with a fixed maximum: one heap block of
// highest/64 + 1 words (none for an empty set).
#ifndef LIBWAVE_ABI_CPUSET_H_
#define LIBWAVE_ABI_CPUSET_H_

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "abi/wave_abi.h"

namespace wave {

class CpuSet {
 public:
  CpuSet() = default;
  // Cpus 0..num_cpus-1 (empty when num_cpus <= 0).
  static CpuSet All(int num_cpus);
  // Cpus first..last, inclusive (empty when first > last). REQUIRES: 0 <= first, last <
  // WAVE_MAX_CPUS.
  static CpuSet Range(int first, int last);
  static CpuSet Of(std::initializer_list<int> cpus);
  // Word `word` of a set: bit i is cpu 64 * word + i.
  static CpuSet FromWord(uint64_t bits, int word = 0);

  bool Test(int cpu) const {
    if (cpu < 0) return false;
    const size_t w = static_cast<size_t>(cpu) >> 6;
    return w < words_.size() && ((words_[w] >> (cpu & 63)) & 1) != 0;
  }
  // REQUIRES: 0 <= cpu < WAVE_MAX_CPUS.
  void Set(int cpu);
  void Clear(int cpu);
  bool empty() const { return words_.empty(); }
  int Count() const;
  // The smallest cpu in the set, or -1; the next one after `cpu`, or -1.
  int First() const { return Next(-1); }
  int Next(int cpu) const;
  // The largest cpu in the set, or -1.
  int Last() const;
  // True when the set is first..last with nothing missing (and not empty).
  bool IsRange() const;

  // Words 0..word_count()-1; the last one is never 0.
  size_t word_count() const { return words_.size(); }
  uint64_t word(size_t i) const { return i < words_.size() ? words_[i] : 0; }
  // Sets word `i` (0 <= i < WAVE_CPUS_MAX_WORDS) to `bits`.
  void SetWord(size_t i, uint64_t bits);

  CpuSet& operator&=(const CpuSet& o);
  CpuSet& operator|=(const CpuSet& o);
  friend CpuSet operator&(CpuSet a, const CpuSet& b) { return a &= b; }
  friend CpuSet operator|(CpuSet a, const CpuSet& b) { return a |= b; }
  friend bool operator==(const CpuSet& a, const CpuSet& b) { return a.words_ == b.words_; }
  friend bool operator!=(const CpuSet& a, const CpuSet& b) { return !(a == b); }

  // "0-3,8,10-11"; "" when empty.
  std::string ToString() const;

 private:
  void Trim();
  std::vector<uint64_t> words_;
};

// The most TASK_CPUS chunks one set takes (its words are WAVE_CPUS_MAX_WORDS at most).
inline constexpr size_t kMaxCpuChunks =
    (WAVE_CPUS_MAX_WORDS + WAVE_CPUS_CHUNK_WORDS - 1) / WAVE_CPUS_CHUNK_WORDS;

// Host side: writes `set` into task event `m` (its cpus, cpus_word and the WAVE_TASK_CPUS_* bits
// of its flags; the task id must be set already). A set of every cpu 0..num_cpus-1 is ALL, a
// contiguous one RANGE, one inside a single word WORD; any other needs the TASK_CPUS messages
// written to `chunks` (kMaxCpuChunks of room), which go on the link just before `m`. Returns
// how many chunks there are.
size_t EncodeTaskCpus(const CpuSet& set, int num_cpus, wave_k2a_task* m, wave_msg* chunks);

// Agent side: gathers TASK_CPUS chunks and decodes the set of the task event that follows.
class CpuSetDecoder {
 public:
  // False when the chunk is malformed (a bad word range, reserved bits, out of order).
  bool AddChunk(const wave_k2a_task_cpus& chunk);
  // The allowed cpus of task event `m` (NEW or AFFINITY), which may be fewer than num_cpus;
  // ALL gives 0..num_cpus-1. False when malformed: an unknown encoding, a range or word beyond
  // WAVE_MAX_CPUS, CHUNKS without exactly its chunks, for its task, just before it. Pending
  // chunks are consumed either way.
  bool Decode(const wave_k2a_task& m, int num_cpus, CpuSet* out);
  // Drops chunks that no event used (a resync).
  void Reset();

 private:
  uint64_t task_id_ = 0;
  uint32_t chunks_ = 0;
  uint32_t next_word_ = 0;  // chunks come in increasing word order
  bool broken_ = false;
  CpuSet pending_;
};

}  // namespace wave

#endif  // LIBWAVE_ABI_CPUSET_H_
