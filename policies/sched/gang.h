// VM-aware gang scheduling: the vCPU threads of one VM (tasks sharing a Task::gang()) run
// together or not at all, placed with group commits (all-or-nothing at the host), and they are
// kept off the cpus that run other ("antagonist") work.
//
// The cpus are split once the tasks are known: gang cpus, in blocks as wide as the largest gang
// (member k of a gang always runs on cpu k of its block), and the rest for everything else (at
// least one, so nothing starves). A block belongs to one gang at a time: when the whole block is
// free it goes to the next gang with runnable members, placed with one group commit of slice_ns
// (or the runnable members alone, if some are halted); while the gang owns the block, a member
// that wakes joins its siblings at once on its own cpu. Other tasks share the remaining cpus
// round robin with the same slice, and borrow a block no gang can use.
// Optimises: useful vCPU time (a vCPU running without its siblings mostly spins on locks they
// hold) and isolation from antagonists. Knobs: slice_ns (default 5 ms).
#ifndef LIBWAVE_POLICIES_SCHED_GANG_H_
#define LIBWAVE_POLICIES_SCHED_GANG_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "lib/sched/policy.h"

namespace wave {

class GangPolicy : public Policy {
 public:
  explicit GangPolicy(uint64_t slice_ns = 5'000'000) : slice_ns_(slice_ns) {}
  std::string name() const override { return "gang"; }

  void OnTaskNew(Task& task, const TaskNew& ev) override;
  void OnTaskWakeup(Task& task, const TaskWakeup& ev) override;
  void OnTaskBlocked(Task& task, const TaskBlocked& ev) override;
  void OnTaskPreempted(Task& task, const TaskPreempted& ev) override;
  void OnTaskYield(Task& task, const TaskYield& ev) override;
  void OnTaskDead(Task& task, const TaskDead& ev) override;
  void OnCommitFailed(Task& task, const CommitResult& result) override;
  void OnResync() override;
  void Schedule(CpuTable& cpus, Txn& txn) override;

 private:
  struct Block {
    std::vector<int> cpus;
    std::vector<uint32_t> gangs;  // served in turn
    size_t next = 0;
    uint32_t owner = 0;  // the gang placed here last; 0 when the block was free
  };
  void Layout(CpuTable& cpus);
  void Enqueue(Task& task);
  void PlaceGang(uint32_t gang, const Block& block, Txn& txn);

  const uint64_t slice_ns_;
  std::map<uint32_t, std::vector<Task*>> gangs_;  // by gang id, members in task order
  TaskQueue others_;                              // runnable non-gang tasks, oldest first
  bool laid_out_ = false;
  std::vector<Block> blocks_;
  std::vector<int> other_cpus_;
};

}  // namespace wave

#endif  // LIBWAVE_POLICIES_SCHED_GANG_H_
