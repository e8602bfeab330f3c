// Pinning: every task has a home cpu, chosen once from the cpus it may use by its id (the k-th
// allowed cpu, k = id mod their number), and each time it becomes runnable the policy commits it
// there, preempting if the cpu is busy (a mechanism that cannot preempt answers CPU_BUSY and the
// task waits for its cpu). On the trace mechanism a commit is an affinity, so the task stays home
// and later commits only confirm it. Deterministic: the same ids and masks give the same homes,
// which is what tests check. Each commit asks for a slice of
// kSliceNs (on Linux, the thread's EEVDF slice request): pinned threads are meant to run long.
// Knobs: none.
#ifndef LIBWAVE_POLICIES_SCHED_PIN_H_
#define LIBWAVE_POLICIES_SCHED_PIN_H_

#include <string>

#include "lib/sched/policy.h"

namespace wave {

class PinPolicy : public Policy {
 public:
  static constexpr uint64_t kSliceNs = 3'000'000;

  // What the policy keeps of each task (Task::policy_state).
  struct PerTask {
    bool homed;  // its home is chosen
    int32_t home;
    uint64_t preempted_at_ns;  // when it was last preempted at home (0: not since its commit)
  };

  std::string name() const override { return "pin"; }

  // The home of a task with this id and allowed cpus (those below num_cpus), or -1 for none.
  static int HomeCpu(uint64_t id, const CpuSet& cpus, int num_cpus);

  void OnTaskNew(Task& task, const TaskNew& ev) override;
  void OnTaskWakeup(Task& task, const TaskWakeup& ev) override;
  void OnTaskBlocked(Task& task, const TaskBlocked& ev) override;
  void OnTaskPreempted(Task& task, const TaskPreempted& ev) override;
  void OnTaskYield(Task& task, const TaskYield& ev) override;
  void OnTaskDead(Task& task, const TaskDead& ev) override;
  void OnTaskAffinity(Task& task, const TaskAffinity& ev) override;
  void OnCommitFailed(Task& task, const CommitResult& result) override;
  void Schedule(CpuTable& cpus, Txn& txn) override;

  size_t queued() const { return rq_.size(); }

 private:
  void Enqueue(Task& task);
  TaskQueue rq_;  // runnable tasks waiting for a commit to their home
};

}  // namespace wave

#endif  // LIBWAVE_POLICIES_SCHED_PIN_H_
