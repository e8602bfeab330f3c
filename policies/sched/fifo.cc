#include "policies/sched/fifo.h"

#include <algorithm>

namespace wave {

void FifoPolicy::Unstage(Task& task) {
  staged_.Remove(&task);
  staged_at_.erase(&task);
}

void FifoPolicy::TrackStaged(Task& task) {
  rq_.Remove(&task);
  if (!staged_.Contains(&task)) {
    task.policy_word = ++arrivals_;
    staged_.PushBack(&task);
  }
  staged_at_[&task] = now_ns_;
}

void FifoPolicy::Enqueue(Task& task) {
  if (!task.runnable() || task.commit_pending() || task.staged() || rq_.Contains(&task)) return;
  Unstage(task);
  task.policy_word = ++arrivals_;
  rq_.PushBack(&task);
}

// Back to the queue after a failed decision: it was the oldest when picked, so it goes back in
// arrival order (at the front, unless an older one is there too).
void FifoPolicy::Requeue(Task& task) {
  if (!task.runnable() || task.commit_pending() || task.staged() || rq_.Contains(&task)) return;
  Unstage(task);
  Task* before = rq_.Front();
  if (before == nullptr || before->policy_word > task.policy_word) {
    rq_.PushFront(&task);
  } else {
    rq_.PushBack(&task);  // rare: an even older task was requeued first; keep it simple
  }
}

void FifoPolicy::OnTaskNew(Task& task, const TaskNew& ev) {
  now_ns_ = std::max(now_ns_, ev.time_ns());
  Enqueue(task);
}
void FifoPolicy::OnTaskWakeup(Task& task, const TaskWakeup& ev) {
  now_ns_ = std::max(now_ns_, ev.time_ns());
  Enqueue(task);
}
void FifoPolicy::OnTaskBlocked(Task& task, const TaskBlocked& ev) {
  now_ns_ = std::max(now_ns_, ev.time_ns());
  rq_.Remove(&task);
  Unstage(task);
}
void FifoPolicy::OnTaskPreempted(Task& task, const TaskPreempted& ev) {
  now_ns_ = std::max(now_ns_, ev.time_ns());
  Enqueue(task);
}
void FifoPolicy::OnTaskYield(Task& task, const TaskYield& ev) {
  now_ns_ = std::max(now_ns_, ev.time_ns());
  Enqueue(task);
}
void FifoPolicy::OnTaskDead(Task& task, const TaskDead&) {
  rq_.Remove(&task);
  Unstage(task);
}
void FifoPolicy::OnCpuIdle(Cpu&, const CpuIdle& ev) { now_ns_ = std::max(now_ns_, ev.time_ns()); }
void FifoPolicy::OnResync() {
  staged_at_.clear();  // the tasks themselves were freed (and left the queues)
}

void FifoPolicy::OnCommitFailed(Task& task, const CommitResult& r) {
  now_ns_ = std::max(now_ns_, r.time_ns());
  Requeue(task);
}
void FifoPolicy::OnCommitDone(Task& task, const CommitResult& r) {
  now_ns_ = std::max(now_ns_, r.time_ns());
  Unstage(task);
}

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
    if (rq_.empty() && staged_.empty()) break;
    if (!cpu.available()) continue;
    Task* queued = FirstAllowed(rq_, cpu.id);
    Task* stealable = FirstAllowed(staged_, cpu.id);
    Task* pick = queued;
    if (stealable != nullptr && (pick == nullptr || stealable->policy_word < pick->policy_word)) {
      pick = stealable;
    }
    if (pick == nullptr) continue;
    const bool was_staged = pick != queued;
    if (txn.Commit({.task = pick, .cpu = cpu.id, .seq = pick->seq()}) != CommitCheck::kOk) {
      continue;  // cannot happen for a runnable, unpending task on an available cpu
    }
    if (was_staged) {
      Unstage(*pick);
    } else {
      rq_.Remove(pick);
    }
  }
  // Prestage what is left on the cpus with staging room, one per cpu per round.
  bool progress = true;
  while (!rq_.empty() && progress) {
    progress = false;
    for (Cpu& cpu : cpus) {
      if (rq_.empty()) break;
      if (cpu.stage_room() == 0) continue;
      Task* pick = FirstAllowed(rq_, cpu.id);
      if (pick == nullptr) continue;
      if (txn.Stage({.task = pick, .cpu = cpu.id, .seq = pick->seq()}) != CommitCheck::kOk) {
        continue;
      }
      rq_.Remove(pick);
      staged_.PushBack(pick);
      staged_at_[pick] = now_ns_;
      progress = true;
    }
  }
  Restage(cpus, txn);
}

// The oldest staged tasks that have waited too long get another copy on the cpu with the most
// staging room (not the one they were last staged on).
void FifoPolicy::Restage(CpuTable& cpus, Txn& txn) {
  Task* t = staged_.Front();
  for (int scanned = 0; t != nullptr && scanned < kMaxScan; ++scanned, t = staged_.Next(t)) {
    auto it = staged_at_.find(t);
    if (it == staged_at_.end() || now_ns_ < it->second + restage_after_ns_) break;
    Cpu* best = nullptr;
    for (Cpu& cpu : cpus) {
      if (cpu.id == t->staged_cpu() || !t->Allowed(cpu.id) || cpu.stage_room() == 0) continue;
      if (best == nullptr || cpu.stage_room() > best->stage_room()) best = &cpu;
    }
    if (best == nullptr) return;  // no room anywhere
    if (txn.Stage({.task = t, .cpu = best->id, .seq = t->seq()}, /*also=*/true) ==
        CommitCheck::kOk) {
      it->second = now_ns_;
    }
  }
}

}  // namespace wave
