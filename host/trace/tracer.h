// The host half of the trace mechanism, one thread's worth of work:
//  - Pump(): moves the kernel's events (the BPF ring buffer of bpf/trace.bpf.c) into the link's
//    event ring, in order, publishing once per batch. When the link is full it stops and leaves
//    the rest in the kernel's buffer, which is the backlog (the kernel counts what it drops).
//  - Actuate(): validates each commit of the agent against the kernel's *current* view of the
//    task (the sequence in the `tasks` map, which may be newer than what the agent saw) with
//    host/mech's ValidateCommit, enacts the valid ones with sched_setaffinity (the task may run
//    only on the committed cpu) and sched_setattr (the commit's slice becomes the task's EEVDF
//    slice request), and answers every commit with a COMMIT_RESULT.
// On a kernel without a custom scheduling class this is advisory: the kernel's fair class still
// picks when the task runs; a commit decides only where it may run, and for how long it asks to.
// Every change is recorded first in the RestoreJournal, so it can be undone. Of the rings it uses
// only the burst verbs (Reserve/Write/Submit, Peek/Read/Advance/ReturnCredits), nothing of their
// layout.
#ifndef LIBWAVE_HOST_TRACE_TRACER_H_
#define LIBWAVE_HOST_TRACE_TRACER_H_

#include <cstdint>
#include <vector>

#include "abi/cpuset.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "host/mech/commit_pump.h"
#include "host/mech/validate.h"
#include "host/trace/loader.h"
#include "host/trace/restore.h"
#include "host/trace/stats.h"
#include "transport/link.h"

struct ring_buffer;

namespace wave {

class TraceHost : private CommitHost {
 public:
  // `link_capacity`: slots of each of the link's rings (as formatted). `num_cpus`: the cpus the
  // agent models (ids 0..num_cpus-1). REQUIRES: prog and journal outlive the host.
  static absl::StatusOr<std::unique_ptr<TraceHost>> Create(TraceProgram& prog, HostEnd link,
                                                           uint32_t link_capacity,
                                                           RestoreJournal& journal, int num_cpus);
  TraceHost(const TraceHost&) = delete;
  TraceHost& operator=(const TraceHost&) = delete;
  ~TraceHost();

  // Tells the agent which cpus it may use: CPU_AVAILABLE for each managed cpu.
  absl::Status AnnounceCpus();
  // Forwards what the kernel has produced, as much as the link takes. Returns how many messages
  // were published. An error means the kernel's ring buffer could not be read.
  absl::StatusOr<uint32_t> Pump();
  // True when the last Pump stopped because the link was full (the kernel buffer has more).
  bool backlogged() const { return backlogged_; }
  // Validates and enacts every commit waiting whose result fits in the link (host/mech's
  // CommitPump). Returns how many commits were taken; an error means the commit ring is corrupt.
  absl::StatusOr<uint32_t> Actuate();
  // From now on, no cpu is managed: commits are answered CPU_NOT_ALLOWED and nothing is
  // enacted (wave is shutting down and has restored the threads).
  void StopEnacting() { enacting_ = false; }

  // The ring buffer's epoll fd: readable when the kernel has events.
  int kernel_fd() const;
  // Refreshes the kernel counters in stats().
  void UpdateKernelCounters();
  const TraceStats& stats() const { return stats_; }
  TraceStats& mutable_stats() { return stats_; }

 private:
  TraceHost(TraceProgram& prog, HostEnd link, uint32_t link_capacity, RestoreJournal& journal,
            int num_cpus)
      : prog_(prog),
        link_(std::move(link)),
        link_capacity_(link_capacity),
        journal_(journal),
        num_cpus_(num_cpus),
        pump_(CommitPumpOptions{.num_cpus = num_cpus}) {}
  // CommitHost: the kernel's current view (the `tasks` map), enacting with syscalls, answers in
  // one burst per round.
  bool LookupTask(const wave_a2k_commit& c, HostTaskView* view, CpuSet* scratch) override;
  bool LookupCpu(const wave_a2k_commit& c, HostCpuView* view) override;
  uint32_t Enact(const wave_a2k_commit& c) override;
  uint32_t AnswerRoom() override;
  void Answer(const wave_msg& result) override;
  void EndAnswers() override;
  uint64_t NowNs() override;
  static int OnRecord(void* ctx, void* data, size_t size);
  // What the host does with one kernel record (a well-formed message) before it goes to the
  // agent (it may correct it, and a cpu set may need chunks to go before it: `*n` of them).
  // False: not forwarded.
  bool Observe(wave_msg& m, wave_msg* chunks, size_t* n);
  // The cpus thread `tid` may use (AND the managed ones), from what the programs keep (`kept`:
  // the mask itself on a machine of at most 64 cpus, else read from the kernel).
  CpuSet KernelCpus(pid_t tid, uint64_t kept) const;
  // Records the application's cpus of a NEW or AFFINITY and writes them into the event for the
  // agent; returns how many TASK_CPUS chunks (in `chunks`) must go before it.
  size_t SetAppCpus(wave_msg& m, CpuSet cpus, wave_msg* chunks);

  TraceProgram& prog_;
  HostEnd link_;
  const uint32_t link_capacity_;
  RestoreJournal& journal_;
  const int num_cpus_;
  ring_buffer* rb_ = nullptr;
  bool enacting_ = true;
  bool backlogged_ = false;
  // During a Pump: slots reserved in the link and used so far.
  uint32_t reserved_ = 0;
  uint32_t written_ = 0;
  // The allowed cpus the application chose for each task (from NEW and AFFINITY events), which
  // commits are validated against; the kernel's current mask may be wave's own pinning.
  absl::flat_hash_map<uint64_t, CpuSet> app_cpus_;
  CommitPump pump_;
  uint32_t answered_ = 0;  // during a round of answers: slots used of those reserved
  TraceStats stats_;
};

}  // namespace wave

#endif  // LIBWAVE_HOST_TRACE_TRACER_H_
