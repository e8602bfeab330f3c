// The command line of `wave-agent` (and of `wave agent`, which runs it): the agent process of an
// external-agent run, `wave sim --session=NAME` or `wave scx --policy=none --session=NAME`.
//
//   wave-agent --session=NAME [--flag=value | --flag value]... [-h|--help]
#ifndef LIBWAVE_CLI_AGENT_FLAGS_H_
#define LIBWAVE_CLI_AGENT_FLAGS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace wave::cli {

struct AgentFlags {
  std::string session;  // required
  std::string policy = "fifo";
  uint64_t link_latency_ns = 1'000;  // one way, emulated on the commits it sends
  bool link_latency_given = false;   // if not, the agent takes the host's
  uint32_t ring_capacity = 4096;     // must match the host's
  uint64_t heartbeat_timeout_ns = 50'000'000;
  int cpus = 0;                // 0: take the host's
  uint64_t idle_sleep_ns = 0;  // nap this long when there is nothing to do (0: spin)
  bool mlock = false;          // lock memory (an agent of a real scheduler, `wave scx`)
  // Eventfds inherited from `wave scx`: wait on the first when idle, ring the second after
  // sending decisions. -1: none (nap for idle_sleep_ns instead).
  int wait_fd = -1;
  int ring_fd = -1;
};

// The arguments after the program name. Nullopt: -h or --help was given (it wins over errors in
// the other arguments). An error is one line without the "wave: " prefix.
absl::StatusOr<std::optional<AgentFlags>> ParseAgentFlags(const std::vector<std::string>& args);

// Every flag with its default.
std::string AgentHelp();

}  // namespace wave::cli

#endif  // LIBWAVE_CLI_AGENT_FLAGS_H_
