#include "policies/sched/fifo.h"

namespace wave {

void FifoPolicy::Enqueue(Task& task) {
  if (task.runnable() && !task.commit_pending() && !rq_.Contains(&task)) rq_.PushBack(&task);
}

void FifoPolicy::OnTaskNew(Task& task, const TaskNew&) { Enqueue(task); }
void FifoPolicy::OnTaskWakeup(Task& task, const TaskWakeup&) { Enqueue(task); }
void FifoPolicy::OnTaskBlocked(Task& task, const TaskBlocked&) { rq_.Remove(&task); }
void FifoPolicy::OnTaskPreempted(Task& task, const TaskPreempted&) { Enqueue(task); }
void FifoPolicy::OnTaskYield(Task& task, const TaskYield&) { Enqueue(task); }
void FifoPolicy::OnTaskDead(Task& task, const TaskDead&) { rq_.Remove(&task); }

void FifoPolicy::OnCommitFailed(Task& task, const CommitResult&) {
  // It was the oldest when we picked it: it goes back to the front, not behind newer arrivals.
  if (task.runnable() && !rq_.Contains(&task)) rq_.PushFront(&task);
}

void FifoPolicy::Schedule(CpuTable& cpus, Txn& txn) {
  for (Cpu& cpu : cpus) {
    if (rq_.empty()) return;
    if (!cpu.available()) continue;
    Task* pick = rq_.Front();
    for (int scanned = 0; pick != nullptr && scanned < kMaxScan; ++scanned) {
      if (pick->Allowed(cpu.id)) break;
      pick = rq_.Next(pick);
    }
    if (pick == nullptr || !pick->Allowed(cpu.id)) continue;
    rq_.Remove(pick);
    if (txn.Commit({.task = pick, .cpu = cpu.id, .seq = pick->seq()}) != CommitCheck::kOk) {
      rq_.PushFront(pick);  // cannot happen for a runnable, unpending task on an available cpu
    }
  }
}

}  // namespace wave
