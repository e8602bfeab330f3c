#include "policies/sched/fifo_percpu.h"

#include <algorithm>

namespace wave {

size_t PerCpuFifoPolicy::queue_length(int cpu) const {
  return cpu >= 0 && static_cast<size_t>(cpu) < q_.size() ? q_[static_cast<size_t>(cpu)].size() : 0;
}

void PerCpuFifoPolicy::Enqueue(Task& task) {
  if (task.Placeable()) incoming_.PushBack(&task);
}

void PerCpuFifoPolicy::OnTaskNew(Task& task, const TaskNew&) { Enqueue(task); }
void PerCpuFifoPolicy::OnTaskWakeup(Task& task, const TaskWakeup&) { Enqueue(task); }
void PerCpuFifoPolicy::OnTaskPreempted(Task& task, const TaskPreempted&) { Enqueue(task); }
void PerCpuFifoPolicy::OnTaskYield(Task& task, const TaskYield&) { Enqueue(task); }
// The agent takes a blocked or dead task out of its queue; nothing else refers to it.
void PerCpuFifoPolicy::OnTaskBlocked(Task&, const TaskBlocked&) {}
void PerCpuFifoPolicy::OnTaskDead(Task&, const TaskDead&) {}

// A waiting task no longer allowed on its queue's cpu finds another queue. (A staged one is
// checked by the host, which aborts it if need be: it comes back through OnCommitFailed.)
void PerCpuFifoPolicy::OnTaskAffinity(Task& task, const TaskAffinity&) {
  const int home = HomeOf(task);
  if (home < 0 || task.Allowed(home) || !q_[home].waiting.Remove(&task)) return;
  incoming_.PushBack(&task);
}

void PerCpuFifoPolicy::OnCommitFailed(Task& task, const CommitResult&) {
  const int home = HomeOf(task);
  if (home >= 0) q_[home].staged.Remove(&task);  // its staged copy was aborted
  if (task.staged()) {
    // A steal failed, but the staged copy it tried to overtake is still live: wait for it.
    if (task.queue() == nullptr) Join(task, task.staged_cpu(), /*front=*/false, /*staged=*/true);
    return;
  }
  if (task.Placeable()) retry_.PushBack(&task);
}

void PerCpuFifoPolicy::OnCommitDone(Task& task, const CommitResult&) {
  const int home = HomeOf(task);
  if (home >= 0) q_[home].staged.Remove(&task);  // normally gone already: ON_CPU came first
}

void PerCpuFifoPolicy::Join(Task& task, int cpu, bool front, bool staged) {
  task.policy_state<PerTask>() = {.queued = true, .cpu = cpu};
  TaskQueue& q = staged ? q_[cpu].staged : q_[cpu].waiting;
  if (front) {
    q.PushFront(&task);
  } else {
    q.PushBack(&task);
  }
}

void PerCpuFifoPolicy::Leave(Task& task) {
  const int home = HomeOf(task);
  if (home < 0) return;
  q_[home].waiting.Remove(&task);
  q_[home].staged.Remove(&task);
}

int PerCpuFifoPolicy::PickQueue(const Task& task, const CpuTable& cpus) const {
  int shortest = -1;
  for (const Cpu& cpu : cpus) {
    if (task.Allowed(cpu.id) && (shortest < 0 || Load(cpu) < Load(cpus[shortest]))) {
      shortest = cpu.id;
    }
  }
  const int last = task.last_cpu();
  if (shortest >= 0 && last >= 0 && last < cpus.size() && task.Allowed(last) &&
      Load(cpus[last]) <= Load(cpus[shortest]) + opts_.affinity_slack) {
    return last;
  }
  return shortest;
}

Task* PerCpuFifoPolicy::OldestAllowed(const CpuQueue& q, int cpu) {
  Task* t = q.staged.FirstAllowed(cpu, kMaxScan);
  return t != nullptr ? t : q.waiting.FirstAllowed(cpu, kMaxScan);
}

Task* PerCpuFifoPolicy::Steal(int thief, std::span<const Cpu> cpus) const {
  size_t longest = 0;
  Task* pick = nullptr;
  for (const Cpu& cpu : cpus) {
    const CpuQueue& q = q_[cpu.id];
    if (cpu.id == thief || q.size() <= longest) continue;
    if (Task* t = OldestAllowed(q, thief); t != nullptr) {
      longest = q.size();
      pick = t;
    }
  }
  return pick;
}

void PerCpuFifoPolicy::Schedule(CpuTable& cpus, Txn& txn) {
  if (cpus.size() == 0) return;
  while (q_.size() < static_cast<size_t>(cpus.size())) q_.emplace_back();
  const std::span<Cpu> queued(&cpus[0], static_cast<size_t>(cpus.size()));
  // New arrivals get a queue; failed decisions go back to the front of one (they were the
  // oldest). A task allowed on none of these cpus stays where it is.
  for (TaskQueue* from : {&retry_, &incoming_}) {
    for (Task* t = from->Front(); t != nullptr;) {
      Task* next = from->Next(t);
      const int cpu = PickQueue(*t, cpus);
      if (cpu >= 0) {
        from->Remove(t);
        Join(*t, cpu, /*front=*/from == &retry_, /*staged=*/false);
      }
      t = next;
    }
  }
  // An idle cpu takes the oldest task of its own queue; then the idle cpus left with nothing
  // steal (after, so that no cpu steals what an idle owner was about to run).
  for (bool steal : {false, true}) {
    for (Cpu& cpu : queued) {
      if (!cpu.available()) continue;
      const CpuQueue& own = q_[cpu.id];
      Task* pick = nullptr;
      if (!steal) {
        pick = own.waiting.FirstAllowed(cpu.id, kMaxScan);
      } else if (own.staged.empty()) {  // else the host runs what is staged here
        pick = Steal(cpu.id, queued);
      }
      if (pick == nullptr) continue;
      if (txn.Commit({.task = pick, .cpu = cpu.id, .seq = pick->seq()}) != CommitCheck::kOk) {
        continue;  // cannot happen for a runnable, unpending task on an available cpu
      }
      Leave(*pick);  // a stolen staged task: the host will abort its staged copy
      steals_ += steal ? 1 : 0;
    }
  }
  // Prestaging: each cpu's own queue, oldest first, into its staging ring.
  for (Cpu& cpu : queued) {
    CpuQueue& q = q_[cpu.id];
    while (cpu.stage_room() > 0) {
      Task* t = q.waiting.FirstAllowed(cpu.id, kMaxScan);
      if (t == nullptr ||
          txn.Stage({.task = t, .cpu = cpu.id, .seq = t->seq()}) != CommitCheck::kOk) {
        break;
      }
      q.waiting.Remove(t);
      q.staged.PushBack(t);
    }
  }
}

}  // namespace wave
