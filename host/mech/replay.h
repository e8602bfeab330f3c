// The replay that follows a RESYNC_BEGIN, streamed: a joining agent (or one whose event ring
// overflowed) gets the host's state of one subsystem as RESYNC_BEGIN, one record per live object,
// RESYNC_END, written through the event ring in as many batches as the ring takes. Every host
// mechanism (sim, trace, scx) replays with this one writer.
//
//   replay.Begin(epoch, WAVE_RESYNC_AGENT_START, WAVE_SUBSYS_SCHED, now);
//   for (each task) replay.Add(task_new_msg);      // a snapshot, taken at once
//   for (each free cpu) replay.Add(cpu_idle_msg);
//   while (!replay.Step(events_ring, now)) { ...the agent drains; live events wait... }
//
// The snapshot is taken at Begin/Add time, so the replay is one consistent state. While the
// replay streams the mechanism holds its live events back (in the BPF ring buffer, or the
// simulator's queue) and sends them after it: an event that happened before the snapshot carries
// a sequence the agent already has and is dropped as stale there, a later one applies on top.
// Memory: 64 bytes per record while the replay streams, none after.
#ifndef LIBWAVE_HOST_MECH_REPLAY_H_
#define LIBWAVE_HOST_MECH_REPLAY_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "abi/wave_abi.h"
#include "transport/ring.h"

namespace wave {

class ReplayWriter {
 public:
  // Starts a replay of `subsystem` announcing `epoch` (WAVE_RESYNC_* `reason`); a replay still
  // streaming is dropped (its agent is gone, or the new one supersedes it).
  void Begin(uint32_t epoch, uint32_t reason, uint16_t subsystem, uint64_t now_ns);
  // Appends one record (a TASK_CPUS chunk goes just before the record it belongs to).
  // REQUIRES: active().
  void Add(const wave_msg& record) { pending_.push_back(record); }
  // Writes as much of the replay as the ring takes, in one publish: RESYNC_BEGIN, the records,
  // then RESYNC_END (with the number of records). True once RESYNC_END is out (the replay is
  // over), false while more is left (call again when the agent has drained some). `keep_free`
  // slots are left for the mechanism's own use.
  bool Step(RingProducer& ring, uint64_t now_ns, uint32_t keep_free = 0);
  // Drops the replay (the agent is gone).
  void Cancel();

  bool active() const { return active_; }
  uint32_t epoch() const { return epoch_; }
  // Records of the current (or last) replay, and how many are still to be written.
  uint64_t records() const { return active_ ? pending_.size() - 1 : records_; }
  size_t left() const { return pending_.size() - next_ + (end_written_ ? 0 : 1); }
  uint64_t replays() const { return replays_; }

 private:
  bool active_ = false;
  bool end_written_ = false;
  uint32_t epoch_ = 0;
  uint16_t subsystem_ = 0;
  uint64_t records_ = 0;
  uint64_t replays_ = 0;
  std::vector<wave_msg> pending_;  // RESYNC_BEGIN, then the records
  size_t next_ = 0;                // the next one to write
};

}  // namespace wave

#endif  // LIBWAVE_HOST_MECH_REPLAY_H_
