// The scheduling subsystem of the agent: it serves the scheduling channel for the Runtime
// (lib/runtime.h). It keeps the task and cpu tables from the host's events, calls the policy's
// typed callbacks after updating them, runs the policy once per drained batch, and publishes the
// policy's transactions: commits on the channel's command ring, prestaged decisions in each cpu's
// lane. It does not know which mechanism (the simulator, stock Linux, sched_ext) is on the other
// side of the link.
//
// Everything read from the link comes from another system image and is checked before use:
// cpus out of range, malformed cpu sets and events for unknown tasks are counted and skipped,
// never followed.
//
// Resync: on RESYNC_BEGIN the subsystem forgets everything (tasks, cpu state, commits in flight),
// adopts the host's new epoch (the top 16 bits of every txn id it sends from then on, so the
// host can drop decisions made on the forgotten state; abi/wave_link.h), and rebuilds from the
// replay.
#ifndef LIBWAVE_LIB_SCHED_SCHED_H_
#define LIBWAVE_LIB_SCHED_SCHED_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "lib/sched/policy.h"
#include "lib/sched/stats.h"
#include "lib/sched/task.h"
#include "lib/sched/txn.h"
#include "lib/subsystem.h"
#include "transport/link.h"

namespace wave {

struct SchedOptions {
  int num_cpus = 0;
  // The WAVE_FEAT_* the session agreed on: without WAVE_FEAT_PRESTAGE the channel's lanes go
  // unused, without WAVE_FEAT_GROUPS Txn::CommitGroup refuses.
  uint64_t features = WAVE_FEATURES;
};

class TaskTable {
 public:
  TaskTable() = default;
  TaskTable(const TaskTable&) = delete;
  TaskTable& operator=(const TaskTable&) = delete;
  // Takes every task out of its queue and heap before freeing it: the policy may outlive the
  // agent.
  ~TaskTable();

  Task* Find(uint64_t id) const;
  size_t size() const { return tasks_.size(); }

 private:
  friend class SchedSubsystem;
  Task* Insert(uint64_t id);
  void Erase(uint64_t id);
  absl::flat_hash_map<uint64_t, std::unique_ptr<Task>> tasks_;
  mutable Task* last_ = nullptr;  // the task Find() returned last, while it is in the table
};

class SchedSubsystem : public Subsystem {
 public:
  SchedSubsystem(Policy& policy, const SchedOptions& options);

  // Subsystem.
  uint16_t id() const override { return WAVE_SUBSYS_SCHED; }
  void Attach(AgentEnd* end) override;
  void OnMessage(const wave_msg& msg) override;
  void OnResyncBegin(const wave_k2a_resync& msg) override;
  void OnResyncEnd(const wave_k2a_resync& msg) override;
  std::vector<uint16_t> subscriptions() const override { return policy_.Subscriptions(); }
  void OnSubscribed(const wave_msg& msg) override;
  uint32_t Decide() override;
  absl::StatusOr<uint32_t> Flush() override;
  size_t queued_commands() const override { return txn_.size(); }
  ChannelStats& channel_stats() override { return stats_; }

  const AgentStats& stats() const { return stats_; }
  const TaskTable& tasks() const { return tasks_; }
  CpuTable& cpus() { return cpus_; }
  // Commits sent whose result has not come back.
  size_t commits_in_flight() const { return direct_in_flight_ + in_flight_.size(); }

 private:
  struct InFlight {
    uint64_t task_id;
    int cpu;
    bool staged;
    Seq seq;  // the sequence the decision was made on
  };
  absl::Status FlushStaged();
  void OnTaskMsg(const wave_k2a_task& m);
  void OnCpuMsg(const wave_k2a_cpu& m);
  void OnResultMsg(const wave_k2a_commit_result& m);
  void LeaveCpu(Task& task);
  void FreeTask(Task& task);

  Policy& policy_;
  SchedOptions options_;
  AgentEnd* link_ = nullptr;
  TaskTable tasks_;
  CpuTable cpus_;
  CpuSetDecoder cpus_decoder_;  // TASK_CPUS chunks, until the task event they precede
  uint64_t next_txn_id_ = 1;    // epoch 0 until the first resync
  Txn txn_;
  // Staged decisions sent whose result has not come back (a commit's cpu tracks it instead).
  absl::flat_hash_map<uint64_t, InFlight> in_flight_;
  size_t direct_in_flight_ = 0;  // commits sent whose result has not come back
  AgentStats stats_;
};

}  // namespace wave

#endif  // LIBWAVE_LIB_SCHED_SCHED_H_
