// Centralized FIFO: one global run queue; each available cpu takes the oldest runnable task
// allowed on it. Tasks run until they block or yield (no slice). Optimises for simplicity and
// low per-decision cost; a long task delays everything queued behind it (see Shinjuku for the
// fix).
//
// Prestaging (when the link has staging rings): once every available cpu has a task, the next
// oldest tasks are staged on the busy cpus, round robin, up to each ring's depth, so a cpu that
// finishes starts the next task locally, with no round trip. FIFO order is kept: a cpu that the
// host reports idle takes the oldest task, queued or staged elsewhere ("stealing" a staged task:
// the host then aborts its staged entry as stale). A task staged behind a long-running one (a
// 5 ms scan) would wait for it, so once it has waited restage_after_ns it is also staged on
// another cpu with room: the first cpu to free up runs it, the host aborts the other copy.
// Knobs (FifoOptions): restage_after_ns (default 20 us; the staging depth is the link's). The
// same queue with time slices and preemption is the Shinjuku policy (shinjuku.h): slice_ns and
// preempt_after_ns are 0 (off) for the plain FIFO.
#ifndef LIBWAVE_POLICIES_SCHED_FIFO_H_
#define LIBWAVE_POLICIES_SCHED_FIFO_H_

#include <cstdint>
#include <string>
#include <vector>

#include "lib/sched/policy.h"

namespace wave {

struct FifoOptions {
  // A staged task that has waited this long gets a second copy on another cpu.
  uint64_t restage_after_ns = 20'000;
  // Every commit and staged decision carries this slice (the host preempts the task when it
  // ends and the task goes to the back of the queue); 0: run until it blocks or yields.
  uint64_t slice_ns = 0;
  // When work waits and no cpu is available, the oldest waiting task displaces (a PREEMPT
  // commit) the task that has been on its cpu longest, if longer than this; 0: never. For hosts
  // that do not enforce slices, and as a safety net for tasks placed without one.
  uint64_t preempt_after_ns = 0;
};

class FifoPolicy : public Policy {
 public:
  explicit FifoPolicy(uint64_t restage_after_ns = 20'000)
      : FifoPolicy(FifoOptions{.restage_after_ns = restage_after_ns}) {}
  explicit FifoPolicy(const FifoOptions& options) : opts_(options) {}
  std::string name() const override { return "fifo"; }

  void OnTaskNew(Task& task, const TaskNew& ev) override;
  void OnTaskWakeup(Task& task, const TaskWakeup& ev) override;
  void OnTaskBlocked(Task& task, const TaskBlocked& ev) override;
  void OnTaskPreempted(Task& task, const TaskPreempted& ev) override;
  void OnTaskYield(Task& task, const TaskYield& ev) override;
  void OnTaskDead(Task& task, const TaskDead& ev) override;
  void OnCommitFailed(Task& task, const CommitResult& result) override;
  void OnCommitDone(Task& task, const CommitResult& result) override;
  void OnTaskOnCpu(Task& task, const TaskOnCpu& ev) override;
  void OnResync() override;
  void Schedule(CpuTable& cpus, Txn& txn) override;

  // What the policy keeps of each task (Task::policy_state).
  struct PerTask {
    uint64_t arrival;       // order of its last arrival in the queue (smaller is older)
    uint64_t staged_at_ns;  // when it was last staged (while it is in the staged queue)
  };

  size_t queued() const { return rq_.size(); }
  size_t staged() const { return staged_.size(); }
  const FifoOptions& options() const { return opts_; }

 protected:
  // For policies built on this one: a task staged outside FifoPolicy::Schedule (e.g. for an
  // expected wakeup) at `now_ns` (CpuTable::now_ns()) joins the staged queue, so it is stolen
  // or restaged like the others.
  void TrackStaged(Task& task, uint64_t now_ns);

 private:
  // How far down a queue to look for a task allowed on a cpu before giving up on that cpu.
  static constexpr int kMaxScan = 16;
  void Enqueue(Task& task);
  void Requeue(Task& task);
  // The oldest task allowed on `cpu`, queued or staged elsewhere (*staged says which), or null.
  Task* OldestAllowed(int cpu, bool* staged) const;
  // Commits `task` (the result of OldestAllowed) to `cpu` and takes it out of its queue.
  bool Place(Task* task, bool staged, int cpu, uint32_t flags, Txn& txn);
  void Unstage(Task& task);
  void Restage(CpuTable& cpus, Txn& txn);
  void PreemptOverruns(CpuTable& cpus, Txn& txn);
  const FifoOptions opts_;
  TaskQueue rq_;                        // runnable, waiting; oldest first
  TaskQueue staged_;                    // staged on some cpu, not yet taken; oldest first
  uint64_t arrivals_ = 0;               // arrival order (smaller is older)
  std::vector<uint64_t> on_cpu_since_;  // when each cpu's task went on it
};

}  // namespace wave

#endif  // LIBWAVE_POLICIES_SCHED_FIFO_H_
