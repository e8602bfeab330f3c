#include "policies/sched/fair.h"

#include <algorithm>
#include <vector>

#include "lib/nice.h"

namespace wave {

void FairPolicy::Charge(Task& task) {
  uint64_t& charged = charged_[task.id()];
  if (task.runtime_ns() <= charged) return;
  const uint64_t ran = task.runtime_ns() - charged;
  charged = task.runtime_ns();
  task.policy_word += VirtualNs(ran, NiceToWeight(task.nice()));
}

void FairPolicy::Enqueue(Task& task) {
  if (task.Placeable()) rq_.Push(&task, task.policy_word);
}

void FairPolicy::OnTaskNew(Task& task, const TaskNew&) {
  charged_[task.id()] = task.runtime_ns();  // what it ran before the agent knew it is not owed
  task.policy_word = min_vruntime_;
  Enqueue(task);
}

void FairPolicy::OnTaskWakeup(Task& task, const TaskWakeup&) {
  Charge(task);
  const uint64_t floor =
      min_vruntime_ > opts_.wakeup_credit_ns ? min_vruntime_ - opts_.wakeup_credit_ns : 0;
  task.policy_word = std::max(task.policy_word, floor);
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

void FairPolicy::OnTaskDead(Task& task, const TaskDead&) { charged_.erase(task.id()); }

// Its virtual runtime did not move: it goes back where it was.
void FairPolicy::OnCommitFailed(Task& task, const CommitResult&) { Enqueue(task); }

void FairPolicy::OnResync() { charged_.clear(); }  // every task comes back through OnTaskNew

void FairPolicy::Schedule(CpuTable& cpus, Txn& txn) {
  std::vector<Task*> skipped;  // smaller, but not allowed on the cpu at hand
  for (Cpu& cpu : cpus) {
    if (rq_.empty()) break;
    if (!cpu.available()) continue;
    Task* pick = nullptr;
    while (pick == nullptr && !rq_.empty() && static_cast<int>(skipped.size()) < kMaxScan) {
      Task* t = rq_.Pop();
      if (t->Allowed(cpu.id)) {
        pick = t;
      } else {
        skipped.push_back(t);
      }
    }
    for (Task* t : skipped) rq_.Push(t, t->policy_word);
    skipped.clear();
    if (pick == nullptr) continue;
    if (txn.Commit({.task = pick, .cpu = cpu.id, .seq = pick->seq(), .slice_ns = opts_.slice_ns}) !=
        CommitCheck::kOk) {
      rq_.Push(pick, pick->policy_word);  // cannot happen for a queued task on an available cpu
      continue;
    }
    min_vruntime_ = std::max(min_vruntime_, pick->policy_word);
  }
}

}  // namespace wave
