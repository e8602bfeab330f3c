#include "policies/sched/pin.h"

namespace wave {
namespace {

// policy_word: home cpu + 1 in the low 8 bits (0: not chosen yet); above them, when the task was
// last preempted at home (ns >> 8). A task preempted at home preempts back only a slice later:
// two tasks with one home would otherwise displace each other without pause on a host that
// honours PREEMPT (the simulator); on the trace mechanism, where a commit is an affinity, the
// commits simply come once a slice.
constexpr uint64_t kHomeBits = 0xff;
int Home(const Task& t) { return static_cast<int>(t.policy_word & kHomeBits) - 1; }
uint64_t PreemptedAt(const Task& t) { return (t.policy_word >> 8) << 8; }

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
  task.policy_word = 0;  // home chosen in Schedule, where the number of cpus is known
  Enqueue(task);
}
void PinPolicy::OnTaskWakeup(Task& task, const TaskWakeup&) { Enqueue(task); }
void PinPolicy::OnTaskBlocked(Task& task, const TaskBlocked&) { rq_.Remove(&task); }
void PinPolicy::OnTaskPreempted(Task& task, const TaskPreempted& ev) {
  if (task.policy_word != 0 && ev.cpu() == Home(task)) {  // elsewhere it just goes home
    task.policy_word = (task.policy_word & kHomeBits) | ((ev.time_ns() >> 8) << 8);
  }
  Enqueue(task);
}
void PinPolicy::OnTaskYield(Task& task, const TaskYield&) { Enqueue(task); }
void PinPolicy::OnTaskDead(Task& task, const TaskDead&) { rq_.Remove(&task); }

void PinPolicy::OnTaskAffinity(Task& task, const TaskAffinity&) {
  task.policy_word = 0;  // a new mask: a new home
  Enqueue(task);
}

void PinPolicy::OnCommitFailed(Task& task, const CommitResult&) { Enqueue(task); }

void PinPolicy::Schedule(CpuTable& cpus, Txn& txn) {
  for (Task* t = rq_.Front(); t != nullptr;) {
    Task* next = rq_.Next(t);
    if (t->policy_word == 0) {
      const int home = HomeCpu(t->id(), t->cpus(), cpus.size());
      if (home < 0) {  // nowhere to go: leave it to the host
        rq_.Remove(t);
        t = next;
        continue;
      }
      t->policy_word = static_cast<uint64_t>(home) + 1;
    }
    Cpu& cpu = cpus[Home(*t)];
    const uint64_t preempted = PreemptedAt(*t);
    const bool yielding = preempted != 0 && cpus.now_ns() < preempted + kSliceNs;
    if (cpu.pending_txn == 0 && (cpu.available() || !yielding)) {
      const uint32_t flags = cpu.available() ? 0 : WAVE_COMMIT_F_PREEMPT;
      if (txn.Commit(
              {.task = t, .cpu = cpu.id, .seq = t->seq(), .slice_ns = kSliceNs, .flags = flags}) ==
          CommitCheck::kOk) {
        rq_.Remove(t);
        t->policy_word &= kHomeBits;
      }
    }
    t = next;
  }
}

}  // namespace wave
