// Per-cpu FIFO with work stealing: a run queue per cpu, oldest first. A task that becomes
// runnable joins the queue of the cpu it last ran on (its cache is warm there), unless that queue
// is longer than the shortest one allowed to it by more than affinity_slack; then it joins the
// shortest. An idle cpu takes the oldest task of its own queue, else steals the oldest task of
// the longest other queue. Tasks run until they block or yield (no slice). Optimises for
// locality and for a decision that looks at one cpu's queue, not a global one; like any FIFO,
// a long task delays the tasks queued behind it until an idle cpu steals them.
//
// Prestaging (when the link has staging rings, Cpu::stage_room() > 0): each cpu's queue is staged
// on that cpu, oldest first, up to the ring's depth, so a cpu whose task blocks starts the next
// one of its own queue locally, with no round trip. A staged task still counts in its cpu's queue
// and can be stolen (committed directly to an idle cpu; the host then aborts the staged copy).
//
// Knobs (PerCpuFifoOptions): affinity_slack (default 1 task; 0 always picks the shortest queue).
#ifndef LIBWAVE_POLICIES_SCHED_FIFO_PERCPU_H_
#define LIBWAVE_POLICIES_SCHED_FIFO_PERCPU_H_

#include <array>
#include <cstddef>
#include <deque>
#include <string>

#include "lib/sched/cpu_loads.h"
#include "lib/sched/policy.h"

namespace wave {

struct PerCpuFifoOptions {
  size_t affinity_slack = 1;
};

class PerCpuFifoPolicy : public Policy {
 public:
  explicit PerCpuFifoPolicy(const PerCpuFifoOptions& options = {}) : opts_(options) {}
  std::string name() const override { return "fifo-percpu"; }

  void OnTaskNew(Task& task, const TaskNew& ev) override;
  void OnTaskWakeup(Task& task, const TaskWakeup& ev) override;
  void OnTaskBlocked(Task& task, const TaskBlocked& ev) override;
  void OnTaskPreempted(Task& task, const TaskPreempted& ev) override;
  void OnTaskYield(Task& task, const TaskYield& ev) override;
  void OnTaskDead(Task& task, const TaskDead& ev) override;
  void OnTaskOnCpu(Task& task, const TaskOnCpu& ev) override;
  void OnResync() override;
  void OnTaskAffinity(Task& task, const TaskAffinity& ev) override;
  void OnCommitFailed(Task& task, const CommitResult& result) override;
  void OnCommitDone(Task& task, const CommitResult& result) override;
  void Schedule(CpuTable& cpus, Txn& txn) override;

  // Tasks waiting in `cpu`'s queue, staged there or not (for tests).
  size_t queue_length(int cpu) const;
  uint64_t steals() const { return steals_; }

 private:
  static constexpr size_t kMaxScan = 16;
  // One cpu's queue: the tasks staged on it (older) and the rest. Aligned: one cpu per line.
  struct alignas(64) CpuQueue {
    TaskQueue staged;
    TaskQueue waiting;
    size_t size() const { return staged.size() + waiting.size(); }
  };
  // What the policy keeps of each task (Task::policy_state): the cpu whose queue it joined.
  struct PerTask {
    bool queued;  // it has joined a queue (the last one it joined is `cpu`'s)
    int32_t cpu;
  };
  static int HomeOf(const Task& task) {
    const PerTask& st = task.policy_state<PerTask>();
    return st.queued ? st.cpu : -1;
  }
  void Enqueue(Task& task);
  // The queue a new arrival joins. REQUIRES: the task is allowed on some cpu of `cpus`.
  int PickQueue(const Task& task, const CpuTable& cpus) const;
  void Join(Task& task, int cpu, bool front, bool staged);
  // Takes the task out of its cpu's queue.
  void Leave(Task& task);
  // The oldest task of `q` allowed on `cpu` (staged ones first: they were queued earlier).
  static Task* OldestAllowed(const CpuQueue& q, int cpu);
  Task* Steal(int thief) const;
  // Commits `pick` to the available `cpu` and takes it out of its queue.
  void Place(Task& pick, int cpu, Txn& txn, bool stolen);
  // Reports cpu's queue length to loads_ (after each change to the queue).
  void Touch(int cpu);
  size_t Load(const Cpu& cpu) const { return q_[cpu.id].size() + (cpu.available() ? 0 : 1); }

  const PerCpuFifoOptions opts_;
  // A queue per cpu, grown to the cpus Schedule sees (a deque: queues never move).
  std::deque<CpuQueue> q_;
  CpuLoads loads_;      // the queues' lengths, for the shortest and the longest
  TaskQueue incoming_;  // runnable, not yet given a queue (Schedule does, knowing the cpus)
  TaskQueue retry_;     // their decision failed: back to the front of a queue
  uint64_t steals_ = 0;
};

}  // namespace wave

#endif  // LIBWAVE_POLICIES_SCHED_FIFO_PERCPU_H_
