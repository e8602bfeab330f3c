// host/trace: the loader of the trace mechanism's BPF programs (bpf/trace.bpf.c) through their
// libbpf skeleton, and the privilege checks that come before it.
//
//   absl::StatusOr<std::unique_ptr<TraceProgram>> prog = TraceProgram::Load({.managed_cpus = m});
// Any number of cpus up to WAVE_MAX_CPUS (bpf/wave_cpus.bpf.h).
//   (*prog)->Manage(child_pid);   // the thread group, and the processes it creates
//
// Loading needs CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN, which implies both) and the kernel's
// BTF; CheckTraceSupport() says which of these is missing, by name.
#ifndef LIBWAVE_HOST_TRACE_LOADER_H_
#define LIBWAVE_HOST_TRACE_LOADER_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>

#include "abi/cpuset.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "bpf/trace_maps.h"
#include "host/bpf/bpf_cpus.h"
#include "host/trace/cgroup.h"
#include "host/trace/yield_events.h"

struct trace_bpf;
struct ring_buffer;
struct bpf_link;

namespace wave {

// Ok, or a FailedPrecondition naming what is missing: "needs CAP_BPF and CAP_PERFMON (or root);
// missing: CAP_BPF, CAP_PERFMON", or "the kernel has no BTF (/sys/kernel/btf/vmlinux)".
// Capabilities are read from the effective set (capget), not inferred from the uid.
absl::Status CheckTraceSupport();

struct TraceProgramOptions {
  CpuSet managed_cpus{};  // cpus the policy may use (empty: all); others never appear as idle
  uint32_t ring_bytes = 4u << 20;  // BPF ring buffer: a power of two of at least a page
  // Tests: the programs do nothing while a thread of this group is current, like a kernel that
  // skips tracing programs in some contexts (the events they miss are inferred later). 0: none.
  pid_t blind_tgid = 0;
  YieldEvents yields = YieldEvents::kAuto;
};

// Sums of the programs' per-cpu counters.
struct TraceKernelCounters {
  uint64_t emitted = 0;
  uint64_t dropped = 0;
  uint64_t task_table_full = 0;
  uint64_t wakeups_running = 0;
  uint64_t migrations = 0;
  uint64_t children = 0;
  uint64_t inferred = 0;     // events inferred for transitions the programs did not see
  uint64_t exit_blocks = 0;  // blocks of managed tasks on their exit paths, after TASK_DEAD
  // Runs of the programs the kernel skipped because one was already running on that cpu (its
  // recursion guard; bpf_prog_info.recursion_misses): events that were never seen, not dropped.
  uint64_t missed_runs = 0;
};

class TraceProgram {
 public:
  // Opens, loads and attaches the programs. The BPF object is embedded in the binary.
  static absl::StatusOr<std::unique_ptr<TraceProgram>> Load(const TraceProgramOptions& options);
  TraceProgram(const TraceProgram&) = delete;
  TraceProgram& operator=(const TraceProgram&) = delete;
  ~TraceProgram();  // detaches and unloads

  // Detaches the programs (the kernel stops running them; maps and counters stay) and attaches
  // them again: for benchmarks that compare with and without, in one process.
  absl::Status Detach();
  absl::Status Attach();

  // Manages the thread group `tgid` (and processes it creates from now on).
  absl::Status Manage(pid_t tgid);
  // Manages every task in the cgroup's subtree (at its next event), besides the thread groups.
  // One cgroup at a time: a second call replaces the first.
  void ManageCgroup(const CgroupRef& cgroup);
  // The kernel side's current view of a managed task, or nullopt if it tracks none by that tid.
  std::optional<wave_trace_task> LookupTask(uint64_t tid) const;
  // Tid of the managed task running on `cpu` now, 0 for none.
  uint32_t CurrentOn(int cpu) const;
  TraceKernelCounters Counters() const;

  // The ring buffer map's fd (for ring_buffer__new).
  int events_fd() const;
  const CpuSet& managed_cpus() const { return cpus_.managed(); }
  // The machine's cpus as the programs see them (and the value they keep for a task's cpus).
  const BpfCpus& cpus() const { return cpus_; }
  // Where sched_yield() calls are seen from (TraceProgramOptions::yields, and what the kernel
  // allowed); kNone: a yield is TASK_PREEMPTED.
  YieldSource yield_source() const { return yield_source_; }

 private:
  explicit TraceProgram(trace_bpf* skel, const BpfCpus& cpus, YieldEvents yields)
      : skel_(skel), cpus_(cpus), yields_(yields) {}
  void AttachYieldPrograms();  // a pair (entry, exit) or nothing
  void DetachYieldPrograms();
  trace_bpf* skel_;
  BpfCpus cpus_;
  uint32_t* cpu_current_ = nullptr;  // the `cpu_current` map, mapped: one entry per possible cpu
  size_t cpu_current_bytes_ = 0;
  YieldEvents yields_;
  YieldSource yield_source_ = YieldSource::kNone;
  bpf_link* yield_enter_ = nullptr;
  bpf_link* yield_exit_ = nullptr;
};

}  // namespace wave

#endif  // LIBWAVE_HOST_TRACE_LOADER_H_
