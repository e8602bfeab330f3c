// Transactions: "run task T on cpu c, valid only if T's sequence is still s".
//
//   txn.Commit({.task = t, .cpu = c.id, .seq = t->seq()});
//
// Commits are batched: the agent publishes the whole batch once, after Schedule() returns. The
// host validates each one and answers with a COMMIT_RESULT; a failed commit comes back to the
// policy through Policy::OnCommitFailed, never as a crash.
#ifndef LIBWAVE_LIB_TXN_H_
#define LIBWAVE_LIB_TXN_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "lib/abi/wave_abi.h"
#include "lib/task.h"

namespace wave {

struct CommitOptions {
  Task* task = nullptr;
  int cpu = -1;
  Seq seq = 0;
  uint64_t slice_ns = 0;  // 0: until the task blocks or yields
  uint32_t flags = 0;     // WAVE_COMMIT_F_*
};

// Why Txn::Commit refused locally (the commit was not queued). Policies that follow the
// available()/runnable() rules never see anything but kOk.
enum class CommitCheck : uint8_t {
  kOk,
  kNoTask,
  kTaskNotRunnable,
  kTaskPending,  // a commit naming the task is already in flight
  kCpuOutOfRange,
  kCpuNotAllowed,
  kCpuUnavailable,  // not idle, or a commit to it is in flight (and no PREEMPT flag)
  kBadFlags,
};
const char* CommitCheckName(CommitCheck c);

class Txn {
 public:
  Txn(CpuTable& cpus, uint64_t& next_txn_id) : cpus_(cpus), next_txn_id_(next_txn_id) {}

  // Queues a commit and marks the task and the cpu pending. Checks locally what the agent can
  // know (the host re-validates everything); refuses without side effects otherwise.
  CommitCheck Commit(const CommitOptions& opts);

  size_t size() const { return pending_.size(); }
  bool empty() const { return pending_.empty(); }

 private:
  friend class Agent;
  CpuTable& cpus_;
  uint64_t& next_txn_id_;
  std::vector<wave_msg> pending_;  // encoded, in commit order; flushed by the agent
};

}  // namespace wave

#endif  // LIBWAVE_LIB_TXN_H_
