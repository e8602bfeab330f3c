#include "lib/sched/txn.h"

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
    case CommitCheck::kTaskStaged:
      return "task already staged";
    case CommitCheck::kNoStageRoom:
      return "no room in the cpu's staging ring";
    case CommitCheck::kBadGroup:
      return "group empty, too large, or naming a task or cpu twice";
    case CommitCheck::kNoGroups:
      return "the host does not apply group commits";
  }
  return "?";
}

CommitCheck Txn::Check(const CommitOptions& opts, bool staging) const {
  const Task* t = opts.task;
  if (t == nullptr) return CommitCheck::kNoTask;
  if (!t->runnable()) return CommitCheck::kTaskNotRunnable;
  if (t->commit_pending()) return CommitCheck::kTaskPending;
  if (staging && t->staged()) return CommitCheck::kTaskStaged;
  if (opts.cpu < 0 || opts.cpu >= cpus_.size()) return CommitCheck::kCpuOutOfRange;
  if (!t->Allowed(opts.cpu)) return CommitCheck::kCpuNotAllowed;
  if (opts.flags & ~WAVE_COMMIT_F_ALL) return CommitCheck::kBadFlags;
  const Cpu& cpu = cpus_[opts.cpu];
  const bool preempt = opts.flags & WAVE_COMMIT_F_PREEMPT;
  if (staging) {
    if (preempt) return CommitCheck::kBadFlags;  // a staged decision runs on an idle cpu
    if (cpu.stage_room() == 0) return CommitCheck::kNoStageRoom;
    return CommitCheck::kOk;
  }
  if (cpu.pending_txn() != 0 || (!cpu.host_idle() && !preempt)) return CommitCheck::kCpuUnavailable;
  return CommitCheck::kOk;
}

wave_msg Txn::Encode(const CommitOptions& opts) {
  wave_msg m;
  wave_msg_init(&m, WAVE_CMD_COMMIT);
  m.commit.task_id = opts.task->id();
  m.commit.seq = opts.seq;
  m.commit.slice_ns = opts.slice_ns;
  m.commit.txn_id = next_txn_id_++;
  m.commit.cpu = opts.cpu;
  m.commit.flags = opts.flags;
  return m;
}

CommitCheck Txn::Commit(const CommitOptions& opts) {
  if (CommitCheck c = Check(opts, /*staging=*/false); c != CommitCheck::kOk) return c;
  const wave_msg m = Encode(opts);
  pending_.push_back(m);
  opts.task->pending_txn_ = m.commit.txn_id;
  opts.task->pending_cpu_ = opts.cpu;
  cpus_.SetPendingTxn(opts.cpu, m.commit.txn_id, opts.task->id());
  return CommitCheck::kOk;
}

CommitCheck Txn::Stage(const CommitOptions& opts, bool also) {
  if (also && opts.task != nullptr && opts.task->staged() && opts.task->staged_cpu_ != opts.cpu) {
    // Another copy on another cpu: checked as if not staged yet.
    const int live = opts.task->staged_live_;
    opts.task->staged_live_ = 0;  // reads as "not staged" for the check
    const CommitCheck c = Check(opts, /*staging=*/true);
    opts.task->staged_live_ = live;
    if (c != CommitCheck::kOk) return c;
  } else if (CommitCheck c = Check(opts, /*staging=*/true); c != CommitCheck::kOk) {
    return c;
  }
  QueueStaged(opts);
  return CommitCheck::kOk;
}

CommitCheck Txn::StageForWakeup(const CommitOptions& opts) {
  Task* t = opts.task;
  if (t == nullptr) return CommitCheck::kNoTask;
  if (t->state() != TaskState::kBlocked) return CommitCheck::kTaskNotRunnable;
  if (t->commit_pending()) return CommitCheck::kTaskPending;
  if (t->staged_live_ > 0 && t->staged_seq_ == opts.seq) return CommitCheck::kTaskStaged;
  if (opts.cpu < 0 || opts.cpu >= cpus_.size()) return CommitCheck::kCpuOutOfRange;
  if (!t->Allowed(opts.cpu)) return CommitCheck::kCpuNotAllowed;
  if (opts.flags != 0) return CommitCheck::kBadFlags;
  if (cpus_[opts.cpu].stage_room() == 0) return CommitCheck::kNoStageRoom;
  QueueStaged(opts);
  return CommitCheck::kOk;
}

void Txn::QueueStaged(const CommitOptions& opts) {
  const wave_msg m = Encode(opts);
  staged_.push_back(m);
  Task& t = *opts.task;
  if (t.staged_seq_ != opts.seq) t.staged_live_ = 0;  // older copies are dead now
  ++t.staged_live_;
  t.staged_seq_ = opts.seq;
  opts.task->staged_cpu_ = opts.cpu;
  cpus_.SetStaged(opts.cpu, cpus_[opts.cpu].staged() + 1);
}

CommitCheck Txn::CommitGroup(const std::vector<CommitOptions>& members) {
  const size_t n = members.size();
  if (!groups()) return CommitCheck::kNoGroups;
  if (n == 0 || n > WAVE_MAX_GROUP) return CommitCheck::kBadGroup;
  for (size_t i = 0; i < n; ++i) {
    if (CommitCheck c = Check(members[i], /*staging=*/false); c != CommitCheck::kOk) return c;
    for (size_t j = i + 1; j < n; ++j) {
      if (members[i].task == members[j].task || members[i].cpu == members[j].cpu) {
        return CommitCheck::kBadGroup;
      }
    }
  }
  const uint32_t group = next_group_++;
  if (next_group_ == 0) next_group_ = 1;  // 0 means "no group"
  for (const CommitOptions& opts : members) {
    wave_msg m = Encode(opts);
    m.commit.group = group;
    m.commit.group_size = static_cast<uint32_t>(n);
    pending_.push_back(m);
    opts.task->pending_txn_ = m.commit.txn_id;
    opts.task->pending_cpu_ = opts.cpu;
    cpus_.SetPendingTxn(opts.cpu, m.commit.txn_id, opts.task->id());
  }
  return CommitCheck::kOk;
}

}  // namespace wave
