// Commit validation, shared by every host mechanism (sim, trace, scx). The host never trusts the
// agent: a commit is checked field by field against the host's own state before it is enacted.
//
// Units: the host enacts commits in units. A plain commit is a unit of one; a group commit (see
// wave_abi.h) is a unit of all its members, applied all or none. CommitAssembler cuts the commit
// stream into units; ValidateUnit decides each member's status.
#ifndef LIBWAVE_HOST_MECH_VALIDATE_H_
#define LIBWAVE_HOST_MECH_VALIDATE_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "abi/cpuset.h"
#include "abi/wave_abi.h"

namespace wave {

// What the host knows of the task a commit names.
struct HostTaskView {
  uint64_t seq = 0;
  const CpuSet* cpus = nullptr;  // the cpus it may run on; null: every cpu
  bool runnable = false;
  bool on_cpu = false;
};

// What the host knows of the cpu a commit names.
struct HostCpuView {
  bool managed = false;  // the cpu belongs to the policy
  bool busy = false;     // something runs (or is being switched in) there
};

// True when the message is a well-formed commit: type, length, known flags, zero reserved
// bits, and group fields that agree (group 0 with size 0, or a group of 1..WAVE_MAX_GROUP).
bool CommitWellFormed(const wave_a2k_commit& commit);

// Checks, in order: well-formed, known task, cpu in range and allowed, sequence current, task
// not already running, task runnable, cpu free (unless the commit may preempt). `task` is null
// when the host does not know the id; `cpu` is read only when commit.cpu is in [0, num_cpus).
wave_commit_status ValidateCommit(const wave_a2k_commit& commit, const HostTaskView* task,
                                  int num_cpus, const HostCpuView* cpu);

// A unit of commits to enact together: one plain commit, or every member of a group.
struct CommitUnit {
  std::vector<wave_a2k_commit> members;
  // The group was broken (a member missing, out of order, or with other group fields): every
  // member is answered MALFORMED and nothing is enacted.
  bool malformed = false;
};

// Cuts the commit stream into units. Feed every commit in ring order; call EndOfBatch() when
// the host has consumed all it could see (a group must be published in one batch, so a group
// still incomplete then is malformed). Bounded: a unit never holds more than WAVE_MAX_GROUP.
class CommitAssembler {
 public:
  // Appends to `out` the units that `commit` completes (zero, one or two: a commit that breaks
  // a group closes the broken group as malformed and is then taken on its own).
  void Add(const wave_a2k_commit& commit, std::vector<CommitUnit>* out);
  // Closes an incomplete group as malformed.
  void EndOfBatch(std::vector<CommitUnit>* out);
  bool in_group() const { return !partial_.members.empty(); }
  // Whether `commit` is the next member of the group being assembled.
  bool Continues(const wave_a2k_commit& commit) const;

 private:
  CommitUnit partial_;
};

// Decides every member's status. `tasks[i]` and `cpus[i]` are what ValidateCommit takes for
// members[i]. All OK, or: members that fail get their own reason, the rest GROUP_ABORTED.
// A group whose members name the same task or cpu twice is MALFORMED as a whole. Returns true
// when the unit may be enacted (every status is OK).
bool ValidateUnit(const CommitUnit& unit, const HostTaskView* const* tasks, int num_cpus,
                  const HostCpuView* const* cpus, wave_commit_status* statuses);

// The COMMIT_RESULT answering `commit` (`flags`: WAVE_RESULT_F_*).
wave_msg MakeCommitResult(const wave_a2k_commit& commit, wave_commit_status status,
                          uint64_t host_seq, uint64_t time_ns, uint32_t flags = 0);

}  // namespace wave

#endif  // LIBWAVE_HOST_MECH_VALIDATE_H_
