// The scheduling policy interface. A policy is plain C++: it sees typed events about tasks and
// cpus, and once per drained batch it places tasks on available cpus through a Txn. It never
// touches the link, so every policy runs unchanged on the simulator, on stock Linux and on
// sched_ext, and is unit-testable with no kernel.
//
// Callbacks are made after the agent has applied the event to its model: in OnTaskWakeup the
// task is already runnable, in OnTaskBlocked it is already off its cpu. Required callbacks are
// pure virtual; optional ones default to nothing. The time to decide by is the host's as of the
// latest event, CpuTable::now_ns() in Schedule: a policy keeps no clock of its own.
#ifndef LIBWAVE_LIB_SCHED_POLICY_H_
#define LIBWAVE_LIB_SCHED_POLICY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "lib/sched/events.h"
#include "lib/sched/task.h"
#include "lib/sched/txn.h"

namespace wave {

class Policy {
 public:
  virtual ~Policy() = default;
  virtual std::string name() const = 0;

  virtual void OnTaskNew(Task& task, const TaskNew& ev) = 0;
  virtual void OnTaskWakeup(Task& task, const TaskWakeup& ev) = 0;
  virtual void OnTaskBlocked(Task& task, const TaskBlocked& ev) = 0;
  virtual void OnTaskPreempted(Task& task, const TaskPreempted& ev) = 0;
  virtual void OnTaskYield(Task& task, const TaskYield& ev) = 0;
  // The task is freed when this returns (the agent takes it out of any TaskQueue or TaskHeap).
  virtual void OnTaskDead(Task& task, const TaskDead& ev) = 0;
  // A commit of this policy failed (stale, cpu busy, ...). The task's pending mark is cleared;
  // if it is still runnable the policy must queue it again or it will never run.
  virtual void OnCommitFailed(Task& task, const CommitResult& result) = 0;
  // Places work: called once after each drained batch of events.
  virtual void Schedule(CpuTable& cpus, Txn& txn) = 0;

  // The task left the policy but lives on; freed when this returns. Default: as if dead.
  virtual void OnTaskDeparted(Task& task, const TaskDeparted& ev) {
    OnTaskDead(task, TaskDead(ev.raw()));
  }
  virtual void OnTaskAffinity(Task& /*task*/, const TaskAffinity& /*ev*/) {}
  virtual void OnTaskPriority(Task& /*task*/, const TaskPriority& /*ev*/) {}
  virtual void OnTaskOnCpu(Task& /*task*/, const TaskOnCpu& /*ev*/) {}
  virtual void OnCommitDone(Task& /*task*/, const CommitResult& /*result*/) {}
  virtual void OnCpuIdle(Cpu& /*cpu*/, const CpuIdle& /*ev*/) {}
  virtual void OnCpuTick(Cpu& /*cpu*/, const CpuTick& /*ev*/) {}
  // Cross-subsystem input: the message types of other subsystems this policy wants. Each arrives
  // in its typed callback below; nothing else does. Default: none.
  virtual std::vector<uint16_t> Subscriptions() const { return {}; }
  // WAVE_EV_NET_RPC (subscribe to it): an RPC arrived at the NIC for a thread that will wake to
  // handle it (network-aware policies prepare the thread's cpu before the host's wakeup arrives).
  // `handler` is the task the NIC names, or null when the agent does not know it.
  virtual void OnNetRpc(Task* /*handler*/, const NetRpc& /*ev*/) {}
  // The host is resynchronising (a restarted agent, or events lost to a full ring): every task
  // has just been freed (and taken out of any TaskQueue or TaskHeap) and will come back through
  // OnTaskNew with its current state. Reset any other per-task state the policy keeps.
  virtual void OnResync() {}
};

}  // namespace wave

#endif  // LIBWAVE_LIB_SCHED_POLICY_H_
