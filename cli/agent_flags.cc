#include "cli/agent_flags.h"

#include "abi/wave_abi.h"
#include "cli/flag_table.h"

namespace wave::cli {
namespace {

constexpr int64_t kMinCpus = 1;
constexpr int64_t kMaxCpus = WAVE_MAX_CPUS;
constexpr uint64_t kMaxLinkLatencyNs = kNsPerS;

const std::vector<FlagSpec<AgentFlags>>& AgentFlagTable() {
  static const std::vector<FlagSpec<AgentFlags>>* const kFlags = new std::vector<
      FlagSpec<AgentFlags>>{
      {"--session", "NAME", "the session to join, as given to 'wave sim --session=NAME' (required)",
       [](std::string_view flag, std::string_view text, AgentFlags& f) -> absl::Status {
         absl::StatusOr<std::string> v = SessionName(flag, text);
         if (!v.ok()) return v.status();
         f.session = *v;
         return absl::OkStatus();
       },
       [](const AgentFlags& f) { return f.session; }},
      {"--policy", "NAME", PolicyHelp(),
       [](std::string_view flag, std::string_view text, AgentFlags& f) -> absl::Status {
         absl::StatusOr<std::string> v = PolicyName(flag, text);
         if (!v.ok()) return v.status();
         f.policy = *v;
         return absl::OkStatus();
       },
       [](const AgentFlags& f) { return f.policy; }},
      {"--link-latency", "TIME",
       "one-way latency emulated on the link; microseconds (1, 0.25) or with a unit: 250ns, 1us. "
       "Default: the host's; if given, it must match the host's",
       [](std::string_view flag, std::string_view text, AgentFlags& f) -> absl::Status {
         std::optional<uint64_t> ns = ParseTimeNs(text, kNsPerUs);
         if (!ns || *ns > kMaxLinkLatencyNs) {
           return Expected(flag, "a time in [0, 1s] like 1, 0.25 (microseconds), 250ns or 1us",
                           text);
         }
         f.link_latency_ns = *ns;
         f.link_latency_given = true;
         return absl::OkStatus();
       },
       [](const AgentFlags& f) { return FormatTimeNs(f.link_latency_ns); }},
      {"--ring-capacity", "N",
       "slots per ring direction, a power of two in [16, 1048576]; must match the host's",
       [](std::string_view flag, std::string_view text, AgentFlags& f) -> absl::Status {
         std::optional<int64_t> v = ParseInt64(text);
         if (!v || *v < 16 || *v > (1 << 20) || (*v & (*v - 1)) != 0) {
           return Expected(flag, "a power of two in [16, 1048576]", text);
         }
         f.ring_capacity = static_cast<uint32_t>(*v);
         return absl::OkStatus();
       },
       [](const AgentFlags& f) { return Cat(f.ring_capacity); }},
      {"--heartbeat-timeout", "TIME",
       "the host is presumed dead after this long without a heartbeat; milliseconds (50) or "
       "with a unit: 50ms, 1s",
       [](std::string_view flag, std::string_view text, AgentFlags& f) -> absl::Status {
         absl::StatusOr<uint64_t> v = HeartbeatTimeout(flag, text);
         if (!v.ok()) return v.status();
         f.heartbeat_timeout_ns = *v;
         return absl::OkStatus();
       },
       [](const AgentFlags& f) { return FormatTimeNs(f.heartbeat_timeout_ns); }},
      {"--cpus", "N",
       Cat("cpus the agent expects the host to have, 0 (take the host's) or ", kMinCpus, "..",
           kMaxCpus),
       [](std::string_view flag, std::string_view text, AgentFlags& f) -> absl::Status {
         absl::StatusOr<int64_t> v = IntIn(flag, text, 0, kMaxCpus);
         if (!v.ok()) return v.status();
         f.cpus = static_cast<int>(*v);
         return absl::OkStatus();
       },
       [](const AgentFlags& f) { return Cat(f.cpus); }},
      {"--idle-sleep", "TIME",
       "nap this long whenever there is nothing to do instead of spinning (0: spin, as an IPU "
       "core would); microseconds (200) or with a unit: 200us, 1ms",
       [](std::string_view flag, std::string_view text, AgentFlags& f) -> absl::Status {
         std::optional<uint64_t> ns = ParseTimeNs(text, kNsPerUs);
         if (!ns || *ns > 100 * kNsPerMs) {
           return Expected(flag, "a time in [0, 100ms] like 200 (microseconds), 200us or 0", text);
         }
         f.idle_sleep_ns = *ns;
         return absl::OkStatus();
       },
       [](const AgentFlags& f) { return FormatTimeNs(f.idle_sleep_ns); }},
      {"--mlock", "on|off",
       "lock the agent's memory (mlockall), as the agent of a real scheduler must ('wave scx')",
       [](std::string_view flag, std::string_view text, AgentFlags& f) -> absl::Status {
         absl::StatusOr<bool> v = OnOff(flag, text);
         if (!v.ok()) return v.status();
         f.mlock = *v;
         return absl::OkStatus();
       },
       [](const AgentFlags& f) -> std::string { return f.mlock ? "on" : "off"; }},
      {"--doorbells", "WAIT,RING",
       "two inherited eventfds ('wave scx' passes them to the agent it starts): the agent waits "
       "on WAIT when idle and rings RING when it has sent decisions",
       [](std::string_view flag, std::string_view text, AgentFlags& f) -> absl::Status {
         const size_t comma = text.find(',');
         std::optional<int64_t> w = ParseInt64(text.substr(0, comma));
         std::optional<int64_t> r =
             comma == std::string_view::npos ? std::nullopt : ParseInt64(text.substr(comma + 1));
         if (!w || !r || *w < 3 || *r < 3 || *w > 65535 || *r > 65535 || *w == *r) {
           return Expected(flag, "two distinct file descriptors like 5,6", text);
         }
         f.wait_fd = static_cast<int>(*w);
         f.ring_fd = static_cast<int>(*r);
         return absl::OkStatus();
       },
       [](const AgentFlags& f) -> std::string {
         return f.wait_fd < 0 ? "none" : Cat(f.wait_fd, ",", f.ring_fd);
       }},
  };
  return *kFlags;
}

}  // namespace

absl::StatusOr<std::optional<AgentFlags>> ParseAgentFlags(const std::vector<std::string>& args) {
  absl::StatusOr<std::optional<AgentFlags>> f =
      ParseFlags<AgentFlags>("agent", AgentFlagTable(), args, AgentFlags{});
  if (!f.ok() || !f->has_value()) return f;
  if ((*f)->session.empty()) {
    return absl::InvalidArgumentError(
        "agent: --session=NAME is required (see 'wave-agent --help')");
  }
  return f;
}

std::string AgentHelp() {
  return Cat(
      "usage: wave-agent --session=NAME [flags]   (or: wave agent ...)\n"
      "\n"
      "Runs a libwave agent as its own process: joins the session that 'wave sim --session=NAME'\n"
      "or 'wave scx --policy=none --session=NAME' created (/dev/shm/wave-NAME; waits up to 10s\n"
      "for it), serves each subsystem the host's link offers (scheduling) with the policy until\n"
      "the host closes the session, then prints one line of agent statistics. wave-agent links\n"
      "the runtime, the policies and the transport only (no libbpf, no host mechanism), so it\n"
      "builds for the agent's own system image.\n"
      "\n"
      "flags (--flag=value or --flag value; a flag given twice keeps its last value):\n",
      FlagsHelp(AgentFlagTable(), AgentFlags{}),
      "\n"
      "examples:\n"
      "  wave-agent --session=s1 & wave sim --session=s1 --duration=1s\n"
      "\n"
      "exit status: 0 the host closed the session, 1 failed (no host, host presumed dead),\n"
      "2 bad command line or session mismatch ('wave: agent: session mismatch: ...')\n");
}

}  // namespace wave::cli
