#include "host/mech/supervisor.h"

#include <utility>

namespace wave {

AgentSupervisor::AgentSupervisor(Session& session, const SupervisorOptions& options,
                                 uint64_t now_ns)
    : session_(session), options_(options), attached_(options.attached), since_ns_(now_ns) {
  if (attached_) agents_ = 1;
}

void AgentSupervisor::Lose(const std::string& why, uint64_t now_ns) {
  attached_ = false;
  ++lost_;
  since_ns_ = now_ns;
  last_error_ = why;
  if (absl::Status s = session_.Reopen(); !s.ok() && status_.ok()) status_ = s;
}

absl::Status AgentSupervisor::Drop(const std::string& why, uint64_t now_ns) {
  if (attached_) Lose(why, now_ns);
  return status_;
}

AgentSupervisor::Change AgentSupervisor::Check(uint64_t now_ns) {
  Change c;
  if (!status_.ok()) return c;
  if (attached_) {
    absl::Status peer = session_.CheckPeer(options_.heartbeat_timeout_ns);
    if (peer.ok()) return c;
    Lose(std::string(peer.message()), now_ns);
    c.kind = Change::kLost;
    c.why = last_error_;
    return c;
  }
  absl::StatusOr<bool> joined = session_.TryAccept();
  if (!joined.ok()) {  // a mismatching agent was told why; the session waits for another
    last_error_ = std::string(joined.status().message());
    return c;
  }
  if (!*joined) return c;
  absl::StatusOr<HostLink> link = session_.AttachHostLink(options_.to_agent, options_.to_host);
  if (!link.ok()) {  // our own region, formatted by us: it is unusable
    status_ = link.status();
    return c;
  }
  attached_ = true;
  ++agents_;
  without_ns_ += now_ns - since_ns_;
  c.kind = Change::kJoined;
  c.link = *std::move(link);
  return c;
}

}  // namespace wave
