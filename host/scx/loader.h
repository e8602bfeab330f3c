// host/scx: the loader of the sched_ext scheduler (bpf/scx_wave.bpf.c) through its libbpf
// skeleton, and the user-space view of its maps.
//
//   absl::StatusOr<std::unique_ptr<ScxProgram>> prog = ScxProgram::Load({.managed_cpus = m});
//   (*prog)->Attach();              // from now on SCHED_EXT threads are scheduled by it
//   (*prog)->ctl().beat_ns = ...;   // the shared control block (heartbeat, epoch)
//
// Needs a kernel with sched_ext (CONFIG_SCHED_CLASS_EXT, /sys/kernel/sched_ext) and root
// (registering a scheduler takes CAP_SYS_ADMIN); CheckScxSupport() says which is missing.
#ifndef LIBWAVE_HOST_SCX_LOADER_H_
#define LIBWAVE_HOST_SCX_LOADER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "abi/cpuset.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "bpf/scx_maps.h"
#include "host/bpf/bpf_cpus.h"

struct scx_wave_bpf;
struct bpf_link;

namespace wave {

// Ok, or a FailedPrecondition naming what is missing (sched_ext, root, the program itself).
absl::Status CheckScxSupport();

// The runs of the kick program that wake `cpus` (those also in `preempt` with
// SCX_KICK_PREEMPT), WAVE_SCX_KICK_BATCH cpus each, in cpu order.
std::vector<wave_scx_kick_args> KickBatches(const CpuSet& cpus, const CpuSet& preempt);

struct ScxProgramOptions {
  CpuSet managed_cpus{};  // cpus the agent may place tasks on; empty: every possible cpu
  uint64_t heartbeat_timeout_ns = 100'000'000;
  uint64_t default_slice_ns = 20'000'000;
  uint64_t max_wait_ns = 2'000'000'000;  // FIFO for tasks that waited longer (watchdog: 30 s)
  uint64_t tick_ns = 10'000'000;
  uint32_t ring_bytes = 4u << 20;  // the events ring buffer: a power of two >= a page
};

// Sums of the program's per-cpu counters.
struct ScxKernelCounters {
  uint64_t emitted = 0;
  uint64_t dropped = 0;
  uint64_t committed = 0;
  uint64_t staged = 0;
  uint64_t dispatched = 0;
  uint64_t fallback = 0;
  uint64_t starved = 0;
  uint64_t stale_epoch = 0;
  uint64_t task_table_full = 0;
  uint64_t idle = 0;
  uint64_t kicks = 0;
};

// Why the kernel stopped the scheduler (its scx_exit_info, copied by ops.exit).
struct ScxExit {
  int kind = 0;  // enum scx_exit_kind: 64+ unregistered, 1024+ an error
  int64_t exit_code = 0;
  std::string reason;
  std::string msg;
};

class ScxProgram {
 public:
  static absl::StatusOr<std::unique_ptr<ScxProgram>> Load(const ScxProgramOptions& options);
  ScxProgram(const ScxProgram&) = delete;
  ScxProgram& operator=(const ScxProgram&) = delete;
  ~ScxProgram();  // detaches and unloads

  // Registers the scheduler: SCHED_EXT threads are its from now on.
  absl::Status Attach();
  // Unregisters it: SCHED_EXT threads go back to the fair class. Idempotent.
  void Detach();
  bool attached() const { return link_ != nullptr; }

  // The shared memory (BPF_F_MMAPABLE maps), mapped into this process.
  wave_scx_ctl& ctl() { return *ctl_; }
  wave_scx_cpu_queues& queues(int cpu) { return queues_[cpu]; }
  // Wakes `cpus` so their dispatch looks at their queues; those in `preempt` preempt their
  // current task (WAVE_SCX_KICK_BATCH cpus per run of the kick program). False when the kernel
  // cannot run the kick program (then the program's timer is what wakes them).
  bool Kick(const CpuSet& cpus, const CpuSet& preempt);
  bool can_kick() const { return kick_fd_ >= 0; }

  // The kernel side's view of a managed task, or nullopt if it tracks none by that tid.
  std::optional<wave_scx_task> LookupTask(uint64_t tid) const;
  // Calls `fn` for every task the kernel side tracks (for a resync replay).
  void ForEachTask(const std::function<void(uint32_t tid, const wave_scx_task&)>& fn) const;
  // Tid of the managed task running on `cpu` now, 0 for none.
  uint32_t CurrentOn(int cpu) const;
  ScxKernelCounters Counters() const;
  // What ops.exit recorded, once the kernel has stopped the scheduler; nullopt while it runs.
  std::optional<ScxExit> Exited() const;

  int events_fd() const;
  const CpuSet& managed_cpus() const { return cpus_.managed(); }
  int num_cpus() const { return cpus_.possible(); }
  const BpfCpus& cpus() const { return cpus_; }

 private:
  ScxProgram(scx_wave_bpf* skel, const BpfCpus& cpus) : skel_(skel), cpus_(cpus) {}
  scx_wave_bpf* skel_;
  BpfCpus cpus_;
  uint32_t* cpu_current_ = nullptr;  // the `cpu_current` map, mapped
  size_t cpu_current_bytes_ = 0;
  bpf_link* link_ = nullptr;
  int kick_fd_ = -1;
  wave_scx_ctl* ctl_ = nullptr;
  size_t ctl_bytes_ = 0;
  wave_scx_cpu_queues* queues_ = nullptr;
  size_t queues_bytes_ = 0;
};

}  // namespace wave

#endif  // LIBWAVE_HOST_SCX_LOADER_H_
