// `wave scx`: a libwave policy as the system's sched_ext scheduler.
//
//   absl::StatusOr<ScxResult> r = RunScx({.policy = "fifo"});
//
// Loads and registers bpf/scx_wave.bpf.c (threads that set SCHED_EXT are its from then on),
// hosts a session (/dev/shm/wave-<session>, transport/session.h) for the agent, and runs the
// host half (ScxHost) until SIGINT/SIGTERM or the duration. The agent is its own process, so
// that killing it leaves the scheduler attached: with a policy, `wave-agent` is started as a
// child; without one, any `wave-agent --session=NAME` may join. A silent agent (heartbeat
// timeout, or it exited) is dropped at once: the kernel side runs its FIFO and the session
// waits for another agent, which gets a replay and takes over. Memory is locked (mlockall) and
// preallocated: a page fault here could wait on a thread only this scheduler would run.
// At the end the scheduler is unregistered (SCHED_EXT threads go back to the fair class).
#ifndef LIBWAVE_HOST_SCX_RUN_H_
#define LIBWAVE_HOST_SCX_RUN_H_

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "abi/cpuset.h"
#include "absl/status/statusor.h"
#include "host/scx/loader.h"
#include "host/scx/scx_host.h"

namespace wave {

struct ScxConfig {
  std::string policy = "fifo";  // "" or "none": no agent of our own, wait for one to join
  std::string session;          // "" : scx-<pid>
  std::string agent_binary = "wave-agent";  // the agent child's program (a path)
  CpuSet cpus;                                  // cpus the agent may use; empty: every cpu
  uint64_t duration_ns = 0;                     // 0: until SIGINT/SIGTERM
  uint64_t heartbeat_timeout_ns = 200'000'000;
  uint64_t max_wait_ns = 2'000'000'000;
  uint64_t idle_sleep_ns = 200'000;  // host and agent nap this long when there is nothing to do
  uint32_t prestage = 0;             // staged decisions per cpu (0: none; at most 8)
  uint32_t link_capacity = 4096;
  bool host_checks = true;
  // Called once the scheduler is registered (and the agent child started: its pid, or 0).
  std::function<void(const std::string& session, pid_t agent)> on_attached;
  // Called each time an agent has joined and got its replay (1 for the first).
  std::function<void(uint64_t agents)> on_agent;
};

struct ScxResult {
  ScxHostStats host;
  ScxKernelCounters kernel;
  std::optional<ScxExit> exit;  // set when the kernel stopped the scheduler on its own
  int signal = 0;               // SIGINT or SIGTERM that ended it, 0 if none
  uint64_t agent_lost = 0;      // times an agent went silent
  uint64_t fallback_ns = 0;     // time without an agent (the kernel's FIFO)
  std::string last_agent_error;
};

// Errors: FailedPrecondition (no sched_ext, no root, another scheduler loaded), Internal.
absl::StatusOr<ScxResult> RunScx(const ScxConfig& config);

}  // namespace wave

#endif  // LIBWAVE_HOST_SCX_RUN_H_
