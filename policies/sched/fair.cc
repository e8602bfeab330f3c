#include "policies/sched/fair.h"

#include <algorithm>
#include <vector>

#include "lib/sched/nice.h"

namespace wave {

void FairPolicy::Charge(Task& task) {
  PerTask& st = task.policy_state<PerTask>();
  if (task.runtime_ns() <= st.charged_ns) return;
  const uint64_t ran = task.runtime_ns() - st.charged_ns;
  st.charged_ns = task.runtime_ns();
  st.vruntime += VirtualNs(ran, NiceToWeight(task.nice()));
}

void FairPolicy::Enqueue(Task& task) {
  if (task.Placeable()) rq_.Push(&task, VirtualRuntime(task));
}

void FairPolicy::OnTaskNew(Task& task, const TaskNew&) {
  // What it ran before the agent knew it is not owed.
  task.policy_state<PerTask>() = {.vruntime = min_vruntime_, .charged_ns = task.runtime_ns()};
  Enqueue(task);
}

void FairPolicy::OnTaskWakeup(Task& task, const TaskWakeup&) {
  Charge(task);
  const uint64_t floor =
      min_vruntime_ > opts_.wakeup_credit_ns ? min_vruntime_ - opts_.wakeup_credit_ns : 0;
  uint64_t& vruntime = task.policy_state<PerTask>().vruntime;
  vruntime = std::max(vruntime, floor);
  Enqueue(task);
}

void FairPolicy::OnTaskBlocked(Task& task, const TaskBlocked&) { Charge(task); }

void FairPolicy::OnTaskPreempted(Task& task, const TaskPreempted&) {
  Charge(task);
  Enqueue(task);
}

void FairPolicy::OnTaskYield(Task& task, const TaskYield&) {
  Charge(task);
  Enqueue(task);
}

void FairPolicy::OnTaskDead(Task&, const TaskDead&) {}  // the agent takes it out of rq_

// Its virtual runtime did not move: it goes back where it was.
void FairPolicy::OnCommitFailed(Task& task, const CommitResult&) { Enqueue(task); }

void FairPolicy::Schedule(CpuTable& cpus, Txn& txn) {
  std::vector<Task*> skipped;  // smaller, but not allowed on the cpu at hand
  for (Cpu& cpu : cpus.Available()) {
    if (rq_.empty()) break;
    Task* pick = nullptr;
    while (pick == nullptr && !rq_.empty() && static_cast<int>(skipped.size()) < kMaxScan) {
      Task* t = rq_.Pop();
      if (t->Allowed(cpu.id)) {
        pick = t;
      } else {
        skipped.push_back(t);
      }
    }
    for (Task* t : skipped) rq_.Push(t, VirtualRuntime(*t));
    skipped.clear();
    if (pick == nullptr) continue;
    if (txn.Commit({.task = pick, .cpu = cpu.id, .seq = pick->seq(), .slice_ns = opts_.slice_ns}) !=
        CommitCheck::kOk) {
      rq_.Push(pick, VirtualRuntime(*pick));  // cannot happen: a queued task, an available cpu
      continue;
    }
    min_vruntime_ = std::max(min_vruntime_, VirtualRuntime(*pick));
  }
}

}  // namespace wave
