#include "cli/flags.h"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <utility>

#include "abi/wave_abi.h"
#include "absl/strings/match.h"
#include "lib/sched/nice.h"
#include "policies/registry.h"
#include "transport/link.h"

namespace wave::cli {
namespace {

constexpr int64_t kMinCpus = 1;
constexpr int64_t kMaxCpus = WAVE_MAX_CPUS;
constexpr double kMaxLoadRps = 1e9;
constexpr uint64_t kMaxDurationNs = 3600 * kNsPerS;
constexpr uint64_t kMaxLinkLatencyNs = kNsPerS;
constexpr int64_t kMaxThreads = 1'000'000;
constexpr size_t kMaxNiceValues = 1024;
constexpr int64_t kMaxPrestage = 8;  // bpf/scx_maps.h's WAVE_SCX_STAGE_DEPTH
constexpr std::string_view kCpuListExpected = "a cpu list like 1 or 0,2-3 (cpus 0..8191)";

Command CommandOf(CommandKind kind) {
  Command c;
  c.kind = kind;
  return c;
}

// The workloads, with their service times from WorkloadConfig's defaults.
std::string WorkloadHelp() {
  const WorkloadConfig w;
  return Cat("the server's requests: rocksdb (", FormatTimeNs(w.get_ns), " GETs, ",
             w.scan_fraction * 100, "% ", FormatTimeNs(w.scan_ns), " range scans), uniform (",
             FormatTimeNs(w.min_ns), "-", FormatTimeNs(w.max_ns), "), exponential (",
             FormatTimeNs(w.mean_ns), " mean), rpc (", FormatTimeNs(w.mean_ns),
             " mean, one flow per thread, the host's network stack ", FormatTimeNs(w.net_stack_ns),
             "), vms (", w.vms, " VMs of ", w.vcpus_per_vm, " always-busy vCPUs + ", w.antagonists,
             " antagonist threads; useful work only while a VM's vCPUs co-run), or cpubound (no "
             "requests: every worker runs until --duration, for cpu shares; see --nice)");
}

// The policies of the registry, each with what it does.

constexpr WorkloadKind kWorkloads[] = {WorkloadKind::kRocksDb,     WorkloadKind::kUniform,
                                       WorkloadKind::kExponential, WorkloadKind::kRpc,
                                       WorkloadKind::kVms,         WorkloadKind::kCpuBound};

using SimFlag = FlagSpec<SimFlags>;

const std::vector<SimFlag>& SimFlagTable() {
  static const std::vector<SimFlag>* const kFlags = new std::vector<SimFlag>{
      {"--policy", "NAME",
       Cat(PolicyHelp(),
           ", or kernel (no agent: the host's own round robin, --fallback-slice, on every cpu)"),
       [](std::string_view flag, std::string_view text, SimFlags& f) -> absl::Status {
         if (text == "kernel") {
           f.policy = "kernel";
           return absl::OkStatus();
         }
         absl::StatusOr<std::string> v = PolicyName(flag, text);
         if (!v.ok()) return v.status();
         f.policy = *v;
         return absl::OkStatus();
       },
       [](const SimFlags& f) { return f.policy; }},
      {"--workload", "KIND", WorkloadHelp(),
       [](std::string_view flag, std::string_view text, SimFlags& f) -> absl::Status {
         for (WorkloadKind k : kWorkloads) {
           if (text == WorkloadName(k)) {
             f.config.workload.kind = k;
             return absl::OkStatus();
           }
         }
         return Expected(flag, "one of rocksdb|uniform|exponential|rpc|vms|cpubound", text);
       },
       [](const SimFlags& f) -> std::string { return WorkloadName(f.config.workload.kind); }},
      {"--cpus", "N", Cat("simulated host cpus, ", kMinCpus, "..", kMaxCpus),
       [](std::string_view flag, std::string_view text, SimFlags& f) -> absl::Status {
         absl::StatusOr<int64_t> v = IntIn(flag, text, kMinCpus, kMaxCpus);
         if (!v.ok()) return v.status();
         f.config.cpus = static_cast<int>(*v);
         return absl::OkStatus();
       },
       [](const SimFlags& f) { return Cat(f.config.cpus); }},
      {"--load", "RPS", "offered load in requests per second (Poisson arrivals), > 0",
       [](std::string_view flag, std::string_view text, SimFlags& f) -> absl::Status {
         std::optional<double> v = ParseFiniteDouble(text);
         if (!v || !(*v > 0) || *v > kMaxLoadRps) {
           return Expected(flag, "a number of requests per second in (0, 1000000000]", text);
         }
         f.config.workload.load_rps = *v;
         return absl::OkStatus();
       },
       [](const SimFlags& f) { return Cat(f.config.workload.load_rps); }},
      {"--duration", "TIME",
       "how long requests arrive (virtual time); seconds (2, 0.5) or with a unit: 500ms, 2s",
       [](std::string_view flag, std::string_view text, SimFlags& f) -> absl::Status {
         std::optional<uint64_t> ns = ParseTimeNs(text, kNsPerS);
         if (!ns || *ns == 0 || *ns > kMaxDurationNs) {
           return Expected(flag, "a time in (0, 3600s] like 2, 0.5 (seconds), 500ms or 2s", text);
         }
         f.config.duration_ns = *ns;
         return absl::OkStatus();
       },
       [](const SimFlags& f) { return FormatTimeNs(f.config.duration_ns); }},
      {"--placement", "WHERE",
       "where the agent runs: ipu (every cpu runs the workload, the link has --link-latency) or "
       "host (the agent takes cpu 0)",
       [](std::string_view flag, std::string_view text, SimFlags& f) -> absl::Status {
         for (Placement p : {Placement::kHost, Placement::kIpu}) {
           if (text == PlacementName(p)) {
             f.config.placement = p;
             return absl::OkStatus();
           }
         }
         return Expected(flag, "one of host|ipu", text);
       },
       [](const SimFlags& f) -> std::string { return PlacementName(f.config.placement); }},
      {"--link-latency", "TIME",
       "one-way host<->IPU latency; microseconds (1, 0.25) or with a unit: 250ns, 1us",
       [](std::string_view flag, std::string_view text, SimFlags& f) -> absl::Status {
         std::optional<uint64_t> ns = ParseTimeNs(text, kNsPerUs);
         if (!ns || *ns > kMaxLinkLatencyNs) {
           return Expected(flag, "a time in [0, 1s] like 1, 0.25 (microseconds), 250ns or 1us",
                           text);
         }
         f.config.link_latency_ns = *ns;
         return absl::OkStatus();
       },
       [](const SimFlags& f) { return FormatTimeNs(f.config.link_latency_ns); }},
      {"--seed", "N", "random seed, 0..2^64-1; the same seed gives the same result",
       [](std::string_view flag, std::string_view text, SimFlags& f) -> absl::Status {
         std::optional<uint64_t> v = ParseUint64(text);
         if (!v) return Expected(flag, "an integer in [0, 18446744073709551615]", text);
         f.config.seed = *v;
         return absl::OkStatus();
       },
       [](const SimFlags& f) { return Cat(f.config.seed); }},
      {"--threads", "N", Cat("worker threads of the server, 1..", kMaxThreads),
       [](std::string_view flag, std::string_view text, SimFlags& f) -> absl::Status {
         absl::StatusOr<int64_t> v = IntIn(flag, text, 1, kMaxThreads);
         if (!v.ok()) return v.status();
         f.config.workload.threads = static_cast<int>(*v);
         return absl::OkStatus();
       },
       [](const SimFlags& f) { return Cat(f.config.workload.threads); }},
      {"--nice", "LIST",
       "nice values of the workers, comma-separated, each in [-20, 19], given in turn (worker i "
       "gets the (i mod n)-th); the output then shows cpu time by nice value. Default: all 0",
       [](std::string_view flag, std::string_view text, SimFlags& f) -> absl::Status {
         std::vector<int> nice;
         for (size_t start = 0;;) {
           const size_t comma = std::min(text.find(',', start), text.size());
           std::optional<int64_t> v = ParseInt64(text.substr(start, comma - start));
           if (!v || *v < kMinNice || *v > kMaxNice || nice.size() >= kMaxNiceValues) {
             return Expected(flag,
                             Cat("up to ", kMaxNiceValues,
                                 " comma-separated integers in [-20, 19] like 0,5,-5"),
                             text);
           }
           nice.push_back(static_cast<int>(*v));
           if (comma == text.size()) break;
           start = comma + 1;
         }
         f.config.workload.nice = std::move(nice);
         return absl::OkStatus();
       },
       [](const SimFlags& f) {
         std::string out;
         for (int n : f.config.workload.nice) out += Cat(out.empty() ? "" : ",", n);
         return out;
       }},
      {"--session", "NAME",
       "run in real time with the agent in another process, 'wave-agent --session=NAME', joined "
       "through /dev/shm/wave-NAME (waits up to 10s for it); --policy is then ignored (the "
       "agent schedules with its own). If the agent is silent for --heartbeat-timeout the host "
       "runs the cpus itself and waits for another agent to join the same session",
       [](std::string_view flag, std::string_view text, SimFlags& f) -> absl::Status {
         absl::StatusOr<std::string> v = SessionName(flag, text);
         if (!v.ok()) return v.status();
         f.config.session = *v;
         return absl::OkStatus();
       },
       [](const SimFlags& f) { return f.config.session; }},
      {"--heartbeat-timeout", "TIME",
       "the agent is presumed dead after this long without a heartbeat, and the host falls back "
       "to its own round robin; milliseconds (50) or with a unit: 50ms, 1s",
       [](std::string_view flag, std::string_view text, SimFlags& f) -> absl::Status {
         absl::StatusOr<uint64_t> v = HeartbeatTimeout(flag, text);
         if (!v.ok()) return v.status();
         f.config.heartbeat_timeout_ns = *v;
         return absl::OkStatus();
       },
       [](const SimFlags& f) { return FormatTimeNs(f.config.heartbeat_timeout_ns); }},
      {"--prestage", "N",
       "prestaged decisions per cpu, 0 (off) or a power of two in [2, 256]: a cpu that frees "
       "up runs its next staged decision with no round trip",
       [](std::string_view flag, std::string_view text, SimFlags& f) -> absl::Status {
         absl::StatusOr<int64_t> v = IntIn(flag, text, 0, kMaxStageDepth);
         if (!v.ok()) return v.status();
         if (*v == 1 || (*v & (*v - 1)) != 0) {
           return Expected(flag, "0 or a power of two in [2, 256]", text);
         }
         f.config.prestage_depth = static_cast<uint32_t>(*v);
         return absl::OkStatus();
       },
       [](const SimFlags& f) { return Cat(f.config.prestage_depth); }},
      {"--agent-fail-at", "TIME",
       "stop the in-process agent at this time (to watch the host fall back); milliseconds "
       "(500) or with a unit: 500ms, 1s; 0: never",
       [](std::string_view flag, std::string_view text, SimFlags& f) -> absl::Status {
         absl::StatusOr<uint64_t> ns = MillisecondsFlag(flag, text, kMaxDurationNs, true, "[0, 1h]",
                                                        "500 (milliseconds), 500ms or 1s");
         if (!ns.ok()) return ns.status();
         f.config.agent_fail_at_ns = *ns;
         return absl::OkStatus();
       },
       [](const SimFlags& f) { return FormatTimeNs(f.config.agent_fail_at_ns); }},
      {"--agent-restart-at", "TIME",
       "start a new agent at this time (after --agent-fail-at); it gets a replay of every task "
       "and takes over; milliseconds or with a unit; 0: never",
       [](std::string_view flag, std::string_view text, SimFlags& f) -> absl::Status {
         absl::StatusOr<uint64_t> ns = MillisecondsFlag(flag, text, kMaxDurationNs, true, "[0, 1h]",
                                                        "800 (milliseconds), 800ms or 1s");
         if (!ns.ok()) return ns.status();
         f.config.agent_restart_at_ns = *ns;
         return absl::OkStatus();
       },
       [](const SimFlags& f) { return FormatTimeNs(f.config.agent_restart_at_ns); }},
      {"--fallback-slice", "TIME",
       "time slice of the host's own round robin while the agent is gone; milliseconds (3) or "
       "with a unit: 3ms, 500us",
       [](std::string_view flag, std::string_view text, SimFlags& f) -> absl::Status {
         absl::StatusOr<uint64_t> ns = MillisecondsFlag(flag, text, kNsPerS, false, "(0, 1s]",
                                                        "3 (milliseconds), 3ms or 500us");
         if (!ns.ok()) return ns.status();
         f.config.fallback_slice_ns = *ns;
         return absl::OkStatus();
       },
       [](const SimFlags& f) { return FormatTimeNs(f.config.fallback_slice_ns); }},
      {"--format", "FMT", "output: table (for people) or json (one object, stable key order)",
       [](std::string_view flag, std::string_view text, SimFlags& f) -> absl::Status {
         if (text == "table") {
           f.format = OutputFormat::kTable;
         } else if (text == "json") {
           f.format = OutputFormat::kJson;
         } else {
           return Expected(flag, "one of table|json", text);
         }
         return absl::OkStatus();
       },
       [](const SimFlags& f) -> std::string {
         return f.format == OutputFormat::kJson ? "json" : "table";
       }},
  };
  return *kFlags;
}

using RunFlag = FlagSpec<RunFlags>;
using StatsFlag = FlagSpec<StatsFlags>;

const std::vector<RunFlag>& RunFlagTable() {
  static const std::vector<RunFlag>* const kFlags = new std::vector<RunFlag>{
      {"--policy", "NAME", Cat("scheduling policy: ", Join(PolicyNames(), "|")),
       [](std::string_view flag, std::string_view text, RunFlags& f) -> absl::Status {
         absl::StatusOr<std::string> v = PolicyName(flag, text);
         if (!v.ok()) return v.status();
         f.policy = *v;
         return absl::OkStatus();
       },
       [](const RunFlags& f) { return f.policy; }},
      {"--cpus", "LIST",
       "cpus the policy may place threads on, e.g. 1 or 0,2-3; the others never appear idle to "
       "it",
       [](std::string_view flag, std::string_view text, RunFlags& f) -> absl::Status {
         std::optional<CpuSet> v = ParseCpuList(text);
         if (!v) return Expected(flag, kCpuListExpected, text);
         f.cpus = *std::move(v);
         return absl::OkStatus();
       },
       [](const RunFlags& f) -> std::string {
         return f.cpus.empty() ? "every cpu wave may use" : f.cpus.ToString();
       }},
      {"--batch", "TIME",
       "the host forwards events and enacts commits at most once per TIME (its own wakeups are "
       "context switches of managed threads, hence events: batching bounds that feedback); 0: "
       "at once; microseconds (500) or with a unit: 1ms, 0",
       [](std::string_view flag, std::string_view text, RunFlags& f) -> absl::Status {
         std::optional<uint64_t> ns = ParseTimeNs(text, kNsPerUs);
         if (!ns || *ns > kNsPerS) {
           return Expected(flag, "a time in [0, 1s] like 500 (microseconds), 1ms or 0", text);
         }
         f.batch_ns = *ns;
         return absl::OkStatus();
       },
       [](const RunFlags& f) { return FormatTimeNs(f.batch_ns); }},
      {"--cgroup", "PATH",
       "also manage every task of this cgroup v2 directory and its subtree, as they come and go; "
       "with it the command is optional: without one, wave runs until SIGINT or SIGTERM",
       [](std::string_view flag, std::string_view text, RunFlags& f) -> absl::Status {
         if (text.empty()) return Expected(flag, "a cgroup directory", text);
         f.cgroup = std::string(text);
         return absl::OkStatus();
       },
       [](const RunFlags& f) -> std::string { return f.cgroup.empty() ? "none" : f.cgroup; }},
      {"--yields", "HOW",
       "how sched_yield() is told from a preemption (TASK_YIELD): auto (kprobes, if the kernel "
       "has them), syscalls (else the syscall tracepoints: every system call of every task then "
       "pays a little), off (a yield is TASK_PREEMPTED)",
       [](std::string_view flag, std::string_view text, RunFlags& f) -> absl::Status {
         std::optional<YieldEvents> v = ParseYieldEvents(text);
         if (!v) return Expected(flag, "auto, syscalls or off", text);
         f.yields = *v;
         return absl::OkStatus();
       },
       [](const RunFlags& f) -> std::string { return YieldEventsName(f.yields); }},
  };
  return *kFlags;
}

const std::vector<StatsFlag>& StatsFlagTable() {
  static const std::vector<StatsFlag>* const kFlags = new std::vector<StatsFlag>{
      {"--pid", "PID", "the wave run process to show; 0: every one running",
       [](std::string_view flag, std::string_view text, StatsFlags& f) -> absl::Status {
         absl::StatusOr<int64_t> v = IntIn(flag, text, 0, 4194304);
         if (!v.ok()) return v.status();
         f.pid = *v;
         return absl::OkStatus();
       },
       [](const StatsFlags& f) { return Cat(f.pid); }},
      {"--format", "FMT", "output: table (for people) or json (one object per line and run)",
       [](std::string_view flag, std::string_view text, StatsFlags& f) -> absl::Status {
         if (text == "table") {
           f.format = OutputFormat::kTable;
         } else if (text == "json") {
           f.format = OutputFormat::kJson;
         } else {
           return Expected(flag, "one of table|json", text);
         }
         return absl::OkStatus();
       },
       [](const StatsFlags& f) -> std::string {
         return f.format == OutputFormat::kJson ? "json" : "table";
       }},
  };
  return *kFlags;
}

using ScxFlag = FlagSpec<ScxFlags>;

const std::vector<ScxFlag>& ScxFlagTable() {
  static const std::vector<ScxFlag>* const kFlags = new std::vector<ScxFlag>{
      {"--policy", "NAME",
       Cat("the policy of the agent that wave scx starts as its child: ", Join(PolicyNames(), "|"),
           ", or none: start no agent, wait for 'wave-agent --session=NAME' to join"),
       [](std::string_view flag, std::string_view text, ScxFlags& f) -> absl::Status {
         if (text == "none") {
           f.policy = "none";
           return absl::OkStatus();
         }
         absl::StatusOr<std::string> v = PolicyName(flag, text);
         if (!v.ok()) return v.status();
         f.policy = *v;
         return absl::OkStatus();
       },
       [](const ScxFlags& f) { return f.policy; }},
      {"--session", "NAME", "the session agents join (/dev/shm/wave-NAME); default scx-<pid>",
       [](std::string_view flag, std::string_view text, ScxFlags& f) -> absl::Status {
         absl::StatusOr<std::string> v = SessionName(flag, text);
         if (!v.ok()) return v.status();
         f.session = *v;
         return absl::OkStatus();
       },
       [](const ScxFlags& f) -> std::string {
         return f.session.empty() ? "scx-<pid>" : f.session;
       }},
      {"--cpus", "LIST", "cpus the agent may place threads on, e.g. 1-3",
       [](std::string_view flag, std::string_view text, ScxFlags& f) -> absl::Status {
         std::optional<CpuSet> v = ParseCpuList(text);
         if (!v) return Expected(flag, kCpuListExpected, text);
         f.cpus = *std::move(v);
         return absl::OkStatus();
       },
       [](const ScxFlags& f) -> std::string {
         return f.cpus.empty() ? "every cpu" : f.cpus.ToString();
       }},
      {"--duration", "TIME",
       "unregister after this long; 0: run until SIGINT or SIGTERM; seconds (10) or with a "
       "unit: 500ms, 2s",
       [](std::string_view flag, std::string_view text, ScxFlags& f) -> absl::Status {
         std::optional<uint64_t> ns = ParseTimeNs(text, kNsPerS);
         if (!ns || *ns > kMaxDurationNs) {
           return Expected(flag, "a time in [0, 3600s] like 10, 500ms or 2s", text);
         }
         f.duration_ns = *ns;
         return absl::OkStatus();
       },
       [](const ScxFlags& f) { return FormatTimeNs(f.duration_ns); }},
      {"--heartbeat-timeout", "TIME",
       "an agent silent this long is dropped and the kernel's FIFO runs the threads until "
       "another joins; milliseconds (200) or with a unit: 200ms, 1s",
       [](std::string_view flag, std::string_view text, ScxFlags& f) -> absl::Status {
         absl::StatusOr<uint64_t> v = HeartbeatTimeout(flag, text);
         if (!v.ok()) return v.status();
         f.heartbeat_timeout_ns = *v;
         return absl::OkStatus();
       },
       [](const ScxFlags& f) { return FormatTimeNs(f.heartbeat_timeout_ns); }},
      {"--max-wait", "TIME",
       "a thread that waited this long for a decision runs in FIFO order anyway (the kernel's "
       "watchdog ejects a scheduler at 30s); milliseconds (2000) or with a unit: 2s",
       [](std::string_view flag, std::string_view text, ScxFlags& f) -> absl::Status {
         std::optional<uint64_t> ns = ParseTimeNs(text, kNsPerMs);
         if (!ns || *ns < kNsPerMs || *ns > 10 * kNsPerS) {
           return Expected(flag, "a time in [1ms, 10s] like 2000 (milliseconds) or 2s", text);
         }
         f.max_wait_ns = *ns;
         return absl::OkStatus();
       },
       [](const ScxFlags& f) { return FormatTimeNs(f.max_wait_ns); }},
      {"--idle-sleep", "TIME",
       "the host half and its agent nap this long when there is nothing to do; microseconds "
       "(200) or with a unit: 200us, 1ms",
       [](std::string_view flag, std::string_view text, ScxFlags& f) -> absl::Status {
         std::optional<uint64_t> ns = ParseTimeNs(text, kNsPerUs);
         if (!ns || *ns < 1'000 || *ns > 100 * kNsPerMs) {
           return Expected(flag, "a time in [1us, 100ms] like 200 (microseconds) or 1ms", text);
         }
         f.idle_sleep_ns = *ns;
         return absl::OkStatus();
       },
       [](const ScxFlags& f) { return FormatTimeNs(f.idle_sleep_ns); }},
      {"--prestage", "N",
       Cat("decisions the agent may stage per cpu, taken by the cpu with no round trip: 0 "
           "(none) or 2..",
           kMaxPrestage, ", a power of two"),
       [](std::string_view flag, std::string_view text, ScxFlags& f) -> absl::Status {
         std::optional<int64_t> v = ParseInt64(text);
         if (!v || (*v != 0 && (*v < 2 || *v > kMaxPrestage || (*v & (*v - 1)) != 0))) {
           return Expected(flag, Cat("0 or a power of two in [2, ", kMaxPrestage, "]"), text);
         }
         f.prestage = static_cast<uint32_t>(*v);
         return absl::OkStatus();
       },
       [](const ScxFlags& f) { return Cat(f.prestage); }},
      {"--host-checks", "on|off",
       "check each commit in user space (host/mech's ValidateCommit) before the kernel does; "
       "off: the kernel side's own checks are all there is (for tests of them)",
       [](std::string_view flag, std::string_view text, ScxFlags& f) -> absl::Status {
         absl::StatusOr<bool> v = OnOff(flag, text);
         if (!v.ok()) return v.status();
         f.host_checks = *v;
         return absl::OkStatus();
       },
       [](const ScxFlags& f) -> std::string { return f.host_checks ? "on" : "off"; }},
      {"--format", "FMT",
       "statistics at the end: table (stderr, for people) or json (one object on stdout)",
       [](std::string_view flag, std::string_view text, ScxFlags& f) -> absl::Status {
         if (text == "table") {
           f.format = OutputFormat::kTable;
         } else if (text == "json") {
           f.format = OutputFormat::kJson;
         } else {
           return Expected(flag, "one of table|json", text);
         }
         return absl::OkStatus();
       },
       [](const ScxFlags& f) -> std::string {
         return f.format == OutputFormat::kJson ? "json" : "table";
       }},
  };
  return *kFlags;
}

absl::StatusOr<Command> ParseSim(const std::vector<std::string>& args) {
  absl::StatusOr<std::optional<SimFlags>> f =
      ParseFlags<SimFlags>("sim", SimFlagTable(), args, DefaultSimFlags());
  if (!f.ok()) return f.status();
  if (!f->has_value()) return CommandOf(CommandKind::kSimHelp);
  Command cmd = CommandOf(CommandKind::kSim);
  cmd.sim = **f;
  return cmd;
}

// `wave run [flags] -- COMMAND [ARGS]...`: the flags end at the first "--"; what follows is the
// command, passed on untouched.
absl::StatusOr<Command> ParseRun(const std::vector<std::string>& args) {
  auto sep = std::find(args.begin(), args.end(), std::string("--"));
  const std::vector<std::string> flag_args(args.begin(), sep);
  absl::StatusOr<std::optional<RunFlags>> f =
      ParseFlags<RunFlags>("run", RunFlagTable(), flag_args, RunFlags{});
  if (!f.ok()) {
    // A stray word before "--" is most likely a command without its "--".
    if (sep == args.end() && absl::StrContains(f.status().message(), "unexpected argument")) {
      return absl::InvalidArgumentError(
          "run: the command goes after '--', e.g. 'wave run --policy=fifo -- make -j2'");
    }
    return f.status();
  }
  if (!f->has_value()) return CommandOf(CommandKind::kRunHelp);
  const bool has_command = sep != args.end() && sep + 1 != args.end();
  if (!has_command && (*f)->cgroup.empty()) {
    return absl::InvalidArgumentError(
        "run: missing command after '--', e.g. 'wave run --policy=fifo -- make -j2' (or a "
        "--cgroup=PATH to manage)");
  }
  Command cmd = CommandOf(CommandKind::kRun);
  cmd.run = **f;
  if (has_command) cmd.run.command.assign(sep + 1, args.end());
  return cmd;
}

absl::StatusOr<Command> ParseScx(const std::vector<std::string>& args) {
  absl::StatusOr<std::optional<ScxFlags>> f =
      ParseFlags<ScxFlags>("scx", ScxFlagTable(), args, ScxFlags{});
  if (!f.ok()) return f.status();
  if (!f->has_value()) return CommandOf(CommandKind::kScxHelp);
  Command cmd = CommandOf(CommandKind::kScx);
  cmd.scx = **f;
  return cmd;
}

absl::StatusOr<Command> ParseStats(const std::vector<std::string>& args) {
  absl::StatusOr<std::optional<StatsFlags>> f =
      ParseFlags<StatsFlags>("stats", StatsFlagTable(), args, StatsFlags{});
  if (!f.ok()) return f.status();
  if (!f->has_value()) return CommandOf(CommandKind::kStatsHelp);
  Command cmd = CommandOf(CommandKind::kStats);
  cmd.stats = **f;
  return cmd;
}

// `wave restore [-h|--help]`: no flags.
absl::StatusOr<Command> ParseRestore(const std::vector<std::string>& args) {
  if (std::any_of(args.begin(), args.end(), [](const std::string& a) { return IsHelp(a); })) {
    return CommandOf(CommandKind::kRestoreHelp);
  }
  if (!args.empty()) {
    const std::string_view arg = args[0];
    if (arg.size() > 1 && arg[0] == '-') {
      return absl::InvalidArgumentError(
          Cat("unknown flag ", Quoted(arg), " for 'restore' (see 'wave restore --help')"));
    }
    return absl::InvalidArgumentError(
        Cat("restore: unexpected argument ", Quoted(arg), " (it takes none)"));
  }
  return CommandOf(CommandKind::kRestore);
}

}  // namespace

SimFlags DefaultSimFlags() {
  // The defaults live in SimConfig/WorkloadConfig (host/sim/sim.h); the command line adds the
  // policy and the output format.
  SimFlags f;
  f.policy = "fifo";
  f.format = OutputFormat::kTable;
  return f;
}

absl::StatusOr<Command> ParseCommandLine(const std::vector<std::string>& args) {
  if (args.empty()) {
    return absl::InvalidArgumentError("missing command (try 'wave --help')");
  }
  const std::string_view first = args[0];
  if (first == "sim") {
    return ParseSim(std::vector<std::string>(args.begin() + 1, args.end()));
  }
  if (first == "agent") {  // wave-agent parses its own flags
    Command cmd = CommandOf(CommandKind::kAgent);
    cmd.agent_args.assign(args.begin() + 1, args.end());
    return cmd;
  }
  if (first == "run") {
    return ParseRun(std::vector<std::string>(args.begin() + 1, args.end()));
  }
  if (first == "stats") {
    return ParseStats(std::vector<std::string>(args.begin() + 1, args.end()));
  }
  if (first == "restore") {
    return ParseRestore(std::vector<std::string>(args.begin() + 1, args.end()));
  }
  if (first == "scx") {
    return ParseScx(std::vector<std::string>(args.begin() + 1, args.end()));
  }
  if (first == "help" || IsHelp(first)) {
    if (args.size() == 1 || (args.size() == 2 && args[1] == "help")) {
      return CommandOf(CommandKind::kHelp);
    }
    static const std::pair<std::string_view, CommandKind> kHelps[] = {
        {"sim", CommandKind::kSimHelp},         {"agent", CommandKind::kAgentHelp},
        {"run", CommandKind::kRunHelp},         {"stats", CommandKind::kStatsHelp},
        {"restore", CommandKind::kRestoreHelp}, {"scx", CommandKind::kScxHelp}};
    const auto* help = std::find_if(std::begin(kHelps), std::end(kHelps),
                                    [&](const auto& h) { return h.first == args[1]; });
    if (help == std::end(kHelps)) {
      return absl::InvalidArgumentError(
          Cat(first, ": unknown command ", Quoted(args[1]),
              " (commands: sim, agent, run, stats, restore, scx, help)"));
    }
    if (args.size() > 2) {
      return absl::InvalidArgumentError(Cat(first, ": unexpected argument ", Quoted(args[2])));
    }
    return CommandOf(help->second);
  }
  if (!first.empty() && first[0] == '-') {
    return absl::InvalidArgumentError(
        Cat("unknown flag ", Quoted(first),
            " (flags go after the command, e.g. 'wave sim --cpus=4'; see 'wave --help')"));
  }
  return absl::InvalidArgumentError(Cat("unknown command ", Quoted(first),
                                        " (commands: sim, agent, run, stats, restore, scx, help)"));
}

std::string SimHelp() {
  return Cat(
      "usage: wave sim [flags]\n"
      "\n"
      "Runs one deterministic simulation: an open-loop server workload on simulated host cpus,\n"
      "scheduled by a real libwave policy whose agent runs on the IPU (across an emulated link)\n"
      "or on a host cpu, on a virtual clock. Prints a summary of throughput, latency, commits,\n"
      "cpu use and correctness counters. Same flags and seed: byte-identical output.\n"
      "\n"
      "flags (--flag=value or --flag value; a flag given twice keeps its last value):\n",
      FlagsHelp(SimFlagTable(), DefaultSimFlags()),
      "\n"
      "examples:\n"
      "  wave sim\n"
      "  wave sim --placement=host --cpus=9 --load=200000\n"
      "  wave sim --workload=exponential --link-latency=250ns --duration=500ms --format=json\n"
      "  wave-agent --session=s1 & wave sim --session=s1 --duration=1s   (two processes)\n"
      "\n"
      "With --session the host runs in real time and the agent is the process that joined; a\n"
      "handshake mismatch (ring sizes, ABI) fails with 'wave: sim failed: session mismatch: ...'\n"
      "and a silent agent with '... presumed dead'.\n"
      "\n"
      "exit status: 0 ok, 1 the simulation failed (also: session mismatch, agent dead or absent),\n"
      "2 bad command line or configuration\n");
}

std::string TopLevelHelp() {
  return Cat(
      "usage: wave <command> [flags]\n"
      "\n"
      "wave is the command line of libwave, a split-OS scheduler whose policies run on an IPU.\n"
      "\n"
      "commands:\n"
      "  sim         run one simulation (wave sim --help)\n"
      "  agent       run wave-agent, the agent as its own process (wave agent --help)\n"
      "  run         run a command with its threads scheduled by a policy, on this kernel (BPF)\n"
      "  stats       show the live counters of a running 'wave run'\n"
      "  restore     restore the threads of a 'wave run' killed together with its guardian\n"
      "  scx         run a policy as this machine's sched_ext scheduler (Linux 6.12+, root)\n"
      "  help [CMD]  print this help, or the help of CMD\n"
      "\n"
      "flags:\n"
      "  -h, --help  print this help and exit\n"
      "\n"
      "flags of 'wave sim':\n",
      FlagsHelp(SimFlagTable(), DefaultSimFlags()),
      "\n"
      "exit status: 0 ok, 1 the simulation failed, 2 bad command line or configuration\n");
}

std::string RunHelp() {
  return Cat(
      "usage: wave run [flags] -- COMMAND [ARGS]...\n"
      "\n"
      "Runs COMMAND with its threads (and those of the processes it starts) managed by a libwave\n"
      "policy on this machine's kernel: BPF programs on the scheduler's tracepoints report real\n"
      "task events to the agent, which runs the policy in a thread of this process; its commits\n"
      "are validated against the tasks' current sequence numbers and enacted with\n"
      "sched_setaffinity (the cpu) and sched_setattr (the slice). Without a custom scheduling\n"
      "class this is advisory: the kernel still decides when a thread runs, the policy decides\n"
      "where. At exit it prints statistics on stderr (events by type, commits ok/stale, drops);\n"
      "'wave stats' shows them while it runs.\n"
      "\n"
      "Every thread wave changed gets its original affinity and policy back when wave ends: at\n"
      "the command's exit, on SIGINT/SIGTERM (restored at once; the signal is passed on to the\n"
      "command unless it came from the terminal; a second signal stops waiting for it), when the\n"
      "command is killed, and, through a guardian process, when wave itself is killed. If the\n"
      "guardian is killed too, its journal (/dev/shm/wave-journal.PID) stays: 'wave restore', or\n"
      "the start of the next 'wave run', restores from it.\n"
      "\n"
      "Needs root, or CAP_BPF and CAP_PERFMON, and a kernel with BTF.\n"
      "\n"
      "flags (--flag=value or --flag value; a flag given twice keeps its last value):\n",
      FlagsHelp(RunFlagTable(), RunFlags{}),
      "\n"
      "examples:\n"
      "  wave run -- make -j2\n"
      "  wave run --policy=pin --cpus=1 -- ./server --threads=4\n"
      "\n"
      "exit status: the command's (128 + N if signal N ended it); 1 wave failed (e.g. missing\n"
      "privileges: the message names them), 2 bad command line, 127 COMMAND cannot be run\n");
}

std::string StatsHelp() {
  return Cat(
      "usage: wave stats [flags]\n"
      "\n"
      "Shows the live counters of running 'wave run' processes (each publishes them in\n"
      "/dev/shm/wave-run.PID, updated every 50 ms): events by type, commits by result, what\n"
      "was enacted, and the kernel side's emitted/dropped counts.\n"
      "\n"
      "flags (--flag=value or --flag value; a flag given twice keeps its last value):\n",
      FlagsHelp(StatsFlagTable(), StatsFlags{}),
      "\n"
      "exit status: 0 ok, 1 no such run (or none running), 2 bad command line\n");
}

std::string RestoreHelp() {
  return Cat(
      "usage: wave restore [-h|--help]\n"
      "\n"
      "Gives the threads of a 'wave run' killed together with its guardian (e.g. kill -9 of both)\n"
      "their original affinity and policy back. Every 'wave run' journals what it changes in\n"
      "/dev/shm/wave-journal.PID; normally it (or its guardian) restores and removes it. This\n"
      "restores each journal whose wave and guardian are both gone, by the same rules (the same\n"
      "thread only, by tid and start time; a setting the application changed itself since is\n"
      "kept), removes it, and prints one line per journal; journals of running waves are left\n"
      "alone. Files it cannot read as journals get a warning and stay. 'wave run' does this too\n"
      "when it starts (it says so only when it restored something).\n"
      "\n"
      "flags:\n"
      "  -h, --help             print this help and exit\n"
      "\n"
      "exit status: 0 ok (also when a file was skipped with a warning), 1 a journal could not be\n"
      "read or removed\n");
}

std::string ScxHelp() {
  return Cat(
      "usage: wave scx [flags]\n"
      "\n"
      "Runs a libwave policy as this machine's sched_ext scheduler (Linux 6.12+ with\n"
      "CONFIG_SCHED_CLASS_EXT; root). Threads that opt in by setting the SCHED_EXT policy (7)\n"
      "are scheduled by it: a struct_ops BPF program reports their events to the agent and\n"
      "enacts its decisions after checking them; every other thread stays with the fair class.\n"
      "The agent is its own process ('wave-agent', started as a child with --policy, or joined\n"
      "by hand with --policy=none): if it dies or goes silent, the kernel runs the threads in\n"
      "FIFO order until another agent joins the session and takes over. At the end (the\n"
      "duration, SIGINT or SIGTERM) the scheduler is unregistered and the threads go back to\n"
      "the fair class; statistics go to stderr (or stdout with --format=json).\n"
      "\n"
      "flags (--flag=value or --flag value; a flag given twice keeps its last value):\n",
      FlagsHelp(ScxFlagTable(), ScxFlags{}),
      "\n"
      "examples:\n"
      "  wave scx --policy=fifo --duration=10s\n"
      "  wave scx --policy=none --session=s1 & wave-agent --session=s1 --policy=fifo\n"
      "\n"
      "exit status: 0 ok, 1 failed (no sched_ext, not root, another scheduler loaded, or the\n"
      "kernel stopped the scheduler: its reason is printed), 2 bad command line\n");
}

}  // namespace wave::cli
