// The strict flag parser that `wave` and `wave-agent` share: a table of flags per command, each
// with how to set it and how to show its default, parsed with no flags library.
//
//   const std::vector<FlagSpec<MyFlags>> table = {{"--cpus", "N", "cpus to use", set, show}};
//   absl::StatusOr<std::optional<MyFlags>> f = ParseFlags<MyFlags>("cmd", table, args, {});
//   // error: one line, no "wave: " prefix; nullopt: -h/--help was given (it wins over errors)
//
// Strict means: every flag is known, every value parses completely and is in range, there are no
// stray arguments. A flag given twice takes its last value. Also the value parsers and the
// validators the commands' tables use.
#ifndef LIBWAVE_CLI_FLAG_TABLE_H_
#define LIBWAVE_CLI_FLAG_TABLE_H_

#include <fmt/format.h>

#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "abi/cpuset.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace wave::cli {

inline constexpr uint64_t kNsPerUs = 1'000;
inline constexpr uint64_t kNsPerMs = 1'000'000;
inline constexpr uint64_t kNsPerS = 1'000'000'000;

// Concatenates anything fmt can print (std::string_view included, which the system's absl::StrCat
// does not take).
template <typename... Args>
std::string Cat(const Args&... args) {
  std::string out;
  (fmt::format_to(std::back_inserter(out), "{}", args), ...);
  return out;
}

std::string Join(const std::vector<std::string>& parts, std::string_view sep);
// A value from the command line, quoted for a one-line message: control characters escaped,
// long values cut.
std::string Quoted(std::string_view text);
// "FLAG: expected WHAT, got 'GOT'" as an InvalidArgument.
absl::Status Expected(std::string_view flag, std::string_view what, std::string_view got);

// Validators for a flag's value; each error names the flag and says what it expected.
absl::StatusOr<int64_t> IntIn(std::string_view flag, std::string_view text, int64_t min,
                              int64_t max);
// A time in milliseconds unless it carries a unit, in [0, max_ns] (or (0, max_ns] when zero is
// not allowed); the error names the flag and shows `example`.
absl::StatusOr<uint64_t> MillisecondsFlag(std::string_view flag, std::string_view text,
                                          uint64_t max_ns, bool zero_ok, std::string_view range,
                                          std::string_view example);
absl::StatusOr<bool> OnOff(std::string_view flag, std::string_view text);
// A session name as transport/session.h takes it: [A-Za-z0-9._-]{1,64}, not starting with '.'.
absl::StatusOr<std::string> SessionName(std::string_view flag, std::string_view text);
// [1ms, 60s], milliseconds unless it carries a unit.
absl::StatusOr<uint64_t> HeartbeatTimeout(std::string_view flag, std::string_view text);
// A policy name of the registry, or an error naming them.
absl::StatusOr<std::string> PolicyName(std::string_view flag, std::string_view text);
// "scheduling policy: fifo (...), ...": the registry's policies with what each does.
std::string PolicyHelp();

bool IsHelp(std::string_view arg);

// One flag of a command (F: the command's flags struct): how to set it and how to show its default.
template <typename F>
struct FlagSpec {
  std::string name;   // "--cpus"
  std::string value;  // "N", shown in the help
  std::string help;
  absl::Status (*set)(std::string_view flag, std::string_view text, F& f);
  std::string (*show)(const F& f);
};
template <typename F>
const FlagSpec<F>* FindFlag(const std::vector<FlagSpec<F>>& table, std::string_view name) {
  for (const FlagSpec<F>& flag : table) {
    if (flag.name == name) return &flag;
  }
  return nullptr;
}

