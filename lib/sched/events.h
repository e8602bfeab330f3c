// Typed views of the host's messages: each policy callback gets its own event type, so no policy
// author ever casts a raw payload. A view wraps a copy of the message that the agent has already
// validated; it is valid for the duration of the callback.
#ifndef LIBWAVE_LIB_SCHED_EVENTS_H_
#define LIBWAVE_LIB_SCHED_EVENTS_H_

#include <cstdint>

#include "abi/msg_types.h"
#include "abi/wave_abi.h"
#include "lib/sched/task.h"

namespace wave {

class TaskEvent {
 public:
  explicit TaskEvent(const wave_k2a_task& msg) : msg_(msg) {}
  uint64_t task_id() const { return msg_.task_id; }
  Seq seq() const { return msg_.seq; }
  uint64_t time_ns() const { return msg_.time_ns; }
  uint64_t runtime_ns() const { return msg_.runtime_ns; }
  // The cpu where it happened, or -1.
  int cpu() const { return msg_.cpu; }
  // The host did not see the transition happen and inferred it from a later one (a tracing
  // mechanism missed the kernel's event): time_ns is when it was inferred, not when it happened.
  bool inferred() const { return msg_.flags & WAVE_TASK_F_INFERRED; }
  const wave_k2a_task& raw() const { return msg_; }

 protected:
  const wave_k2a_task& msg_;
};

// The task's allowed cpus are decoded into the task itself: Task::cpus().
struct TaskNew : TaskEvent {
  using TaskEvent::TaskEvent;
  bool runnable() const { return msg_.flags & WAVE_TASK_F_RUNNABLE; }
  int nice() const { return msg_.nice; }
};
struct TaskWakeup : TaskEvent {
  using TaskEvent::TaskEvent;
};
struct TaskBlocked : TaskEvent {
  using TaskEvent::TaskEvent;
};
struct TaskPreempted : TaskEvent {
  using TaskEvent::TaskEvent;
};
struct TaskYield : TaskEvent {
  using TaskEvent::TaskEvent;
};
struct TaskDead : TaskEvent {
  using TaskEvent::TaskEvent;
};
struct TaskDeparted : TaskEvent {
  using TaskEvent::TaskEvent;
};
// The new allowed cpus are already the task's: Task::cpus().
struct TaskAffinity : TaskEvent {
  using TaskEvent::TaskEvent;
};
struct TaskPriority : TaskEvent {
  using TaskEvent::TaskEvent;
  int nice() const { return msg_.nice; }
};
struct TaskOnCpu : TaskEvent {
  using TaskEvent::TaskEvent;
};

class CpuEvent {
 public:
  explicit CpuEvent(const wave_k2a_cpu& msg) : msg_(msg) {}
  int cpu() const { return msg_.cpu; }
  uint64_t time_ns() const { return msg_.time_ns; }
  const wave_k2a_cpu& raw() const { return msg_; }

 protected:
  const wave_k2a_cpu& msg_;
};

struct CpuIdle : CpuEvent {
  using CpuEvent::CpuEvent;
};
struct CpuTick : CpuEvent {
  using CpuEvent::CpuEvent;
  // The managed task running on the cpu, or 0.
  uint64_t task_id() const { return msg_.task_id; }
};

// An RPC seen by the NIC before the host's network stack wakes its handler.
class NetRpc {
 public:
  explicit NetRpc(const wave_k2a_net_rpc& msg) : msg_(msg) {}
  uint64_t rpc_id() const { return msg_.rpc_id; }
  uint64_t flow_id() const { return msg_.flow_id; }
  uint64_t task_id() const { return msg_.task_id; }  // the expected handler thread
  uint64_t time_ns() const { return msg_.time_ns; }
  uint32_t bytes() const { return msg_.bytes; }

 private:
  const wave_k2a_net_rpc& msg_;
};

class CommitResult {
 public:
  explicit CommitResult(const wave_k2a_commit_result& msg) : msg_(msg) {}
  bool ok() const { return msg_.status == WAVE_COMMIT_OK; }
  wave_commit_status status() const { return static_cast<wave_commit_status>(msg_.status); }
  uint64_t txn_id() const { return msg_.txn_id; }
  uint64_t task_id() const { return msg_.task_id; }
  int cpu() const { return msg_.cpu; }
  // The task's sequence at the host when it validated the commit.
  Seq host_seq() const { return msg_.seq; }
  uint64_t time_ns() const { return msg_.time_ns; }
  // The result of a prestaged decision (Txn::Stage), not of a commit.
  bool staged() const { return msg_.flags & WAVE_RESULT_F_STAGED; }

 private:
  const wave_k2a_commit_result& msg_;
};

}  // namespace wave

#endif  // LIBWAVE_LIB_SCHED_EVENTS_H_
