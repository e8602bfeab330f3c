#include "cli/flag_table.h"

#include <charconv>
#include <cmath>
#include <system_error>

#include "abi/wave_abi.h"
#include "policies/registry.h"

namespace wave::cli {

std::string Join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += Cat(i == 0 ? "" : sep, parts[i]);
  return out;
}

std::string Quoted(std::string_view text) {
  constexpr size_t kMax = 48;
  std::string out = "'";
  for (size_t i = 0; i < text.size() && i < kMax; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7f) {
      fmt::format_to(std::back_inserter(out), "\\x{:02x}", static_cast<unsigned>(c));
    } else {
      out += static_cast<char>(c);
    }
  }
  if (text.size() > kMax) out += "...";
  out += "'";
  return out;
}

absl::Status Expected(std::string_view flag, std::string_view what, std::string_view got) {
  return absl::InvalidArgumentError(Cat(flag, ": expected ", what, ", got ", Quoted(got)));
}

absl::StatusOr<int64_t> IntIn(std::string_view flag, std::string_view text, int64_t min,
                              int64_t max) {
  std::optional<int64_t> v = ParseInt64(text);
  if (!v || *v < min || *v > max) {
    return Expected(flag, Cat("an integer in [", min, ", ", max, "]"), text);
  }
  return *v;
}

absl::StatusOr<uint64_t> MillisecondsFlag(std::string_view flag, std::string_view text,
                                          uint64_t max_ns, bool zero_ok, std::string_view range,
                                          std::string_view example) {
  std::optional<uint64_t> ns = ParseTimeNs(text, kNsPerMs);
  if (!ns || *ns > max_ns || (*ns == 0 && !zero_ok)) {
    return Expected(flag, Cat("a time in ", range, " like ", example), text);
  }
  return *ns;
}

absl::StatusOr<bool> OnOff(std::string_view flag, std::string_view text) {
  if (text == "on") return true;
  if (text == "off") return false;
  return Expected(flag, "on or off", text);
}

absl::StatusOr<std::string> SessionName(std::string_view flag, std::string_view text) {
  bool ok = !text.empty() && text.size() <= 64 && text[0] != '.';
  for (char c : text) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '.' || c == '_' || c == '-');
  }
  if (!ok)
    return Expected(flag, "a session name of 1-64 [A-Za-z0-9._-], not starting with '.'", text);
  return std::string(text);
}

absl::StatusOr<uint64_t> HeartbeatTimeout(std::string_view flag, std::string_view text) {
  std::optional<uint64_t> ns = ParseTimeNs(text, kNsPerMs);
  if (!ns || *ns < kNsPerMs || *ns > 60 * kNsPerS) {
    return Expected(flag, "a time in [1ms, 60s] like 50 (milliseconds), 50ms or 1s", text);
  }
  return *ns;
}

absl::StatusOr<std::string> PolicyName(std::string_view flag, std::string_view text) {
  for (const std::string& name : PolicyNames()) {
    if (text == name) return name;
  }
  return absl::InvalidArgumentError(
      Cat(flag, ": unknown policy ", Quoted(text), " (known: ", Join(PolicyNames(), ", "), ")"));
}

std::string PolicyHelp() {
  std::string out = "scheduling policy:";
  const std::vector<PolicyInfo>& policies = Policies();
  for (size_t i = 0; i < policies.size(); ++i) {
    out += Cat(" ", policies[i].name, " (", policies[i].summary, ")",
               i + 1 < policies.size() ? "," : "");
  }
  return out;
}

bool IsHelp(std::string_view arg) { return arg == "-h" || arg == "--help"; }

void AppendFlagHelp(std::string& out, std::string_view left, std::string_view help,
                    std::string_view default_value) {
  constexpr size_t kIndent = 25;
  constexpr size_t kWidth = 100;
  std::vector<std::string> words;
  for (size_t start = 0; start < help.size();) {
    size_t end = help.find(' ', start);
    if (end == std::string_view::npos) end = help.size();
    if (end > start) words.emplace_back(help.substr(start, end - start));
    start = end + 1;
  }
  if (!default_value.empty()) words.push_back(Cat("(default: ", default_value, ")"));
  std::string line = fmt::format("  {:<22}", left);
  for (const std::string& word : words) {
    if (line.size() > kIndent && line.size() + 1 + word.size() > kWidth) {
      out += line;
      out += '\n';
      line = std::string(kIndent - 1, ' ');
    }
    line += ' ';
    line += word;
  }
  out += line;
  out += '\n';
}

std::optional<CpuSet> ParseCpuList(std::string_view text) {
  if (text.empty()) return std::nullopt;
  CpuSet set;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view item = text.substr(start, end - start);
    const size_t dash = item.find('-');
    std::optional<uint64_t> lo = ParseUint64(item.substr(0, dash));
    std::optional<uint64_t> hi =
        dash == std::string_view::npos ? lo : ParseUint64(item.substr(dash + 1));
    if (!lo || !hi || *lo > *hi || *hi >= WAVE_MAX_CPUS) return std::nullopt;
    set |= CpuSet::Range(static_cast<int>(*lo), static_cast<int>(*hi));
    start = end + 1;
  }
  return set;
}

std::optional<int64_t> ParseInt64(std::string_view text) {
  int64_t v = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc() || ptr != end) return std::nullopt;
  return v;
}

std::optional<uint64_t> ParseUint64(std::string_view text) {
  uint64_t v = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc() || ptr != end) return std::nullopt;
  return v;
}

std::optional<double> ParseFiniteDouble(std::string_view text) {
  double v = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v, std::chars_format::general);
  if (text.empty() || ec != std::errc() || ptr != end || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::optional<uint64_t> ParseTimeNs(std::string_view text, uint64_t default_unit_ns) {
  struct Unit {
    std::string_view suffix;
    uint64_t ns;
  };
  // Two-letter suffixes first: "ms" also ends in "s".
  static constexpr Unit kUnits[] = {{"ns", 1}, {"us", kNsPerUs}, {"ms", kNsPerMs}, {"s", kNsPerS}};
  uint64_t unit = default_unit_ns;
  std::string_view number = text;
  for (const Unit& u : kUnits) {
    if (text.size() > u.suffix.size() && text.substr(text.size() - u.suffix.size()) == u.suffix) {
      unit = u.ns;
      number = text.substr(0, text.size() - u.suffix.size());
      break;
    }
  }
  std::optional<double> v = ParseFiniteDouble(number);
  if (!v || *v < 0) return std::nullopt;
  const double ns = std::round(*v * static_cast<double>(unit));
  if (!(ns < 0x1p63)) return std::nullopt;
  return static_cast<uint64_t>(ns);
}

std::string FormatTimeNs(uint64_t ns) {
  struct Unit {
    const char* suffix;
    uint64_t ns;
  };
  static constexpr Unit kUnits[] = {{"s", kNsPerS}, {"ms", kNsPerMs}, {"us", kNsPerUs}};
  for (const Unit& u : kUnits) {
    if (ns < u.ns) continue;
    // Whole units and a fraction of up to three digits: exact, since it is 1000x the next unit.
    std::string out = Cat(ns / u.ns);
    const uint64_t rest = ns % u.ns;
    if (rest != 0 && rest % (u.ns / 1000) == 0) {
      std::string frac = fmt::format("{:03}", rest / (u.ns / 1000));
      while (frac.back() == '0') frac.pop_back();
      out += Cat(".", frac);
    } else if (rest != 0) {
      continue;  // not exact in this unit: try a smaller one
    }
    return Cat(out, u.suffix);
  }
  return Cat(ns, "ns");
}

}  // namespace wave::cli
