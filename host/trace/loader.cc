#include "host/trace/loader.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_format.h"
#include "bpf/trace.skel.h"
#include "host/bpf/libbpf_util.h"

namespace wave {

absl::Status CheckTraceSupport() {
  if (absl::Status s = CheckBpfCapabilities(); !s.ok()) return s;
  if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "the kernel has no BTF (/sys/kernel/btf/vmlinux: %s); CONFIG_DEBUG_INFO_BTF is needed",
        std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<TraceProgram>> TraceProgram::Load(
    const TraceProgramOptions& options) {
  absl::StatusOr<int> possible = PossibleCpus();
  if (!possible.ok()) return possible.status();
  absl::StatusOr<BpfCpus> cpus = BpfCpus::Make(
      *possible, options.managed_cpus.empty() ? CpuSet::All(*possible) : options.managed_cpus);
  if (!cpus.ok()) return cpus.status();
  const uint32_t page = static_cast<uint32_t>(sysconf(_SC_PAGESIZE));
  if (options.ring_bytes < page || (options.ring_bytes & (options.ring_bytes - 1)) != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "ring buffer of %u bytes: must be a power of two >= %u", options.ring_bytes, page));
  }
  InstallLibbpfLog();
  trace_bpf* skel = trace_bpf::open();
  if (skel == nullptr) return LibbpfError("opening the BPF object", errno);
  auto fail = [skel](const char* what, int err) {
    absl::Status s = LibbpfError(what, err);
    trace_bpf::destroy(skel);
    return s;
  };
  cpus->SetRodata(skel->rodata);
  if (int err = bpf_map__set_max_entries(skel->maps.events, options.ring_bytes); err != 0) {
    return fail("sizing the ring buffer", err);
  }
  if (int err = bpf_map__set_max_entries(skel->maps.cpu_current, static_cast<uint32_t>(*possible));
      err != 0) {
    return fail("sizing the cpu table", err);
  }
  // The yield programs are optional: attached by hand, see AttachYieldPrograms.
  for (bpf_program* p : {skel->progs.wave_yield_enter, skel->progs.wave_yield_exit,
                         skel->progs.wave_sys_enter, skel->progs.wave_sys_exit}) {
    bpf_program__set_autoattach(p, false);
  }
  if (int err = trace_bpf::load(skel); err != 0) return fail("loading the BPF programs", err);
  skel->bss->blind_tgid = static_cast<uint32_t>(options.blind_tgid);
  if (int err = trace_bpf::attach(skel); err != 0) return fail("attaching the BPF programs", err);
  std::unique_ptr<TraceProgram> prog(new TraceProgram(skel, *cpus, options.yields));
  prog->cpu_current_bytes_ =
      (static_cast<size_t>(*possible) * sizeof(uint32_t) + page - 1) / page * page;
  void* current = mmap(nullptr, prog->cpu_current_bytes_, PROT_READ, MAP_SHARED,
                       bpf_map__fd(skel->maps.cpu_current), 0);
  if (current == MAP_FAILED) return LibbpfError("mapping the cpu table", errno);
  prog->cpu_current_ = static_cast<uint32_t*>(current);
  prog->AttachYieldPrograms();
  return prog;
}

TraceProgram::~TraceProgram() {
  if (cpu_current_ != nullptr) munmap(cpu_current_, cpu_current_bytes_);
  DetachYieldPrograms();
  trace_bpf::destroy(skel_);
}

void TraceProgram::AttachYieldPrograms() {
  auto attach = [this](bpf_program* enter, bpf_program* exit) {
    yield_enter_ = bpf_program__attach(enter);
    yield_exit_ = yield_enter_ != nullptr ? bpf_program__attach(exit) : nullptr;
    if (yield_exit_ == nullptr) DetachYieldPrograms();
    return yield_exit_ != nullptr;
  };
  if (yields_ == YieldEvents::kOff || yield_enter_ != nullptr) return;
  if (attach(skel_->progs.wave_yield_enter, skel_->progs.wave_yield_exit)) {
    yield_source_ = YieldSource::kKprobes;
  } else if (yields_ == YieldEvents::kSyscalls &&
             attach(skel_->progs.wave_sys_enter, skel_->progs.wave_sys_exit)) {
    yield_source_ = YieldSource::kSyscalls;
  }
  ForgetLibbpfWarning();  // a failed optional attach is not an error to quote later
}

