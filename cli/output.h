// How `wave` and `wave-agent` end: exit statuses, and a failure as exactly one line on stderr
// starting "wave: ".
#ifndef LIBWAVE_CLI_OUTPUT_H_
#define LIBWAVE_CLI_OUTPUT_H_

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

namespace wave::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;

// "wave: <prefix><message>\n" on stderr, line breaks in the message made spaces; returns `code`.
inline int Fail(int code, std::string_view prefix, std::string_view message) {
  std::string line = "wave: ";
  line += prefix;
  for (char c : message) line += (c == '\n' || c == '\r') ? ' ' : c;
  line += '\n';
  std::fputs(line.c_str(), stderr);
  return code;
}

// `text` on stdout, flushed; a write error is a failure.
inline int Print(const std::string& text) {
  if (std::fputs(text.c_str(), stdout) == EOF || std::fflush(stdout) != 0) {
    return Fail(kExitFailed, "writing output: ", std::strerror(errno));
  }
  return kExitOk;
}

}  // namespace wave::cli

#endif  // LIBWAVE_CLI_OUTPUT_H_
