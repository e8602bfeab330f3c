// Counters of the scheduling subsystem: the runtime's for its channel (ChannelStats: polls,
// events by type, what was skipped) and its own. Plain integers: the agent is single-threaded.
#ifndef LIBWAVE_LIB_SCHED_STATS_H_
#define LIBWAVE_LIB_SCHED_STATS_H_

#include <array>
#include <cstddef>
#include <cstdint>

#include "abi/msg_types.h"
#include "abi/wave_abi.h"
#include "lib/subsystem.h"

namespace wave {

struct AgentStats : ChannelStats {
  // Input from the host side that was skipped (besides ChannelStats' unknown_type and malformed:
  // cpu out of range, a malformed cpu set, ...).
  uint64_t unknown_task = 0;  // an event or result for a task the agent does not know
  uint64_t stale_events = 0;  // sequence not newer than what the agent has
  uint64_t duplicate_new = 0;
  // Transactions.
  uint64_t commits_sent = 0;
  uint64_t commit_ring_full = 0;  // flushes that could not publish everything at once
  // Prestaging.
  uint64_t staged_sent = 0;
  uint64_t staged_ok = 0;        // taken by the host and run
  uint64_t staged_aborted = 0;   // found invalid by the host when it reached them
  uint64_t stage_ring_full = 0;  // flushes that left a staged decision queued
  // Resynchronisations (RESYNC_BEGIN received).
  uint64_t resyncs = 0;
  std::array<uint64_t, WAVE_COMMIT_STATUS_COUNT> results{};  // by wave_commit_status

  // Sums (e.g. the agents of one run, across restarts).
  AgentStats& operator+=(const AgentStats& o) {
    ChannelStats::operator+=(o);
    unknown_task += o.unknown_task;
    stale_events += o.stale_events;
    duplicate_new += o.duplicate_new;
    commits_sent += o.commits_sent;
    commit_ring_full += o.commit_ring_full;
    staged_sent += o.staged_sent;
    staged_ok += o.staged_ok;
    staged_aborted += o.staged_aborted;
    stage_ring_full += o.stage_ring_full;
    resyncs += o.resyncs;
    for (size_t i = 0; i < results.size(); ++i) results[i] += o.results[i];
    return *this;
  }

  uint64_t commits_ok() const { return results[WAVE_COMMIT_OK]; }
  uint64_t commits_stale() const { return results[WAVE_COMMIT_STALE]; }
  uint64_t commits_rejected() const {
    uint64_t n = 0;
    for (uint32_t s = 0; s < WAVE_COMMIT_STATUS_COUNT; ++s) {
      if (s != WAVE_COMMIT_OK && s != WAVE_COMMIT_STALE) n += results[s];
    }
    return n;
  }
};

}  // namespace wave

#endif  // LIBWAVE_LIB_SCHED_STATS_H_
