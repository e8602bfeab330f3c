#include "lib/sched/task.h"

namespace wave {

const char* TaskStateName(TaskState s) {
  switch (s) {
    case TaskState::kBlocked:
      return "blocked";
    case TaskState::kRunnable:
      return "runnable";
    case TaskState::kOnCpu:
      return "on_cpu";
    case TaskState::kDead:
      return "dead";
  }
  return "?";
}

void Task::LeaveQueues() {
  if (queue_ != nullptr) queue_->Remove(this);
  if (heap_ != nullptr) heap_->Remove(this);
}

void TaskQueue::PushBack(Task* task) {
  task->queue_ = this;
  task->next_ = nullptr;
  task->prev_ = tail_;
  if (tail_ != nullptr) {
    tail_->next_ = task;
  } else {
    head_ = task;
  }
  tail_ = task;
  ++size_;
}

void TaskQueue::PushFront(Task* task) {
  task->queue_ = this;
  task->prev_ = nullptr;
  task->next_ = head_;
  if (head_ != nullptr) {
    head_->prev_ = task;
  } else {
    tail_ = task;
  }
  head_ = task;
  ++size_;
}

Task* TaskQueue::PopFront() {
  Task* t = head_;
  if (t != nullptr) Remove(t);
  return t;
}

bool TaskQueue::Remove(Task* task) {
  if (task->queue_ != this) return false;
  if (task->prev_ != nullptr) {
    task->prev_->next_ = task->next_;
  } else {
    head_ = task->next_;
  }
  if (task->next_ != nullptr) {
    task->next_->prev_ = task->prev_;
  } else {
    tail_ = task->prev_;
  }
  task->next_ = task->prev_ = nullptr;
  task->queue_ = nullptr;
  --size_;
  return true;
}

void TaskQueue::Clear() {
  while (head_ != nullptr) PopFront();
}

Task* TaskQueue::FirstAllowed(int cpu, size_t max_scan) const {
  Task* t = head_;
  for (size_t scanned = 0; t != nullptr && scanned < max_scan; ++scanned, t = t->next_) {
    if (t->Allowed(cpu)) return t;
  }
  return nullptr;
}

void TaskHeap::Push(Task* task, uint64_t key) {
  task->heap_ = this;
  task->heap_key_ = key;
  task->heap_order_ = pushes_++;
  heap_.push_back(task);
  task->heap_index_ = heap_.size() - 1;
  SiftUp(heap_.size() - 1);
}

Task* TaskHeap::Pop() {
  Task* t = Top();
  if (t != nullptr) Remove(t);
  return t;
}

bool TaskHeap::Remove(Task* task) {
  if (task->heap_ != this) return false;
  const size_t i = task->heap_index_;
  Task* last = heap_.back();
  heap_.pop_back();
  if (last != task) {
    Place(i, last);
    SiftUp(i);
    SiftDown(last->heap_index_);
  }
  task->heap_ = nullptr;
  task->heap_index_ = 0;
  return true;
}

void TaskHeap::Clear() {
  for (Task* t : heap_) {
    t->heap_ = nullptr;
    t->heap_index_ = 0;
  }
  heap_.clear();
}

void TaskHeap::SiftUp(size_t i) {
  Task* t = heap_[i];
  while (i > 0) {
    const size_t parent = (i - 1) / 2;
    if (!Less(t, heap_[parent])) break;
    Place(i, heap_[parent]);
    i = parent;
  }
  Place(i, t);
}

void TaskHeap::SiftDown(size_t i) {
  Task* t = heap_[i];
  const size_t n = heap_.size();
  for (;;) {
    size_t child = 2 * i + 1;
    if (child >= n) break;
    if (child + 1 < n && Less(heap_[child + 1], heap_[child])) ++child;
    if (!Less(heap_[child], t)) break;
    Place(i, heap_[child]);
    i = child;
  }
  Place(i, t);
}

CpuTable::CpuTable(int num_cpus) : cpus_(num_cpus > 0 ? num_cpus : 0) {
  for (int i = 0; i < size(); ++i) cpus_[i].id = i;
}

void CpuTable::Refresh(int cpu) {
  const Cpu& c = cpus_[cpu];
  if (const bool in = c.available(); in != available_.Test(cpu)) {
    if (in) {
      available_.Set(cpu);
    } else {
      available_.Clear(cpu);
    }
  }
  if (const bool in = c.stage_room() > 0; in != stageable_.Test(cpu)) {
    if (in) {
      stageable_.Set(cpu);
    } else {
      stageable_.Clear(cpu);
    }
  }
}

void CpuTable::SetHostIdle(int cpu, bool idle) {
  cpus_[cpu].host_idle_ = idle;
  Refresh(cpu);
}

void CpuTable::SetPendingTxn(int cpu, uint64_t txn_id, uint64_t task_id) {
  Cpu& c = cpus_[cpu];
  c.pending_txn_ = txn_id;
  c.pending_task_ = txn_id == 0 ? 0 : task_id;
  c.pending_sent_ = false;
  Refresh(cpu);
}

void CpuTable::SetStageDepth(int cpu, int depth) {
  cpus_[cpu].stage_depth_ = depth;
  Refresh(cpu);
}

void CpuTable::SetStaged(int cpu, int staged) {
  cpus_[cpu].staged_ = staged;
  Refresh(cpu);
}

void CpuTable::Reset(int cpu) {
  Cpu& c = cpus_[cpu];
  c.host_idle_ = false;
  c.current_ = nullptr;
  c.pending_txn_ = 0;
  c.pending_task_ = 0;
  c.pending_sent_ = false;
  c.staged_ = 0;
  Refresh(cpu);
}

}  // namespace wave
