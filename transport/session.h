// A session: the link between two processes (the host and the agent are two system images), in a
// named shared region under /dev/shm, mode 0600.
//
//   host:  Session::Create(name, config)  -> formats the region, publishes its hello
//   agent: Session::Join(name, expect)    -> checks the hello, answers with its own view
//   host:  WaitForAgent(timeout)          -> checks the answer, publishes the verdict
//
// The handshake compares magic, ABI major version, slot size and both ring sizes, and agrees on the
// features both sides offer (an agent one minor version newer or older joins and uses the common
// ones). A mismatch is a
// one-line error on *both* sides: whoever finds it writes the reason into the region, and the
// other side reads and reports the same sentence (ghOSt users' most common complaint was an ABI
// mismatch that crashed or confused instead of saying so).
//
// Heartbeats: each side stores its monotonic time into its own heartbeat line as it runs; the
// other side reads it and declares the peer dead once it is older than a timeout. Nothing waits
// without a bound.
//
// The handshake also agrees on the emulated link: its one-way latency and the clock both sides
// read (transport/clock.h), so a slot's visible_at means the same on both sides.
//
// Placement: the host binds the link's host half to its NUMA node, the agent binds the agent
// half to its own (write remote, read local; see link.h). placement() says where they landed.
//
// Region: [control block: one page][link (transport/link.h), page-aligned halves]
#ifndef LIBWAVE_TRANSPORT_SESSION_H_
#define LIBWAVE_TRANSPORT_SESSION_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "transport/clock.h"
#include "transport/link.h"
#include "transport/region.h"

namespace wave {

inline constexpr uint32_t kSessionMagic = 0x53455357u;  // "WSES"
inline constexpr size_t kSessionReasonBytes = 120;

// What one side offers or expects. The host's is authoritative for sizes; the agent states what
// it was built for and configured with, and the two must agree exactly.
struct SessionParams {
  uint32_t magic = kSessionMagic;
  // The version each side was built for. Majors must be equal; minors may differ (a newer side
  // knows more features and message types, and uses only what both know).
  uint16_t abi_major = WAVE_ABI_MAJOR;
  uint16_t abi_minor = WAVE_ABI_MINOR;
  uint32_t slot_size = WAVE_MSG_SIZE;
  uint32_t event_capacity = 4096;
  uint32_t commit_capacity = 4096;
  uint32_t num_cpus = 0;  // host: cpus it manages; agent: 0 = take the host's
  // One-way emulated latency of both directions. Agent: kTakeHosts = whatever the host says.
  uint32_t link_latency_ns = 1'000;
  uint32_t link_clock = static_cast<uint32_t>(LinkClockKindInUse());
  // Host: prestaging depth per cpu (0: none); the agent finds it in the link and need not match.
  uint32_t stage_depth = 0;
  // WAVE_FEAT_* this side offers: the host what its mechanism does, the agent what it can use.
  // The session uses the features both offer (Session::features()).
  uint64_t features = WAVE_FEATURES;
};
inline constexpr uint32_t kTakeHosts = 0xffffffffu;

enum class SessionState : uint32_t {
  kEmpty = 0,
  kHello = 1,     // host published its params
  kJoined = 2,    // agent answered and found no mismatch
  kAccepted = 3,  // host checked the agent's answer: running
  kRejected = 4,  // either side found a mismatch; reason holds why
  kClosed = 5,    // the host ended the session normally
};

class Session {
 public:
  Session() = default;
  Session(Session&&) noexcept = default;
  Session& operator=(Session&&) noexcept = default;
  ~Session();

  // Creates /dev/shm/<name> (O_EXCL, 0600; a stale one from a dead host is replaced) and
  // publishes the host's hello. `name` is [A-Za-z0-9._-]{1,64}.
  static absl::StatusOr<Session> Create(const std::string& name, const SessionParams& params);
  // Opens the host's region and checks its hello against `expect`; on a mismatch writes the
  // reason for the host to read and returns it. Waits up to `timeout_ns` for the hello.
  static absl::StatusOr<Session> Join(const std::string& name, const SessionParams& expect,
                                      uint64_t timeout_ns);
  // Host: waits for the agent's answer, checks it, publishes the verdict.
  absl::Status WaitForAgent(uint64_t timeout_ns);
  // Agent: waits for the host's verdict on its answer.
  absl::Status WaitForAccept(uint64_t timeout_ns);

  // Stores this side's heartbeat (its monotonic time). Cheap: one store to a local line.
  void Beat();
  // Ok while the peer's heartbeat is younger than `timeout_ns`, or the host closed normally
  // (then a Cancelled error saying so).
  absl::Status CheckPeer(uint64_t timeout_ns) const;
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
  // The features both sides offered (known once the agent has joined; the host's before).
  uint64_t features() const;
  bool is_host() const { return is_host_; }
  // The agreed link model: LinkClock() and the host's link latency.
  LinkModel link_model() const;
  // Where the halves of the link are: "host half on node 0, agent half on node 0", or why not
  // known. Each side binds its own half; the agent's answer is known once it has joined.
  std::string placement() const;
  // The link inside the region. `to_agent`/`to_host` model each direction.
  absl::StatusOr<HostEnd> AttachHost(LinkModel to_agent = {}, LinkModel to_host = {});
  absl::StatusOr<AgentEnd> AttachAgent(LinkModel to_agent = {}, LinkModel to_host = {});
  const std::string& path() const { return path_; }
  // The link's memory (for tools and tests that inspect or, in tests, corrupt it).
  void* link_data() const { return link_mem(); }
  size_t link_size() const { return link_bytes(); }

  // The control block at the start of the region (session.cc).
  struct Control;

 private:
  Control* control() const;
  void* link_mem() const;
  size_t link_bytes() const;

  SharedRegion region_;
  SessionParams params_;
  std::string path_;
  bool is_host_ = false;
  std::string bind_note_;           // why this side's half could not be bound, if it could not
  uint32_t joined_generation_ = 0;  // agent: the generation it was accepted in
  MonotonicClock clock_;
};

// Why the agent's params do not match the host's, or "" when they do. Used by both sides so
// both print the same sentence.
std::string SessionMismatch(const SessionParams& host, const SessionParams& agent);

}  // namespace wave

#endif  // LIBWAVE_TRANSPORT_SESSION_H_
