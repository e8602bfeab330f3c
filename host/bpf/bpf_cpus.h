// The cpu-count shim of both BPF mechanisms, in user space: what their programs need to know of
// the machine's cpus (bpf/wave_cpus.bpf.h), computed once here for any number of cpus up to
// WAVE_MAX_CPUS, and the value the programs keep for a task's allowed cpus (bpf/cpus.h), so user
// space compares like with like. No libbpf: testable with any topology.
//
//   absl::StatusOr<BpfCpus> cpus = BpfCpus::Make(PossibleCpus(), managed);
//   cpus->SetRodata(skel->rodata);           // before load
//   cpus->Value(CpuSet::Of({3}));            // what a task pinned to cpu 3 reads as
#ifndef LIBWAVE_HOST_BPF_BPF_CPUS_H_
#define LIBWAVE_HOST_BPF_BPF_CPUS_H_

#include <sched.h>
#include <sys/types.h>

#include <array>
#include <cstdint>
#include <optional>

#include "abi/cpuset.h"
#include "abi/wave_abi.h"
#include "absl/status/statusor.h"

namespace wave {

class BpfCpus {
 public:
  // For a machine of `possible` cpus (ids 0..possible-1: the kernel's nr_cpu_ids) of which the
  // policy manages `managed` (cpus beyond `possible` are refused, so is an empty set).
  static absl::StatusOr<BpfCpus> Make(int possible, const CpuSet& managed);

  int possible() const { return possible_; }
  uint32_t words() const { return words_; }
  const CpuSet& managed() const { return managed_; }
  bool exact() const { return words_ == 1; }  // the kept value is the mask itself

  // The value the programs keep for a task allowed on `allowed` (AND the managed cpus).
  uint64_t Value(const CpuSet& allowed) const;

  // Sets wave_cpu_words and wave_managed_words of a skeleton's rodata (any program that includes
  // bpf/wave_cpus.bpf.h).
  template <typename Rodata>
  void SetRodata(Rodata* r) const {
    r->wave_cpu_words = words_;
    for (uint32_t w = 0; w < WAVE_CPUS_MAX_WORDS; ++w) {
      r->wave_managed_words[w] = managed_.word(w);
    }
  }

 private:
  int possible_ = 0;
  uint32_t words_ = 1;
  CpuSet managed_;
};

// The kernel's possible cpus (nr_cpu_ids), from /sys/devices/system/cpu/possible.
absl::StatusOr<int> PossibleCpus();
// The cpus thread `tid` may run on (0: this thread), of any number, or nullopt (it is gone).
std::optional<CpuSet> ThreadCpus(pid_t tid);
// A cpu_set_t (glibc's, 1024 cpus) as a CpuSet, and back (cpus from 1024 on are dropped).
CpuSet CpuSetOf(const cpu_set_t& set);
cpu_set_t CpuSetTOf(const CpuSet& set);

}  // namespace wave

#endif  // LIBWAVE_HOST_BPF_BPF_CPUS_H_
