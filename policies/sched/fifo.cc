#include "policies/sched/fifo.h"

#include <algorithm>

namespace wave {

namespace {

FifoPolicy::PerTask& StateOf(Task& task) { return task.policy_state<FifoPolicy::PerTask>(); }
uint64_t ArrivalOf(const Task& task) { return task.policy_state<FifoPolicy::PerTask>().arrival; }

}  // namespace

void FifoPolicy::Unstage(Task& task) { staged_.Remove(&task); }

void FifoPolicy::TrackStaged(Task& task, uint64_t now_ns) {
  rq_.Remove(&task);
  if (!staged_.Contains(&task)) {
    StateOf(task).arrival = ++arrivals_;
    staged_.PushBack(&task);
  }
  StateOf(task).staged_at_ns = now_ns;
}

void FifoPolicy::Enqueue(Task& task) {
  if (!task.runnable() || task.commit_pending() || task.staged() || rq_.Contains(&task)) return;
  Unstage(task);
  StateOf(task).arrival = ++arrivals_;
  rq_.PushBack(&task);
}

// Back to the queue after a failed decision: it was the oldest when picked, so it goes back in
// arrival order (at the front, unless an older one is there too).
void FifoPolicy::Requeue(Task& task) {
  if (!task.runnable() || task.commit_pending() || task.staged() || rq_.Contains(&task)) return;
  Unstage(task);
  Task* before = rq_.Front();
  if (before == nullptr || ArrivalOf(*before) > ArrivalOf(task)) {
    rq_.PushFront(&task);
  } else {
    rq_.PushBack(&task);  // rare: an even older task was requeued first; keep it simple
  }
}

void FifoPolicy::OnTaskNew(Task& task, const TaskNew&) { Enqueue(task); }
void FifoPolicy::OnTaskWakeup(Task& task, const TaskWakeup&) { Enqueue(task); }
void FifoPolicy::OnTaskBlocked(Task& task, const TaskBlocked&) {
  rq_.Remove(&task);
  Unstage(task);
}
void FifoPolicy::OnTaskPreempted(Task& task, const TaskPreempted&) { Enqueue(task); }
void FifoPolicy::OnTaskYield(Task& task, const TaskYield&) { Enqueue(task); }
void FifoPolicy::OnTaskDead(Task& task, const TaskDead&) {
  rq_.Remove(&task);
  Unstage(task);
}
void FifoPolicy::OnTaskOnCpu(Task&, const TaskOnCpu& ev) {
  const auto cpu = static_cast<size_t>(ev.cpu());  // the agent checked that it is a cpu
  if (cpu >= on_cpu_since_.size()) on_cpu_since_.resize(cpu + 1, 0);
  on_cpu_since_[cpu] = ev.time_ns();
}
void FifoPolicy::OnResync() {}  // the tasks were freed (and left the queues); their state too

void FifoPolicy::OnCommitFailed(Task& task, const CommitResult&) { Requeue(task); }
void FifoPolicy::OnCommitDone(Task& task, const CommitResult&) { Unstage(task); }

Task* FifoPolicy::OldestAllowed(int cpu, bool* staged) const {
  Task* queued = rq_.FirstAllowed(cpu, kMaxScan);
  Task* stealable = staged_.FirstAllowed(cpu, kMaxScan);
  *staged =
      stealable != nullptr && (queued == nullptr || ArrivalOf(*stealable) < ArrivalOf(*queued));
  return *staged ? stealable : queued;
}

bool FifoPolicy::Place(Task* task, bool staged, int cpu, uint32_t flags, Txn& txn) {
  if (txn.Commit({.task = task,
                  .cpu = cpu,
                  .seq = task->seq(),
                  .slice_ns = opts_.slice_ns,
                  .flags = flags}) != CommitCheck::kOk) {
    return false;  // cannot happen for a runnable, unpending task on an available cpu
  }
  if (staged) {
    Unstage(*task);  // stolen: the host will abort its staged copy
  } else {
    rq_.Remove(task);
  }
  return true;
}

void FifoPolicy::Schedule(CpuTable& cpus, Txn& txn) {
  // Available cpus take the oldest task allowed there, queued or staged elsewhere.
  for (Cpu& cpu : cpus.Available()) {
    if (rq_.empty() && staged_.empty()) break;
    bool staged = false;
    Task* pick = OldestAllowed(cpu.id, &staged);
    if (pick != nullptr) Place(pick, staged, cpu.id, 0, txn);
  }
  // Prestage what is left on the cpus with staging room, one per cpu per round.
  bool progress = true;
  while (!rq_.empty() && progress) {
    progress = false;
    for (Cpu& cpu : cpus.Stageable()) {
      if (rq_.empty()) break;
      Task* pick = rq_.FirstAllowed(cpu.id, kMaxScan);
      if (pick == nullptr) continue;
      if (txn.Stage(
              {.task = pick, .cpu = cpu.id, .seq = pick->seq(), .slice_ns = opts_.slice_ns}) !=
          CommitCheck::kOk) {
        continue;
      }
      rq_.Remove(pick);
      staged_.PushBack(pick);
      StateOf(*pick).staged_at_ns = cpus.now_ns();
      progress = true;
    }
  }
  Restage(cpus, txn);
  if (opts_.preempt_after_ns != 0) PreemptOverruns(cpus, txn);
}

// Work still waits and no cpu is free: each oldest waiting task displaces the task that has
// been on its cpu longest, while that is longer than preempt_after_ns.
void FifoPolicy::PreemptOverruns(CpuTable& cpus, Txn& txn) {
  while (!rq_.empty() || !staged_.empty()) {
    // Every cpu with a task has been seen going on it (ON_CPU), or was replayed (NEW with
    // ON_CPU, no start time: counted as long running).
    on_cpu_since_.resize(std::max(on_cpu_since_.size(), static_cast<size_t>(cpus.size())), 0);
    Cpu* victim = nullptr;
    uint64_t victim_since = 0;
    for (Cpu& cpu : cpus) {
      if (cpu.current() == nullptr || cpu.pending_txn() != 0) continue;
      const uint64_t since = on_cpu_since_[static_cast<size_t>(cpu.id)];
      if (cpus.now_ns() < since + opts_.preempt_after_ns) continue;
      if (victim == nullptr || since < victim_since) {
        victim = &cpu;
        victim_since = since;
      }
    }
    if (victim == nullptr) return;
    bool staged = false;
    Task* pick = OldestAllowed(victim->id, &staged);
    // Not allowed there (or the commit refused): leave this cpu be for now.
    on_cpu_since_[static_cast<size_t>(victim->id)] = cpus.now_ns();
    if (pick != nullptr) Place(pick, staged, victim->id, WAVE_COMMIT_F_PREEMPT, txn);
  }
}

// The oldest staged tasks that have waited too long get another copy on the cpu with the most
// staging room (not the one they were last staged on).
void FifoPolicy::Restage(CpuTable& cpus, Txn& txn) {
  Task* t = staged_.Front();
  for (int scanned = 0; t != nullptr && scanned < kMaxScan; ++scanned, t = staged_.Next(t)) {
    uint64_t& staged_at = StateOf(*t).staged_at_ns;
    if (cpus.now_ns() < staged_at + opts_.restage_after_ns) break;
    Cpu* best = nullptr;
    for (Cpu& cpu : cpus.Stageable()) {
      if (cpu.id == t->staged_cpu() || !t->Allowed(cpu.id)) continue;
      if (best == nullptr || cpu.stage_room() > best->stage_room()) best = &cpu;
    }
    if (best == nullptr) return;  // no room anywhere
    if (txn.Stage({.task = t, .cpu = best->id, .seq = t->seq(), .slice_ns = opts_.slice_ns},
                  /*also=*/true) == CommitCheck::kOk) {
      staged_at = cpus.now_ns();
    }
  }
}

}  // namespace wave
