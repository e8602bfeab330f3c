// A session: the link between two processes (the host and the agent are two system images), in a
// named shared region under /dev/shm, mode 0600. Its control block is the ABI's
// (abi/wave_link.h, wave_session_ctl): what crosses is fixed there, not here.
//
//   host:  Session::Create(name, params)  -> formats the region, publishes its hello
//   agent: Session::Join(name, expect)    -> checks the hello, answers with its own view
//   host:  WaitForAgent(timeout)          -> checks the answer, publishes the verdict
//
// The hello lists the channels the host offers (one per subsystem: scheduling, memory, network;
// scheduling's with a staging lane per cpu when it prestages); the agent answers with the
// subsystems it serves, and the session serves those both have (served()). The handshake compares
// magic, the ABI's major version, slot size, and the ring sizes of each served channel, and agrees
// on the features both sides offer (features()): an agent one minor version newer or older joins
// and uses the common ones. A real mismatch is a one-line error on *both* sides: whoever finds it
// writes the reason into the region, and the other side reads and reports the same sentence
// (ghOSt users' most common complaint was an ABI mismatch that crashed or confused instead of
// saying so).
//
// Heartbeats: each side bumps a counter in its beat line as it runs. The other side notes, on its
// own clock, when it last saw the count move, and declares the peer dead once it has not moved for
// a timeout. Nothing compares the two sides' clocks, which are two images' clocks. Nothing waits
// without a bound.
//
// The handshake also agrees on the emulated link: its one-way latency and the clock both sides
// read (transport/clock.h), so a slot's visible_at means the same on both sides. (An emulated
// latency needs one machine's time base; a real link has latency 0.)
//
// Placement: the host binds the link's host half to its NUMA node, the agent binds the agent
// half to its own (write remote, read local; see link.h). placement() says where they landed.
//
// Region: [control block: one page][link (transport/link.h), page-aligned halves]
#ifndef LIBWAVE_TRANSPORT_SESSION_H_
#define LIBWAVE_TRANSPORT_SESSION_H_

#include <cstdint>
#include <string>

#include "abi/wave_abi.h"
#include "absl/status/statusor.h"
#include "transport/clock.h"
#include "transport/link.h"
#include "transport/region.h"

namespace wave {

inline constexpr uint32_t kSessionMagic = WAVE_SESSION_MAGIC;
inline constexpr size_t kSessionReasonBytes = WAVE_SESSION_REASON_BYTES;
inline constexpr uint32_t kTakeHosts = WAVE_TAKE_HOSTS;

// What one side offers or expects. The host's is authoritative for sizes; the agent states what
// it was built for and configured with.
struct SessionParams {
  uint32_t magic = kSessionMagic;
  // The version each side was built for. Majors must be equal; minors may differ (a newer side
  // knows more features and message types, and uses only what both know).
  uint16_t abi_major = WAVE_ABI_MAJOR;
  uint16_t abi_minor = WAVE_ABI_MINOR;
  uint32_t slot_size = WAVE_MSG_SIZE;
  uint32_t num_cpus = 0;  // host: cpus it manages; agent: 0 = take the host's
  // One-way emulated latency of both directions. Agent: kTakeHosts = whatever the host says.
  uint32_t link_latency_ns = 1'000;
  uint32_t link_clock = static_cast<uint32_t>(LinkClockKindInUse());
  // WAVE_FEAT_* this side offers: the host what its mechanism does, the agent what it can use.
  uint64_t features = WAVE_FEATURES;
  // Host: the channels it offers. Agent: the ring sizes it was configured for (0: the host's);
  // its lanes are whatever the host made.
  LinkConfig link = LinkConfig::Sched();
  // Agent: the subsystems it serves (bit WAVE_SUBSYS_*). Unused by the host.
  uint32_t serves = 1u << WAVE_SUBSYS_SCHED;
};

enum class SessionState : uint32_t {
  kEmpty = WAVE_SESSION_EMPTY,
  kHello = WAVE_SESSION_HELLO,
  kJoined = WAVE_SESSION_JOINED,
  kAccepted = WAVE_SESSION_ACCEPTED,
  kRejected = WAVE_SESSION_REJECTED,
  kClosed = WAVE_SESSION_CLOSED,
};

class Session {
 public:
  Session() = default;
  Session(Session&&) noexcept = default;
  Session& operator=(Session&&) noexcept = default;
  ~Session();

