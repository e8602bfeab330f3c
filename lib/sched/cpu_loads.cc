#include "lib/sched/cpu_loads.h"

namespace wave {

void CpuLoads::Resize(int n) {
  const size_t want = n > 0 ? static_cast<size_t>(n) : 0;
  while (length_.size() > want) {
    const int cpu = static_cast<int>(length_.size()) - 1;
    Set(cpu, 0, false);
    by_length_[0].Clear(cpu);
    length_.pop_back();
  }
  if (by_length_.empty()) by_length_.resize(1);
  while (length_.size() < want) {
    by_length_[0].Set(static_cast<int>(length_.size()));
    length_.push_back(0);
  }
  if (length_.empty()) {
    min_ = max_ = 0;
  }
}

void CpuLoads::Clear() {
  const int n = size();
  length_.clear();
  by_length_.clear();
  waiting_ = CpuSet();
  min_ = max_ = 0;
  Resize(n);
}

void CpuLoads::Set(int cpu, size_t length, bool waiting) {
  if (cpu < 0 || cpu >= size()) return;
  if (waiting) {
    waiting_.Set(cpu);
  } else {
    waiting_.Clear(cpu);
  }
  size_t& was = length_[static_cast<size_t>(cpu)];
  if (was == length) return;
  by_length_[was].Clear(cpu);
  if (by_length_.size() <= length) by_length_.resize(length + 1);
  by_length_[length].Set(cpu);
  const size_t old = was;
  was = length;
  if (length > max_) max_ = length;
  if (length < min_) min_ = length;
  if (old == max_ && by_length_[old].empty()) {
    while (max_ > 0 && by_length_[max_].empty()) --max_;
  }
  if (old == min_ && by_length_[old].empty()) {
    while (min_ < max_ && by_length_[min_].empty()) ++min_;
  }
}

int CpuLoads::Shortest(const CpuSet& allowed, const CpuSet& available) const {
  if (length_.empty()) return -1;
  const size_t words = (length_.size() + 63) / 64;
  // Load L is held by the available cpus of length L and the busy ones of length L-1.
  const size_t last = max_ + 1;
  for (size_t load = min_; load <= last && load < min_ + kLevelsTried; ++load) {
    for (size_t w = 0; w < words; ++w) {
      const uint64_t avail = available.word(w);
      uint64_t bits = load < by_length_.size() ? by_length_[load].word(w) & avail : 0;
      if (load > 0 && load - 1 < by_length_.size()) bits |= by_length_[load - 1].word(w) & ~avail;
      bits &= allowed.word(w);
      if (bits != 0) return static_cast<int>(w * 64) + __builtin_ctzll(bits);
    }
  }
  // Allowed only where queues are long: its cpus one by one.
  int best = -1;
  size_t best_load = 0;
  for (int c = allowed.First(); c >= 0 && c < size(); c = allowed.Next(c)) {
    const size_t load = length_[static_cast<size_t>(c)] + (available.Test(c) ? 0 : 1);
    if (best < 0 || load < best_load) {
      best = c;
      best_load = load;
    }
  }
  return best;
}

int CpuLoads::Longest() const { return max_ == 0 ? -1 : by_length_[max_].First(); }

int CpuLoads::NextLongest(int cpu) const {
  if (cpu < 0 || cpu >= size()) return -1;
  size_t len = length_[static_cast<size_t>(cpu)];
  if (len == 0) return -1;
  if (int next = by_length_[len].Next(cpu); next >= 0) return next;
  for (--len; len > 0; --len) {
    if (int next = by_length_[len].First(); next >= 0) return next;
  }
  return -1;
}

}  // namespace wave
