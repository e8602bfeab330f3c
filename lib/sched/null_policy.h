// A policy that does nothing: it hears every event and never commits. For tests that own the
// queues themselves, and benchmarks that measure the cost of delivering events alone.
#ifndef LIBWAVE_LIB_SCHED_NULL_POLICY_H_
#define LIBWAVE_LIB_SCHED_NULL_POLICY_H_

#include <string>

#include "lib/sched/policy.h"

namespace wave {

class NullPolicy : public Policy {
 public:
  std::string name() const override { return "null"; }
  void OnTaskNew(Task&, const TaskNew&) override {}
  void OnTaskWakeup(Task&, const TaskWakeup&) override {}
  void OnTaskBlocked(Task&, const TaskBlocked&) override {}
  void OnTaskPreempted(Task&, const TaskPreempted&) override {}
  void OnTaskYield(Task&, const TaskYield&) override {}
  void OnTaskDead(Task&, const TaskDead&) override {}
  void OnCommitFailed(Task&, const CommitResult&) override {}
  void Schedule(CpuTable&, Txn&) override {}
};

}  // namespace wave

#endif  // LIBWAVE_LIB_SCHED_NULL_POLICY_H_
