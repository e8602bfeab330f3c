// `wave run`: a command's threads scheduled by a libwave policy on stock Linux.
//
//   absl::StatusOr<RunResult> r = RunTraced({.command = {"make", "-j2"}}, policy);
//
// Starts the command as a child, paused until its thread group is managed by the BPF programs
// (so its first instruction is already traced), runs the agent with `policy` in a thread of this
// process, and the host half (TraceHost) in the calling thread, until the child exits. Processes
// the command creates are managed too. Threads wave changed get their original affinity and
// policy back when it ends: normally, on SIGINT/SIGTERM (restored at once, then the signal is
// passed to the child if it did not come from the terminal, and wave waits for the child; a
// second signal stops the wait), or when the child is killed. If wave itself is killed
// (SIGKILL), its guardian process restores them; if the guardian is killed too, the journal they
// leave in /dev/shm is restored by RestoreOrphanedJournals (restore.h).
#ifndef LIBWAVE_HOST_TRACE_RUN_H_
#define LIBWAVE_HOST_TRACE_RUN_H_

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "abi/cpuset.h"
#include "absl/status/statusor.h"
#include "host/trace/stats.h"
#include "host/trace/yield_events.h"
#include "lib/sched/policy.h"
#include "lib/sched/stats.h"

namespace wave {

struct RunConfig {
  std::vector<std::string> command;  // looked up in PATH; may be empty only with a cgroup
  // A cgroup v2 directory whose tasks (its whole subtree, as they come and go) are managed too.
  // Without a command, wave runs until SIGINT or SIGTERM.
  std::string cgroup;
  CpuSet cpus;                     // cpus the policy may use; empty: every cpu wave may use
  uint32_t ring_bytes = 4u << 20;  // the kernel's ring buffer
  uint32_t link_capacity = 4096;   // slots of each link ring
  // The host wakes at most once per batch_ns to forward events and enact commits (0: whenever
  // the kernel has something). The agent and host threads share the cpus with the workload, and
  // each of their wakeups is itself a context switch of a managed thread, hence more events:
  // batching bounds that feedback.
  uint64_t batch_ns = 1'000'000;
  std::string policy_name;                  // for the stats file
  bool publish_stats = true;                // /dev/shm/wave-run.<pid>, read by `wave stats`
  YieldEvents yields = YieldEvents::kAuto;  // how sched_yield() is seen (yield_events.h)
  // Tests: TraceProgramOptions::blind_tgid.
  pid_t blind_tgid = 0;
  // Called in the host thread once the child is managed and running (with 0 when there is no
  // command: a cgroup alone).
  std::function<void(pid_t child)> on_start;
};

struct RunResult {
  pid_t child = 0;
  int wait_status = 0;  // waitpid's, when child_exited
  bool child_exited = false;
  // The shell's convention: the command's exit status, or 128 + the signal that killed it.
  int exit_code = 0;
  int signal = 0;  // SIGINT or SIGTERM that wave received, 0 if none
  TraceStats stats;
  AgentStats agent;
};

// Errors: FailedPrecondition (privileges or BTF missing: the message names them), NotFound
// (the command cannot be executed), Internal (a syscall or the BPF load failed).
absl::StatusOr<RunResult> RunTraced(const RunConfig& config, Policy& policy);

// The cpus this process may run on (sched_getaffinity), any number of them.
CpuSet AllowedCpus();

}  // namespace wave

#endif  // LIBWAVE_HOST_TRACE_RUN_H_
