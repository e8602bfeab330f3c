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
// The agent takes a task out of its queue when it blocks, dies or goes on a cpu: the queue's
// length is reported again.
void PerCpuFifoPolicy::OnTaskBlocked(Task& task, const TaskBlocked&) { Touch(HomeOf(task)); }
void PerCpuFifoPolicy::OnTaskDead(Task& task, const TaskDead&) { Touch(HomeOf(task)); }
void PerCpuFifoPolicy::OnTaskOnCpu(Task& task, const TaskOnCpu&) { Touch(HomeOf(task)); }

void PerCpuFifoPolicy::OnResync() { loads_.Clear(); }  // the agent emptied every queue

void PerCpuFifoPolicy::Touch(int cpu) {
  if (cpu < 0 || static_cast<size_t>(cpu) >= q_.size()) return;
  const CpuQueue& q = q_[static_cast<size_t>(cpu)];
  loads_.Set(cpu, q.size(), !q.waiting.empty());
}

// A waiting task no longer allowed on its queue's cpu finds another queue. (A staged one is
// checked by the host, which aborts it if need be: it comes back through OnCommitFailed.)
void PerCpuFifoPolicy::OnTaskAffinity(Task& task, const TaskAffinity&) {
  const int home = HomeOf(task);
  if (home < 0 || task.Allowed(home) || !q_[home].waiting.Remove(&task)) return;
  Touch(home);
  incoming_.PushBack(&task);
}

void PerCpuFifoPolicy::OnCommitFailed(Task& task, const CommitResult&) {
  const int home = HomeOf(task);
  if (home >= 0) q_[home].staged.Remove(&task);  // its staged copy was aborted
  Touch(home);
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
  Touch(home);
}

void PerCpuFifoPolicy::Join(Task& task, int cpu, bool front, bool staged) {
  task.policy_state<PerTask>() = {.queued = true, .cpu = cpu};
  TaskQueue& q = staged ? q_[cpu].staged : q_[cpu].waiting;
  if (front) {
    q.PushFront(&task);
  } else {
    q.PushBack(&task);
  }
  Touch(cpu);
}

void PerCpuFifoPolicy::Leave(Task& task) {
  const int home = HomeOf(task);
  if (home < 0) return;
  q_[home].waiting.Remove(&task);
  q_[home].staged.Remove(&task);
  Touch(home);
}

int PerCpuFifoPolicy::PickQueue(const Task& task, const CpuTable& cpus) const {
  const int shortest = loads_.Shortest(task.cpus(), cpus.available_set());
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

// The longest queue first, then shorter ones: the first with a task allowed on the thief.
Task* PerCpuFifoPolicy::Steal(int thief) const {
  for (int c = loads_.Longest(); c >= 0; c = loads_.NextLongest(c)) {
    if (c == thief) continue;
    if (Task* t = OldestAllowed(q_[static_cast<size_t>(c)], thief); t != nullptr) return t;
  }
  return nullptr;
}

void PerCpuFifoPolicy::Schedule(CpuTable& cpus, Txn& txn) {
  if (cpus.size() == 0) return;
  while (q_.size() < static_cast<size_t>(cpus.size())) q_.emplace_back();
  if (loads_.size() < cpus.size()) loads_.Resize(cpus.size());
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
  // steal (after, so that no cpu steals what an idle owner was about to run). Only available
  // cpus are visited, and in the first pass only those with tasks waiting.
  const CpuSet& available = cpus.available_set();
  for (int c = available.First(); c >= 0; c = available.Next(c)) {
    if (!loads_.waiting().Test(c)) continue;
    Task* pick = q_[static_cast<size_t>(c)].waiting.FirstAllowed(c, kMaxScan);
    if (pick != nullptr) Place(*pick, c, txn, /*stolen=*/false);
  }
  for (int c = available.First(); c >= 0 && loads_.longest_length() > 0; c = available.Next(c)) {
    if (!q_[static_cast<size_t>(c)].staged.empty()) continue;  // the host runs what is staged
    if (Task* pick = Steal(c); pick != nullptr) Place(*pick, c, txn, /*stolen=*/true);
  }
  // Prestaging: each cpu's own queue, oldest first, into its staging ring (the cpus with room
  // and tasks waiting).
  const CpuSet& stageable = cpus.stageable_set();
  for (int c = stageable.First(); c >= 0; c = stageable.Next(c)) {
    if (!loads_.waiting().Test(c)) continue;
    CpuQueue& q = q_[static_cast<size_t>(c)];
    while (cpus[c].stage_room() > 0) {
      Task* t = q.waiting.FirstAllowed(c, kMaxScan);
      if (t == nullptr || txn.Stage({.task = t, .cpu = c, .seq = t->seq()}) != CommitCheck::kOk) {
        break;
      }
      q.waiting.Remove(t);
      q.staged.PushBack(t);
    }
    Touch(c);
  }
}

void PerCpuFifoPolicy::Place(Task& pick, int cpu, Txn& txn, bool stolen) {
  if (txn.Commit({.task = &pick, .cpu = cpu, .seq = pick.seq()}) != CommitCheck::kOk) {
    return;  // cannot happen for a runnable, unpending task on an available cpu
  }
  Leave(pick);  // a stolen staged task: the host will abort its staged copy
  steals_ += stolen ? 1 : 0;
}

}  // namespace wave
