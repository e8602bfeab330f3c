#include "abi/cpuset.h"

#include <algorithm>

#include "absl/strings/str_format.h"

namespace wave {
namespace {

constexpr int kWordBits = 64;

// Bits lo..hi (0..63, inclusive) of a word.
uint64_t Bits(int lo, int hi) {
  const uint64_t upto_hi = hi >= 63 ? ~0ull : (1ull << (hi + 1)) - 1;
  return upto_hi & ~((1ull << lo) - 1);
}

}  // namespace

CpuSet CpuSet::All(int num_cpus) {
  return num_cpus <= 0 ? CpuSet() : Range(0, std::min<int>(num_cpus, WAVE_MAX_CPUS) - 1);
}

CpuSet CpuSet::Range(int first, int last) {
  CpuSet s;
  first = std::max(first, 0);
  last = std::min<int>(last, WAVE_MAX_CPUS - 1);
  if (first > last) return s;
  const int fw = first / kWordBits;
  const int lw = last / kWordBits;
  s.words_.assign(static_cast<size_t>(lw) + 1, 0);
  for (int w = fw; w <= lw; ++w) {
    const int lo = w == fw ? first % kWordBits : 0;
    const int hi = w == lw ? last % kWordBits : kWordBits - 1;
    s.words_[static_cast<size_t>(w)] = Bits(lo, hi);
  }
  return s;
}

CpuSet CpuSet::Of(std::initializer_list<int> cpus) {
  CpuSet s;
  for (int c : cpus) s.Set(c);
  return s;
}

CpuSet CpuSet::FromWord(uint64_t bits, int word) {
  CpuSet s;
  s.SetWord(static_cast<size_t>(word), bits);
  return s;
}

void CpuSet::Set(int cpu) {
  if (cpu < 0 || cpu >= static_cast<int>(WAVE_MAX_CPUS)) return;
  const size_t w = static_cast<size_t>(cpu) / kWordBits;
  if (w >= words_.size()) words_.resize(w + 1, 0);
  words_[w] |= 1ull << (cpu % kWordBits);
}

void CpuSet::Clear(int cpu) {
  if (!Test(cpu)) return;
  words_[static_cast<size_t>(cpu) / kWordBits] &= ~(1ull << (cpu % kWordBits));
  Trim();
}

void CpuSet::SetWord(size_t i, uint64_t bits) {
  if (i >= WAVE_CPUS_MAX_WORDS) return;
  if (i >= words_.size()) {
    if (bits == 0) return;
    words_.resize(i + 1, 0);
  }
  words_[i] = bits;
  Trim();
}

void CpuSet::Trim() {
  while (!words_.empty() && words_.back() == 0) words_.pop_back();
}

int CpuSet::Count() const {
  int n = 0;
  for (uint64_t w : words_) n += __builtin_popcountll(w);
  return n;
}

int CpuSet::Next(int cpu) const {
  int from = cpu + 1;
  if (from < 0) from = 0;
  size_t w = static_cast<size_t>(from) / kWordBits;
  if (w >= words_.size()) return -1;
  uint64_t bits = words_[w] & ~((1ull << (from % kWordBits)) - 1);
  for (;;) {
    if (bits != 0) return static_cast<int>(w) * kWordBits + __builtin_ctzll(bits);
    if (++w >= words_.size()) return -1;
    bits = words_[w];
  }
}

int CpuSet::Last() const {
  if (words_.empty()) return -1;
  const size_t w = words_.size() - 1;
  return static_cast<int>(w) * kWordBits + 63 - __builtin_clzll(words_[w]);
}

bool CpuSet::IsRange() const {
  if (empty()) return false;
  return Count() == Last() - First() + 1;
}

CpuSet& CpuSet::operator&=(const CpuSet& o) {
  if (words_.size() > o.words_.size()) words_.resize(o.words_.size());
  for (size_t i = 0; i < words_.size(); ++i) words_[i] &= o.words_[i];
  Trim();
  return *this;
}

CpuSet& CpuSet::operator|=(const CpuSet& o) {
  if (words_.size() < o.words_.size()) words_.resize(o.words_.size(), 0);
  for (size_t i = 0; i < o.words_.size(); ++i) words_[i] |= o.words_[i];
  return *this;
}

std::string CpuSet::ToString() const {
  std::string out;
  for (int c = First(); c >= 0;) {
    int end = c;
    while (Test(end + 1)) ++end;
    if (!out.empty()) out += ',';
    out += end == c ? absl::StrFormat("%d", c) : absl::StrFormat("%d-%d", c, end);
    c = Next(end);
  }
  return out;
}

size_t EncodeTaskCpus(const CpuSet& set, int num_cpus, wave_k2a_task* m, wave_msg* chunks) {
  m->flags &= ~WAVE_TASK_CPUS_MASK;
  m->cpus = 0;
  m->cpus_word = 0;
  if (num_cpus > 0 && set == CpuSet::All(num_cpus)) {
    m->flags |= WAVE_TASK_CPUS_ALL;
    return 0;
  }
  const int first = set.First();
  const int last = set.Last();
  if (first >= 0 && first / kWordBits == last / kWordBits) {
    m->flags |= WAVE_TASK_CPUS_WORD;
    m->cpus_word = static_cast<uint16_t>(first / kWordBits);
    m->cpus = set.word(static_cast<size_t>(first / kWordBits));
    return 0;
  }
  if (set.IsRange()) {
    m->flags |= WAVE_TASK_CPUS_RANGE;
    m->cpus = static_cast<uint64_t>(first) | (static_cast<uint64_t>(last) << 32);
    return 0;
  }
  if (set.empty()) {  // no cpu at all: one empty word
    m->flags |= WAVE_TASK_CPUS_WORD;
    return 0;
  }
  // Chunks of up to WAVE_CPUS_CHUNK_WORDS words, skipping runs of zero words.
  size_t n = 0;
  size_t w = 0;
  const size_t words = set.word_count();
  while (w < words) {
    if (set.word(w) == 0) {
      ++w;
      continue;
    }
    wave_msg& c = chunks[n++];
    wave_msg_init(&c, WAVE_EV_TASK_CPUS);
    c.task_cpus.task_id = m->task_id;
    c.task_cpus.first_word = static_cast<uint16_t>(w);
    uint16_t k = 0;
    while (k < WAVE_CPUS_CHUNK_WORDS && w + k < words) {
      c.task_cpus.bits[k] = set.word(w + k);
      ++k;
    }
    c.task_cpus.words = k;
    w += k;
  }
  m->flags |= WAVE_TASK_CPUS_CHUNKS;
  m->cpus_word = static_cast<uint16_t>(n);
  return n;
}

bool CpuSetDecoder::AddChunk(const wave_k2a_task_cpus& c) {
  const bool fresh = chunks_ == 0 || c.task_id != task_id_;
  if (fresh) Reset();
  task_id_ = c.task_id;
  ++chunks_;
  if (c.words == 0 || c.words > WAVE_CPUS_CHUNK_WORDS || c.reserved != 0 ||
      c.first_word < next_word_ ||
      static_cast<uint32_t>(c.first_word) + c.words > WAVE_CPUS_MAX_WORDS) {
    broken_ = true;
    return false;
  }
  for (uint16_t k = 0; k < c.words; ++k) {
    pending_.SetWord(static_cast<size_t>(c.first_word) + k, c.bits[k]);
  }
  next_word_ = static_cast<uint32_t>(c.first_word) + c.words;
  return true;
}

void CpuSetDecoder::Reset() {
  task_id_ = 0;
  chunks_ = 0;
  next_word_ = 0;
  broken_ = false;
  pending_ = CpuSet();
}

bool CpuSetDecoder::Decode(const wave_k2a_task& m, int num_cpus, CpuSet* out) {
  const uint32_t mode = m.flags & WAVE_TASK_CPUS_MASK;
  bool ok = true;
  if (mode == WAVE_TASK_CPUS_CHUNKS) {
    ok = !broken_ && chunks_ > 0 && task_id_ == m.task_id && chunks_ == m.cpus_word;
    if (ok) *out = pending_;
    Reset();
    return ok;
  }
  // Chunks that no CHUNKS event claims were for nothing: malformed.
  if (chunks_ > 0) ok = false;
  Reset();
  switch (mode) {
    case WAVE_TASK_CPUS_ALL:
      if (m.cpus != 0 || m.cpus_word != 0) return false;
      *out = CpuSet::All(num_cpus);
      return ok;
    case WAVE_TASK_CPUS_WORD:
      if (m.cpus_word >= WAVE_CPUS_MAX_WORDS) return false;
      *out = CpuSet::FromWord(m.cpus, m.cpus_word);
      return ok;
    case WAVE_TASK_CPUS_RANGE: {
      const uint64_t first = m.cpus & 0xffffffffu;
      const uint64_t last = m.cpus >> 32;
      if (first > last || last >= WAVE_MAX_CPUS || m.cpus_word != 0) return false;
      *out = CpuSet::Range(static_cast<int>(first), static_cast<int>(last));
      return ok;
    }
  }
  return false;
}

}  // namespace wave
