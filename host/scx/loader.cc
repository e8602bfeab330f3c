#include "host/scx/loader.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_format.h"
#include "bpf/scx_wave.skel.h"
#include "host/bpf/libbpf_util.h"

namespace wave {

std::vector<wave_scx_kick_args> KickBatches(const CpuSet& cpus, const CpuSet& preempt) {
  std::vector<wave_scx_kick_args> batches;
  for (int c = cpus.First(); c >= 0; c = cpus.Next(c)) {
    if (batches.empty() || batches.back().count == WAVE_SCX_KICK_BATCH) batches.emplace_back();
    wave_scx_kick_args& args = batches.back();
    if (preempt.Test(c)) args.preempt[args.count / 32] |= 1u << (args.count % 32);
    args.cpus[args.count++] = c;
  }
  return batches;
}

#ifdef WAVE_SCX_NO_SKELETON

absl::Status CheckScxSupport() {
  return absl::FailedPreconditionError(
      absl::StrFormat("this wave has no sched_ext program (%s)", WAVE_SCX_NO_SKELETON));
}
absl::StatusOr<std::unique_ptr<ScxProgram>> ScxProgram::Load(const ScxProgramOptions&) {
  return CheckScxSupport();
}
ScxProgram::~ScxProgram() = default;
absl::Status ScxProgram::Attach() { return CheckScxSupport(); }
void ScxProgram::Detach() {}
bool ScxProgram::Kick(const CpuSet&, const CpuSet&) { return false; }
std::optional<wave_scx_task> ScxProgram::LookupTask(uint64_t) const { return std::nullopt; }
void ScxProgram::ForEachTask(const std::function<void(uint32_t, const wave_scx_task&)>&) const {}
uint32_t ScxProgram::CurrentOn(int) const { return 0; }
ScxKernelCounters ScxProgram::Counters() const { return {}; }
std::optional<ScxExit> ScxProgram::Exited() const { return std::nullopt; }
int ScxProgram::events_fd() const { return -1; }

#else

namespace {

constexpr const char* kScxState = "/sys/kernel/sched_ext/state";

size_t PageRound(size_t n) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return (n + page - 1) / page * page;
}

// Maps a BPF_F_MMAPABLE array shared (read-write).
void* MapArray(bpf_map* map, size_t* bytes) {
  *bytes = PageRound(static_cast<size_t>(bpf_map__value_size(map)) * bpf_map__max_entries(map));
  void* p = mmap(nullptr, *bytes, PROT_READ | PROT_WRITE, MAP_SHARED, bpf_map__fd(map), 0);
  return p == MAP_FAILED ? nullptr : p;
}

}  // namespace

absl::Status CheckScxSupport() {
  if (access(kScxState, R_OK) != 0) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "this kernel has no sched_ext (%s: %s); Linux 6.12+ with CONFIG_SCHED_CLASS_EXT is "
        "needed",
        kScxState, std::strerror(errno)));
  }
  return CheckBpfCapabilities(/*need_sys_admin=*/true);
}

absl::StatusOr<std::unique_ptr<ScxProgram>> ScxProgram::Load(const ScxProgramOptions& options) {
  const uint32_t page = static_cast<uint32_t>(sysconf(_SC_PAGESIZE));
  if (options.ring_bytes < page || (options.ring_bytes & (options.ring_bytes - 1)) != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "ring buffer of %u bytes: must be a power of two >= %u", options.ring_bytes, page));
  }
  const int possible = libbpf_num_possible_cpus();
  absl::StatusOr<BpfCpus> cpus = BpfCpus::Make(
      possible, options.managed_cpus.empty() ? CpuSet::All(possible) : options.managed_cpus);
  if (!cpus.ok()) return cpus.status();
  InstallLibbpfLog();
  // Twice at most: a kernel that will not let a SYSCALL program kick cpus gets the program
  // without it (the timer then wakes cpus that have decisions queued).
  for (int attempt = 0; attempt < 2; ++attempt) {
    scx_wave_bpf* skel = scx_wave_bpf::open();
    if (skel == nullptr) return LibbpfError("opening the BPF object", errno);
    auto fail = [skel](const char* what, int err) {
      absl::Status s = LibbpfError(what, err);
      scx_wave_bpf::destroy(skel);
      return s;
    };
    cpus->SetRodata(skel->rodata);
    skel->rodata->nr_cpus = static_cast<uint32_t>(possible);
    skel->rodata->heartbeat_timeout_ns = options.heartbeat_timeout_ns;
    skel->rodata->default_slice_ns = options.default_slice_ns;
    skel->rodata->max_wait_ns = options.max_wait_ns;
    skel->rodata->tick_ns = options.tick_ns;
    if (int err = bpf_map__set_max_entries(skel->maps.events, options.ring_bytes); err != 0) {
      return fail("sizing the ring buffer", err);
    }
    for (bpf_map* per_cpu : {skel->maps.queues, skel->maps.cpu_current}) {
      if (int err = bpf_map__set_max_entries(per_cpu, static_cast<uint32_t>(possible)); err != 0) {
        return fail("sizing the per-cpu maps", err);
      }
    }
    if (attempt == 1) bpf_program__set_autoload(skel->progs.wave_kick, false);
    if (int err = scx_wave_bpf::load(skel); err != 0) {
      if (attempt == 0) {
        scx_wave_bpf::destroy(skel);
        continue;
      }
      return fail("loading the sched_ext program", err);
    }
    std::unique_ptr<ScxProgram> prog(new ScxProgram(skel, *cpus));
    if (attempt == 0) prog->kick_fd_ = bpf_program__fd(skel->progs.wave_kick);
    prog->ctl_ = static_cast<wave_scx_ctl*>(MapArray(skel->maps.ctl, &prog->ctl_bytes_));
    prog->queues_ =
        static_cast<wave_scx_cpu_queues*>(MapArray(skel->maps.queues, &prog->queues_bytes_));
    prog->cpu_current_ =
        static_cast<uint32_t*>(MapArray(skel->maps.cpu_current, &prog->cpu_current_bytes_));
    if (prog->ctl_ == nullptr || prog->queues_ == nullptr || prog->cpu_current_ == nullptr) {
      return absl::InternalError(
          absl::StrFormat("mapping the shared maps: %s", std::strerror(errno)));
    }
    return prog;
  }
  return absl::InternalError("unreachable");
}

