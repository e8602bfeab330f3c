// The agent's model of the host: tasks, cpus, the host's time, and an intrusive run queue
// policies share.
#ifndef LIBWAVE_LIB_SCHED_TASK_H_
#define LIBWAVE_LIB_SCHED_TASK_H_

#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "abi/cpuset.h"
#include "abi/wave_abi.h"

namespace wave {

// A task's sequence number. The host bumps it on every event of the task and stamps it into the
// event; a commit names the sequence it was decided on and is void if the task moved on.
// Ordering: the agent is single-threaded; a Seq is plain data copied out of a message that the
// ring delivered with acquire ordering (ring.h), so no further ordering is needed here.
using Seq = uint64_t;

enum class TaskState : uint8_t {
  kBlocked,
  kRunnable,  // waiting for a cpu (or for the result of a commit that names it)
  kOnCpu,
  kDead,  // DEAD or DEPARTED: freed right after the policy's callback returns
};

const char* TaskStateName(TaskState s);

class TaskQueue;
class TaskHeap;

class Task {
 public:
  uint64_t id() const { return id_; }
  Seq seq() const { return seq_; }
  TaskState state() const { return state_; }
  bool runnable() const { return state_ == TaskState::kRunnable; }
  // The cpu the task runs on, or -1.
  int cpu() const { return cpu_; }
  // The cpu it ran on last (or runs on now), or -1 if it has not run since the agent knew it.
  int last_cpu() const { return last_cpu_; }
  // The cpus the task may run on (from TASK_NEW and TASK_AFFINITY).
  const CpuSet& cpus() const { return cpus_; }
  bool Allowed(int cpu) const { return cpus_.Test(cpu); }
  int nice() const { return nice_; }
  // The gang the task belongs to (a VM's vCPUs share one), 0 for none. Set by TASK_NEW.
  uint32_t gang() const { return gang_; }
  uint64_t runtime_ns() const { return runtime_ns_; }
  // A commit naming this task is in flight (sent, result not back yet).
  bool commit_pending() const { return pending_txn_ != 0; }
  // Prestaged decisions naming this task wait in cpus' staging rings (or to be flushed). A
  // staged task may still be committed directly elsewhere ("stolen"), or staged on another cpu
  // too: the first cpu to take it runs it, and the host aborts the others, since the task is no
  // longer runnable with that sequence.
  // Copies staged at an older sequence are dead (the host will abort them) and do not count.
  bool staged() const { return staged_live_ > 0 && staged_seq_ == seq_; }
  int staged_count() const { return staged() ? staged_live_ : 0; }
  int staged_cpu() const { return staged_cpu_; }  // the last cpu it was staged on
  // The queue holding the task, or null.
  const TaskQueue* queue() const { return queue_; }
  // The heap holding the task, or null.
  const TaskHeap* heap() const { return heap_; }
  // Runnable, with no commit in flight, no live staged copy, and in no queue or heap: nothing
  // will run it unless the policy places it (where a policy's Enqueue starts).
  bool Placeable() const {
    return runnable() && !commit_pending() && !staged() && queue_ == nullptr && heap_ == nullptr;
  }

  // The policy's own state of this task, typed. A policy declares a struct of its fields (at
  // most kPolicyStateBytes, trivially copyable, all zero meaning "nothing yet") and uses it here:
  //   struct PinState { bool homed; int32_t home; uint64_t preempted_at_ns; };
  //   task.policy_state<PinState>().home = 3;
  // Zeroed when the task joins (TASK_NEW, replays included). One state per task: a policy built
  // on another one extends the other's struct.
  static constexpr size_t kPolicyStateBytes = 32;
  template <typename T>
  T& policy_state() {
    CheckPolicyState<T>();
    return *reinterpret_cast<T*>(policy_state_);
  }
  template <typename T>
  const T& policy_state() const {
    CheckPolicyState<T>();
    return *reinterpret_cast<const T*>(policy_state_);
  }

 private:
  friend class SchedSubsystem;
  friend class TaskQueue;
  friend class TaskHeap;
  friend class TaskTable;
  friend class Txn;

  // Takes the task out of its queue and its heap, if any.
  void LeaveQueues();

  template <typename T>
  static constexpr void CheckPolicyState() {
    static_assert(sizeof(T) <= kPolicyStateBytes, "policy state too large for Task");
    static_assert(alignof(T) <= 8, "policy state over-aligned");
    static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>,
                  "policy state must be plain data (it lives in zeroed bytes)");
  }

