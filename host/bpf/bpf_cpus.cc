#include "host/bpf/bpf_cpus.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "bpf/cpus.h"

namespace wave {

absl::StatusOr<BpfCpus> BpfCpus::Make(int possible, const CpuSet& managed) {
  if (possible < 1 || possible > static_cast<int>(WAVE_MAX_CPUS)) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%d possible cpus: wave handles 1..%u (the kernel's own limit)", possible, WAVE_MAX_CPUS));
  }
  if (managed.empty()) return absl::InvalidArgumentError("no managed cpus");
  if (managed.Last() >= possible) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "cpu %d is not one of this machine's %d possible cpus", managed.Last(), possible));
  }
  BpfCpus c;
  c.possible_ = possible;
  c.words_ = static_cast<uint32_t>((possible + 63) / 64);
  c.managed_ = managed;
  return c;
}

uint64_t BpfCpus::Value(const CpuSet& allowed) const {
  const CpuSet kept = allowed & managed_;
  if (exact()) return kept.word(0);
  uint64_t h = 0;
  for (uint32_t w = 0; w < words_; ++w) h = wave_cpus_fold(h, w, kept.word(w));
  return h;
}

absl::StatusOr<int> PossibleCpus() {
  FILE* f = std::fopen("/sys/devices/system/cpu/possible", "r");
  if (f == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrFormat("reading /sys/devices/system/cpu/possible: %s", std::strerror(errno)));
  }
  char line[256] = {};
  const bool read = std::fgets(line, sizeof(line), f) != nullptr;
  std::fclose(f);
  // "0-255", "0", "0-3,8-11": the highest cpu + 1.
  long highest = -1;
  for (const char* p = line; read && *p != '\0';) {
    if (*p < '0' || *p > '9') {  // '-' and ',' separate numbers, they are no signs
      ++p;
      continue;
    }
    char* end = nullptr;
    const unsigned long v = std::strtoul(p, &end, 10);
    if (static_cast<long>(v) > highest) highest = static_cast<long>(v);
    p = end;
  }
  if (highest < 0 || highest >= static_cast<long>(WAVE_MAX_CPUS)) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "/sys/devices/system/cpu/possible says '%s': wave handles cpus 0..%u", line,
        WAVE_MAX_CPUS - 1));
  }
  return static_cast<int>(highest) + 1;
}

std::optional<CpuSet> ThreadCpus(pid_t tid) {
  // Grow the mask until the kernel's fits (EINVAL means the buffer is too small).
  for (size_t cpus = 1024; cpus <= WAVE_MAX_CPUS; cpus *= 2) {
    cpu_set_t* set = CPU_ALLOC(cpus);
    if (set == nullptr) return std::nullopt;
    const size_t size = CPU_ALLOC_SIZE(cpus);
    CPU_ZERO_S(size, set);
    if (sched_getaffinity(tid, size, set) == 0) {
      CpuSet out;
      for (size_t c = 0; c < cpus; ++c) {
        if (CPU_ISSET_S(c, size, set)) out.Set(static_cast<int>(c));
      }
      CPU_FREE(set);
      return out;
    }
    const int err = errno;
    CPU_FREE(set);
    if (err != EINVAL) return std::nullopt;
  }
  return std::nullopt;
}

CpuSet CpuSetOf(const cpu_set_t& set) {
  CpuSet out;
  for (int c = 0; c < CPU_SETSIZE; ++c) {
    if (CPU_ISSET(c, &set)) out.Set(c);
  }
  return out;
}

cpu_set_t CpuSetTOf(const CpuSet& set) {
  cpu_set_t out;
  CPU_ZERO(&out);
  for (int c = set.First(); c >= 0 && c < CPU_SETSIZE; c = set.Next(c)) CPU_SET(c, &out);
  return out;
}

}  // namespace wave