void TraceProgram::DetachYieldPrograms() {
  if (yield_enter_ != nullptr) bpf_link__destroy(yield_enter_);
  if (yield_exit_ != nullptr) bpf_link__destroy(yield_exit_);
  yield_enter_ = nullptr;
  yield_exit_ = nullptr;
  yield_source_ = YieldSource::kNone;
}

absl::Status TraceProgram::Detach() {
  DetachYieldPrograms();
  trace_bpf::detach(skel_);
  return absl::OkStatus();
}

absl::Status TraceProgram::Attach() {
  if (int err = trace_bpf::attach(skel_); err != 0)
    return LibbpfError("attaching the BPF programs", err);
  AttachYieldPrograms();
  return absl::OkStatus();
}

absl::Status TraceProgram::Manage(pid_t tgid) {
  const uint32_t key = static_cast<uint32_t>(tgid);
  const uint32_t yes = 1;
  if (bpf_map__update_elem(skel_->maps.managed_tgids, &key, sizeof(key), &yes, sizeof(yes),
                           BPF_ANY) != 0) {
    return absl::InternalError(
        absl::StrFormat("managing thread group %d: %s", tgid, std::strerror(errno)));
  }
  return absl::OkStatus();
}

void TraceProgram::ManageCgroup(const CgroupRef& cgroup) {
  // The level first: a program that sees the new id reads a level at least as new.
  __atomic_store_n(&skel_->bss->managed_cgroup_level, cgroup.level, __ATOMIC_RELAXED);
  __atomic_store_n(&skel_->bss->managed_cgroup_id, cgroup.id, __ATOMIC_RELEASE);
}

std::optional<wave_trace_task> TraceProgram::LookupTask(uint64_t tid) const {
  if (tid == 0 || tid > UINT32_MAX) return std::nullopt;
  const uint32_t key = static_cast<uint32_t>(tid);
  wave_trace_task t;
  if (bpf_map__lookup_elem(skel_->maps.tasks, &key, sizeof(key), &t, sizeof(t), 0) != 0) {
    return std::nullopt;
  }
  return t;
}

uint32_t TraceProgram::CurrentOn(int cpu) const {
  if (cpu < 0 || cpu >= cpus_.possible()) return 0;
  // The kernel side stores it with a plain store; a relaxed load of the mapped array.
  return __atomic_load_n(&cpu_current_[cpu], __ATOMIC_RELAXED);
}

TraceKernelCounters TraceProgram::Counters() const {
  TraceKernelCounters sum;
  for (const wave_trace_counters& c :
       ReadPerCpu<wave_trace_counters>(skel_->maps.counters, cpus_.possible())) {
    sum.emitted += c.emitted;
    sum.dropped += c.dropped;
    sum.task_table_full += c.task_table_full;
    sum.wakeups_running += c.wakeups_running;
    sum.migrations += c.migrations;
    sum.children += c.children;
    sum.inferred += c.inferred;
    sum.exit_blocks += c.exit_blocks;
  }
  bpf_program* prog = nullptr;
  bpf_object__for_each_program(prog, skel_->obj) {
    bpf_prog_info info{};
    uint32_t len = sizeof(info);
    if (bpf_prog_get_info_by_fd(bpf_program__fd(prog), &info, &len) == 0) {
      sum.missed_runs += info.recursion_misses;
    }
  }
  return sum;
}

int TraceProgram::events_fd() const { return bpf_map__fd(skel_->maps.events); }

}  // namespace wave
