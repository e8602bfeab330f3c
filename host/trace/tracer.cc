#include "host/trace/tracer.h"

#include <bpf/libbpf.h>
#include <sched.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"
#include "host/bpf/libbpf_util.h"
#include "host/mech/validate.h"
#include "host/trace/proc.h"
#include "transport/clock.h"

namespace wave {
namespace {

// The kernel clamps a fair task's requested slice to this range (sched_attr.sched_runtime);
// clamping first keeps what the journal records equal to what sched_getattr reports.
constexpr uint64_t kMinSliceNs = 100'000;
constexpr uint64_t kMaxSliceNs = 100'000'000;

bool FairPolicy(uint32_t policy) {
  return policy == SCHED_OTHER || policy == SCHED_BATCH || policy == SCHED_IDLE;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TraceHost>> TraceHost::Create(TraceProgram& prog, HostEnd link,
                                                             uint32_t link_capacity,
                                                             RestoreJournal& journal,
                                                             int num_cpus) {
  if (num_cpus < 1 || num_cpus > static_cast<int>(WAVE_MAX_CPUS)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%d cpus: the ABI names cpus 0..%u", num_cpus, WAVE_MAX_CPUS - 1));
  }
  if (link_capacity == 0) return absl::InvalidArgumentError("link of 0 slots");
  std::unique_ptr<TraceHost> h(
      new TraceHost(prog, std::move(link), link_capacity, journal, num_cpus));
  h->rb_ = ring_buffer__new(prog.events_fd(), &TraceHost::OnRecord, h.get(), nullptr);
  if (h->rb_ == nullptr) {
    return absl::InternalError(
        absl::StrFormat("opening the kernel's ring buffer: %s", std::strerror(errno)));
  }
  return h;
}

TraceHost::~TraceHost() {
  if (rb_ != nullptr) ring_buffer__free(rb_);
}

int TraceHost::kernel_fd() const { return ring_buffer__epoll_fd(rb_); }

absl::Status TraceHost::AnnounceCpus() {
  RingProducer& out = link_.events;
  const CpuSet& managed = prog_.managed_cpus();
  const uint32_t n = static_cast<uint32_t>(managed.Count());
  if (out.Reserve(n) < n) {
    return absl::ResourceExhaustedError("the link's event ring has no room for the cpus");
  }
  MonotonicClock clock;
  uint32_t i = 0;
  for (int cpu = managed.First(); cpu >= 0 && cpu < num_cpus_; cpu = managed.Next(cpu)) {
    wave_msg m;
    wave_msg_init(&m, WAVE_EV_CPU_AVAILABLE);
    m.cpu.time_ns = clock.NowNs();
    m.cpu.cpu = cpu;
    out.Write(i++, m);
    ++stats_.events_by_type[WAVE_EV_CPU_AVAILABLE];
  }
  out.Submit(n);
  return absl::OkStatus();
}

int TraceHost::OnRecord(void* ctx, void* data, size_t size) {
  auto* h = static_cast<TraceHost*>(ctx);
  std::optional<wave_msg> m = DecodeRecord(data, size);
  // Room for the event, and for the chunks of a cpu set that does not fit one word.
  const bool has_cpus =
      m && (m->hdr.type == WAVE_EV_TASK_NEW || m->hdr.type == WAVE_EV_TASK_AFFINITY);
  const uint32_t need = 1 + (has_cpus && !h->prog_.cpus().exact() ? kMaxCpuChunks : 0);
  if (h->reserved_ - h->written_ < need) {
    h->backlogged_ = true;
    return -ENOSPC;  // libbpf leaves this record in the kernel's buffer for the next Pump
  }
  ++h->stats_.records;
  if (!m) {
    ++h->stats_.malformed_records;
    return 0;
  }
  wave_msg chunks[kMaxCpuChunks];
  size_t n = 0;
  if (!h->Observe(*m, chunks, &n)) return 0;
  for (size_t i = 0; i < n; ++i) {
    h->link_.events.Write(h->written_++, chunks[i]);
    ++h->stats_.events_by_type[chunks[i].hdr.type];
  }
  h->link_.events.Write(h->written_++, *m);
  ++h->stats_.events_by_type[m->hdr.type];
  return 0;
}

CpuSet TraceHost::KernelCpus(pid_t tid, uint64_t kept) const {
  const BpfCpus& cpus = prog_.cpus();
  if (cpus.exact()) return CpuSet::FromWord(kept);
  // A fingerprint (bpf/cpus.h): the set itself comes from the kernel.
  std::optional<CpuSet> now = ThreadCpus(tid);
  return now ? *now & cpus.managed() : cpus.managed();
}

bool TraceHost::Observe(wave_msg& m, wave_msg* chunks, size_t* n) {
  const uint64_t id = m.task.task_id;
  const auto tid = static_cast<pid_t>(id);
  switch (m.hdr.type) {
    case WAVE_EV_TASK_NEW: {
      CpuSet cpus;
      bool inherited = false;
      if (journal_.size() > 0) {
        // A thread created by one that wave pinned starts pinned too: the cpus it may use, as
        // far as the application is concerned, are its creator's original ones.
        std::optional<wave_trace_task> t = prog_.LookupTask(id);
        if (t && t->creator != 0 && journal_.Inherit(tid, static_cast<pid_t>(t->creator))) {
          cpus = CpuSetOf(*journal_.OriginalMask(tid)) & prog_.managed_cpus();
          inherited = true;
        }
      }
      if (!inherited) cpus = KernelCpus(tid, m.task.cpus);
      *n = SetAppCpus(m, std::move(cpus), chunks);
      return true;
    }
    case WAVE_EV_TASK_AFFINITY: {
      const cpu_set_t* applied = journal_.AppliedMask(tid);
      if (applied != nullptr && prog_.cpus().Value(CpuSetOf(*applied)) == m.task.cpus) {
        ++stats_.own_affinity;  // wave's own pinning: the application's choice has not changed
        return false;
      }
      *n = SetAppCpus(m, KernelCpus(tid, m.task.cpus), chunks);
      return true;
    }
    case WAVE_EV_TASK_DEAD:
      app_cpus_.erase(id);
      journal_.Forget(tid);
      return true;
    default:
      return true;
  }
}

size_t TraceHost::SetAppCpus(wave_msg& m, CpuSet cpus, wave_msg* chunks) {
  CpuSet& app = app_cpus_[m.task.task_id];
  app = std::move(cpus);
  return EncodeTaskCpus(app, num_cpus_, &m.task, chunks);
}

absl::StatusOr<uint32_t> TraceHost::Pump() {
  RingProducer& out = link_.events;
  backlogged_ = false;
  // A ring broken by the other side reserves nothing: the kernel's buffer then fills and its
  // drops show it (the agent, which reads the ring, reports the corruption itself).
  reserved_ = out.Reserve(link_capacity_);
  written_ = 0;
  const int n = ring_buffer__consume(rb_);
  if (n < 0 && n != -ENOSPC) {
    return absl::InternalError(
        absl::StrFormat("reading the kernel's ring buffer: %s", std::strerror(-n)));
  }
  if (written_ > 0) out.Submit(written_);  // one publish for the batch
  if (backlogged_) ++stats_.link_full;
  return written_;
}

bool TraceHost::LookupTask(const wave_a2k_commit& c, HostTaskView* view, CpuSet* scratch) {
  std::optional<wave_trace_task> t = prog_.LookupTask(c.task_id);
  if (!t || t->state == WAVE_TRACE_DEAD) return false;
  view->seq = t->seq;
  auto app = app_cpus_.find(c.task_id);
  if (app != app_cpus_.end()) {
    view->cpus = &app->second;
  } else {  // not seen joining (yet): the kernel's mask
    *scratch = KernelCpus(static_cast<pid_t>(c.task_id), t->cpu_mask);
    view->cpus = scratch;
  }
  view->runnable = t->state == WAVE_TRACE_RUNNABLE;
  view->on_cpu = t->state == WAVE_TRACE_ON_CPU;
  return true;
}

bool TraceHost::LookupCpu(const wave_a2k_commit& c, HostCpuView* view) {
  view->managed = enacting_ && prog_.managed_cpus().Test(c.cpu);
  const uint32_t current = prog_.CurrentOn(c.cpu);
  view->busy = current != 0 && current != c.task_id;
  return true;
}

uint32_t TraceHost::AnswerRoom() {
  answered_ = 0;
  return link_.events.Reserve(link_capacity_);
}

void TraceHost::Answer(const wave_msg& result) {
  ++stats_.commits[result.result.status];
  link_.events.Write(answered_++, result);
}

void TraceHost::EndAnswers() { link_.events.Submit(answered_); }  // one publish for the round

uint64_t TraceHost::NowNs() { return MonotonicNs(); }

uint32_t TraceHost::Enact(const wave_a2k_commit& c) {
  const auto tid = static_cast<pid_t>(c.task_id);
  // Validated a moment ago; looked up again for the kernel's own mask now.
  std::optional<wave_trace_task> t = prog_.LookupTask(c.task_id);
  if (!t) {
    ++stats_.enact_failed;
    return WAVE_COMMIT_NOT_RUNNABLE;  // exited in the meantime
  }
  if (!journal_.Track(tid)) {
    if (ReadThreadStat(tid)) {
      ++stats_.journal_full;
      return WAVE_COMMIT_CPU_NOT_ALLOWED;  // wave could not undo it: it does not do it
    }
    ++stats_.enact_failed;
    return WAVE_COMMIT_NOT_RUNNABLE;  // exited in the meantime
  }
  cpu_set_t want;
  CPU_ZERO(&want);
  CPU_SET(c.cpu, &want);
  const cpu_set_t* applied = journal_.AppliedMask(tid);
  if (applied == nullptr || !SameMask(*applied, want) ||
      t->cpu_mask != prog_.cpus().Value(CpuSet::Of({c.cpu}))) {
    journal_.WillSetAffinity(tid, want);  // recorded before it is done
    if (sched_setaffinity(tid, sizeof(want), &want) != 0) {
      ++stats_.enact_failed;
      return errno == ESRCH ? WAVE_COMMIT_NOT_RUNNABLE : WAVE_COMMIT_CPU_NOT_ALLOWED;
    }
    ++stats_.affinity_set;
  }
  const sched_attr* original = journal_.OriginalAttr(tid);
  if (c.slice_ns != 0 && original != nullptr && FairPolicy(original->sched_policy)) {
    sched_attr attr = *original;
    attr.sched_flags = 0;
    attr.sched_runtime = std::clamp<uint64_t>(c.slice_ns, kMinSliceNs, kMaxSliceNs);
    attr.sched_deadline = 0;
    attr.sched_period = 0;
    journal_.WillSetAttr(tid, attr);
    if (SetSchedAttr(tid, attr) == 0) {
      ++stats_.attr_set;
    } else {
      ++stats_.enact_failed;  // the placement stands; the slice is advisory anyway
    }
  }
  return WAVE_COMMIT_OK;
}

absl::StatusOr<uint32_t> TraceHost::Actuate() { return pump_.Pump(link_.commands, *this); }

void TraceHost::UpdateKernelCounters() {
  const TraceKernelCounters k = prog_.Counters();
  stats_.kernel_emitted = k.emitted;
  stats_.kernel_dropped = k.dropped;
  stats_.task_table_full = k.task_table_full;
  stats_.wakeups_running = k.wakeups_running;
  stats_.migrations = k.migrations;
  stats_.children = k.children;
  stats_.inferred = k.inferred;
  stats_.exit_blocks = k.exit_blocks;
  stats_.missed_runs = k.missed_runs;
  stats_.yield_source = static_cast<uint64_t>(prog_.yield_source());
}

}  // namespace wave
