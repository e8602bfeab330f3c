// Network-aware RPC policy: the centralized FIFO (fifo.h), plus the IPU's view of the network.
// The NIC sits next to the agent, so an RPC's arrival (NET_RPC, naming the flow's handler
// thread) reaches the agent before the host's network stack has woken the handler. The policy
// stages the handler on an idle cpu for the wakeup it expects (Txn::StageForWakeup, sequence
// + 1): when the host wakes the thread it finds the decision at the head of that cpu's staging
// ring and runs it at once, with no round trip to the agent. If the guess is wrong (the cpu was
// taken, the thread woke for something else) the host aborts the decision as stale and the
// thread is scheduled as usual (stolen or restaged like any staged task).
// Optimises: RPC latency with the agent offloaded. Knobs: those of fifo. Needs prestaging.
#ifndef LIBWAVE_POLICIES_SCHED_RPC_H_
#define LIBWAVE_POLICIES_SCHED_RPC_H_

#include <string>

#include "policies/sched/fifo.h"

namespace wave {

class RpcPolicy : public FifoPolicy {
 public:
  std::string name() const override { return "rpc"; }
  // The NIC's view: every RPC's arrival, before the host's network stack wakes its handler.
  std::vector<uint16_t> Subscriptions() const override { return {WAVE_EV_NET_RPC}; }
  void OnNetRpc(Task* handler, const NetRpc& ev) override;
  void OnTaskWakeup(Task& task, const TaskWakeup& ev) override;
  void OnTaskDead(Task& task, const TaskDead& ev) override;
  void OnResync() override;
  void Schedule(CpuTable& cpus, Txn& txn) override;

  uint64_t staged_for_wakeup() const { return staged_for_wakeup_; }

 private:
  TaskQueue expected_;  // blocked handlers an RPC is on its way to
  uint64_t staged_for_wakeup_ = 0;
};

}  // namespace wave

#endif  // LIBWAVE_POLICIES_SCHED_RPC_H_
