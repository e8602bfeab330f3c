// wave: the command line of libwave. `wave sim` runs one simulation (host/sim) with a policy from
// the registry and prints a table or a JSON object. Exit status: 0 ok, 1 the simulation failed,
// 2 bad command line or configuration (one line on stderr starting with "wave:").
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "cli/flags.h"
#include "host/sim/report.h"
#include "host/sim/sim.h"
#include "policies/registry.h"

namespace wave::cli {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

// Messages go out as exactly one line.
int Fail(int code, std::string_view prefix, std::string_view message) {
  std::string line = "wave: ";
  line += prefix;
  for (char c : message) line += (c == '\n' || c == '\r') ? ' ' : c;
  line += '\n';
  std::fputs(line.c_str(), stderr);
  return code;
}

int Print(const std::string& text) {
  if (std::fputs(text.c_str(), stdout) == EOF || std::fflush(stdout) != 0) {
    return Fail(kExitFailed, "writing output: ", std::strerror(errno));
  }
  return kExitOk;
}

int RunSimCommand(const SimFlags& flags) {
  if (absl::Status s = ValidateSimConfig(flags.config); !s.ok()) {
    return Fail(kExitUsage, "sim: ", std::string(s.message()));
  }
  absl::StatusOr<std::unique_ptr<Policy>> policy = MakePolicy(flags.policy);
  if (!policy.ok()) return Fail(kExitUsage, "--policy: ", std::string(policy.status().message()));
  absl::StatusOr<SimResult> result = RunSim(flags.config, **policy);
  if (!result.ok()) return Fail(kExitFailed, "sim failed: ", result.status().ToString());
  return Print(flags.format == OutputFormat::kJson ? FormatJson(*result) : FormatTable(*result));
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
  }
  return Fail(kExitFailed, "", "internal error: unhandled command");
}

}  // namespace
}  // namespace wave::cli

int main(int argc, char** argv) { return wave::cli::Main(argc, argv); }
