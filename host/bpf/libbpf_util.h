// Helpers shared by the loaders of the BPF host mechanisms (host/trace, host/scx).
//
//   InstallLibbpfLog();                                   // once, before opening an object
//   if (err != 0) return LibbpfError("loading the BPF programs", err);
#ifndef LIBWAVE_HOST_BPF_LIBBPF_UTIL_H_
#define LIBWAVE_HOST_BPF_LIBBPF_UTIL_H_

#include <bpf/libbpf.h>

#include <cstddef>
#include <optional>
#include <vector>

#include "abi/wave_abi.h"
#include "absl/status/status.h"

namespace wave {

// Routes libbpf's messages into a buffer that keeps the last warning line (idempotent).
void InstallLibbpfLog();
// Forgets libbpf's last warning: after a failure that was expected and handled (an optional
// program that cannot attach), so that a later error does not quote it.
void ForgetLibbpfWarning();

// "WHAT: strerror(err) (libbpf: last warning)", an Internal error. `err` may be negative.
absl::Status LibbpfError(const char* what, int err);

// Ok, or a FailedPrecondition naming what is missing: "needs root or CAP_BPF and CAP_PERFMON
// (or CAP_SYS_ADMIN); missing: CAP_BPF, CAP_PERFMON". With `need_sys_admin` (sched_ext
// registers a scheduler, which takes CAP_SYS_ADMIN) it asks for that instead. Read from the
// effective set (capget), not inferred from the uid.
absl::Status CheckBpfCapabilities(bool need_sys_admin = false);

// The one entry of a BPF_MAP_TYPE_PERCPU_ARRAY of T, for each of `possible` cpus (zeros if the
// map cannot be read). T must be a multiple of 8 bytes, as the kernel lays per-cpu values out.
template <typename T>
std::vector<T> ReadPerCpu(const bpf_map* map, int possible) {
  static_assert(sizeof(T) % 8 == 0);
  std::vector<T> values(static_cast<size_t>(possible));
  const uint32_t key = 0;
  if (bpf_map__lookup_elem(map, &key, sizeof(key), values.data(), values.size() * sizeof(T), 0) !=
      0) {
    values.assign(values.size(), T{});
  }
  return values;
}

// A record of a BPF ring buffer that carries one ABI message (both mechanisms' programs send
// those): a copy of it, or nullopt if the record is not one (its size, the message's length or
// type): the caller counts it malformed and skips it.
std::optional<wave_msg> DecodeRecord(const void* data, size_t size);

}  // namespace wave

#endif  // LIBWAVE_HOST_BPF_LIBBPF_UTIL_H_
