// wave: the command line of libwave. `wave sim` runs one simulation (host/sim) with a policy from
// the registry and prints a table or a JSON object; with --session=NAME the agent is another
// process, `wave-agent --session=NAME` (cli/wave_agent_main.cc; `wave agent` runs it). Exit status:
// 0 ok, 1 the simulation (or the agent) failed, 2 bad command line or configuration, or (agent) a
// session mismatch (one line on stderr starting with "wave:").
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/flags.h"
#include "cli/output.h"
#include "host/scx/run.h"
#include "host/sim/report.h"
#include "host/sim/sim.h"
#include "host/trace/proc.h"
#include "host/trace/restore.h"
#include "host/trace/run.h"
#include "host/trace/stats.h"
#include "policies/registry.h"
#include "transport/clock.h"

namespace wave::cli {
namespace {

constexpr int kExitCannotRun = 127;

// wave-agent: beside this binary (bazel-bin/cli/, or wherever both were installed).
std::string AgentBinary() {
  char self[4096];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0) return "wave-agent";
  std::string dir(self, static_cast<size_t>(n));
  const size_t slash = dir.rfind('/');
  return slash == std::string::npos ? "wave-agent" : dir.substr(0, slash + 1) + "wave-agent";
}

int RunSimCommand(const SimFlags& flags) {
  if (absl::Status s = ValidateSimConfig(flags.config); !s.ok()) {
    return Fail(kExitUsage, "sim: ", std::string(s.message()));
  }
  if (flags.policy == "kernel") {
    absl::StatusOr<SimResult> result = RunSimKernel(flags.config);
    if (!result.ok()) return Fail(kExitUsage, "sim: ", std::string(result.status().message()));
    return Print(flags.format == OutputFormat::kJson ? FormatJson(*result) : FormatTable(*result));
  }
  absl::StatusOr<std::unique_ptr<Policy>> policy = MakePolicy(flags.policy);
  if (!policy.ok()) return Fail(kExitUsage, "--policy: ", std::string(policy.status().message()));
  if (!flags.config.session.empty()) {
    // The host of a two-process run: the policy is the agent's; report its name.
    absl::StatusOr<SimResult> result = RunSimExternal(flags.config);
    if (!result.ok())
      return Fail(kExitFailed, "sim failed: ", std::string(result.status().message()));
    return Print(flags.format == OutputFormat::kJson ? FormatJson(*result) : FormatTable(*result));
  }
  // A factory, so that a restarted agent (--agent-restart-at) starts with a fresh policy.
  const std::string name = flags.policy;
  absl::StatusOr<SimResult> result = RunSim(flags.config, [name]() -> std::unique_ptr<Policy> {
    absl::StatusOr<std::unique_ptr<Policy>> p = MakePolicy(name);
    return p.ok() ? *std::move(p) : nullptr;
  });
  if (!result.ok()) return Fail(kExitFailed, "sim failed: ", result.status().ToString());
  return Print(flags.format == OutputFormat::kJson ? FormatJson(*result) : FormatTable(*result));
}

// `wave agent ARGS...`: wave-agent ARGS..., the binary beside this one (the agent is its own
// program, built without the host's mechanisms).
int ExecAgent(const std::vector<std::string>& args) {
  const std::string path = AgentBinary();
  std::vector<std::string> argv_s = {"wave-agent"};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::fflush(stdout);
  execv(path.c_str(), argv.data());
  return Fail(kExitCannotRun, "agent: ",
              absl::StrFormat("cannot run %s: %s (it is built with wave: bazel build //cli:all)",
                              path, std::strerror(errno)));
}

// Restores the journals of waves killed together with their guardians (RestoreOrphanedJournals),
// and removes the stats file each such wave left, as its guardian would have (unless its pid
// names a running process again).
std::vector<OrphanedJournal> RestoreOrphans() {
  std::vector<OrphanedJournal> journals = RestoreOrphanedJournals();
  for (const OrphanedJournal& j : journals) {
    if (j.outcome != OrphanedJournal::Outcome::kRestored) continue;
    const std::optional<ThreadStat> st = ReadThreadStat(j.owner);
    if (!st || st->state == 'Z' || st->state == 'X') {
      unlink(StatsPublisher::PathFor(j.owner).c_str());
    }
  }
  return journals;
}

// `wave restore`: one line per journal on stdout; a file that is not a journal is a warning and
// a journal that could not be restored an error, on stderr.
int RunRestoreCommand() {
  const std::vector<OrphanedJournal> journals = RestoreOrphans();
  std::string out;
  bool failed = false;
  for (const OrphanedJournal& j : journals) {
    const std::string line = FormatOrphanedJournal(j);
    if (j.outcome == OrphanedJournal::Outcome::kMalformed) {
      Fail(kExitOk, "restore: warning: ", line);
    } else if (j.outcome == OrphanedJournal::Outcome::kError) {
      failed = true;
      Fail(kExitFailed, "restore: ", line);
    } else {
      out += line + "\n";
    }
  }
  if (journals.empty()) out = absl::StrFormat("no wave journals in %s\n", kJournalDir);
  const int rc = out.empty() ? kExitOk : Print(out);
  return failed ? kExitFailed : rc;
}

// `wave run`: the command's threads under the policy, statistics on stderr at the end.
int RunRunCommand(const RunFlags& flags) {
  absl::StatusOr<std::unique_ptr<Policy>> policy = MakePolicy(flags.policy);
  if (!policy.ok()) return Fail(kExitUsage, "--policy: ", std::string(policy.status().message()));
  const CpuSet allowed = AllowedCpus();
  CpuSet unavailable = flags.cpus;
  for (int c = allowed.First(); c >= 0; c = allowed.Next(c)) unavailable.Clear(c);
  if (!unavailable.empty()) {
    return Fail(kExitUsage, "--cpus: ",
                absl::StrFormat("cpu %s not available here (wave may use %s)",
                                unavailable.ToString(), allowed.ToString()));
  }
  // Threads that a wave killed together with its guardian left changed: restored first, quietly
  // unless something was put back.
  for (const OrphanedJournal& j : RestoreOrphans()) {
    if (j.outcome == OrphanedJournal::Outcome::kRestored && j.restored > 0) {
      std::fputs(
          absl::StrCat("wave run: ", FormatOrphanedJournal(j), " (a killed wave's)\n").c_str(),
          stderr);
    }
  }
  RunConfig config;
  config.command = flags.command;
  config.cpus = flags.cpus;
  config.batch_ns = flags.batch_ns;
  config.yields = flags.yields;
  config.cgroup = flags.cgroup;
  config.policy_name = flags.policy;
  absl::StatusOr<RunResult> r = RunTraced(config, **policy);
  if (!r.ok()) {
    const int code =
        r.status().code() == absl::StatusCode::kNotFound ? kExitCannotRun : kExitFailed;
    return Fail(code, "run: ", std::string(r.status().message()));
  }
  std::string how;
  if (r->child == 0) {
    how = "managed until wave's signal";
  } else if (!r->child_exited) {
    how = absl::StrFormat("left running after a second signal (pid %d)", r->child);
  } else if (WIFSIGNALED(r->wait_status)) {
    how = absl::StrFormat("killed by signal %d", WTERMSIG(r->wait_status));
  } else {
    how = absl::StrFormat("exited with status %d", r->exit_code);
  }
  std::string report = absl::StrFormat(
      "wave run: %s %s; policy %s on cpus %s%s\n",
      flags.command.empty()  ? "cgroup " + flags.cgroup
      : flags.cgroup.empty() ? flags.command[0]
                             : absl::StrCat(flags.command[0], " and cgroup ", flags.cgroup),
      how, flags.policy, (!flags.cpus.empty() ? flags.cpus : allowed).ToString(),
      r->signal != 0 ? absl::StrFormat(" (wave got signal %d)", r->signal) : "");
  report += FormatTraceStats(r->stats);
  const AgentStats& a = r->agent;
  report += absl::StrFormat(
      "agent: events %u, commits sent %u, malformed %u, unknown task %u, stale events %u\n",
      a.events, a.commits_sent, a.malformed, a.unknown_task, a.stale_events);
  std::fputs(report.c_str(), stderr);
  return r->exit_code;
}

// `wave scx`: the policy as the sched_ext scheduler until the duration or a signal.
int RunScxCommand(const ScxFlags& flags) {
  ScxConfig config;
  config.policy = flags.policy;
  config.session = flags.session;
  config.cpus = flags.cpus;
  config.duration_ns = flags.duration_ns;
  config.heartbeat_timeout_ns = flags.heartbeat_timeout_ns;
  config.max_wait_ns = flags.max_wait_ns;
  config.idle_sleep_ns = flags.idle_sleep_ns;
  config.prestage = flags.prestage;
  config.host_checks = flags.host_checks;
  config.agent_binary = AgentBinary();
  config.on_attached = [&flags](const std::string& session, pid_t agent) {
    std::string line = absl::StrFormat("wave scx: registered; session %s", session);
    line += agent != 0 ? absl::StrFormat(", agent pid %d (policy %s)\n", agent, flags.policy)
                       : ", waiting for 'wave-agent --session=" + session + "'\n";
    std::fputs(line.c_str(), stderr);
  };
  config.on_agent = [](uint64_t agents) {
    std::fputs(absl::StrFormat("wave scx: agent %u attached\n", agents).c_str(), stderr);
  };
  absl::StatusOr<ScxResult> r = RunScx(config);
  if (!r.ok()) {
    const int code =
        r.status().code() == absl::StatusCode::kInvalidArgument ? kExitUsage : kExitFailed;
    return Fail(code, "scx: ", std::string(r.status().message()));
  }
  std::string how = "unregistered";
  if (r->exit && r->exit->kind >= 1024) {
    how = absl::StrFormat("stopped by the kernel (exit kind %d, %s: %s)", r->exit->kind,
                          r->exit->reason, r->exit->msg);
  } else if (r->signal != 0) {
    how = absl::StrFormat("unregistered on signal %d", r->signal);
  }
  std::string report =
      absl::StrFormat("wave scx: %s; agents %u, lost %u, %.3f s without an agent%s\n", how,
                      r->host.agents, r->agent_lost, static_cast<double>(r->fallback_ns) / 1e9,
                      r->last_agent_error.empty() ? "" : " (last: " + r->last_agent_error + ")");
  report += FormatScxStats(r->host, r->kernel);
  std::fputs(report.c_str(), stderr);
  if (flags.format == OutputFormat::kJson) {
    std::string json = FormatScxStatsJson(r->host, r->kernel);
    json.pop_back();  // the closing brace: add the run's own fields
    json += absl::StrFormat(
        ", \"agent_lost\": %u, \"fallback_ms\": %.1f, \"exit_kind\": %d, \"signal\": %d}\n",
        r->agent_lost, static_cast<double>(r->fallback_ns) / 1e6, r->exit ? r->exit->kind : 0,
        r->signal);
    if (int rc = Print(json); rc != kExitOk) return rc;
  }
  return r->exit && r->exit->kind >= 1024 ? kExitFailed : kExitOk;
}

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += absl::StrFormat("\\u%04x", static_cast<unsigned>(c));
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// `wave stats`: the stats file of one or every running `wave run`.
int RunStatsCommand(const StatsFlags& flags) {
  std::vector<pid_t> pids;
  if (flags.pid != 0) {
    pids.push_back(static_cast<pid_t>(flags.pid));
  } else {
    pids = ListRuns();
  }
  if (pids.empty()) return Fail(kExitFailed, "stats: ", "no 'wave run' is running");
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  const uint64_t now = static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + ts.tv_nsec;
  std::string out;
  for (pid_t pid : pids) {
    absl::StatusOr<TraceStatsFile> f = ReadStatsFile(pid);
    if (!f.ok()) return Fail(kExitFailed, "stats: ", std::string(f.status().message()));
    const double up_s = now > f->start_ns ? static_cast<double>(now - f->start_ns) / 1e9 : 0;
    if (flags.format == OutputFormat::kJson) {
      out += absl::StrFormat(
          "{\"pid\": %d, \"child\": %d, \"policy\": %s, \"command\": %s, \"uptime_s\": %.3f, "
          "\"stats\": %s}\n",
          f->pid, f->child_pid, JsonString(f->policy), JsonString(f->command), up_s,
          FormatTraceStatsJson(f->stats));
    } else {
      out += absl::StrFormat("wave run %d: '%s', child %d, policy %s, up %.1fs\n", f->pid,
                             f->command, f->child_pid, f->policy, up_s);
      out += FormatTraceStats(f->stats);
    }
  }
  return Print(out);
}

int Main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  absl::StatusOr<Command> cmd = ParseCommandLine(args);
  if (!cmd.ok()) return Fail(kExitUsage, "", std::string(cmd.status().message()));
  switch (cmd->kind) {
    case CommandKind::kHelp:
      return Print(TopLevelHelp());
    case CommandKind::kSimHelp:
      return Print(SimHelp());
    case CommandKind::kSim:
      return RunSimCommand(cmd->sim);
    case CommandKind::kAgentHelp:
      return ExecAgent({"--help"});
    case CommandKind::kAgent:
      return ExecAgent(cmd->agent_args);
    case CommandKind::kRunHelp:
      return Print(RunHelp());
    case CommandKind::kRun:
      return RunRunCommand(cmd->run);
    case CommandKind::kStatsHelp:
      return Print(StatsHelp());
    case CommandKind::kStats:
      return RunStatsCommand(cmd->stats);
    case CommandKind::kRestoreHelp:
      return Print(RestoreHelp());
    case CommandKind::kRestore:
      return RunRestoreCommand();
    case CommandKind::kScxHelp:
      return Print(ScxHelp());
    case CommandKind::kScx:
      return RunScxCommand(cmd->scx);
  }
  return Fail(kExitFailed, "", "internal error: unhandled command");
}

}  // namespace
}  // namespace wave::cli

int main(int argc, char** argv) { return wave::cli::Main(argc, argv); }
