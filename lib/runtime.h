// The agent runtime: one session's channels and the subsystems that serve them, and the loop
// that drives them. It knows the link, not the mechanism on the other side, and not any policy.
//
//   Runtime rt;
//   SchedSubsystem sched(policy, {.num_cpus = 8});
//   rt.Attach(sched, std::move(link.ends[WAVE_SUBSYS_SCHED].value()));
//   rt.Run({.session = &session});            // until the host closes the session
//
// Each loop (RunOnce): every channel that is due is drained (at most max_burst messages), each
// message copied out of shared memory once, checked (length, type) and dispatched to its
// subsystem; each subsystem that got something decides once; then every subsystem publishes its
// commands. Everything read from the link comes from another system image and is checked before
// use: what cannot be acted on is counted (ChannelStats) and skipped, never followed.
//
// Resync is per channel (an overflow of one subsystem's ring resyncs that subsystem only);
// restart is per session (a new agent process is a new Runtime, and the host replays every
// channel to it).
#ifndef LIBWAVE_LIB_RUNTIME_H_
#define LIBWAVE_LIB_RUNTIME_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <optional>
#include <vector>

#include "abi/wave_abi.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "lib/subsystem.h"
#include "transport/clock.h"
#include "transport/doorbell.h"
#include "transport/link.h"
#include "transport/session.h"

namespace wave {

struct RuntimeOptions {
  // Most messages taken from one channel per Poll (0: its ring's capacity).
  uint32_t max_burst = 256;
  // The clock of poll periods (Subsystem::poll_period_ns); null: CLOCK_MONOTONIC.
  const Clock* clock = nullptr;
};

// What one Poll did; a simulator charges virtual time for it.
struct PollResult {
  uint32_t events = 0;    // messages taken: from the channels, and delivered locally
  uint32_t commands = 0;  // queued by the subsystems' decisions in this poll
};

// How Run loops.
struct LoopOptions {
  // The session, if any: this side beats on it, and the loop ends when the host closes it (an ok
  // return) or goes silent for heartbeat_timeout_ns (an error).
  Session* session = nullptr;
  uint64_t heartbeat_timeout_ns = 50'000'000;
  // Idle: wait on this doorbell (rung by the host) for at most idle_wait_ms, else nap
  // idle_sleep_ns (0: spin).
  Doorbell* wait_bell = nullptr;
  int idle_wait_ms = 1;
  uint64_t idle_sleep_ns = 0;
  // Rung after commands went out (and once when the loop ends).
  Doorbell* ring_bell = nullptr;
  // Once set, the loop ends as soon as the channels are drained (an ok return).
  const std::atomic<bool>* stop = nullptr;
};

class Runtime {
 public:
  explicit Runtime(const RuntimeOptions& options = {});
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // Attaches `subsystem` to its channel's end (one subsystem per id; AlreadyExists otherwise),
  // and subscribes it to what it asks for. REQUIRES: the subsystem outlives the runtime.
  absl::Status Attach(Subsystem& subsystem, AgentEnd end);
  // `subscriber` gets every message of `type` in OnSubscribed, from any channel and from
  // DeliverLocal. A type may have several subscribers.
  void Subscribe(uint16_t type, Subsystem& subscriber);

  // Drains every channel that is due, dispatches, lets each subsystem that got something decide.
  // Commands stay queued until Flush(). An error means an event ring is corrupt.
  absl::StatusOr<PollResult> Poll();
  // Every subsystem publishes its commands. Returns how many went out; an error means a command
  // ring is corrupt.
  absl::StatusOr<uint32_t> Flush();
  // Poll + Flush.
  absl::StatusOr<PollResult> RunOnce();
  // The agent loop (see LoopOptions).
  absl::Status Run(const LoopOptions& options);

  // A message from the agent's own side of the link (the IPU's NIC), for its type's subscribers,
  // as if read from a channel; they decide at the next Poll. Counted as unrouted if no one
  // subscribes.
  void DeliverLocal(const wave_msg& msg);
  // Hands credits for consumed events back now (call before sleeping).
  void ReturnCredits();

  size_t queued_commands() const;
  uint64_t commands_sent() const { return commands_sent_; }
  uint64_t unrouted() const { return unrouted_; }

 private:
  struct Channel {
    Subsystem* subsystem = nullptr;
    ChannelStats* stats = nullptr;  // subsystem->channel_stats(), looked up once
    uint16_t id = 0;                // subsystem->id()
    AgentEnd end;
    uint64_t next_poll_ns = 0;
    uint32_t local = 0;  // local deliveries not yet followed by a decision
  };
  // One message from channel `c`.
  void Dispatch(Channel& c, const wave_msg& msg);
  // Hands `msg` to the subscribers of its type; false if there are none.
  bool Route(const wave_msg& msg, bool local);

  RuntimeOptions options_;
  std::array<std::optional<Channel>, WAVE_SUBSYS_COUNT> channels_;
  absl::flat_hash_map<uint16_t, std::vector<Subsystem*>> subscribers_;
  uint64_t commands_sent_ = 0;
  uint64_t unrouted_ = 0;
};

}  // namespace wave

#endif  // LIBWAVE_LIB_RUNTIME_H_
