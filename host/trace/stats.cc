#include "host/trace/stats.h"

#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_format.h"
#include "host/trace/yield_events.h"
#include "lib/sched/events.h"

namespace wave {
namespace {

constexpr char kDir[] = "/dev/shm";
constexpr char kPrefix[] = "wave-run.";

void CopyName(char* dst, size_t size, const std::string& src) {
  const size_t n = std::min(size - 1, src.size());
  std::memcpy(dst, src.data(), n);
  dst[n] = '\0';
}

}  // namespace

std::string FormatTraceStats(const TraceStats& s) {
  std::string out = "events: " + s.events_by_type.ToString();
  absl::StrAppendFormat(&out, "\ncommits: %u (ok %u, stale %u, rejected %u)", s.commits_total(),
                        s.commits[WAVE_COMMIT_OK], s.commits[WAVE_COMMIT_STALE],
                        s.commits_rejected());
  for (uint32_t st = WAVE_COMMIT_STALE + 1; st < WAVE_COMMIT_STATUS_COUNT; ++st) {
    if (s.commits[st] != 0)
      absl::StrAppendFormat(&out, ", %s %u", CommitStatusName(st), s.commits[st]);
  }
  absl::StrAppendFormat(&out,
                        "\nenacted: affinity %u, slice %u, failed %u, journal full %u; threads "
                        "restored %u\n",
                        s.affinity_set, s.attr_set, s.enact_failed, s.journal_full, s.restored);
  absl::StrAppendFormat(
      &out,
      "kernel: emitted %u, dropped %u, task table full %u; read %u, malformed "
      "%u, own affinity %u, link full %u; wakeups of running tasks %u, "
      "migrations %u, child processes %u, inferred %u, blocks after exit %u, missed program "
      "runs %u; yields seen via %s\n",
      s.kernel_emitted, s.kernel_dropped, s.task_table_full, s.records, s.malformed_records,
      s.own_affinity, s.link_full, s.wakeups_running, s.migrations, s.children, s.inferred,
      s.exit_blocks, s.missed_runs, YieldSourceName(static_cast<YieldSource>(s.yield_source)));
  return out;
}

std::string FormatTraceStatsJson(const TraceStats& s) {
  std::string out = "{\"events\": {";
  bool first = true;
  s.events_by_type.ForEach([&](uint16_t type, uint64_t n) {
    absl::StrAppendFormat(&out, "%s\"%s\": %u", first ? "" : ", ", MsgTypeName(type), n);
    first = false;
  });
  absl::StrAppendFormat(&out, "}, \"commits\": {\"total\": %u", s.commits_total());
  for (uint32_t st = 0; st < WAVE_COMMIT_STATUS_COUNT; ++st) {
    absl::StrAppendFormat(&out, ", \"%s\": %u", CommitStatusName(st), s.commits[st]);
  }
  absl::StrAppendFormat(
      &out,
      "}, \"affinity_set\": %u, \"slice_set\": %u, \"enact_failed\": %u, \"journal_full\": %u, "
      "\"restored\": %u, \"kernel_emitted\": %u, \"kernel_dropped\": %u, \"task_table_full\": "
      "%u, \"records\": %u, \"malformed_records\": %u, \"own_affinity\": %u, \"link_full\": %u, "
      "\"wakeups_running\": %u, \"migrations\": %u, \"children\": %u, \"inferred\": %u, "
      "\"exit_blocks\": %u, \"missed_runs\": %u, \"yields_via\": \"%s\"}",
      s.affinity_set, s.attr_set, s.enact_failed, s.journal_full, s.restored, s.kernel_emitted,
      s.kernel_dropped, s.task_table_full, s.records, s.malformed_records, s.own_affinity,
      s.link_full, s.wakeups_running, s.migrations, s.children, s.inferred, s.exit_blocks,
      s.missed_runs, YieldSourceName(static_cast<YieldSource>(s.yield_source)));
  return out;
}

std::string StatsPublisher::PathFor(pid_t pid) {
  return absl::StrFormat("%s/%s%d", kDir, kPrefix, pid);
}

absl::StatusOr<StatsPublisher> StatsPublisher::Create(const std::string& policy,
                                                      const std::string& command) {
  const std::string path = PathFor(getpid());
  unlink(path.c_str());  // one left by an earlier process with this pid, killed before cleanup
  absl::StatusOr<SharedRegion> region = SharedRegion::CreateFile(path, sizeof(TraceStatsFile));
  if (!region.ok()) return region.status();
  StatsPublisher p(*std::move(region), path);
  TraceStatsFile* f = p.file();
  f->version = kStatsVersion;
  f->pid = getpid();
  CopyName(f->policy, sizeof(f->policy), policy);
  CopyName(f->command, sizeof(f->command), command);
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  f->start_ns = static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + ts.tv_nsec;
  std::atomic_thread_fence(std::memory_order_release);
  __atomic_store_n(&f->magic, kStatsMagic, __ATOMIC_RELEASE);
  return p;
}

StatsPublisher::StatsPublisher(StatsPublisher&& other) noexcept
    : region_(std::move(other.region_)), path_(std::exchange(other.path_, std::string())) {}

StatsPublisher::~StatsPublisher() {
  if (!path_.empty()) unlink(path_.c_str());
}

void StatsPublisher::SetChild(pid_t child) { file()->child_pid = child; }

void StatsPublisher::Publish(const TraceStats& stats, uint64_t now_ns) {
  TraceStatsFile* f = file();
  // Seqlock: odd while writing; readers retry until they see the same even value around a copy.
  const uint32_t s = __atomic_load_n(&f->seq, __ATOMIC_RELAXED);
  __atomic_store_n(&f->seq, s + 1, __ATOMIC_RELAXED);
  std::atomic_thread_fence(std::memory_order_release);
  f->stats = stats;
  f->update_ns = now_ns;
  __atomic_store_n(&f->seq, s + 2, __ATOMIC_RELEASE);
}

absl::StatusOr<TraceStatsFile> ReadStatsFile(pid_t pid) {
  absl::StatusOr<SharedRegion> region = SharedRegion::OpenFile(StatsPublisher::PathFor(pid));
  if (!region.ok()) return absl::NotFoundError(absl::StrFormat("no wave run with pid %d", pid));
  // The magic and version first (another version's file may have another size), then the size.
  const auto* f = static_cast<const TraceStatsFile*>(region->data());
  if (region->size() < offsetof(TraceStatsFile, version) + sizeof(f->version)) {
    return absl::DataLossError(absl::StrFormat("%s: truncated", StatsPublisher::PathFor(pid)));
  }
  if (__atomic_load_n(&f->magic, __ATOMIC_ACQUIRE) != kStatsMagic || f->version != kStatsVersion) {
    return absl::DataLossError(
        absl::StrFormat("%s: not a wave stats file of this version", StatsPublisher::PathFor(pid)));
  }
  if (region->size() < sizeof(TraceStatsFile)) {
    return absl::DataLossError(absl::StrFormat("%s: truncated", StatsPublisher::PathFor(pid)));
  }
  TraceStatsFile copy;
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const uint32_t before = __atomic_load_n(&f->seq, __ATOMIC_ACQUIRE);
    if (before & 1) continue;
    std::memcpy(static_cast<void*>(&copy), f, sizeof(copy));
    std::atomic_thread_fence(std::memory_order_acquire);
    if (__atomic_load_n(&f->seq, __ATOMIC_RELAXED) == before) {
      copy.policy[sizeof(copy.policy) - 1] = '\0';
      copy.command[sizeof(copy.command) - 1] = '\0';
      return copy;
    }
  }
  return absl::UnavailableError("stats file kept changing under the reader");
}

std::vector<pid_t> ListRuns() {
  std::vector<pid_t> pids;
  DIR* dir = opendir(kDir);
  if (dir == nullptr) return pids;
  const size_t plen = std::strlen(kPrefix);
  while (dirent* e = readdir(dir)) {
    if (std::strncmp(e->d_name, kPrefix, plen) != 0) continue;
    char* end = nullptr;
    const long pid = std::strtol(e->d_name + plen, &end, 10);
    if (end == e->d_name + plen || *end != '\0' || pid <= 0) continue;
    // A file left by a killed run names a dead process.
    if (kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) continue;
    pids.push_back(static_cast<pid_t>(pid));
  }
  closedir(dir);
  std::sort(pids.begin(), pids.end());
  return pids;
}

}  // namespace wave
