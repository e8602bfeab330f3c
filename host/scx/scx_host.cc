#include "host/scx/scx_host.h"

#include <bpf/libbpf.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "abi/cpuset.h"
#include "abi/msg_types.h"
#include "absl/strings/str_format.h"
#include "host/bpf/libbpf_util.h"
#include "host/mech/validate.h"

namespace wave {
namespace {

// Producer side of a kernel ring slot: the message, then (release) its stamp.
void PublishSlot(wave_msg* slot, const wave_msg& m, uint32_t index) {
  std::memcpy(reinterpret_cast<char*>(slot) + sizeof(m.hdr.stamp),
              reinterpret_cast<const char*>(&m) + sizeof(m.hdr.stamp),
              sizeof(m) - sizeof(m.hdr.stamp));
  __atomic_store_n(&slot->hdr.stamp, index + 1, __ATOMIC_RELEASE);
}

}  // namespace

absl::StatusOr<std::unique_ptr<ScxHost>> ScxHost::Create(ScxProgram& prog,
                                                         const ScxHostOptions& options) {
  std::unique_ptr<ScxHost> h(new ScxHost(prog, options));
  h->rb_ = ring_buffer__new(prog.events_fd(), &ScxHost::OnRecord, h.get(), nullptr);
  if (h->rb_ == nullptr) {
    return absl::InternalError(
        absl::StrFormat("opening the kernel's ring buffer: %s", std::strerror(errno)));
  }
  // The rings in the kernel's maps may have been used by an earlier host of this program.
  h->commit_tail_.resize(static_cast<size_t>(prog.num_cpus()));
  h->stage_tail_.resize(static_cast<size_t>(prog.num_cpus()));
  for (int c = 0; c < prog.num_cpus(); ++c) {
    const wave_scx_credit& cr = prog.queues(c).credit;
    h->commit_tail_[c] = __atomic_load_n(&cr.commit_head, __ATOMIC_ACQUIRE);
    h->stage_tail_[c] = __atomic_load_n(&cr.stage_head, __ATOMIC_ACQUIRE);
  }
  return h;
}

ScxHost::~ScxHost() {
  if (rb_ != nullptr) ring_buffer__free(rb_);
}

int ScxHost::kernel_fd() const { return ring_buffer__epoll_fd(rb_); }

void ScxHost::Beat(uint64_t now_ns) {
  if (!link_) return;
  __atomic_store_n(&prog_.ctl().beat_ns, now_ns, __ATOMIC_RELEASE);
}

void ScxHost::DetachAgent() {
  __atomic_store_n(&prog_.ctl().beat_ns, 0, __ATOMIC_RELEASE);
  link_.reset();
}

absl::Status ScxHost::AttachAgent(HostEnd link, uint32_t link_capacity, uint64_t now_ns) {
  link_.reset();
  // What the kernel reported before now is in the replay (or older than it): drop it.
  if (absl::StatusOr<uint32_t> n = Pump(now_ns); !n.ok()) return n.status();
  epoch_ = wave_epoch_next(epoch_);
  __atomic_store_n(&prog_.ctl().epoch, uint64_t{epoch_}, __ATOMIC_RELEASE);
  pump_.set_epoch(epoch_);
  pump_.Reset();

  // The replay: every task the kernel tracks, then the free managed cpus. Streamed by Pump, in
  // as many batches as the link takes; live events wait in the kernel's buffer meanwhile.
  replay_.Begin(epoch_, WAVE_RESYNC_AGENT_START, WAVE_SUBSYS_SCHED, now_ns);
  auto add = [this](const wave_msg& m) {
    replay_.Add(m);
    ++stats_.events_by_type[m.hdr.type];
  };
  wave_msg m;
  prog_.ForEachTask([&](uint32_t tid, const wave_scx_task& t) {
    wave_msg_init(&m, WAVE_EV_TASK_NEW);
    m.task.task_id = tid;
    m.task.seq = t.seq;
    m.task.time_ns = now_ns;
    m.task.cpu = -1;
    if (t.state == WAVE_SCX_ON_CPU && t.cpu >= 0 && t.cpu < prog_.num_cpus()) {
      m.task.flags = WAVE_TASK_F_ON_CPU;
      m.task.cpu = t.cpu;
    } else if (t.state == WAVE_SCX_RUNNABLE) {
      m.task.flags = WAVE_TASK_F_RUNNABLE;
    }
    wave_msg chunks[kMaxCpuChunks];
    const size_t n =
        EncodeTaskCpus(CpuSet::FromWord(t.cpu_mask), prog_.num_cpus(), &m.task, chunks);
    for (size_t i = 0; i < n; ++i) add(chunks[i]);
    add(m);
    ++stats_.replayed_tasks;
  });
  const CpuSet& managed = prog_.managed_cpus();
  for (int c = managed.First(); c >= 0; c = managed.Next(c)) {
    if (prog_.CurrentOn(c) != 0) continue;
    wave_msg_init(&m, WAVE_EV_CPU_IDLE);
    m.cpu.time_ns = now_ns;
    m.cpu.cpu = c;
    add(m);
  }
  stats_.events_by_type[WAVE_EV_RESYNC_BEGIN] += 1;
  stats_.events_by_type[WAVE_EV_RESYNC_END] += 1;
  link_.emplace(std::move(link));
  link_capacity_ = link_capacity;
  ++stats_.agents;
  Beat(now_ns);
  return absl::OkStatus();
}

int ScxHost::OnRecord(void* ctx, void* data, size_t size) {
  auto* h = static_cast<ScxHost*>(ctx);
  if (h->link_ && h->written_ == h->reserved_) {
    h->backlogged_ = true;
    return -ENOSPC;  // libbpf leaves this record in the kernel's buffer for the next Pump
  }
  ++h->stats_.records;
  std::optional<wave_msg> record = DecodeRecord(data, size);
  if (!record) {
    ++h->stats_.malformed_records;
    return 0;
  }
  wave_msg& m = *record;
  if (m.hdr.type == WAVE_EV_COMMIT_RESULT) {
    ++h->stats_.results_kernel[std::min<uint32_t>(m.result.status, WAVE_COMMIT_MALFORMED)];
    if (m.result.flags & WAVE_RESULT_F_STAGED) ++h->stats_.staged_results_kernel;
  }
  if (!h->link_) {
    ++h->stats_.discarded;
    return 0;
  }
  h->link_->events.Write(h->written_++, m);
  ++h->stats_.events_by_type[m.hdr.type];
  return 0;
}

absl::StatusOr<uint32_t> ScxHost::Pump(uint64_t now_ns) {
  // A replay first, streamed; the kernel's events wait in its buffer until it is out.
  if (link_ && replay_.active() && !replay_.Step(link_->events, now_ns)) {
    backlogged_ = true;
    return 0u;
  }
  backlogged_ = false;
  written_ = 0;
  // A ring broken by the other side reserves nothing: the kernel's buffer then fills and its
  // drops show it (the agent reports the corruption itself).
  reserved_ = link_ ? link_->events.Reserve(link_capacity_) : 0;
  const uint64_t before = stats_.records;
  const int n = ring_buffer__consume(rb_);
  if (n < 0 && n != -ENOSPC) {
    return absl::InternalError(
        absl::StrFormat("reading the kernel's ring buffer: %s", std::strerror(-n)));
  }
  if (link_ && written_ > 0) link_->events.Submit(written_);
  if (backlogged_) ++stats_.link_full;
  return static_cast<uint32_t>(stats_.records - before);
}

bool ScxHost::QueueCommit(const wave_msg& m, int cpu) {
  wave_scx_cpu_queues& q = prog_.queues(cpu);
  const uint32_t head = __atomic_load_n(&q.credit.commit_head, __ATOMIC_ACQUIRE);
  const uint32_t tail = commit_tail_[cpu];
  if (tail - head >= WAVE_SCX_COMMIT_DEPTH) return false;
  PublishSlot(&q.commit[tail & (WAVE_SCX_COMMIT_DEPTH - 1)], m, tail);
  commit_tail_[cpu] = tail + 1;
  return true;
}

bool ScxHost::LookupTask(const wave_a2k_commit& c, HostTaskView* view, CpuSet* scratch) {
  std::optional<wave_scx_task> t = prog_.LookupTask(c.task_id);
  if (!t) return false;
  *scratch = CpuSet::FromWord(t->cpu_mask);
  view->seq = t->seq;
  view->cpus = scratch;
  view->runnable = t->state == WAVE_SCX_RUNNABLE;
  view->on_cpu = t->state == WAVE_SCX_ON_CPU;
  return true;
}

bool ScxHost::LookupCpu(const wave_a2k_commit& c, HostCpuView* view) {
  view->managed = prog_.managed_cpus().Test(c.cpu);
  const uint32_t current = prog_.CurrentOn(c.cpu);
  view->busy = current != 0 && current != c.task_id;
  return true;
}

uint32_t ScxHost::Enact(const wave_a2k_commit& c) {
  // Into its cpu's commit ring in the kernel, whose dispatch checks it again, authoritatively,
  // when it takes it, and answers it.
  wave_msg m;
  std::memcpy(&m, &c, sizeof(m));
  if (!QueueCommit(m, c.cpu)) {
    ++stats_.queue_full;
    return WAVE_COMMIT_CPU_BUSY;
  }
  ++stats_.forwarded;
  kick_.Set(c.cpu);
  if (c.flags & WAVE_COMMIT_F_PREEMPT) preempt_.Set(c.cpu);
  return kAnsweredLater;
}

uint32_t ScxHost::AnswerRoom() {
  answered_ = 0;
  return link_->events.Reserve(link_capacity_);
}

void ScxHost::Answer(const wave_msg& result) {
  ++stats_.results_here[result.result.status];
  link_->events.Write(answered_++, result);
}

void ScxHost::EndAnswers() { link_->events.Submit(answered_); }

uint64_t ScxHost::NowNs() { return 0; }  // the kernel's answers carry its clock; ours none

absl::StatusOr<uint32_t> ScxHost::TakeStaged() {
  uint32_t taken = 0;
  const int cpus = std::min<int>(static_cast<int>(link_->lanes.size()), prog_.num_cpus());
  for (int cpu = 0; cpu < cpus; ++cpu) {
    RingConsumer& in = link_->lanes[cpu];
    wave_scx_cpu_queues& q = prog_.queues(cpu);
    const uint32_t head = __atomic_load_n(&q.credit.stage_head, __ATOMIC_ACQUIRE);
    const uint32_t free_slots =
        WAVE_SCX_STAGE_DEPTH - std::min<uint32_t>(stage_tail_[cpu] - head, WAVE_SCX_STAGE_DEPTH);
    if (free_slots == 0) continue;
    absl::StatusOr<uint32_t> n = in.Peek(free_slots);
    if (!n.ok()) return n.status();
    if (*n == 0) continue;
    for (uint32_t i = 0; i < *n; ++i) {
      wave_msg m;
      in.Read(i, &m);
      ++stats_.staged_received;
      if (wave_txn_epoch(m.commit.txn_id) != epoch_) {
        ++staged_stale_epoch_;
        continue;
      }
      // Checked by the kernel when the cpu takes it (a staged decision is for later: what
      // holds now may not then). Its cpu is this ring's, whatever it says.
      const uint32_t tail = stage_tail_[cpu];
      PublishSlot(&q.stage[tail & (WAVE_SCX_STAGE_DEPTH - 1)], m, tail);
      stage_tail_[cpu] = tail + 1;
      ++stats_.staged_forwarded;
      kick_.Set(cpu);
    }
    in.Advance(*n);
    in.ReturnCredits();
    taken += *n;
  }
  return taken;
}

absl::StatusOr<uint32_t> ScxHost::Actuate() {
  // Commands wait while the replay streams: every one of them needs the agent's new epoch.
  if (!link_ || replay_.active()) return 0u;
  kick_ = CpuSet();
  preempt_ = CpuSet();
  absl::StatusOr<uint32_t> staged = TakeStaged();
  if (!staged.ok()) return staged.status();
  absl::StatusOr<uint32_t> commits = pump_.Pump(link_->commands, *this);
  if (!commits.ok()) return commits.status();
  stats_.commits_received = pump_.stats().received;
  stats_.stale_epoch = staged_stale_epoch_ + pump_.stats().old_epoch;
  if (!kick_.empty() && prog_.Kick(kick_, preempt_)) ++stats_.kicks;
  return *staged + *commits;
}

std::string FormatScxStats(const ScxHostStats& s, const ScxKernelCounters& k) {
  std::string out = "events: " + s.events_by_type.ToString();
  absl::StrAppendFormat(&out,
                        "\ncommits: received %u, staged received %u, forwarded %u, "
                        "staged forwarded %u, stale epoch %u, queue full %u\n",
                        s.commits_received, s.staged_received, s.forwarded, s.staged_forwarded,
                        s.stale_epoch, s.queue_full);
  const std::pair<const char*, const std::array<uint64_t, WAVE_COMMIT_STATUS_COUNT>*> kResults[] = {
      {"answered here", &s.results_here}, {"answered by the kernel", &s.results_kernel}};
  for (const auto& [where, results] : kResults) {
    const auto& r = *results;
    absl::StrAppendFormat(&out, "%s:", where);
    for (uint32_t st = 0; st < WAVE_COMMIT_STATUS_COUNT; ++st) {
      absl::StrAppendFormat(&out, "%s %s %u", st == 0 ? "" : ",", CommitStatusName(st), r[st]);
    }
    out += "\n";
  }
  absl::StrAppendFormat(
      &out,
      "kernel: emitted %u, dropped %u, commits taken %u, staged taken %u, dispatched %u, "
      "fifo (no agent) %u, fifo (waited too long) %u, stale epoch %u, table full %u, cpu idle "
      "%u, kicks %u\nhost: records %u, discarded (no agent) %u, agents %u, replayed tasks %u\n",
      k.emitted, k.dropped, k.committed, k.staged, k.dispatched, k.fallback, k.starved,
      k.stale_epoch, k.task_table_full, k.idle, k.kicks, s.records, s.discarded, s.agents,
      s.replayed_tasks);
  return out;
}

std::string FormatScxStatsJson(const ScxHostStats& s, const ScxKernelCounters& k) {
  std::string out = "{\"events\": {";
  bool any = false;
  s.events_by_type.ForEach([&](uint16_t type, uint64_t n) {
    absl::StrAppendFormat(&out, "%s\"%s\": %u", any ? ", " : "", MsgTypeName(type), n);
    any = true;
  });
  auto statuses = [&out](const char* key, const auto& r) {
    absl::StrAppendFormat(&out, ", \"%s\": {", key);
    for (uint32_t st = 0; st < WAVE_COMMIT_STATUS_COUNT; ++st) {
      absl::StrAppendFormat(&out, "%s\"%s\": %u", st == 0 ? "" : ", ", CommitStatusName(st), r[st]);
    }
    out += "}";
  };
  out += "}";
  absl::StrAppendFormat(&out,
                        ", \"commits_received\": %u, \"staged_received\": %u, \"forwarded\": %u, "
                        "\"staged_forwarded\": %u, \"stale_epoch\": %u, \"queue_full\": %u",
                        s.commits_received, s.staged_received, s.forwarded, s.staged_forwarded,
                        s.stale_epoch, s.queue_full);
  statuses("results_here", s.results_here);
  statuses("results_kernel", s.results_kernel);
  absl::StrAppendFormat(
      &out,
      ", \"staged_results_kernel\": %u, \"records\": %u, \"discarded\": %u, \"agents\": %u, "
      "\"replayed_tasks\": %u, \"kicks\": %u, \"kernel\": {\"emitted\": %u, \"dropped\": %u, "
      "\"committed\": %u, \"staged\": %u, \"dispatched\": %u, \"fallback\": %u, \"starved\": %u, "
      "\"stale_epoch\": %u, \"task_table_full\": %u, \"idle\": %u, \"kicks\": %u}}",
      s.staged_results_kernel, s.records, s.discarded, s.agents, s.replayed_tasks, s.kicks,
      k.emitted, k.dropped, k.committed, k.staged, k.dispatched, k.fallback, k.starved,
      k.stale_epoch, k.task_table_full, k.idle, k.kicks);
  return out;
}

}  // namespace wave
