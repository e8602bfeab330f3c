#include "policies/sched/gang.h"

#include <algorithm>

namespace wave {

void GangPolicy::Enqueue(Task& task) {
  if (task.gang() != 0) return;  // gang members are placed by gang, not queued
  if (task.runnable() && !task.commit_pending() && !others_.Contains(&task)) {
    others_.PushBack(&task);
  }
}

void GangPolicy::OnTaskNew(Task& task, const TaskNew&) {
  if (task.gang() != 0) {
    gangs_[task.gang()].push_back(&task);
    laid_out_ = false;  // a new VM: lay the cpus out again
  }
  Enqueue(task);
}
void GangPolicy::OnTaskWakeup(Task& task, const TaskWakeup&) { Enqueue(task); }
void GangPolicy::OnTaskBlocked(Task& task, const TaskBlocked&) { others_.Remove(&task); }
void GangPolicy::OnTaskPreempted(Task& task, const TaskPreempted&) { Enqueue(task); }
void GangPolicy::OnTaskYield(Task& task, const TaskYield&) { Enqueue(task); }
void GangPolicy::OnTaskDead(Task& task, const TaskDead&) {
  others_.Remove(&task);
  if (task.gang() == 0) return;
  auto it = gangs_.find(task.gang());
  if (it == gangs_.end()) return;
  std::erase(it->second, &task);
  if (it->second.empty()) gangs_.erase(it);
  laid_out_ = false;
}
void GangPolicy::OnCommitFailed(Task& task, const CommitResult&) { Enqueue(task); }
void GangPolicy::OnResync() {
  gangs_.clear();  // the tasks were freed; they come back through OnTaskNew
  laid_out_ = false;
}

void GangPolicy::Layout(CpuTable& cpus) {
  blocks_.clear();
  other_cpus_.clear();
  size_t width = 1;
  for (const auto& [id, members] : gangs_) width = std::max(width, members.size());
  // The cpus the gangs may use (a cpu the host runs something else on is in no task's mask).
  std::vector<int> usable;
  for (const Cpu& cpu : cpus) {
    bool allowed = gangs_.empty();
    for (const auto& [id, members] : gangs_) {
      for (const Task* t : members) allowed = allowed || t->Allowed(cpu.id);
    }
    if (allowed) usable.push_back(cpu.id);
  }
  // Leave at least one cpu for other work, so nothing starves.
  const size_t for_gangs = usable.size() > width ? usable.size() - 1 : usable.size();
  const size_t nblocks = std::min(gangs_.size(), for_gangs / width);
  for (size_t b = 0; b < nblocks; ++b) {
    Block block;
    block.cpus.assign(usable.begin() + static_cast<std::ptrdiff_t>(b * width),
                      usable.begin() + static_cast<std::ptrdiff_t>((b + 1) * width));
    blocks_.push_back(std::move(block));
  }
  size_t i = 0;
  for (const auto& [id, members] : gangs_) {
    if (!blocks_.empty()) blocks_[i++ % blocks_.size()].gangs.push_back(id);
  }
  other_cpus_.assign(usable.begin() + static_cast<std::ptrdiff_t>(nblocks * width), usable.end());
  laid_out_ = true;
}

void GangPolicy::PlaceGang(uint32_t gang, const Block& block, Txn& txn) {
  std::vector<CommitOptions> members;
  const std::vector<Task*>& tasks = gangs_[gang];
  for (size_t k = 0; k < tasks.size() && k < block.cpus.size(); ++k) {
    Task* t = tasks[k];
    if (!t->runnable() || t->commit_pending()) continue;
    members.push_back({.task = t, .cpu = block.cpus[k], .seq = t->seq(), .slice_ns = slice_ns_});
  }
  if (members.empty()) return;
  // All together or none, where the host decides that atomically; one by one where it cannot
  // (WAVE_FEAT_GROUPS not agreed: the vCPUs go on together as far as the cpus allow).
  if (members.size() == tasks.size() && txn.groups()) {
    txn.CommitGroup(members);
    return;
  }
  for (const CommitOptions& m : members) txn.Commit(m);  // a partly idle VM: what can run
}

void GangPolicy::Schedule(CpuTable& cpus, Txn& txn) {
  if (!laid_out_) Layout(cpus);
  std::vector<int> lendable;  // block cpus no gang can use now
  for (Block& block : blocks_) {
    const bool free = std::all_of(block.cpus.begin(), block.cpus.end(), [&](int c) {
      return cpus[c].available() && cpus[c].current() == nullptr;
    });
    if (free) block.owner = 0;
    if (block.owner != 0) {
      // The owner keeps the block: members that woke join their siblings on their own cpus.
      const std::vector<Task*>& tasks = gangs_[block.owner];
      for (size_t k = 0; k < tasks.size() && k < block.cpus.size(); ++k) {
        Task* t = tasks[k];
        if (t->runnable() && !t->commit_pending() && cpus[block.cpus[k]].available()) {
          txn.Commit({.task = t, .cpu = block.cpus[k], .seq = t->seq(), .slice_ns = slice_ns_});
        }
      }
      continue;
    }
    if (!free) continue;  // a borrower is finishing its slice
    // The next gang with something to run gets the whole block.
    bool placed = false;
    for (size_t tries = 0; tries < block.gangs.size() && !placed; ++tries) {
      const uint32_t gang = block.gangs[block.next];
      block.next = (block.next + 1) % block.gangs.size();
      const std::vector<Task*>& tasks = gangs_[gang];
      if (std::any_of(tasks.begin(), tasks.end(),
                      [](const Task* t) { return t->runnable() && !t->commit_pending(); })) {
        PlaceGang(gang, block, txn);
        block.owner = gang;
        placed = true;
      }
    }
    if (!placed) lendable.insert(lendable.end(), block.cpus.begin(), block.cpus.end());
  }
  // Everything else, round robin on the other cpus and on blocks no gang wants right now.
  std::vector<int> targets = other_cpus_;
  targets.insert(targets.end(), lendable.begin(), lendable.end());
  if (blocks_.empty()) {
    targets.clear();
    for (Cpu& cpu : cpus) targets.push_back(cpu.id);
  }
  for (int c : targets) {
    if (others_.empty()) return;
    if (!cpus[c].available()) continue;
    Task* t = others_.Front();
    for (int scanned = 0; t != nullptr && !t->Allowed(c) && scanned < 16; ++scanned) {
      t = others_.Next(t);
    }
    if (t == nullptr || !t->Allowed(c)) continue;
    others_.Remove(t);
    if (txn.Commit({.task = t, .cpu = c, .seq = t->seq(), .slice_ns = slice_ns_}) !=
        CommitCheck::kOk) {
      others_.PushFront(t);
    }
  }
}

}  // namespace wave
