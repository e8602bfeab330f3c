#include "host/bpf/libbpf_util.h"

#include <bpf/libbpf.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace wave {
namespace {

constexpr int kCapSysAdmin = 21;
constexpr int kCapPerfmon = 38;
constexpr int kCapBpf = 39;

std::mutex g_log_mu;
std::string g_last_warning;

// WAVE_BPF_LOG=1 in the environment: all of libbpf's log (the verifier's included) to stderr.
const bool g_log_all = [] {
  const char* v = std::getenv("WAVE_BPF_LOG");
  return v != nullptr && v[0] != '\0' && v[0] != '0';
}();

int LibbpfPrint(enum libbpf_print_level level, const char* fmt, va_list args) {
  if (g_log_all) {
    va_list copy;
    va_copy(copy, args);
    vfprintf(stderr, fmt, copy);
    va_end(copy);
  }
  if (level != LIBBPF_WARN) return 0;
  char line[512];
  vsnprintf(line, sizeof(line), fmt, args);
  std::string s(line);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  if (s.empty()) return 0;
  std::lock_guard<std::mutex> lock(g_log_mu);
  g_last_warning = s;
  return 0;
}

bool HasCap(const __user_cap_data_struct (&data)[2], int cap) {
  return (data[cap / 32].effective >> (cap % 32)) & 1;
}

}  // namespace

void InstallLibbpfLog() { libbpf_set_print(LibbpfPrint); }

std::optional<wave_msg> DecodeRecord(const void* data, size_t size) {
  if (size != sizeof(wave_msg)) return std::nullopt;
  wave_msg m;
  std::memcpy(&m, data, sizeof(m));
  // The programs are this build's: a type they send that this build does not know is a bug.
  if (m.hdr.len != WAVE_MSG_SIZE || !wave_msg_type_known(m.hdr.type)) return std::nullopt;
  return m;
}

void ForgetLibbpfWarning() {
  std::lock_guard<std::mutex> lock(g_log_mu);
  g_last_warning.clear();
}

absl::Status LibbpfError(const char* what, int err) {
  std::string detail;
  {
    std::lock_guard<std::mutex> lock(g_log_mu);
    detail = g_last_warning;
  }
  return absl::InternalError(
      absl::StrFormat("%s: %s%s%s", what, std::strerror(err > 0 ? err : -err),
                      detail.empty() ? "" : " (libbpf: ", detail.empty() ? "" : detail + ")"));
}

absl::Status CheckBpfCapabilities(bool need_sys_admin) {
  __user_cap_header_struct header{};
  header.version = _LINUX_CAPABILITY_VERSION_3;
  header.pid = 0;
  __user_cap_data_struct data[2] = {};
  if (syscall(SYS_capget, &header, data) != 0) {
    return absl::InternalError(absl::StrFormat("capget: %s", std::strerror(errno)));
  }
  const bool admin = HasCap(data, kCapSysAdmin);
  if (need_sys_admin) {
    if (admin) return absl::OkStatus();
    return absl::FailedPreconditionError("needs root (CAP_SYS_ADMIN) to register a scheduler");
  }
  // The kernel's bpf_capable() and perfmon_capable(): the capability, or CAP_SYS_ADMIN.
  std::vector<std::string> missing;
  if (!admin && !HasCap(data, kCapBpf)) missing.emplace_back("CAP_BPF");
  if (!admin && !HasCap(data, kCapPerfmon)) missing.emplace_back("CAP_PERFMON");
  if (!missing.empty()) {
    return absl::FailedPreconditionError(
        absl::StrFormat("needs root or CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN); missing: %s",
                        absl::StrJoin(missing, ", ")));
  }
  return absl::OkStatus();
}

}  // namespace wave