  uint64_t id_ = 0;
  Seq seq_ = 0;
  TaskState state_ = TaskState::kBlocked;
  int cpu_ = -1;
  int last_cpu_ = -1;
  CpuSet cpus_;
  int nice_ = 0;
  uint32_t gang_ = 0;
  uint64_t runtime_ns_ = 0;
  uint64_t pending_txn_ = 0;
  int pending_cpu_ = -1;
  int staged_live_ = 0;  // copies staged at staged_seq_ whose result has not come back
  Seq staged_seq_ = 0;
  int staged_cpu_ = -1;
  // Intrusive queue links.
  Task* next_ = nullptr;
  Task* prev_ = nullptr;
  TaskQueue* queue_ = nullptr;
  // Intrusive heap position.
  TaskHeap* heap_ = nullptr;
  size_t heap_index_ = 0;
  uint64_t heap_key_ = 0;
  uint64_t heap_order_ = 0;  // push order: equal keys come out first in, first out
  alignas(8) unsigned char policy_state_[kPolicyStateBytes] = {};
};

// A doubly-linked FIFO of tasks through links inside Task: O(1) push, pop and remove, no
// allocation. A task is in at most one queue; the agent removes a task from its queue before it
// frees the task, so a policy never holds a dangling pointer.
class TaskQueue {
 public:
  TaskQueue() = default;
  TaskQueue(const TaskQueue&) = delete;
  TaskQueue& operator=(const TaskQueue&) = delete;
  ~TaskQueue() { Clear(); }

  // REQUIRES: task is in no queue.
  void PushBack(Task* task);
  void PushFront(Task* task);
  Task* PopFront();
  Task* Front() const { return head_; }
  // The task after `task` in this queue, or null. REQUIRES: Contains(task).
  Task* Next(const Task* task) const { return task->next_; }
  // Removes the task if it is in this queue; returns whether it was.
  bool Remove(Task* task);
  bool Contains(const Task* task) const { return task->queue_ == this; }
  bool empty() const { return head_ == nullptr; }
  size_t size() const { return size_; }
  void Clear();
  // The first task, among the first `max_scan`, that may run on `cpu`; null if none. Bounded so
  // that a queue full of tasks pinned elsewhere costs a cpu little.
  Task* FirstAllowed(int cpu, size_t max_scan = 16) const;

 private:
  Task* head_ = nullptr;
  Task* tail_ = nullptr;
  size_t size_ = 0;
};

// A min-heap of tasks by a 64-bit key (a virtual runtime, a deadline), intrusive like TaskQueue:
// O(log n) push, pop and removal of any task, no allocation past the array's growth. Equal keys
// come out in push order, so a policy stays deterministic. A task is in at most one heap (it may
// also be in a TaskQueue); the agent takes a task out of its heap when it blocks, goes on a cpu
// or is freed, exactly as for queues, so a policy never holds a dangling pointer.
class TaskHeap {
 public:
  TaskHeap() = default;
  TaskHeap(const TaskHeap&) = delete;
  TaskHeap& operator=(const TaskHeap&) = delete;
  ~TaskHeap() { Clear(); }

  // REQUIRES: task is in no heap.
  void Push(Task* task, uint64_t key);
  // The task with the smallest key, or null.
  Task* Top() const { return heap_.empty() ? nullptr : heap_.front(); }
  Task* Pop();
  // Removes the task if it is in this heap; returns whether it was.
  bool Remove(Task* task);
  bool Contains(const Task* task) const { return task->heap_ == this; }
  // The key `task` was pushed with. REQUIRES: Contains(task).
  static uint64_t KeyOf(const Task* task) { return task->heap_key_; }
  bool empty() const { return heap_.empty(); }
  size_t size() const { return heap_.size(); }
  void Clear();

 private:
  static bool Less(const Task* a, const Task* b) {
    return a->heap_key_ != b->heap_key_ ? a->heap_key_ < b->heap_key_
                                        : a->heap_order_ < b->heap_order_;
  }
  void Place(size_t i, Task* task) {
    heap_[i] = task;
    task->heap_index_ = i;
  }
  void SiftUp(size_t i);
  void SiftDown(size_t i);
  std::vector<Task*> heap_;
  uint64_t pushes_ = 0;
};

// The agent's view of one cpu. Per-cpu state is cache-line aligned (the agent's hot loop touches
// one cpu at a time; neighbours must not false-share when the agent is sharded). A policy reads
// it; the agent changes it, through the CpuTable, which keeps the sets of cpus in each state.
struct alignas(64) Cpu {
  int id = -1;

  // The host said the cpu is idle and nothing has been placed there since.
  bool host_idle() const { return host_idle_; }
  // The managed task the host says runs here, or null.
  Task* current() const { return current_; }
  // The commit to this cpu not yet answered (queued or sent), or 0; its task.
  uint64_t pending_txn() const { return pending_txn_; }
  uint64_t pending_task() const { return pending_task_; }
  // Prestaging: slots of this cpu's staging ring (0: no prestaging) and decisions staged there
  // whose result has not come back.
  int stage_depth() const { return stage_depth_; }
  int staged() const { return staged_; }

  // A cpu a policy may commit to now: idle at the host and no commit in flight.
  bool available() const { return host_idle_ && pending_txn_ == 0; }
  // How many more decisions Txn::Stage may queue for this cpu.
  int stage_room() const { return stage_depth_ > staged_ ? stage_depth_ - staged_ : 0; }

