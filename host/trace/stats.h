// Counters of the trace mechanism, and the small file through which a running `wave run`
// publishes them for `wave stats`: /dev/shm/wave-run.<pid>, a TraceStatsFile under a seqlock.
#ifndef LIBWAVE_HOST_TRACE_STATS_H_
#define LIBWAVE_HOST_TRACE_STATS_H_

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "abi/msg_types.h"
#include "abi/wave_abi.h"
#include "absl/status/statusor.h"
#include "transport/region.h"

namespace wave {

// Plain integers: one thread (the host loop) writes them.
struct TraceStats {
  // Read from the kernel's ring buffer, and forwarded to the agent (by type).
  uint64_t records = 0;
  uint64_t malformed_records = 0;  // wrong size or type: skipped
  MsgCounts events_by_type;
  uint64_t own_affinity = 0;  // AFFINITY events that wave's own pinning caused: not forwarded
  uint64_t link_full = 0;     // pumps that stopped because the link's event ring was full
  // Commits, by the status of their result.
  std::array<uint64_t, WAVE_COMMIT_STATUS_COUNT> commits{};
  uint64_t affinity_set = 0;  // sched_setaffinity calls that moved a thread
  uint64_t attr_set = 0;      // sched_setattr calls (slices)
  uint64_t enact_failed = 0;  // a valid commit whose syscall failed (the thread just exited, ...)
  uint64_t journal_full = 0;  // commits refused: the restore journal had no room
  uint64_t restored = 0;      // threads given their original settings back
  // The kernel side's counters (.bss), as of the last update.
  uint64_t kernel_emitted = 0;
  uint64_t kernel_dropped = 0;
  uint64_t task_table_full = 0;
  uint64_t wakeups_running = 0;
  uint64_t migrations = 0;
  uint64_t children = 0;
  uint64_t inferred = 0;      // events the kernel side inferred for transitions it did not see
  uint64_t exit_blocks = 0;   // blocks after TASK_DEAD, on exit paths: counted, not reported
  uint64_t missed_runs = 0;   // program runs the kernel skipped (TraceKernelCounters)
  uint64_t yield_source = 0;  // YieldSource: where sched_yield() calls are seen from

  uint64_t commits_total() const {
    uint64_t n = 0;
    for (uint64_t c : commits) n += c;
    return n;
  }
  uint64_t commits_rejected() const {
    return commits_total() - commits[WAVE_COMMIT_OK] - commits[WAVE_COMMIT_STALE];
  }
};

// "events: TASK_NEW 5, TASK_WAKEUP 400, ...\ncommits: ok 3, stale 1, ...\n..." for people.
std::string FormatTraceStats(const TraceStats& s);
// One JSON object with a fixed key order.
std::string FormatTraceStatsJson(const TraceStats& s);

inline constexpr uint32_t kStatsMagic = 0x53564157u;  // "WAVS"
inline constexpr uint32_t kStatsVersion = 2;

// What /dev/shm/wave-run.<pid> holds.
struct TraceStatsFile {
  uint32_t magic;
  uint32_t version;
  uint32_t seq;  // seqlock: odd while the writer is in the middle of an update
  int32_t pid;   // the wave process
  int32_t child_pid;
  uint32_t reserved;
  uint64_t start_ns;  // CLOCK_MONOTONIC
  uint64_t update_ns;
  char policy[32];
  char command[128];
  TraceStats stats;
};

// The writer side, owned by `wave run`. Removes the file when destroyed.
class StatsPublisher {
 public:
  static std::string PathFor(pid_t pid);
  static absl::StatusOr<StatsPublisher> Create(const std::string& policy,
                                               const std::string& command);
  StatsPublisher(StatsPublisher&&) noexcept;
  StatsPublisher& operator=(StatsPublisher&&) = delete;
  StatsPublisher(const StatsPublisher&) = delete;
  ~StatsPublisher();
  void SetChild(pid_t child);
  void Publish(const TraceStats& stats, uint64_t now_ns);
  const std::string& path() const { return path_; }

 private:
  StatsPublisher(SharedRegion region, std::string path)
      : region_(std::move(region)), path_(std::move(path)) {}
  TraceStatsFile* file() const { return static_cast<TraceStatsFile*>(region_.data()); }
  SharedRegion region_;
  std::string path_;
};

// A consistent copy of a running wave's stats file; NotFound when there is no such run.
absl::StatusOr<TraceStatsFile> ReadStatsFile(pid_t pid);
// The pids of the `wave run` processes that are alive and publish stats, in increasing order.
std::vector<pid_t> ListRuns();

}  // namespace wave

#endif  // LIBWAVE_HOST_TRACE_STATS_H_
