// Commit validation, shared by every host mechanism (sim, trace, scx). The host never trusts the
// agent: a commit is checked field by field against the host's own state before it is enacted.
#ifndef LIBWAVE_HOST_MECH_VALIDATE_H_
#define LIBWAVE_HOST_MECH_VALIDATE_H_

#include <cstdint>

#include "lib/abi/wave_abi.h"

namespace wave {

// What the host knows of the task a commit names.
struct HostTaskView {
  uint64_t seq = 0;
  uint64_t cpu_mask = ~0ull;
  bool runnable = false;
  bool on_cpu = false;
};

// What the host knows of the cpu a commit names.
struct HostCpuView {
  bool managed = false;  // the cpu belongs to the policy
  bool busy = false;     // something runs (or is being switched in) there
};

// Checks, in order: well-formed (type, length, flags, reserved bits), known task, cpu in range
// and allowed, sequence current, task not already running, task runnable, cpu free (unless the
// commit may preempt). `task` is null when the host does not know the id; `cpu` is read only when
// commit.cpu is in [0, num_cpus).
wave_commit_status ValidateCommit(const wave_a2k_commit& commit, const HostTaskView* task,
                                  int num_cpus, const HostCpuView* cpu);

// The COMMIT_RESULT answering `commit`.
wave_msg MakeCommitResult(const wave_a2k_commit& commit, wave_commit_status status,
                          uint64_t host_seq, uint64_t time_ns);

}  // namespace wave

#endif  // LIBWAVE_HOST_MECH_VALIDATE_H_
