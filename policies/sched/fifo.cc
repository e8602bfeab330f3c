#include "policies/sched/fifo.h"

namespace wave {

void FifoPolicy::Enqueue(Task& task) {
  if (!task.runnable() || task.commit_pending() || task.staged() || rq_.Contains(&task)) return;
  staged_.Remove(&task);
  task.policy_word = ++arrivals_;
  rq_.PushBack(&task);
}

// Back to the queue after a failed decision: it was the oldest when picked, so it goes back in
// arrival order (at the front, unless an older one is there too).
void FifoPolicy::Requeue(Task& task) {
  if (!task.runnable() || task.commit_pending() || task.staged() || rq_.Contains(&task)) return;
  staged_.Remove(&task);
  Task* before = rq_.Front();
  if (before == nullptr || before->policy_word > task.policy_word) {
    rq_.PushFront(&task);
  } else {
    rq_.PushBack(&task);  // rare: an even older task was requeued first; keep it simple
  }
}

void FifoPolicy::OnTaskNew(Task& task, const TaskNew&) { Enqueue(task); }
void FifoPolicy::OnTaskWakeup(Task& task, const TaskWakeup&) { Enqueue(task); }
void FifoPolicy::OnTaskBlocked(Task& task, const TaskBlocked&) {
  rq_.Remove(&task);
  staged_.Remove(&task);
}
void FifoPolicy::OnTaskPreempted(Task& task, const TaskPreempted&) { Enqueue(task); }
void FifoPolicy::OnTaskYield(Task& task, const TaskYield&) { Enqueue(task); }
void FifoPolicy::OnTaskDead(Task& task, const TaskDead&) {
  rq_.Remove(&task);
  staged_.Remove(&task);
}

void FifoPolicy::OnCommitFailed(Task& task, const CommitResult&) { Requeue(task); }
void FifoPolicy::OnCommitDone(Task& task, const CommitResult&) { staged_.Remove(&task); }

Task* FifoPolicy::FirstAllowed(const TaskQueue& q, int cpu) {
  Task* t = q.Front();
  for (int scanned = 0; t != nullptr && scanned < kMaxScan; ++scanned, t = q.Next(t)) {
    if (t->Allowed(cpu)) return t;
  }
  return nullptr;
}

void FifoPolicy::Schedule(CpuTable& cpus, Txn& txn) {
  // Available cpus take the oldest task allowed there, queued or staged elsewhere.
  for (Cpu& cpu : cpus) {
    if (rq_.empty() && staged_.empty()) return;
    if (!cpu.available()) continue;
    Task* queued = FirstAllowed(rq_, cpu.id);
    Task* stealable = FirstAllowed(staged_, cpu.id);
    Task* pick = queued;
    if (stealable != nullptr && (pick == nullptr || stealable->policy_word < pick->policy_word)) {
      pick = stealable;
    }
    if (pick == nullptr) continue;
    TaskQueue& from = pick == queued ? rq_ : staged_;
    from.Remove(pick);
    if (txn.Commit({.task = pick, .cpu = cpu.id, .seq = pick->seq()}) != CommitCheck::kOk) {
      from.PushFront(pick);  // cannot happen for a runnable, unpending task on an available cpu
    }
  }
  // Prestage what is left on the cpus with staging room, one per cpu per round.
  bool progress = true;
  while (!rq_.empty() && progress) {
    progress = false;
    for (Cpu& cpu : cpus) {
      if (rq_.empty()) return;
      if (cpu.stage_room() == 0) continue;
      Task* pick = FirstAllowed(rq_, cpu.id);
      if (pick == nullptr) continue;
      if (txn.Stage({.task = pick, .cpu = cpu.id, .seq = pick->seq()}) != CommitCheck::kOk) {
        continue;
      }
      rq_.Remove(pick);
      staged_.PushBack(pick);
      progress = true;
    }
  }
}

}  // namespace wave