// The arguments after the command `cmd` ("sim", "agent"). --help anywhere wins over errors
// anywhere: then nullopt.
template <typename F>
absl::StatusOr<std::optional<F>> ParseFlags(std::string_view cmd,
                                            const std::vector<FlagSpec<F>>& table,
                                            const std::vector<std::string>& args, F defaults) {
  struct Setting {
    const FlagSpec<F>* flag;
    std::string_view value;
  };
  std::vector<Setting> settings;
  absl::Status first_error;
  auto fail = [&first_error](absl::Status s) {
    if (first_error.ok()) first_error = std::move(s);
  };
  bool help = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    if (IsHelp(arg)) {
      help = true;
      continue;
    }
    if (arg.size() < 3 || arg.substr(0, 2) != "--") {
      if (!arg.empty() && arg[0] == '-' && arg != "-") {
        fail(absl::InvalidArgumentError(
            Cat("unknown flag ", Quoted(arg), " for '", cmd, "' (see 'wave ", cmd, " --help')")));
      } else {
        fail(absl::InvalidArgumentError(Cat(cmd, ": unexpected argument ", Quoted(arg),
                                            " (flags look like ", table.front().name, "=",
                                            table.front().value, ")")));
      }
      continue;
    }
    const size_t eq = arg.find('=');
    const std::string_view name = arg.substr(0, eq);
    if (IsHelp(name)) {
      fail(absl::InvalidArgumentError(Cat(name, ": takes no value")));
      continue;
    }
    const FlagSpec<F>* flag = FindFlag(table, name);
    if (flag == nullptr) {
      fail(absl::InvalidArgumentError(
          Cat("unknown flag ", Quoted(name), " for '", cmd, "' (see 'wave ", cmd, " --help')")));
      continue;
    }
    if (eq != std::string_view::npos) {
      settings.push_back({flag, arg.substr(eq + 1)});
    } else if (i + 1 < args.size() && std::string_view(args[i + 1]).substr(0, 2) != "--") {
      settings.push_back({flag, args[++i]});
    } else {
      fail(absl::InvalidArgumentError(Cat(name, ": missing value")));
    }
  }
  if (help) return std::optional<F>();
  if (!first_error.ok()) return first_error;

  F flags = std::move(defaults);
  for (const Setting& s : settings) {
    if (absl::Status st = s.flag->set(s.flag->name, s.value, flags); !st.ok()) return st;
  }
  return std::optional<F>(std::move(flags));
}

// "  --name=VALUE  help... (default: X)" with the help wrapped at 100 columns under its own
// column; the default is never split.
void AppendFlagHelp(std::string& out, std::string_view left, std::string_view help,
                    std::string_view default_value);

template <typename F>
std::string FlagsHelp(const std::vector<FlagSpec<F>>& table, const F& defaults) {
  std::string out;
  for (const FlagSpec<F>& flag : table) {
    AppendFlagHelp(out, Cat(flag.name, "=", flag.value), flag.help, flag.show(defaults));
  }
  AppendFlagHelp(out, "-h, --help", "print this help and exit", "");
  return out;
}

// Value parsers. Each accepts the whole text or nothing.
// A decimal integer: optional '-', digits; no '+', spaces, exponent or trailing characters.
std::optional<int64_t> ParseInt64(std::string_view text);
std::optional<uint64_t> ParseUint64(std::string_view text);
// A finite decimal number ("1", "0.25", "1e5"); not "inf", "nan", hex or a leading '+'.
std::optional<double> ParseFiniteDouble(std::string_view text);
// A non-negative time, rounded to whole nanoseconds: a number in `default_unit_ns`, or a number
// with a unit suffix ns, us, ms or s ("250ns", "0.5ms", "2s"). Nullopt when malformed, negative
// or above 2^63 ns.
std::optional<uint64_t> ParseTimeNs(std::string_view text, uint64_t default_unit_ns);
// A cpu list: comma-separated cpus and ranges of cpus 0..WAVE_MAX_CPUS-1 ("0", "0,2",
// "1-3,5"), as a set (CpuSet::ToString() writes one back). Nullopt when malformed, empty, out of
// range or a range runs backwards.
std::optional<CpuSet> ParseCpuList(std::string_view text);
// ns in the largest unit that keeps it readable: "2s", "500ms", "1.5us", "0ns".
std::string FormatTimeNs(uint64_t ns);

}  // namespace wave::cli

#endif  // LIBWAVE_CLI_FLAG_TABLE_H_