ScxProgram::~ScxProgram() {
  Detach();
  if (ctl_ != nullptr) munmap(ctl_, ctl_bytes_);
  if (queues_ != nullptr) munmap(queues_, queues_bytes_);
  if (cpu_current_ != nullptr) munmap(cpu_current_, cpu_current_bytes_);
  scx_wave_bpf::destroy(skel_);
}

absl::Status ScxProgram::Attach() {
  if (link_ != nullptr) return absl::OkStatus();
  bpf_link* link = bpf_map__attach_struct_ops(skel_->maps.wave_ops);
  if (link == nullptr) {
    const int err = errno;
    // Another sched_ext scheduler is loaded: the kernel takes one at a time.
    if (err == EBUSY || err == EEXIST) {
      return absl::FailedPreconditionError(
          "another sched_ext scheduler is loaded (/sys/kernel/sched_ext/root/ops)");
    }
    return LibbpfError("registering the sched_ext scheduler", err);
  }
  link_ = link;
  return absl::OkStatus();
}

void ScxProgram::Detach() {
  if (link_ == nullptr) return;
  bpf_link__destroy(link_);
  link_ = nullptr;
}

bool ScxProgram::Kick(const CpuSet& cpus, const CpuSet& preempt) {
  if (kick_fd_ < 0 || cpus.empty()) return false;
  bool ok = true;
  for (wave_scx_kick_args& args : KickBatches(cpus, preempt)) {
    LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = &args, .ctx_size_in = sizeof(args));
    ok = bpf_prog_test_run_opts(kick_fd_, &opts) == 0 && ok;
  }
  return ok;
}

std::optional<wave_scx_task> ScxProgram::LookupTask(uint64_t tid) const {
  if (tid == 0 || tid > UINT32_MAX) return std::nullopt;
  const uint32_t key = static_cast<uint32_t>(tid);
  wave_scx_task t;
  if (bpf_map__lookup_elem(skel_->maps.tasks, &key, sizeof(key), &t, sizeof(t), 0) != 0) {
    return std::nullopt;
  }
  return t;
}

void ScxProgram::ForEachTask(
    const std::function<void(uint32_t tid, const wave_scx_task&)>& fn) const {
  uint32_t key = 0;
  uint32_t next = 0;
  const uint32_t* prev = nullptr;
  // Bounded: the map holds at most WAVE_SCX_MAX_TASKS; a deleted key restarts the walk at the
  // start, which the bound also covers.
  for (uint32_t i = 0; i < 2 * WAVE_SCX_MAX_TASKS; ++i) {
    if (bpf_map__get_next_key(skel_->maps.tasks, prev, &next, sizeof(next)) != 0) return;
    key = next;
    prev = &key;
    wave_scx_task t;
    if (bpf_map__lookup_elem(skel_->maps.tasks, &key, sizeof(key), &t, sizeof(t), 0) == 0) {
      fn(key, t);
    }
  }
}

uint32_t ScxProgram::CurrentOn(int cpu) const {
  if (cpu < 0 || cpu >= cpus_.possible()) return 0;
  return __atomic_load_n(&cpu_current_[cpu], __ATOMIC_RELAXED);
}

ScxKernelCounters ScxProgram::Counters() const {
  ScxKernelCounters sum;
  for (const wave_scx_counters& c :
       ReadPerCpu<wave_scx_counters>(skel_->maps.counters, cpus_.possible())) {
    sum.emitted += c.emitted;
    sum.dropped += c.dropped;
    sum.committed += c.committed;
    sum.staged += c.staged;
    sum.dispatched += c.dispatched;
    sum.fallback += c.fallback;
    sum.starved += c.starved;
    sum.stale_epoch += c.stale_epoch;
    sum.task_table_full += c.task_table_full;
    sum.idle += c.idle;
    sum.kicks += c.kicks;
  }
  return sum;
}

std::optional<ScxExit> ScxProgram::Exited() const {
  const wave_scx_exit& e = skel_->bss->exit_info;
  const int kind = __atomic_load_n(&e.kind, __ATOMIC_ACQUIRE);
  if (kind == 0) return std::nullopt;
  ScxExit out;
  out.kind = kind;
  out.exit_code = e.exit_code;
  out.reason.assign(e.reason, strnlen(e.reason, sizeof(e.reason)));
  out.msg.assign(e.msg, strnlen(e.msg, sizeof(e.msg)));
  return out;
}

int ScxProgram::events_fd() const { return bpf_map__fd(skel_->maps.events); }

#endif  // WAVE_SCX_NO_SKELETON

}  // namespace wave
