#include "lib/sched/sched.h"

#include <utility>
#include <vector>

namespace wave {

TaskTable::~TaskTable() {
  for (auto& entry : tasks_) {
    Task* t = entry.second.get();
    t->LeaveQueues();
  }
}

Task* TaskTable::Find(uint64_t id) const {
  // A task's events come in runs (its result, then its ON_CPU; BLOCKED, then WAKEUP): the last
  // one found answers without the hash.
  if (last_ != nullptr && last_->id_ == id) return last_;
  auto it = tasks_.find(id);
  if (it == tasks_.end()) return nullptr;
  last_ = it->second.get();
  return last_;
}

Task* TaskTable::Insert(uint64_t id) {
  auto [it, inserted] = tasks_.try_emplace(id);
  if (!inserted) return nullptr;
  it->second = std::make_unique<Task>();
  it->second->id_ = id;
  return it->second.get();
}

void TaskTable::Erase(uint64_t id) {
  if (last_ != nullptr && last_->id_ == id) last_ = nullptr;
  tasks_.erase(id);
}

SchedSubsystem::SchedSubsystem(Policy& policy, const SchedOptions& options)
    : policy_(policy),
      options_(options),
      cpus_(options.num_cpus),
      txn_(cpus_, next_txn_id_, options.features) {}

void SchedSubsystem::Attach(AgentEnd* end) {
  link_ = end;
  if ((options_.features & WAVE_FEAT_PRESTAGE) == 0) link_->lanes.clear();
  for (size_t c = 0; c < link_->lanes.size() && c < static_cast<size_t>(cpus_.size()); ++c) {
    cpus_.SetStageDepth(static_cast<int>(c), static_cast<int>(link_->lanes[c].capacity()));
  }
}

uint32_t SchedSubsystem::Decide() {
  const size_t before = txn_.size();
  policy_.Schedule(cpus_, txn_);
  return static_cast<uint32_t>(txn_.size() - before);
}

absl::StatusOr<uint32_t> SchedSubsystem::Flush() {
  if (absl::Status s = FlushStaged(); !s.ok()) return s;
  auto& pending = txn_.pending_;
  if (pending.empty()) return 0u;
  RingProducer& ring = link_->commands;
  const uint32_t want = static_cast<uint32_t>(pending.size());
  uint32_t got = ring.Reserve(want);
  if (!ring.status().ok()) return ring.status();
  // Never split a group: the host takes a group only when all of it arrives in one batch.
  while (got > 0 && got < want && pending[got].commit.group != 0 &&
         pending[got].commit.group == pending[got - 1].commit.group) {
    --got;
  }
  for (uint32_t i = 0; i < got; ++i) {
    ring.Write(i, pending[i]);
    cpus_.MarkSent(pending[i].commit.cpu);  // its cpu knows the commit: no table of them
  }
  direct_in_flight_ += got;
  ring.Submit(got);  // one publish for the whole batch
  pending.erase(pending.begin(), pending.begin() + got);
  stats_.commits_sent += got;
  if (got < want) ++stats_.commit_ring_full;
  return got;
}

absl::Status SchedSubsystem::FlushStaged() {
  auto& staged = txn_.staged_;
  if (staged.empty()) return absl::OkStatus();
  // Per cpu, in order; what does not fit (the host has not freed the slot yet) stays queued.
  size_t kept = 0;
  for (size_t i = 0; i < staged.size(); ++i) {
    const wave_msg& m = staged[i];
    const int cpu = m.commit.cpu;
    RingProducer* ring = cpu >= 0 && static_cast<size_t>(cpu) < link_->lanes.size()
                             ? &link_->lanes[static_cast<size_t>(cpu)]
                             : nullptr;
    if (ring != nullptr && ring->Push(m)) {
      in_flight_[m.commit.txn_id] = {m.commit.task_id, cpu, true, m.commit.seq};
      ++stats_.staged_sent;
      continue;
    }
    if (ring != nullptr && !ring->status().ok()) return ring->status();
    staged[kept++] = m;
  }
  if (kept > 0) ++stats_.stage_ring_full;
  staged.resize(kept);
  return absl::OkStatus();
}

void SchedSubsystem::OnMessage(const wave_msg& msg) {
  switch (msg.hdr.type) {
    case WAVE_EV_TASK_NEW:
    case WAVE_EV_TASK_WAKEUP:
    case WAVE_EV_TASK_BLOCKED:
    case WAVE_EV_TASK_PREEMPTED:
    case WAVE_EV_TASK_YIELD:
    case WAVE_EV_TASK_DEAD:
    case WAVE_EV_TASK_DEPARTED:
    case WAVE_EV_TASK_AFFINITY:
    case WAVE_EV_TASK_PRIORITY:
    case WAVE_EV_TASK_ON_CPU:
      OnTaskMsg(msg.task);
      return;
    case WAVE_EV_TASK_CPUS:
      if (!cpus_decoder_.AddChunk(msg.task_cpus)) ++stats_.malformed;
      return;
    case WAVE_EV_CPU_IDLE:
    case WAVE_EV_CPU_TICK:
    case WAVE_EV_CPU_AVAILABLE:
    case WAVE_EV_CPU_BUSY:
      OnCpuMsg(msg.cpu);
      return;
    case WAVE_EV_COMMIT_RESULT:
      OnResultMsg(msg.result);
      return;
    default:
      ++stats_.malformed;  // a scheduling type that is not an event (cannot happen: checked)
      return;
  }
}

void SchedSubsystem::OnSubscribed(const wave_msg& msg) {
  if (msg.hdr.type == WAVE_EV_NET_RPC) {
    policy_.OnNetRpc(tasks_.Find(msg.net_rpc.task_id), NetRpc(msg.net_rpc));
  }
}

void SchedSubsystem::OnResyncEnd(const wave_k2a_resync& m) { cpus_.Observe(m.time_ns); }

void SchedSubsystem::LeaveCpu(Task& task) {
  if (task.cpu_ >= 0 && task.cpu_ < cpus_.size() && cpus_[task.cpu_].current() == &task) {
    cpus_.SetCurrent(task.cpu_, nullptr);
  }
  task.cpu_ = -1;
}

void SchedSubsystem::FreeTask(Task& task) {
  LeaveCpu(task);
  task.LeaveQueues();
  // An in-flight commit for it keeps its cpu reserved until the result comes back; the result
  // handler copes with the task being gone.
  tasks_.Erase(task.id_);
}

void SchedSubsystem::OnTaskMsg(const wave_k2a_task& m) {
  const bool cpu_ok = m.cpu == -1 || (m.cpu >= 0 && m.cpu < cpus_.size());
  if (!cpu_ok || (m.hdr.type == WAVE_EV_TASK_ON_CPU && m.cpu < 0)) {
    ++stats_.malformed;
    return;
  }
  // The cpu set of a NEW or AFFINITY (and the chunks before it), decoded before anything else.
  CpuSet allowed;
  const bool has_cpus = m.hdr.type == WAVE_EV_TASK_NEW || m.hdr.type == WAVE_EV_TASK_AFFINITY;
  if (has_cpus && !cpus_decoder_.Decode(m, cpus_.size(), &allowed)) {
    ++stats_.malformed;
    return;
  }
  if (m.hdr.type == WAVE_EV_TASK_NEW) {
    Task* t = tasks_.Insert(m.task_id);
    if (t == nullptr) {
      ++stats_.duplicate_new;
      return;
    }
    cpus_.Observe(m.time_ns);
    t->seq_ = m.seq;
    t->state_ = (m.flags & WAVE_TASK_F_RUNNABLE) ? TaskState::kRunnable : TaskState::kBlocked;
    t->cpus_ = std::move(allowed);
    t->nice_ = m.nice;
    t->gang_ = m.gang;
    t->runtime_ns_ = m.runtime_ns;
    if ((m.flags & WAVE_TASK_F_ON_CPU) && m.cpu >= 0) {  // a replay, or first seen running
      if (Task* was = cpus_[m.cpu].current(); was != nullptr) LeaveCpu(*was);
      t->state_ = TaskState::kOnCpu;
      t->cpu_ = m.cpu;
      t->last_cpu_ = m.cpu;
      cpus_.SetCurrent(m.cpu, t);
      cpus_.SetHostIdle(m.cpu, false);
    }
    policy_.OnTaskNew(*t, TaskNew(m));
    return;
  }
  Task* t = tasks_.Find(m.task_id);
  if (t == nullptr) {
    ++stats_.unknown_task;
    return;
  }
  if (m.seq <= t->seq_) {  // replayed or reordered: the model already reflects something newer
    ++stats_.stale_events;
    return;
  }
  cpus_.Observe(m.time_ns);
  t->seq_ = m.seq;
  t->runtime_ns_ = m.runtime_ns;
  switch (m.hdr.type) {
    case WAVE_EV_TASK_WAKEUP:
      LeaveCpu(*t);
      t->state_ = TaskState::kRunnable;
      policy_.OnTaskWakeup(*t, TaskWakeup(m));
      return;
    case WAVE_EV_TASK_BLOCKED:
      LeaveCpu(*t);
      t->state_ = TaskState::kBlocked;
      t->LeaveQueues();
      policy_.OnTaskBlocked(*t, TaskBlocked(m));
      return;
    case WAVE_EV_TASK_PREEMPTED:
      LeaveCpu(*t);
      t->state_ = TaskState::kRunnable;
      policy_.OnTaskPreempted(*t, TaskPreempted(m));
      return;
    case WAVE_EV_TASK_YIELD:
      LeaveCpu(*t);
      t->state_ = TaskState::kRunnable;
      policy_.OnTaskYield(*t, TaskYield(m));
      return;
    case WAVE_EV_TASK_DEAD:
      LeaveCpu(*t);
      t->state_ = TaskState::kDead;
      policy_.OnTaskDead(*t, TaskDead(m));
      FreeTask(*t);
      return;
    case WAVE_EV_TASK_DEPARTED:
      LeaveCpu(*t);
      t->state_ = TaskState::kDead;
      policy_.OnTaskDeparted(*t, TaskDeparted(m));
      FreeTask(*t);
      return;
    case WAVE_EV_TASK_AFFINITY:
      t->cpus_ = std::move(allowed);
      policy_.OnTaskAffinity(*t, TaskAffinity(m));
      return;
    case WAVE_EV_TASK_PRIORITY:
      t->nice_ = m.nice;
      policy_.OnTaskPriority(*t, TaskPriority(m));
      return;
    case WAVE_EV_TASK_ON_CPU: {
      if (Task* was = cpus_[m.cpu].current(); was != nullptr && was != t) LeaveCpu(*was);
      LeaveCpu(*t);
      t->LeaveQueues();
      t->state_ = TaskState::kOnCpu;
      t->cpu_ = m.cpu;
      t->last_cpu_ = m.cpu;
      cpus_.SetCurrent(m.cpu, t);
      cpus_.SetHostIdle(m.cpu, false);
      policy_.OnTaskOnCpu(*t, TaskOnCpu(m));
      return;
    }
  }
}

void SchedSubsystem::OnCpuMsg(const wave_k2a_cpu& m) {
  if (m.cpu < 0 || m.cpu >= cpus_.size()) {
    ++stats_.malformed;
    return;
  }
  cpus_.Observe(m.time_ns);
  Cpu& cpu = cpus_[m.cpu];
  switch (m.hdr.type) {
    case WAVE_EV_CPU_IDLE:
    case WAVE_EV_CPU_AVAILABLE:
      cpus_.SetHostIdle(m.cpu, true);
      if (cpu.current() != nullptr) LeaveCpu(*cpu.current());
      policy_.OnCpuIdle(cpu, CpuIdle(m));
      return;
    case WAVE_EV_CPU_BUSY:
      cpus_.SetHostIdle(m.cpu, false);
      return;
    case WAVE_EV_CPU_TICK:
      policy_.OnCpuTick(cpu, CpuTick(m));
      return;
  }
}

void SchedSubsystem::OnResyncBegin(const wave_k2a_resync& m) {
  ++stats_.resyncs;
  cpus_.Observe(m.time_ns);  // the host's clock goes on: now_ns() is not reset
  // Free every task (the TaskTable takes each out of its queue first), then the rest.
  std::vector<uint64_t> ids;
  ids.reserve(tasks_.size());
  for (const auto& entry : tasks_.tasks_) ids.push_back(entry.first);
  for (uint64_t id : ids) {
    Task* t = tasks_.Find(id);
    t->LeaveQueues();
    tasks_.Erase(id);
  }
  for (int c = 0; c < cpus_.size(); ++c) cpus_.Reset(c);
  in_flight_.clear();
  direct_in_flight_ = 0;
  txn_.pending_.clear();
  txn_.staged_.clear();
  cpus_decoder_.Reset();
  // The epoch is in the top 16 bits of every txn id from now on.
  next_txn_id_ = wave_txn_first(m.epoch);
  policy_.OnResync();
}

void SchedSubsystem::OnResultMsg(const wave_k2a_commit_result& m) {
  // A commit is known by its cpu (one unanswered commit per cpu); a staged decision by the table.
  InFlight sent;
  if (cpus_.SentTo(m.cpu, m.txn_id)) {
    if (cpus_[m.cpu].pending_task() != m.task_id) {
      ++stats_.malformed;  // the right commit, the wrong task
      return;
    }
    sent = {m.task_id, m.cpu, false, 0};
    --direct_in_flight_;
  } else {
    auto it = in_flight_.find(m.txn_id);
    if (it == in_flight_.end() || it->second.task_id != m.task_id) {
      ++stats_.malformed;  // a result for nothing we sent
      return;
    }
    sent = it->second;
    in_flight_.erase(it);
  }
  cpus_.Observe(m.time_ns);
  const uint32_t status =
      m.status < WAVE_COMMIT_STATUS_COUNT ? m.status : uint32_t{WAVE_COMMIT_MALFORMED};
  ++stats_.results[status];
  if (sent.staged) {
    // A staged decision, taken or aborted at its cpu's scheduling point.
    ++(status == WAVE_COMMIT_OK ? stats_.staged_ok : stats_.staged_aborted);
    if (sent.cpu >= 0 && sent.cpu < cpus_.size() && cpus_[sent.cpu].staged() > 0) {
      cpus_.SetStaged(sent.cpu, cpus_[sent.cpu].staged() - 1);
    }
    if (status == WAVE_COMMIT_OK && sent.cpu >= 0 && sent.cpu < cpus_.size()) {
      cpus_.SetHostIdle(sent.cpu, false);
    }
    Task* t = tasks_.Find(sent.task_id);
    // A copy staged at an older sequence is dead: only the cpu's count cared about it.
    if (t == nullptr || sent.seq != t->staged_seq_ || t->staged_live_ == 0) return;
    --t->staged_live_;
    wave_k2a_commit_result checked = m;
    checked.status = status;
    if (status == WAVE_COMMIT_OK) {
      policy_.OnCommitDone(*t, CommitResult(checked));
    } else if (t->staged_live_ == 0) {
      // Its last live copy failed: the policy decides again.
      policy_.OnCommitFailed(*t, CommitResult(checked));
    }
    return;
  }
  if (sent.cpu >= 0 && sent.cpu < cpus_.size() && cpus_[sent.cpu].pending_txn() == m.txn_id) {
    cpus_.SetPendingTxn(sent.cpu, 0);
  }
  // The host placed the task: the cpu is not idle any more, whether or not ON_CPU came first.
  if (status == WAVE_COMMIT_OK && sent.cpu >= 0 && sent.cpu < cpus_.size()) {
    cpus_.SetHostIdle(sent.cpu, false);
  }
  Task* t = tasks_.Find(sent.task_id);
  // Gone: it died while the commit was in flight, or departed and rejoined under the same id
  // (the new life has its own commit, or none).
  if (t == nullptr || t->pending_txn_ != m.txn_id) return;
  t->pending_txn_ = 0;
  t->pending_cpu_ = -1;
  wave_k2a_commit_result checked = m;
  checked.status = status;
  if (status == WAVE_COMMIT_OK) {
    policy_.OnCommitDone(*t, CommitResult(checked));
  } else {
    policy_.OnCommitFailed(*t, CommitResult(checked));
  }
}

}  // namespace wave
