// Centralized FIFO: one global run queue; each available cpu takes the oldest runnable task
// allowed on it. Tasks run until they block or yield (no slice). Optimises for simplicity and
// low per-decision cost; a long task delays everything queued behind it (see Shinjuku for the
// fix). Knobs: none.
#ifndef LIBWAVE_POLICIES_SCHED_FIFO_H_
#define LIBWAVE_POLICIES_SCHED_FIFO_H_

#include <string>

#include "lib/policy.h"

namespace wave {

class FifoPolicy : public Policy {
 public:
  std::string name() const override { return "fifo"; }

  void OnTaskNew(Task& task, const TaskNew& ev) override;
  void OnTaskWakeup(Task& task, const TaskWakeup& ev) override;
  void OnTaskBlocked(Task& task, const TaskBlocked& ev) override;
  void OnTaskPreempted(Task& task, const TaskPreempted& ev) override;
  void OnTaskYield(Task& task, const TaskYield& ev) override;
  void OnTaskDead(Task& task, const TaskDead& ev) override;
  void OnCommitFailed(Task& task, const CommitResult& result) override;
  void Schedule(CpuTable& cpus, Txn& txn) override;

  size_t queued() const { return rq_.size(); }

 private:
  // How far down the queue to look for a task allowed on a cpu before giving up on that cpu.
  static constexpr int kMaxScan = 16;
  void Enqueue(Task& task);
  TaskQueue rq_;
};

}  // namespace wave

#endif  // LIBWAVE_POLICIES_SCHED_FIFO_H_
