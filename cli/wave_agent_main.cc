// wave-agent: a libwave agent as its own program. It joins a session a host created
// (`wave sim --session=NAME`, `wave scx --policy=none --session=NAME`), attaches a subsystem to
// each channel of the link it serves (scheduling), and runs the runtime until the host closes the
// session or falls silent. It links the runtime, lib/, the policies and the transport only (no
// libbpf, no host mechanism: tests/cli/agent_deps_test.sh checks), so it builds for the system
// image the agent lives in. Exit status: 0 the host closed the session, 1 failed (no host, host
// presumed dead), 2 bad command line or session mismatch (one line on stderr starting "wave:").
#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "cli/agent_flags.h"
#include "cli/output.h"
#include "lib/runtime.h"
#include "lib/sched/sched.h"
#include "policies/registry.h"
#include "transport/clock.h"
#include "transport/doorbell.h"
#include "transport/link.h"
#include "transport/session.h"

namespace wave::cli {
namespace {

// Joins the session and serves it until the host closes it or goes silent.
int RunAgent(const AgentFlags& flags) {
  constexpr uint64_t kJoinTimeoutNs = 10'000'000'000;
  absl::StatusOr<std::unique_ptr<Policy>> policy = MakePolicy(flags.policy);
  if (!policy.ok()) return Fail(kExitUsage, "--policy: ", std::string(policy.status().message()));
  SessionParams expect;
  expect.link = LinkConfig::Sched(flags.ring_capacity, flags.ring_capacity);
  expect.num_cpus = static_cast<uint32_t>(flags.cpus);
  expect.link_latency_ns =
      flags.link_latency_given ? static_cast<uint32_t>(flags.link_latency_ns) : kTakeHosts;
  // A mismatch is a FailedPrecondition whose message starts "session mismatch:".
  auto fail = [](const absl::Status& s) {
    const bool mismatch = s.code() == absl::StatusCode::kFailedPrecondition &&
                          s.message().substr(0, 17) == "session mismatch:";
    return Fail(mismatch ? kExitUsage : kExitFailed, "agent: ", std::string(s.message()));
  };
  if (flags.mlock && mlockall(MCL_CURRENT | MCL_FUTURE) != 0) {
    return Fail(kExitFailed, "agent: ", absl::StrFormat("mlockall: %s", std::strerror(errno)));
  }
  absl::StatusOr<Session> session = Session::Join(flags.session, expect, kJoinTimeoutNs);
  if (!session.ok()) return fail(session.status());
  if (absl::Status s = session->WaitForAccept(kJoinTimeoutNs); !s.ok()) return fail(s);
  // Every subsystem this agent serves, on its channel (scheduling is the one there is).
  const LinkModel link = session->link_model();
  absl::StatusOr<AgentLink> ends = session->AttachAgentLink(link, link);
  if (!ends.ok()) return fail(ends.status());
  if (!ends->ends[WAVE_SUBSYS_SCHED].has_value()) {
    return fail(absl::FailedPreconditionError("the host's link has no scheduling channel"));
  }
  Runtime runtime;
  SchedSubsystem sched(**policy,
                       SchedOptions{.num_cpus = static_cast<int>(session->params().num_cpus),
                                    .features = session->features()});
  if (absl::Status s = runtime.Attach(sched, *std::move(ends->ends[WAVE_SUBSYS_SCHED])); !s.ok()) {
    return fail(s);
  }
  std::optional<Doorbell> wait_bell;
  std::optional<Doorbell> ring_bell;
  if (flags.wait_fd >= 0) {
    wait_bell.emplace(flags.wait_fd);
    ring_bell.emplace(flags.ring_fd);
  }
  absl::Status ended = runtime.Run(LoopOptions{
      .session = &*session,
      .heartbeat_timeout_ns = flags.heartbeat_timeout_ns,
      .wait_bell = wait_bell ? &*wait_bell : nullptr,
      .idle_sleep_ns = flags.idle_sleep_ns,
      .ring_bell = ring_bell ? &*ring_bell : nullptr,
  });
  if (!ended.ok()) return fail(ended);
  const AgentStats& st = sched.stats();
  return Print(absl::StrFormat(
      "wave agent: session %s closed by the host; policy %s, polls %u, events %u, commits "
      "sent %u, staged sent %u, ok %u, stale %u, rejected %u, in flight %u, malformed %u, "
      "unknown task %u, unknown type %u; link %u ns one way, %s clock, %s\n",
      flags.session, flags.policy, st.polls, st.events, st.commits_sent, st.staged_sent,
      st.commits_ok(), st.commits_stale(), st.commits_rejected(), sched.commits_in_flight(),
      st.malformed, st.unknown_task, st.unknown_type, session->params().link_latency_ns,
      LinkClockName(LinkClockKindInUse()), session->placement()));
}

int Main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  absl::StatusOr<std::optional<AgentFlags>> flags = ParseAgentFlags(args);
  if (!flags.ok()) return Fail(kExitUsage, "", std::string(flags.status().message()));
  if (!flags->has_value()) return Print(AgentHelp());
  return RunAgent(**flags);
}

}  // namespace
}  // namespace wave::cli

int main(int argc, char** argv) { return wave::cli::Main(argc, argv); }
