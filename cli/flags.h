// The command line of `wave`: a small strict parser, no flags library.
//
//   wave [-h|--help]
//   wave help [sim]
//   wave sim [--flag=value | --flag value]... [-h|--help]
//   wave agent ARGS...          (runs wave-agent ARGS...: cli/agent_flags.h)
//   wave run [--flag=value | --flag value]... [-h|--help] -- COMMAND [ARGS]...
//   wave stats [--pid=PID] [--format=FMT] [-h|--help]
//   wave restore [-h|--help]
//   wave scx [--flag=value | --flag value]... [-h|--help]
//
// Strict (cli/flag_table.h): every flag is known, every value parses completely and is in range,
// there are no stray arguments. A flag given twice takes its last value. Errors come back as
// InvalidArgument statuses whose message is one line without the "wave: " prefix (the caller adds
// it), e.g.
// "--cpus: expected an integer in [1, 64], got 'abc'".
#ifndef LIBWAVE_CLI_FLAGS_H_
#define LIBWAVE_CLI_FLAGS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "abi/cpuset.h"
#include "absl/status/statusor.h"
#include "cli/flag_table.h"
#include "host/sim/sim.h"
#include "host/trace/yield_events.h"

namespace wave::cli {

enum class OutputFormat { kTable, kJson };

struct SimFlags {
  SimConfig config;
  std::string policy = "fifo";
  OutputFormat format = OutputFormat::kTable;
};

// What `wave sim` runs with no flags: SimConfig's defaults, the fifo policy, a table.
SimFlags DefaultSimFlags();

// `wave run`: COMMAND's threads scheduled by a policy on this machine's kernel (host/trace).
struct RunFlags {
  std::string policy = "fifo";
  CpuSet cpus;                    // empty: every cpu wave may run on
  uint64_t batch_ns = 1'000'000;  // the host's wakeups are at least this far apart (0: none)
  YieldEvents yields = YieldEvents::kAuto;
  std::string cgroup;  // a cgroup v2 directory managed too; then the command is optional
  std::vector<std::string> command;
};

// `wave stats`: the live counters of running `wave run`s.
struct StatsFlags {
  int64_t pid = 0;  // 0: every one running
  OutputFormat format = OutputFormat::kTable;
};

// `wave scx`: a policy as this machine's sched_ext scheduler (host/scx).
struct ScxFlags {
  std::string policy = "fifo";  // "none": wait for an external `wave agent --session=NAME`
  std::string session;          // "": scx-<pid>
  CpuSet cpus;                  // empty: every cpu
  uint64_t duration_ns = 0;     // 0: until SIGINT/SIGTERM
  uint64_t heartbeat_timeout_ns = 200'000'000;
  uint64_t max_wait_ns = 2'000'000'000;
  uint64_t idle_sleep_ns = 200'000;
  uint32_t prestage = 0;
  bool host_checks = true;
  OutputFormat format = OutputFormat::kTable;
};

enum class CommandKind {
  kHelp,     // wave --help, wave help
  kSimHelp,  // wave sim --help, wave help sim
  kSim,
  kAgentHelp,  // wave agent --help, wave help agent: wave-agent's help
  kAgent,      // wave agent ARGS...: runs wave-agent ARGS...
  kRunHelp,    // wave run --help, wave help run
  kRun,
  kStatsHelp,  // wave stats --help, wave help stats
  kStats,
  kRestoreHelp,  // wave restore --help, wave help restore
  kRestore,
  kScxHelp,  // wave scx --help, wave help scx
  kScx,
};

struct Command {
  CommandKind kind = CommandKind::kHelp;
  SimFlags sim;                         // for kSim
  std::vector<std::string> agent_args;  // for kAgent: passed on to wave-agent untouched
  RunFlags run;                         // for kRun
  StatsFlags stats;                     // for kStats
  ScxFlags scx;                         // for kScx
};

// Parses the arguments after the program name. A -h or --help anywhere after "sim" asks for
// help and wins over any error in the other arguments.
absl::StatusOr<Command> ParseCommandLine(const std::vector<std::string>& args);

std::string TopLevelHelp();
std::string SimHelp();    // every flag of `wave sim` with its default
std::string RunHelp();    // every flag of `wave run` with its default
std::string StatsHelp();  // every flag of `wave stats` with its default
std::string RestoreHelp();
std::string ScxHelp();  // every flag of `wave scx` with its default

}  // namespace wave::cli

#endif  // LIBWAVE_CLI_FLAGS_H_
