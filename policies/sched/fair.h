// Fair share (CFS-style, centralized): every runnable task gets cpu time in proportion to its
// weight, from its nice value by the Linux table (lib/nice.h: nice 0 = 1024, ~1.25x a step).
// Each task has a virtual runtime that advances by its cpu time (the runtime_ns the host reports
// in each event) scaled by 1024 / weight; an available cpu runs the task with the smallest
// virtual runtime, for at most slice_ns (the host preempts it then, and it is charged and queued
// again). Optimises for proportional sharing among cpu-bound tasks and for no starvation: a task
// that waits keeps its virtual runtime while every task that runs moves past it, so it is picked
// within a bounded time. A task that wakes after a sleep is placed at no less than the smallest
// virtual runtime seen minus wakeup_credit_ns, so it runs soon but cannot bank its sleep; a new
// task starts at that smallest virtual runtime.
//
// Not done: prestaging (the next pick depends on runtimes reported at the moment the slice ends;
// a staged choice would be a slice stale), and preempting a running task for a waking one (a
// waker waits for the next free cpu, at most a slice).
//
// Knobs (FairOptions): slice_ns (default 1 ms), wakeup_credit_ns (default 0.5 ms).
#ifndef LIBWAVE_POLICIES_SCHED_FAIR_H_
#define LIBWAVE_POLICIES_SCHED_FAIR_H_

#include <cstdint>
#include <string>

#include "lib/sched/policy.h"

namespace wave {

struct FairOptions {
  uint64_t slice_ns = 1'000'000;
  uint64_t wakeup_credit_ns = 500'000;
};

class FairPolicy : public Policy {
 public:
  explicit FairPolicy(const FairOptions& options = {}) : opts_(options) {}
  std::string name() const override { return "fair"; }

  void OnTaskNew(Task& task, const TaskNew& ev) override;
  void OnTaskWakeup(Task& task, const TaskWakeup& ev) override;
  void OnTaskBlocked(Task& task, const TaskBlocked& ev) override;
  void OnTaskPreempted(Task& task, const TaskPreempted& ev) override;
  void OnTaskYield(Task& task, const TaskYield& ev) override;
  void OnTaskDead(Task& task, const TaskDead& ev) override;
  void OnCommitFailed(Task& task, const CommitResult& result) override;
  void Schedule(CpuTable& cpus, Txn& txn) override;

  // What the policy keeps of each task (Task::policy_state).
  struct PerTask {
    uint64_t vruntime;    // virtual ns
    uint64_t charged_ns;  // the task's runtime_ns accounted in vruntime so far
  };
  // A task's virtual runtime, in virtual ns.
  static uint64_t VirtualRuntime(const Task& task) { return task.policy_state<PerTask>().vruntime; }
  uint64_t min_vruntime() const { return min_vruntime_; }
  size_t queued() const { return rq_.size(); }

 private:
  // How many of the smallest tasks to look at for one allowed on a cpu.
  static constexpr int kMaxScan = 16;
  // Advances the task's virtual runtime by the cpu time it used since the last event.
  void Charge(Task& task);
  void Enqueue(Task& task);
  const FairOptions opts_;
  TaskHeap rq_;                // runnable, waiting; by virtual runtime
  uint64_t min_vruntime_ = 0;  // never goes back
};

}  // namespace wave

#endif  // LIBWAVE_POLICIES_SCHED_FAIR_H_