 private:
  friend class CpuTable;
  bool host_idle_ = false;
  Task* current_ = nullptr;
  uint64_t pending_txn_ = 0;
  uint64_t pending_task_ = 0;
  bool pending_sent_ = false;  // the pending commit has gone to the host
  int stage_depth_ = 0;
  int staged_ = 0;
};

// The cpus of a CpuTable that are in one of its sets, in id order, as Cpu&. The set is read as
// the loop goes: a cpu that leaves it ahead of the loop (a commit made it unavailable) is not
// visited, the one at hand may leave it. Use as `for (Cpu& cpu : cpus.Available())`.
template <typename CpuT>
class CpuSubset {
 public:
  class iterator {
   public:
    iterator(CpuT* cpus, const CpuSet* set, int at) : cpus_(cpus), set_(set), at_(at) {}
    CpuT& operator*() const { return cpus_[at_]; }
    iterator& operator++() {
      at_ = set_->Next(at_);
      return *this;
    }
    bool operator!=(const iterator& o) const { return at_ != o.at_; }
    bool operator==(const iterator& o) const { return at_ == o.at_; }

   private:
    CpuT* cpus_;
    const CpuSet* set_;
    int at_;
  };
  CpuSubset(CpuT* cpus, const CpuSet* set) : cpus_(cpus), set_(set) {}
  iterator begin() const { return iterator(cpus_, set_, set_->First()); }
  iterator end() const { return iterator(cpus_, set_, -1); }
  bool empty() const { return set_->empty(); }

 private:
  CpuT* cpus_;
  const CpuSet* set_;
};

// The cpus, and the sets of them a policy looks for: those available now and those with
// staging room. The sets change as the cpus do, so a policy visits the cpus that can take a
// decision, not every cpu: at 1,024 cpus with a handful idle, a Schedule() call costs what it
// does at 8.
class CpuTable {
 public:
  explicit CpuTable(int num_cpus);
  int size() const { return static_cast<int>(cpus_.size()); }
  Cpu& operator[](int cpu) { return cpus_[cpu]; }
  const Cpu& operator[](int cpu) const { return cpus_[cpu]; }
  // Every cpu, in id order.
  auto begin() { return cpus_.begin(); }
  auto end() { return cpus_.end(); }
  auto begin() const { return cpus_.begin(); }
  auto end() const { return cpus_.end(); }

  // The cpus with available(), and with stage_room() > 0, in id order.
  CpuSubset<Cpu> Available() { return {cpus_.data(), &available_}; }
  CpuSubset<const Cpu> Available() const { return {cpus_.data(), &available_}; }
  CpuSubset<Cpu> Stageable() { return {cpus_.data(), &stageable_}; }
  CpuSubset<const Cpu> Stageable() const { return {cpus_.data(), &stageable_}; }
  const CpuSet& available_set() const { return available_; }
  const CpuSet& stageable_set() const { return stageable_; }
  int AvailableCount() const { return available_.Count(); }

  // The host's time (ns, on its clock) as of the latest event or commit result from the host
  // that the agent accepted; 0 before the first, and it never goes back. Policies measure waits
  // and runs against it: the agent keeps no clock of its own. The NIC's NET_RPC times are on
  // another clock (the IPU's) and do not count.
  uint64_t now_ns() const { return now_ns_; }

  // Changing a cpu: the agent does, as events and results arrive; a policy must not (its view
  // would part from the host's). Tests that set up a table call these too.
  void SetHostIdle(int cpu, bool idle);
  void SetCurrent(int cpu, Task* task) { cpus_[cpu].current_ = task; }
  // A commit of `task_id` to the cpu (0: none pending); MarkSent once it is on the link.
  void SetPendingTxn(int cpu, uint64_t txn_id, uint64_t task_id = 0);
  void MarkSent(int cpu) { cpus_[cpu].pending_sent_ = cpus_[cpu].pending_txn_ != 0; }
  // Whether `txn_id` is the commit sent to `cpu` and not yet answered.
  bool SentTo(int cpu, uint64_t txn_id) const {
    return cpu >= 0 && cpu < size() && txn_id != 0 && cpus_[cpu].pending_txn_ == txn_id &&
           cpus_[cpu].pending_sent_;
  }
  void SetStageDepth(int cpu, int depth);
  void SetStaged(int cpu, int staged);
  // Forgets what the cpu was doing (a resync): busy, nothing on it, nothing pending or staged.
  void Reset(int cpu);

 private:
  friend class SchedSubsystem;
  void Observe(uint64_t time_ns) { now_ns_ = time_ns > now_ns_ ? time_ns : now_ns_; }
  // Puts the cpu in or out of each set after a change.
  void Refresh(int cpu);
  std::vector<Cpu> cpus_;
  CpuSet available_;
  CpuSet stageable_;
  uint64_t now_ns_ = 0;
};

}  // namespace wave

#endif  // LIBWAVE_LIB_SCHED_TASK_H_
