// A subsystem of the agent: one OS subsystem's policy side (scheduling today; memory and the
// network control plane next), on its own channel of the link. The Runtime (lib/runtime.h) owns
// the loop and the channels; a subsystem owns its model of the host, its policy, its commands and
// their epoch.
//
// What the runtime does for every subsystem, so that none repeats it: drains the subsystem's event
// ring in bursts, copies each message out of shared memory once, skips and counts what no
// subsystem may act on (a bad length, a type this version does not know, a type of another
// subsystem on this channel), hands RESYNC_BEGIN/END to OnResyncBegin/End and the rest to
// OnMessage, calls Decide once per drained batch, Flush to publish, and returns credits.
// Cross-subsystem input is explicit: a subsystem subscribes to a message type of another one
// (Runtime::Subscribe) and gets it in OnSubscribed, wherever it came from (another channel, or
// the agent's own side: Runtime::DeliverLocal).
#ifndef LIBWAVE_LIB_SUBSYSTEM_H_
#define LIBWAVE_LIB_SUBSYSTEM_H_

#include <cstdint>
#include <vector>

#include "abi/msg_types.h"
#include "abi/wave_abi.h"
#include "absl/status/statusor.h"
#include "transport/link.h"

namespace wave {

// What the runtime counts for a subsystem's channel (plain integers: the agent is one thread).
struct ChannelStats {
  uint64_t polls = 0;         // loops that looked at the channel
  uint64_t events = 0;        // messages received: on the channel, and delivered locally
  MsgCounts events_by_type;   // the same, by type (types this version does not know together)
  uint64_t unknown_type = 0;  // a type this version does not know: a newer host's, skipped
  uint64_t malformed = 0;     // bad length, a command or another subsystem's type, ... skipped

  ChannelStats& operator+=(const ChannelStats& o) {
    polls += o.polls;
    events += o.events;
    events_by_type += o.events_by_type;
    unknown_type += o.unknown_type;
    malformed += o.malformed;
    return *this;
  }
};

class Subsystem {
 public:
  virtual ~Subsystem() = default;
  // WAVE_SUBSYS_*: the channel it serves and the type range (high byte) it owns.
  virtual uint16_t id() const = 0;

  // The subsystem's end of its channel, handed over when the runtime attaches it: the subsystem
  // writes its commands (and lanes); the runtime reads the events.
  virtual void Attach(AgentEnd* end) = 0;
  // A message of the subsystem's own type range from its channel, length and type checked.
  virtual void OnMessage(const wave_msg& msg) = 0;
  // RESYNC_BEGIN on its channel: forget the host's state and every command in flight, adopt the
  // epoch. RESYNC_END: the replay is complete.
  virtual void OnResyncBegin(const wave_k2a_resync& msg) = 0;
  virtual void OnResyncEnd(const wave_k2a_resync& /*msg*/) {}
  // Message types of other subsystems it wants (the runtime subscribes it at Attach), and each
  // such message, from anywhere.
  virtual std::vector<uint16_t> subscriptions() const { return {}; }
  virtual void OnSubscribed(const wave_msg& /*msg*/) {}
  // After each drained batch (and after local deliveries): the policy decides. Returns how many
  // commands it queued.
  virtual uint32_t Decide() = 0;
  // Publishes queued commands in one burst per ring. Those that do not fit stay queued (never
  // dropped). Returns how many went out; an error means a ring of the channel is corrupt.
  virtual absl::StatusOr<uint32_t> Flush() = 0;
  // Commands queued for the next Flush.
  virtual size_t queued_commands() const = 0;
  // How often its channel is looked at: 0 every loop (scheduling: microseconds matter), else at
  // most once per this many ns of the runtime's clock (memory statistics: milliseconds).
  virtual uint64_t poll_period_ns() const { return 0; }
  // The runtime's counters for this subsystem's channel.
  virtual ChannelStats& channel_stats() = 0;
};

}  // namespace wave

#endif  // LIBWAVE_LIB_SUBSYSTEM_H_
