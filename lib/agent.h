// The agent loop of libwave: drain a burst of events from the link, update the task and cpu
// tables, call the policy, flush one batch of commits. It does not know which mechanism (the
// simulator, stock Linux, sched_ext) is on the other side of the link.
//
//   Agent agent(std::move(link_end), policy, {.num_cpus = 8});
//   while (running) agent.RunOnce();
//
// Everything read from the link comes from another system image and is checked before use:
// unknown types, bad lengths, cpus out of range and events for unknown tasks are counted and
// skipped, never followed.
//
// Resync: on RESYNC_BEGIN the agent forgets everything (tasks, cpu state, commits in flight),
// adopts the host's new epoch (the top 16 bits of every txn id it sends from then on, so the
// host can drop decisions made on the forgotten state; abi/wave_link.h), and rebuilds from the
// replay.
#ifndef LIBWAVE_LIB_AGENT_H_
#define LIBWAVE_LIB_AGENT_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "lib/policy.h"
#include "lib/stats.h"
#include "lib/task.h"
#include "lib/txn.h"
#include "transport/link.h"

namespace wave {

struct AgentOptions {
  int num_cpus = 0;
  // Most events handled per Poll (0: the ring's capacity).
  uint32_t max_burst = 256;
  // The WAVE_FEAT_* the session agreed on: without WAVE_FEAT_PRESTAGE the link's staging rings
  // go unused, without WAVE_FEAT_GROUPS Txn::CommitGroup refuses.
  uint64_t features = WAVE_FEATURES;
};

// What one Poll did; a simulator charges virtual time for it.
struct PollResult {
  uint32_t events = 0;
  uint32_t commits = 0;  // queued by the policy in this poll
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
  friend class Agent;
  Task* Insert(uint64_t id);
  void Erase(uint64_t id);
  absl::flat_hash_map<uint64_t, std::unique_ptr<Task>> tasks_;
};

class Agent {
 public:
  Agent(AgentEnd link, Policy& policy, const AgentOptions& options);

  // Drains up to max_burst visible events, applies them, then calls Policy::Schedule once.
  // Commits stay queued until Flush(). An error means the event ring is corrupt.
  absl::StatusOr<PollResult> Poll();
  // Publishes queued commits in one burst. Those that do not fit stay queued for the next flush
  // (never dropped). Returns how many were published; an error means the commit ring is corrupt.
  absl::StatusOr<uint32_t> Flush();
  // Poll + Flush.
  absl::StatusOr<PollResult> RunOnce();

  // An event from the agent's own side of the link (the IPU's NIC), handled as if read from the
  // event ring; the policy schedules at the next Poll.
  void DeliverLocal(const wave_msg& msg);

  // Hands credits for consumed events back now (call before sleeping).
  void ReturnCredits() { link_.events.ReturnCredits(); }

  const AgentStats& stats() const { return stats_; }
  const TaskTable& tasks() const { return tasks_; }
  CpuTable& cpus() { return cpus_; }
  // Commits and staged decisions queued for the next Flush.
  size_t queued_commits() const { return txn_.size(); }
  // Commits sent whose result has not come back.
  size_t commits_in_flight() const { return in_flight_.size(); }

 private:
  struct InFlight {
    uint64_t task_id;
    int cpu;
    bool staged;
    Seq seq;  // the sequence the decision was made on
  };
  void OnResync(const wave_k2a_resync& m);
  absl::Status FlushStaged();
  void Dispatch(const wave_msg& msg);
  void OnTaskMsg(const wave_k2a_task& m);
  void OnCpuMsg(const wave_k2a_cpu& m);
  void OnResultMsg(const wave_k2a_commit_result& m);
  void LeaveCpu(Task& task);
  void FreeTask(Task& task);

  AgentEnd link_;
  Policy& policy_;
  AgentOptions options_;
  TaskTable tasks_;
  CpuTable cpus_;
  CpuSetDecoder cpus_decoder_;  // TASK_CPUS chunks, until the task event they precede
  uint64_t next_txn_id_ = 1;    // epoch 0 until the first resync
  uint32_t local_pending_ = 0;  // DeliverLocal events not yet followed by a Schedule
  Txn txn_;
  absl::flat_hash_map<uint64_t, InFlight> in_flight_;
  AgentStats stats_;
};

}  // namespace wave

#endif  // LIBWAVE_LIB_AGENT_H_
