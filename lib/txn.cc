#include "lib/txn.h"

namespace wave {

const char* CommitCheckName(CommitCheck c) {
  switch (c) {
    case CommitCheck::kOk:
      return "ok";
    case CommitCheck::kNoTask:
      return "no task";
    case CommitCheck::kTaskNotRunnable:
      return "task not runnable";
    case CommitCheck::kTaskPending:
      return "task already has a commit in flight";
    case CommitCheck::kCpuOutOfRange:
      return "cpu out of range";
    case CommitCheck::kCpuNotAllowed:
      return "cpu not in the task's mask";
    case CommitCheck::kCpuUnavailable:
      return "cpu not available";
    case CommitCheck::kBadFlags:
      return "unknown commit flags";
  }
  return "?";
}

CommitCheck Txn::Commit(const CommitOptions& opts) {
  Task* t = opts.task;
  if (t == nullptr) return CommitCheck::kNoTask;
  if (!t->runnable()) return CommitCheck::kTaskNotRunnable;
  if (t->commit_pending()) return CommitCheck::kTaskPending;
  if (opts.cpu < 0 || opts.cpu >= cpus_.size()) return CommitCheck::kCpuOutOfRange;
  if (!t->Allowed(opts.cpu)) return CommitCheck::kCpuNotAllowed;
  if (opts.flags & ~WAVE_COMMIT_F_ALL) return CommitCheck::kBadFlags;
  Cpu& cpu = cpus_[opts.cpu];
  const bool preempt = opts.flags & WAVE_COMMIT_F_PREEMPT;
  if (cpu.pending_txn != 0 || (!cpu.host_idle && !preempt)) return CommitCheck::kCpuUnavailable;

  wave_msg m;
  wave_msg_init(&m, WAVE_CMD_COMMIT);
  m.commit.task_id = t->id();
  m.commit.seq = opts.seq;
  m.commit.slice_ns = opts.slice_ns;
  m.commit.txn_id = next_txn_id_++;
  m.commit.cpu = opts.cpu;
  m.commit.flags = opts.flags;
  pending_.push_back(m);

  t->pending_txn_ = m.commit.txn_id;
  t->pending_cpu_ = opts.cpu;
  cpu.pending_txn = m.commit.txn_id;
  return CommitCheck::kOk;
}

}  // namespace wave
