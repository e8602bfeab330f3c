#include "policies/sched/pin.h"

namespace wave {
namespace {

// A task preempted at home preempts back only a slice later: two tasks with one home would
// otherwise displace each other without pause on a host that honours PREEMPT (the simulator); on
// the trace mechanism, where a commit is an affinity, the commits simply come once a slice.
PinPolicy::PerTask& StateOf(Task& t) { return t.policy_state<PinPolicy::PerTask>(); }

}  // namespace

int PinPolicy::HomeCpu(uint64_t id, const CpuSet& cpus, int num_cpus) {
  int allowed = 0;
  for (int c = cpus.First(); c >= 0 && c < num_cpus; c = cpus.Next(c)) ++allowed;
  if (allowed == 0) return -1;
  int k = static_cast<int>(id % static_cast<uint64_t>(allowed));
  for (int c = cpus.First(); c >= 0 && c < num_cpus; c = cpus.Next(c)) {
    if (k-- == 0) return c;
  }
  return -1;
}

void PinPolicy::Enqueue(Task& task) {
  if (task.runnable() && !task.commit_pending() && !rq_.Contains(&task)) {
    rq_.PushBack(&task);
  }
}

void PinPolicy::OnTaskNew(Task& task, const TaskNew&) {
  StateOf(task) = {};  // home chosen in Schedule, where the number of cpus is known
  Enqueue(task);
}
void PinPolicy::OnTaskWakeup(Task& task, const TaskWakeup&) { Enqueue(task); }
void PinPolicy::OnTaskBlocked(Task& task, const TaskBlocked&) { rq_.Remove(&task); }
void PinPolicy::OnTaskPreempted(Task& task, const TaskPreempted& ev) {
  PerTask& st = StateOf(task);
  if (st.homed && ev.cpu() == st.home) st.preempted_at_ns = ev.time_ns();  // elsewhere: go home
  Enqueue(task);
}
void PinPolicy::OnTaskYield(Task& task, const TaskYield&) { Enqueue(task); }
void PinPolicy::OnTaskDead(Task& task, const TaskDead&) { rq_.Remove(&task); }

void PinPolicy::OnTaskAffinity(Task& task, const TaskAffinity&) {
  StateOf(task) = {};  // new cpus: a new home
  Enqueue(task);
}

void PinPolicy::OnCommitFailed(Task& task, const CommitResult&) { Enqueue(task); }

void PinPolicy::Schedule(CpuTable& cpus, Txn& txn) {
  for (Task* t = rq_.Front(); t != nullptr;) {
    Task* next = rq_.Next(t);
    PerTask& st = StateOf(*t);
    if (!st.homed) {
      const int home = HomeCpu(t->id(), t->cpus(), cpus.size());
      if (home < 0) {  // nowhere to go: leave it to the host
        rq_.Remove(t);
        t = next;
        continue;
      }
      st = {.homed = true, .home = home, .preempted_at_ns = 0};
    }
    Cpu& cpu = cpus[st.home];
    const uint64_t preempted = st.preempted_at_ns;
    const bool yielding = preempted != 0 && cpus.now_ns() < preempted + kSliceNs;
    if (cpu.pending_txn() == 0 && (cpu.available() || !yielding)) {
      const uint32_t flags = cpu.available() ? 0 : WAVE_COMMIT_F_PREEMPT;
      if (txn.Commit(
              {.task = t, .cpu = cpu.id, .seq = t->seq(), .slice_ns = kSliceNs, .flags = flags}) ==
          CommitCheck::kOk) {
        rq_.Remove(t);
        st.preempted_at_ns = 0;
      }
    }
    t = next;
  }
}

}  // namespace wave
