// CpuLoads: cpus by the length of a per-cpu queue, for policies that keep one (fifo-percpu), so
// that "the shortest queue this task may join" and "the longest queue to steal from" cost a few
// bitmap words, not a visit to every cpu.
//
//   CpuLoads loads;
//   loads.Resize(cpus.size());
//   loads.Set(cpu, q[cpu].size(), /*waiting=*/!q[cpu].waiting.empty());  // after each change
//   int c = loads.Shortest(task.cpus(), cpus.available_set());
//   for (int c = loads.Longest(); c >= 0; c = loads.NextLongest(c)) ...
//
// A cpu's load is its queue's length, plus one if the cpu is not available (it runs something,
// or a commit to it is in flight): availability is read from the CpuTable's set when asked, so
// the owner reports only its queue lengths. The policy owns the truth (its queues); CpuLoads is
// what it last reported, and a policy that reports every change gets exact answers. Memory: one
// bitmap per queue length seen at once (a run with longer queues holds more).
#ifndef LIBWAVE_LIB_SCHED_CPU_LOADS_H_
#define LIBWAVE_LIB_SCHED_CPU_LOADS_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "abi/cpuset.h"

namespace wave {

class CpuLoads {
 public:
  // Cpus 0..n-1, each with an empty queue. Shrinking forgets the cpus past n.
  void Resize(int n);
  int size() const { return static_cast<int>(length_.size()); }
  // Reports cpu's queue length, and whether part of it waits (is not staged).
  void Set(int cpu, size_t length, bool waiting);
  // All queues empty.
  void Clear();

  size_t length(int cpu) const { return length_[static_cast<size_t>(cpu)]; }
  // The cpu of smallest load (length + not available) among `allowed`, the lowest id among
  // equals; -1 if `allowed` holds none of the cpus.
  int Shortest(const CpuSet& allowed, const CpuSet& available) const;
  // Cpus with a nonempty queue, longest first, lowest id first among equals: Longest() is the
  // first, NextLongest(c) the one after c; -1 after the last.
  int Longest() const;
  int NextLongest(int cpu) const;
  // Cpus whose queue has tasks waiting (not staged).
  const CpuSet& waiting() const { return waiting_; }
  size_t longest_length() const { return max_; }

 private:
  // Levels Shortest() tries from the shortest length before it visits the allowed cpus one by
  // one (a task allowed only on cpus with long queues).
  static constexpr size_t kLevelsTried = 8;
  std::vector<size_t> length_;     // per cpu, as last reported
  std::vector<CpuSet> by_length_;  // by_length_[n]: the cpus whose queue holds n
  CpuSet waiting_;
  size_t min_ = 0;  // the shortest and longest lengths held by some cpu
  size_t max_ = 0;
};

}  // namespace wave

#endif  // LIBWAVE_LIB_SCHED_CPU_LOADS_H_
