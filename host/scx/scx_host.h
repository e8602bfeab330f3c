// The host half of the scx mechanism in user space: between the sched_ext program (loader.h)
// and an agent's link (transport/link.h).
//  - Pump(): the kernel's events (BPF ring buffer) into the link's event ring, in order, one
//    publish per batch. With no agent attached they are read and dropped (the kernel side runs
//    its FIFO then; a new agent gets a replay instead).
//  - Actuate(): each commit of the agent is checked here first with host/mech's ValidateCommit
//    against the kernel's current view of the task (its `tasks` map) and cpu; one that fails is
//    answered at once; one that passes goes into its cpu's commit ring in the kernel, whose
//    dispatch checks it again, authoritatively, when it takes it. Staged decisions go into their
//    cpu's staging slots as room frees. Cpus that got work are kicked. The kernel side applies no
//    all-or-nothing groups yet, so the session does not offer WAVE_FEAT_GROUPS, and a group commit
//    an agent sends anyway is answered MALFORMED.
//  - AttachAgent()/DetachAgent(): a new agent gets a new epoch and a replay (RESYNC_BEGIN, a
//    TASK_NEW for every task the kernel tracks, CPU_IDLE for free cpus, RESYNC_END); a gone one
//    stops the heartbeat at once, so the kernel's FIFO takes over without waiting for a timeout.
// With host_checks off, commits are forwarded unchecked (only routed by cpu): the kernel side's
// own validation is then all there is (a test of it).
#ifndef LIBWAVE_HOST_SCX_SCX_HOST_H_
#define LIBWAVE_HOST_SCX_SCX_HOST_H_

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "abi/msg_types.h"
#include "abi/wave_abi.h"
#include "absl/status/statusor.h"
#include "host/mech/commit_pump.h"
#include "host/mech/replay.h"
#include "host/scx/loader.h"
#include "transport/link.h"

struct ring_buffer;

namespace wave {

// Plain integers: one thread (the host loop) writes them.
struct ScxHostStats {
  uint64_t records = 0;            // read from the kernel's ring buffer
  uint64_t malformed_records = 0;  // wrong size or type: skipped
  uint64_t discarded = 0;          // read while no agent was attached
  MsgCounts events_by_type;        // forwarded, and replayed
  uint64_t link_full = 0;          // pumps that stopped because the link's event ring was full
  uint64_t commits_received = 0;
  uint64_t staged_received = 0;
  uint64_t forwarded = 0;         // commits queued for the kernel
  uint64_t staged_forwarded = 0;  // staged decisions queued for the kernel
  uint64_t stale_epoch = 0;       // decisions of an older agent, dropped unanswered
  uint64_t queue_full = 0;        // commits answered CPU_BUSY: their cpu's ring was full
  // Results by status: answered here, and answered by the kernel (read from its ring buffer).
  std::array<uint64_t, WAVE_COMMIT_STATUS_COUNT> results_here{};
  std::array<uint64_t, WAVE_COMMIT_STATUS_COUNT> results_kernel{};
  uint64_t staged_results_kernel = 0;  // of results_kernel, flagged STAGED
  uint64_t kicks = 0;
  uint64_t agents = 0;  // agents attached so far
  uint64_t replayed_tasks = 0;
};

struct ScxHostOptions {
  bool host_checks = true;
};

class ScxHost : private CommitHost {
 public:
  // REQUIRES: prog outlives the host.
  static absl::StatusOr<std::unique_ptr<ScxHost>> Create(ScxProgram& prog,
                                                         const ScxHostOptions& options);
  ScxHost(const ScxHost&) = delete;
  ScxHost& operator=(const ScxHost&) = delete;
  ~ScxHost();

  // A new agent on a fresh link of `link_capacity` slots per ring: new epoch, replay, heartbeat.
  absl::Status AttachAgent(HostEnd link, uint32_t link_capacity, uint64_t now_ns);
  // The agent is gone: heartbeat 0 (the kernel runs its FIFO from now on), link dropped.
  void DetachAgent();
  bool has_agent() const { return link_.has_value(); }
  // The agent showed a sign of life at `now_ns` (CLOCK_MONOTONIC, the kernel's clock).
  void Beat(uint64_t now_ns);

  // Kernel -> agent: the replay to a new agent first (streamed), then the kernel's events.
  // Returns how many records were read.
  absl::StatusOr<uint32_t> Pump(uint64_t now_ns);
  bool backlogged() const { return backlogged_; }
  // Agent -> kernel. Returns how many commits and staged decisions were taken from the link;
  // an error means a ring of the link is corrupt.
  absl::StatusOr<uint32_t> Actuate();

  // The ring buffer's epoll fd: readable when the kernel has events.
  int kernel_fd() const;
  const ScxHostStats& stats() const { return stats_; }
  uint32_t epoch() const { return epoch_; }

 private:
  ScxHost(ScxProgram& prog, const ScxHostOptions& options)
      : prog_(prog),
        options_(options),
        pump_(CommitPumpOptions{
            .num_cpus = prog.num_cpus(), .groups = false, .host_checks = options.host_checks}) {}
  static int OnRecord(void* ctx, void* data, size_t size);
  absl::StatusOr<uint32_t> TakeStaged();
  bool QueueCommit(const wave_msg& m, int cpu);
  // CommitHost: the kernel's view (the `tasks` map), enacting into the cpus' kernel rings (the
  // kernel answers those), answers of what fails here in one burst per round.
  bool LookupTask(const wave_a2k_commit& c, HostTaskView* view, CpuSet* scratch) override;
  bool LookupCpu(const wave_a2k_commit& c, HostCpuView* view) override;
  uint32_t Enact(const wave_a2k_commit& c) override;
  uint32_t AnswerRoom() override;
  void Answer(const wave_msg& result) override;
  void EndAnswers() override;
  uint64_t NowNs() override;

  ScxProgram& prog_;
  const ScxHostOptions options_;
  ring_buffer* rb_ = nullptr;
  std::optional<HostEnd> link_;
  uint32_t link_capacity_ = 0;
  uint32_t epoch_ = 0;  // 1..65535 once an agent attached (abi/wave_link.h)
  bool backlogged_ = false;
  uint32_t reserved_ = 0;  // during a Pump: link slots reserved and used so far
  uint32_t written_ = 0;
  CommitPump pump_;
  ReplayWriter replay_;
  CpuSet kick_;  // during an Actuate: cpus that got work, and those to preempt
  CpuSet preempt_;
  uint32_t answered_ = 0;  // during a round of answers: slots used of those reserved
  uint64_t staged_stale_epoch_ = 0;
  // Producer indices of each cpu's kernel rings (this side's own; the kernel's credit line
  // says how far it has consumed).
  std::vector<uint32_t> commit_tail_;  // by cpu, for every possible cpu
  std::vector<uint32_t> stage_tail_;
  ScxHostStats stats_;
};

// "events: TASK_NEW 5, ...\ncommits: ...\nkernel: ...\n" for people.
std::string FormatScxStats(const ScxHostStats& s, const ScxKernelCounters& k);
// One JSON object with a fixed key order.
std::string FormatScxStatsJson(const ScxHostStats& s, const ScxKernelCounters& k);

}  // namespace wave

#endif  // LIBWAVE_HOST_SCX_SCX_HOST_H_
