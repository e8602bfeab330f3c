#include "host/mech/replay.h"

#include <algorithm>

namespace wave {

void ReplayWriter::Begin(uint32_t epoch, uint32_t reason, uint16_t subsystem, uint64_t now_ns) {
  Cancel();
  active_ = true;
  end_written_ = false;
  epoch_ = epoch;
  subsystem_ = subsystem;
  records_ = 0;
  ++replays_;
  wave_msg m;
  wave_msg_init(&m, WAVE_EV_RESYNC_BEGIN);
  m.resync.time_ns = now_ns;
  m.resync.epoch = epoch;
  m.resync.reason = reason;
  m.resync.subsystem = subsystem;
  pending_.push_back(m);
}

bool ReplayWriter::Step(RingProducer& ring, uint64_t now_ns, uint32_t keep_free) {
  if (!active_) return true;
  const uint32_t want = static_cast<uint32_t>(left());
  uint32_t room = ring.Reserve(want + keep_free);
  room = room > keep_free ? room - keep_free : 0;
  const uint32_t n = std::min(room, want);
  uint32_t i = 0;
  for (; i < n && next_ < pending_.size(); ++i) ring.Write(i, pending_[next_++]);
  if (i < n && next_ == pending_.size()) {
    records_ = pending_.size() - 1;
    wave_msg m;
    wave_msg_init(&m, WAVE_EV_RESYNC_END);
    m.resync.time_ns = now_ns;
    m.resync.epoch = epoch_;
    m.resync.subsystem = subsystem_;
    m.resync.records = records_;
    ring.Write(i++, m);
    end_written_ = true;
  }
  ring.Submit(i);
  if (!end_written_) return false;
  active_ = false;
  pending_.clear();
  pending_.shrink_to_fit();  // what the replay took is given back
  next_ = 0;
  return true;
}

void ReplayWriter::Cancel() {
  active_ = false;
  pending_.clear();
  next_ = 0;
}

}  // namespace wave
