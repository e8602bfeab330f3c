#include "policies/sched/rpc.h"

namespace wave {

void RpcPolicy::OnNetRpc(Task* handler, const NetRpc&) {
  // Only a sleeping handler needs its wakeup prepared; a running one takes the RPC itself.
  if (handler == nullptr || handler->state() != TaskState::kBlocked || handler->staged() ||
      handler->queue() != nullptr) {
    return;
  }
  expected_.PushBack(handler);
}

void RpcPolicy::OnTaskWakeup(Task& task, const TaskWakeup& ev) {
  expected_.Remove(&task);  // woke before we could stage it: plain FIFO from here
  FifoPolicy::OnTaskWakeup(task, ev);
}

void RpcPolicy::OnTaskDead(Task& task, const TaskDead& ev) {
  expected_.Remove(&task);
  FifoPolicy::OnTaskDead(task, ev);
}

void RpcPolicy::OnResync() {
  expected_.Clear();
  FifoPolicy::OnResync();
}

void RpcPolicy::Schedule(CpuTable& cpus, Txn& txn) {
  FifoPolicy::Schedule(cpus, txn);  // runnable work first
  // Then each expected handler gets an idle cpu that nothing else was placed on.
  for (Cpu& cpu : cpus.Available()) {
    if (expected_.empty()) return;
    if (cpu.stage_room() == 0 || cpu.staged() > 0) continue;
    Task* t = expected_.PopFront();
    if (t->state() != TaskState::kBlocked) continue;  // cannot happen: wakeups leave the queue
    if (txn.StageForWakeup({.task = t, .cpu = cpu.id, .seq = t->seq() + 1}) == CommitCheck::kOk) {
      TrackStaged(*t, cpus.now_ns());
      ++staged_for_wakeup_;
    }
  }
}

}  // namespace wave
