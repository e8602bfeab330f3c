// Transactions: "run task T on cpu c, valid only if T's sequence is still s".
//
//   txn.Commit({.task = t, .cpu = c.id, .seq = t->seq()});          // now, over the link
//   txn.Stage({.task = t, .cpu = c.id, .seq = t->seq()});           // next, when c idles
//   txn.CommitGroup({{.task = a, .cpu = 1, ...}, {.task = b, ...}}); // all or none
//
// Staged decisions (prestaging) wait in the cpu's staging ring in host memory; the host takes
// the next one locally when the cpu would otherwise idle, with no round trip, validating it like
// any commit. The policy learns of each through the same result callbacks.
//
// Commits are batched: the agent publishes the whole batch once, after Schedule() returns. The
// host validates each one and answers with a COMMIT_RESULT; a failed commit comes back to the
// policy through Policy::OnCommitFailed, never as a crash.
#ifndef LIBWAVE_LIB_SCHED_TXN_H_
#define LIBWAVE_LIB_SCHED_TXN_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "abi/wave_abi.h"
#include "lib/sched/task.h"

namespace wave {

struct CommitOptions {
  Task* task = nullptr;
  int cpu = -1;
  Seq seq = 0;
  uint64_t slice_ns = 0;  // 0: until the task blocks or yields
  uint32_t flags = 0;     // WAVE_COMMIT_F_*
};

// Why Txn::Commit refused locally (the commit was not queued). Policies that follow the
// available()/runnable() rules never see anything but kOk.
enum class CommitCheck : uint8_t {
  kOk,
  kNoTask,
  kTaskNotRunnable,
  kTaskPending,  // a commit naming the task is already in flight
  kCpuOutOfRange,
  kCpuNotAllowed,
  kCpuUnavailable,  // not idle, or a commit to it is in flight (and no PREEMPT flag)
  kBadFlags,
  kTaskStaged,   // Stage: the task already waits in a staging ring
  kNoStageRoom,  // Stage: the cpu's staging ring is full, or the link has none
  kBadGroup,     // CommitGroup: empty, too large, or a task or cpu named twice
  kNoGroups,     // CommitGroup: the host does not apply groups (WAVE_FEAT_GROUPS not agreed)
};
const char* CommitCheckName(CommitCheck c);

class Txn {
 public:
  // `features`: the WAVE_FEAT_* the session agreed on.
  Txn(CpuTable& cpus, uint64_t& next_txn_id, uint64_t features = WAVE_FEATURES)
      : cpus_(cpus), next_txn_id_(next_txn_id), features_(features) {}

  // Queues a commit and marks the task and the cpu pending. Checks locally what the agent can
  // know (the host re-validates everything); refuses without side effects otherwise.
  CommitCheck Commit(const CommitOptions& opts);
  // Queues a decision for when `opts.cpu` next idles (or slices out), in its staging ring.
  // The cpu need not be available; it needs stage_room(). No PREEMPT flag. `also`: the task may
  // already be staged on another cpu; whichever cpu takes it first runs it (the host aborts the
  // other copies: same sequence, no longer runnable).
  CommitCheck Stage(const CommitOptions& opts, bool also = false);
  // Stages a blocked task for the wakeup the policy expects (e.g. an RPC seen at the NIC):
  // `opts.seq` is the sequence the task will have once woken (seq() + 1). When the host wakes
  // it and finds the decision at the head of an idle cpu's staging ring, the task runs there at
  // once; if it never wakes with that sequence the host aborts the decision as stale.
  CommitCheck StageForWakeup(const CommitOptions& opts);
  // Queues commits that the host applies all together or not at all (gang scheduling). Every
  // member is checked as Commit would; nothing is queued unless all pass. At most
  // WAVE_MAX_GROUP members; kNoGroups when the host does not apply groups (commit one by one).
  CommitCheck CommitGroup(const std::vector<CommitOptions>& members);

  size_t size() const { return pending_.size() + staged_.size(); }
  // Whether the host applies group commits (WAVE_FEAT_GROUPS).
  bool groups() const { return (features_ & WAVE_FEAT_GROUPS) != 0; }
  bool empty() const { return pending_.empty() && staged_.empty(); }

 private:
  friend class SchedSubsystem;
  CommitCheck Check(const CommitOptions& opts, bool staging) const;
  void QueueStaged(const CommitOptions& opts);
  wave_msg Encode(const CommitOptions& opts);
  CpuTable& cpus_;
  uint64_t& next_txn_id_;
  const uint64_t features_;
  uint32_t next_group_ = 1;
  std::vector<wave_msg> pending_;  // encoded, in commit order; flushed by the agent
  std::vector<wave_msg> staged_;   // encoded staged decisions, in order; flushed per cpu
};

}  // namespace wave

#endif  // LIBWAVE_LIB_SCHED_TXN_H_
