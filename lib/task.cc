#include "lib/task.h"

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

CpuTable::CpuTable(int num_cpus) : cpus_(num_cpus > 0 ? num_cpus : 0) {
  for (int i = 0; i < size(); ++i) cpus_[i].id = i;
}

int CpuTable::AvailableCount() const {
  int n = 0;
  for (const Cpu& c : cpus_) n += c.available() ? 1 : 0;
  return n;
}

}  // namespace wave
