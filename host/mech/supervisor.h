// The host's side of an external agent's life, shared by the mechanisms whose agent is another
// process (the simulator with --session, sched_ext): it watches the attached agent's heartbeat,
// drops a silent or broken one (the mechanism falls back to its own policy), reopens the session,
// accepts the next agent that joins (a mismatching one is told why and the session waits for
// another) and hands the mechanism the new agent's link, to which the mechanism replays its state.
//
//   AgentSupervisor sup(session, {.heartbeat_timeout_ns = ...});
//   loop: sup.Beat();
//         every ~1 ms: AgentSupervisor::Change c = sup.Check(now);
//           kLost:   fall back (the agent is gone: c.why)
//           kJoined: attach *c.link, new epoch, replay, leave fallback
//         a ring of the agent is corrupt: sup.Drop(why, now), fall back
#ifndef LIBWAVE_HOST_MECH_SUPERVISOR_H_
#define LIBWAVE_HOST_MECH_SUPERVISOR_H_

#include <cstdint>
#include <optional>
#include <string>

#include "transport/link.h"
#include "transport/session.h"

namespace wave {

struct SupervisorOptions {
  uint64_t heartbeat_timeout_ns = 50'000'000;
  // The link models of the agent's link, each direction (an emulated latency, or none).
  LinkModel to_agent{};
  LinkModel to_host{};
  // The session already has an accepted agent (the caller waited for it): attached from the
  // start, its link taken by the caller.
  bool attached = false;
};

class AgentSupervisor {
 public:
  // REQUIRES: session outlives the supervisor; it is the host's side.
  AgentSupervisor(Session& session, const SupervisorOptions& options, uint64_t now_ns);

  struct Change {
    enum Kind { kNone, kLost, kJoined };
    Kind kind = kNone;
    std::string why;               // kLost: why the agent was dropped
    std::optional<HostLink> link;  // kJoined: the new agent's link, every channel
  };
  // Beats on the session (call every loop: it is the host's sign of life).
  void Beat() { session_.Beat(); }
  // Checks the attached agent (kLost once it fell silent: the session is reopened for another)
  // or, with none attached, accepts one that has joined (kJoined).
  Change Check(uint64_t now_ns);
  // The mechanism found the agent's rings broken: it is dropped now and the session reopened.
  // A failure to reopen is returned (the session's region is then unusable).
  absl::Status Drop(const std::string& why, uint64_t now_ns);

  bool attached() const { return attached_; }
  uint64_t agents() const { return agents_; }  // accepted so far
  uint64_t lost() const { return lost_; }      // dropped so far (silent, broken or rejected)
  // Time with no agent attached, up to now_ns.
  uint64_t without_agent_ns(uint64_t now_ns) const {
    return without_ns_ + (attached_ ? 0 : now_ns - since_ns_);
  }
  // The last reason an agent was dropped, or a joining one refused ("" for none).
  const std::string& last_error() const { return last_error_; }
  // An error that makes the session unusable (reopening failed), once.
  const absl::Status& status() const { return status_; }

 private:
  void Lose(const std::string& why, uint64_t now_ns);

  Session& session_;
  const SupervisorOptions options_;
  bool attached_;
  uint64_t agents_ = 0;
  uint64_t lost_ = 0;
  uint64_t since_ns_ = 0;    // when the agent was lost (or the start)
  uint64_t without_ns_ = 0;  // closed periods without an agent
  std::string last_error_;
  absl::Status status_;
};

}  // namespace wave

#endif  // LIBWAVE_HOST_MECH_SUPERVISOR_H_