  // Creates /dev/shm/wave-<name> (O_EXCL, 0600; a stale one from a dead host is replaced) and
  // publishes the host's hello. `name` is [A-Za-z0-9._-]{1,64}. `clock` (which must outlive the
  // session; default CLOCK_MONOTONIC) is this side's own: heartbeat timeouts are measured on it.
  static absl::StatusOr<Session> Create(const std::string& name, const SessionParams& params,
                                        const Clock* clock = nullptr);
  // Opens the host's region and checks its hello against `expect`; on a mismatch writes the
  // reason for the host to read and returns it. Waits up to `timeout_ns` for the hello.
  static absl::StatusOr<Session> Join(const std::string& name, const SessionParams& expect,
                                      uint64_t timeout_ns, const Clock* clock = nullptr);
  // Host: waits for the agent's answer, checks it, publishes the verdict.
  absl::Status WaitForAgent(uint64_t timeout_ns);
  // Agent: waits for the host's verdict on its answer.
  absl::Status WaitForAccept(uint64_t timeout_ns);

  // Bumps this side's heartbeat. Cheap: one store to a line only this side writes.
  void Beat();
  // Ok while the peer's heartbeat has moved within the last `timeout_ns` of this side's clock,
  // or a Cancelled error once the host closed normally (agent side), or Aborted once the host
  // gave this agent's place to another.
  absl::Status CheckPeer(uint64_t timeout_ns);
  // Host: marks the session closed so the agent exits cleanly.
  void Close();

  // Host, after the agent died (or broke the link): formats a fresh link and waits for a new
  // agent to join. The old agent, if it was only stalled, finds itself rejected (CheckPeer).
  absl::Status Reopen();
  // Host: non-blocking. True once a newly joined agent has been checked and accepted (attach a
  // fresh HostEnd then); false while none has joined. A mismatching agent is told why and the
  // session waits for another; the error is returned once so the host can report it.
  absl::StatusOr<bool> TryAccept();
  // How many agents this session has accepted (1 after the first).
  uint32_t generation() const;

  const SessionParams& params() const { return params_; }  // the host's, as agreed
  bool is_host() const { return is_host_; }
  // The features both sides offered (known once the agent has joined; the host's before).
  uint64_t features() const;
  // The subsystems both serve (bit WAVE_SUBSYS_*): offered by the host, served by the agent.
  uint32_t served() const;
  // The agreed link model: LinkClock() and the host's link latency.
  LinkModel link_model() const;
  // Where the halves of the link are: "host half on node 0, agent half on node 0", or why not
  // known. Each side binds its own half; the agent's answer is known once it has joined.
  std::string placement() const;
  // The link inside the region: every channel, or one subsystem's (FailedPrecondition when the
  // link has none for it). `to_agent`/`to_host` model each direction.
  absl::StatusOr<HostLink> AttachHostLink(LinkModel to_agent = {}, LinkModel to_host = {});
  absl::StatusOr<AgentLink> AttachAgentLink(LinkModel to_agent = {}, LinkModel to_host = {});
  absl::StatusOr<HostEnd> AttachHost(LinkModel to_agent = {}, LinkModel to_host = {},
                                     uint16_t subsystem = WAVE_SUBSYS_SCHED);
  absl::StatusOr<AgentEnd> AttachAgent(LinkModel to_agent = {}, LinkModel to_host = {},
                                       uint16_t subsystem = WAVE_SUBSYS_SCHED);
  const std::string& path() const { return path_; }
  // The link's memory (for tools and tests that inspect or, in tests, corrupt it).
  void* link_data() const { return link_mem(); }
  size_t link_size() const { return link_bytes(); }

 private:
  wave_session_ctl* control() const;
  void* link_mem() const;
  size_t link_bytes() const;
  uint64_t NowNs() const { return clock_->NowNs(); }
  // The peer starts with a whole timeout from now.
  void ResetPeerWatch();

  SharedRegion region_;
  SessionParams params_;
  std::string path_;
  bool is_host_ = false;
  std::string bind_note_;           // why this side's half could not be bound, if it could not
  uint32_t joined_generation_ = 0;  // agent: the generation it was accepted in
  const Clock* clock_ = nullptr;
  uint64_t beats_ = 0;          // this side's heartbeat count
  uint64_t peer_beats_ = 0;     // the peer's, as last seen
  uint64_t peer_moved_ns_ = 0;  // when (this side's clock) the peer's count last moved
};

// Why the agent's params do not match the host's, or "" when they do. Used by both sides so
// both print the same sentence.
std::string SessionMismatch(const SessionParams& host, const SessionParams& agent);

}  // namespace wave

#endif  // LIBWAVE_TRANSPORT_SESSION_H_
