#include "transport/session.h"

#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_format.h"
#include "transport/numa.h"

namespace wave {
namespace {

constexpr size_t kControlBytes = kLinkPage;  // control block, one page; the link starts here
static_assert(sizeof(wave_session_ctl) <= kControlBytes);

bool ValidName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return name[0] != '.';
}

std::string PathFor(const std::string& name) { return "/dev/shm/wave-" + name; }

const Clock* DefaultClock() {
  static const MonotonicClock* const kClock = new MonotonicClock();
  return kClock;
}

uint32_t LoadState(const uint32_t* p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }  // acquire
void StoreState(uint32_t* p, SessionState s) {
  __atomic_store_n(p, static_cast<uint32_t>(s), __ATOMIC_RELEASE);  // release
}
bool Is(uint32_t state, SessionState s) { return state == static_cast<uint32_t>(s); }

std::string ReasonOf(const wave_session_verdict& v) {
  char reason[kSessionReasonBytes + 1] = {};
  std::memcpy(reason, v.reason, kSessionReasonBytes);
  return reason;
}

void SetReason(wave_session_verdict& v, const std::string& why) {
  std::snprintf(v.reason, sizeof(v.reason), "%s", why.c_str());
}

// Binds one half of the link (`host` or the agent's) to this thread's NUMA node. Returns the
// node, or -1 with `note` saying why not (placement is best effort: a link works anywhere).
int BindHalf(void* link, size_t link_bytes, bool host, std::string* note) {
  absl::StatusOr<LinkLayout> l = ReadLinkLayout(link, link_bytes);
  if (!l.ok()) {
    *note = std::string(l.status().message());
    return -1;
  }
  const size_t off = host ? l->host_offset : l->agent_offset;
  const size_t len = host ? l->host_bytes : l->agent_bytes;
  const int node = NumaNodeOfThisCpu();
  if (absl::Status st = BindToNode(static_cast<uint8_t*>(link) + off, len, node); !st.ok()) {
    *note = std::string(st.message());
    return -1;
  }
  return node;
}

// The ABI's hello and answer, from and to the C++ view of them.
void ToHello(const SessionParams& p, wave_session_hello* h) {
  h->magic = p.magic;
  h->abi_major = p.abi_major;
  h->abi_minor = p.abi_minor;
  h->slot_size = p.slot_size;
  h->features = p.features;
  h->num_cpus = p.num_cpus;
  h->link_latency_ns = p.link_latency_ns;
  h->link_clock = p.link_clock;
  for (uint32_t s = 0; s < WAVE_SUBSYS_COUNT; ++s) {
    const ChannelConfig& c = p.link.channels[s];
    h->offer[s] = {c.to_agent_capacity, c.to_host_capacity, c.lanes, c.lane_depth};
  }
}

SessionParams FromHello(const wave_session_hello& h) {
  SessionParams p;
  p.magic = h.magic;
  p.abi_major = h.abi_major;
  p.abi_minor = h.abi_minor;
  p.slot_size = h.slot_size;
  p.features = h.features;
  p.num_cpus = h.num_cpus;
  p.link_latency_ns = h.link_latency_ns;
  p.link_clock = h.link_clock;
  for (uint32_t s = 0; s < WAVE_SUBSYS_COUNT; ++s) {
    const wave_session_offer& o = h.offer[s];
    p.link.channels[s] = {o.to_agent_capacity, o.to_host_capacity, o.lanes, o.lane_depth};
  }
  p.serves = 0;
  return p;
}

void ToAnswer(const SessionParams& p, wave_session_answer* a) {
  a->magic = p.magic;
  a->abi_major = p.abi_major;
  a->abi_minor = p.abi_minor;
  a->slot_size = p.slot_size;
  a->features = p.features;
  a->num_cpus = p.num_cpus;
  a->link_latency_ns = p.link_latency_ns;
  a->link_clock = p.link_clock;
  a->serves = p.serves;
  for (uint32_t s = 0; s < WAVE_SUBSYS_COUNT; ++s) {
    a->to_agent_capacity[s] = p.link.channels[s].to_agent_capacity;
    a->to_host_capacity[s] = p.link.channels[s].to_host_capacity;
  }
}

SessionParams FromAnswer(const wave_session_answer& a) {
  SessionParams p;
  p.magic = a.magic;
  p.abi_major = a.abi_major;
  p.abi_minor = a.abi_minor;
  p.slot_size = a.slot_size;
  p.features = a.features;
  p.num_cpus = a.num_cpus;
  p.link_latency_ns = a.link_latency_ns;
  p.link_clock = a.link_clock;
  p.serves = a.serves;
  for (uint32_t s = 0; s < WAVE_SUBSYS_COUNT; ++s) {
    p.link.channels[s] = {a.to_agent_capacity[s], a.to_host_capacity[s], 0, 0};
  }
  return p;
}

uint32_t Offered(const SessionParams& host) {
  uint32_t offered = 0;
  for (uint32_t s = 0; s < WAVE_SUBSYS_COUNT; ++s) {
    if (host.link.channels[s].offered()) offered |= 1u << s;
  }
  return offered;
}

std::string SubsystemList(uint32_t bits) {
  static constexpr const char* kNames[WAVE_SUBSYS_COUNT] = {"link", "scheduling", "memory",
                                                            "network"};
  std::string out;
  for (uint32_t s = 0; s < WAVE_SUBSYS_COUNT; ++s) {
    if ((bits >> s) & 1) out += (out.empty() ? "" : ", ") + std::string(kNames[s]);
  }
  return out.empty() ? "nothing" : out;
}

}  // namespace

std::string SessionMismatch(const SessionParams& host, const SessionParams& agent) {
  auto diff = [](const std::string& what, uint32_t h, uint32_t a) {
    return absl::StrFormat("session mismatch: %s is %u on the host, %u on the agent", what, h, a);
  };
  if (host.magic != agent.magic) return diff("magic", host.magic, agent.magic);
  if (host.abi_major != agent.abi_major) {
    return absl::StrFormat("session mismatch: ABI version is %u.%u on the host, %u.%u on the agent",
                           host.abi_major, host.abi_minor, agent.abi_major, agent.abi_minor);
  }
  if (host.slot_size != agent.slot_size) return diff("slot size", host.slot_size, agent.slot_size);
  const uint32_t served = Offered(host) & agent.serves;
  if (served == 0) {
    return absl::StrFormat("session mismatch: the host offers %s, the agent serves %s",
                           SubsystemList(Offered(host)), SubsystemList(agent.serves));
  }
  for (uint32_t s = 0; s < WAVE_SUBSYS_COUNT; ++s) {
    if (((served >> s) & 1) == 0) continue;
    const ChannelConfig& h = host.link.channels[s];
    const ChannelConfig& a = agent.link.channels[s];
    // Scheduling's rings keep their names: events and commits.
    const std::string prefix = s == WAVE_SUBSYS_SCHED ? "" : SubsystemList(1u << s) + " ";
    if (a.to_agent_capacity != 0 && a.to_agent_capacity != h.to_agent_capacity) {
      return diff(prefix + "event ring size", h.to_agent_capacity, a.to_agent_capacity);
    }
    if (a.to_host_capacity != 0 && a.to_host_capacity != h.to_host_capacity) {
      return diff(prefix + (s == WAVE_SUBSYS_SCHED ? "commit" : "command") + " ring size",
                  h.to_host_capacity, a.to_host_capacity);
    }
  }
  if (agent.num_cpus != 0 && host.num_cpus != agent.num_cpus) {
    return diff("cpu count", host.num_cpus, agent.num_cpus);
  }
  if (agent.link_latency_ns != kTakeHosts && host.link_latency_ns != agent.link_latency_ns) {
    return diff("link latency (ns)", host.link_latency_ns, agent.link_latency_ns);
  }
  if (host.link_clock != agent.link_clock) {
    return absl::StrFormat("session mismatch: link clock is %s on the host, %s on the agent",
                           LinkClockName(static_cast<LinkClockKind>(host.link_clock)),
                           LinkClockName(static_cast<LinkClockKind>(agent.link_clock)));
  }
  return "";
}

Session::~Session() {
  if (is_host_ && !path_.empty() && region_.data() != nullptr) unlink(path_.c_str());
}

wave_session_ctl* Session::control() const {
  return static_cast<wave_session_ctl*>(region_.data());
}
void* Session::link_mem() const {
  return static_cast<uint8_t*>(region_.data()) + control()->hello.link_offset;
}
size_t Session::link_bytes() const { return control()->hello.link_bytes; }

void Session::ResetPeerWatch() {
  const wave_session_ctl* c = control();
  const __u64* peer = is_host_ ? &c->agent_beat.count : &c->host_beat.count;
  peer_beats_ = __atomic_load_n(peer, __ATOMIC_RELAXED);
  peer_moved_ns_ = NowNs();
}

absl::StatusOr<Session> Session::Create(const std::string& name, const SessionParams& params,
                                        const Clock* clock) {
  if (!ValidName(name)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("session name '%s' must be 1-64 of [A-Za-z0-9._-]", name));
  }
  const std::string path = PathFor(name);
  const size_t bytes = kControlBytes + LinkBytes(params.link);
  absl::StatusOr<SharedRegion> region = SharedRegion::CreateFile(path, bytes);
  if (!region.ok() && errno == EEXIST) {
    // Left behind by a host that died? Replace it only if its host is gone.
    absl::StatusOr<SharedRegion> old = SharedRegion::OpenFile(path);
    if (old.ok() && old->size() >= sizeof(wave_session_ctl)) {
      const auto* c = static_cast<const wave_session_ctl*>(old->data());
      const pid_t pid = static_cast<pid_t>(c->hello.host_pid);
      if (pid > 0 && (kill(pid, 0) == 0 || errno == EPERM)) {
        return absl::AlreadyExistsError(
            absl::StrFormat("session '%s' is in use by host pid %d (%s)", name, pid, path));
      }
    }
    unlink(path.c_str());
    region = SharedRegion::CreateFile(path, bytes);
  }
  if (!region.ok()) return region.status();

  Session s;
  s.region_ = *std::move(region);
  s.path_ = path;
  s.is_host_ = true;
  s.params_ = params;
  s.clock_ = clock != nullptr ? clock : DefaultClock();
  if (absl::Status st = LinkFormat(static_cast<uint8_t*>(s.region_.data()) + kControlBytes,
                                   bytes - kControlBytes, params.link);
      !st.ok()) {
    return st;
  }
  wave_session_ctl* c = s.control();
  ToHello(params, &c->hello);
  c->hello.link_offset = kControlBytes;
  c->hello.link_bytes = bytes - kControlBytes;
  c->hello.host_pid = static_cast<uint32_t>(getpid());
  c->hello.host_node = BindHalf(s.link_mem(), s.link_bytes(), /*host=*/true, &s.bind_note_);
  s.Beat();
  StoreState(&c->verdict.state, SessionState::kHello);
  return s;
}

absl::StatusOr<Session> Session::Join(const std::string& name, const SessionParams& expect,
                                      uint64_t timeout_ns, const Clock* clock) {
  if (!ValidName(name)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("session name '%s' must be 1-64 of [A-Za-z0-9._-]", name));
  }
  clock = clock != nullptr ? clock : DefaultClock();
  const uint64_t deadline = clock->NowNs() + timeout_ns;
  const std::string path = PathFor(name);
  absl::StatusOr<SharedRegion> region = SharedRegion::OpenFile(path);
  while (!region.ok() && clock->NowNs() < deadline) {
    usleep(1000);
    region = SharedRegion::OpenFile(path);
  }
  if (!region.ok()) {
    return absl::UnavailableError(
        absl::StrFormat("no host at session '%s' (%s)", name, region.status().message()));
  }
  if (region->size() < kControlBytes) {
    return absl::FailedPreconditionError(
        absl::StrFormat("%s is %u bytes: not a wave session", path, region->size()));
  }
  Session s;
  s.region_ = *std::move(region);
  s.path_ = path;
  s.clock_ = clock;
  wave_session_ctl* c = s.control();
  while (LoadState(&c->verdict.state) < static_cast<uint32_t>(SessionState::kHello)) {
    if (clock->NowNs() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrFormat("host at session '%s' never said hello", name));
    }
    usleep(1000);
  }
  if (!Is(LoadState(&c->verdict.state), SessionState::kHello)) {
    return absl::FailedPreconditionError(
        absl::StrFormat("session '%s' is not waiting for an agent (taken or closed)", name));
  }
  wave_session_hello hello;
  std::memcpy(&hello, &c->hello, sizeof(hello));  // read the other side's memory once
  const SessionParams host = FromHello(hello);
  std::string why = SessionMismatch(host, expect);
  if (why.empty() && (hello.link_offset != kControlBytes ||
                      hello.link_offset + hello.link_bytes > s.region_.size())) {
    why = absl::StrFormat("session region is corrupt: link at %u+%u in %u bytes", hello.link_offset,
                          hello.link_bytes, s.region_.size());
  }
  if (why.empty()) {
    // The link itself must be what the hello says (the agent trusts neither without the other).
    absl::StatusOr<LinkConfig> link = ReadLinkConfig(s.link_mem(), s.link_bytes());
    if (!link.ok()) {
      why = std::string(link.status().message());
    } else {
      for (uint32_t sub = 0; sub < WAVE_SUBSYS_COUNT && why.empty(); ++sub) {
        const ChannelConfig& a = link->channels[sub];
        const ChannelConfig& b = host.link.channels[sub];
        if (a.to_agent_capacity != b.to_agent_capacity ||
            a.to_host_capacity != b.to_host_capacity || a.lanes != b.lanes ||
            a.lane_depth != b.lane_depth) {
          why = "session region is corrupt: the link's channels are not the hello's";
        }
      }
    }
  }
  if (!why.empty()) {
    SetReason(c->verdict, why);
    StoreState(&c->verdict.state, SessionState::kRejected);
    return absl::FailedPreconditionError(why);
  }
  s.params_ = host;
  ToAnswer(expect, &c->answer);
  c->answer.agent_pid = static_cast<uint32_t>(getpid());
  c->answer.agent_node = BindHalf(s.link_mem(), s.link_bytes(), /*host=*/false, &s.bind_note_);
  // The host bumps the generation when it accepts us.
  s.joined_generation_ = __atomic_load_n(&c->generation, __ATOMIC_RELAXED) + 1;
  s.Beat();
  s.ResetPeerWatch();
  StoreState(&c->verdict.state, SessionState::kJoined);
  return s;
}

absl::Status Session::WaitForAgent(uint64_t timeout_ns) {
  wave_session_ctl* c = control();
  const uint64_t deadline = NowNs() + timeout_ns;
  for (;;) {
    const uint32_t st = LoadState(&c->verdict.state);
    if (Is(st, SessionState::kRejected)) return absl::FailedPreconditionError(ReasonOf(c->verdict));
    if (Is(st, SessionState::kJoined)) break;
    if (NowNs() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrFormat("no agent joined %s within %u ms", path_, timeout_ns / 1'000'000));
    }
    Beat();
    usleep(1000);
  }
  wave_session_answer answer;
  std::memcpy(&answer, &c->answer, sizeof(answer));
  std::string why = SessionMismatch(params_, FromAnswer(answer));
  if (!why.empty()) {
    SetReason(c->verdict, why);
    StoreState(&c->verdict.state, SessionState::kRejected);
    return absl::FailedPreconditionError(why);
  }
  Beat();
  ResetPeerWatch();
  __atomic_store_n(&c->generation, c->generation + 1, __ATOMIC_RELAXED);
  StoreState(&c->verdict.state, SessionState::kAccepted);
  return absl::OkStatus();
}

absl::Status Session::Reopen() {
  if (!is_host_) return absl::FailedPreconditionError("only the host reopens a session");
  wave_session_ctl* c = control();
  if (absl::Status s = LinkFormat(link_mem(), link_bytes(), params_.link); !s.ok()) return s;
  std::memset(&c->answer, 0, sizeof(c->answer));
  std::memset(c->verdict.reason, 0, sizeof(c->verdict.reason));
  c->hello.host_node = BindHalf(link_mem(), link_bytes(), /*host=*/true, &bind_note_);
  Beat();
  StoreState(&c->verdict.state, SessionState::kHello);
  return absl::OkStatus();
}

absl::StatusOr<bool> Session::TryAccept() {
  wave_session_ctl* c = control();
  const uint32_t st = LoadState(&c->verdict.state);
  if (Is(st, SessionState::kRejected)) {
    // The agent found a mismatch and said so: report it once, then wait for another.
    const std::string reason = ReasonOf(c->verdict);
    if (absl::Status s = Reopen(); !s.ok()) return s;
    return absl::FailedPreconditionError(reason);
  }
  if (!Is(st, SessionState::kJoined)) {
    Beat();
    return false;
  }
  absl::Status s = WaitForAgent(0);
  if (s.ok()) return true;
  if (absl::Status r = Reopen(); !r.ok()) return r;
  return s;
}

uint32_t Session::generation() const {
  return __atomic_load_n(&control()->generation, __ATOMIC_RELAXED);
}

uint64_t Session::features() const {
  const wave_session_ctl* c = control();
  const uint32_t st = LoadState(&c->verdict.state);
  const bool joined = Is(st, SessionState::kJoined) || Is(st, SessionState::kAccepted) ||
                      Is(st, SessionState::kClosed);
  return joined ? c->hello.features & c->answer.features : params_.features;
}

uint32_t Session::served() const {
  const wave_session_ctl* c = control();
  return Offered(params_) & c->answer.serves;
}

absl::Status Session::WaitForAccept(uint64_t timeout_ns) {
  wave_session_ctl* c = control();
  const uint64_t deadline = NowNs() + timeout_ns;
  for (;;) {
    const uint32_t st = LoadState(&c->verdict.state);
    if (Is(st, SessionState::kAccepted)) {
      ResetPeerWatch();
      return absl::OkStatus();
    }
    if (Is(st, SessionState::kRejected)) return absl::FailedPreconditionError(ReasonOf(c->verdict));
    if (Is(st, SessionState::kClosed)) return absl::CancelledError("the host closed the session");
    if (NowNs() >= deadline) {
      return absl::DeadlineExceededError("the host never accepted this agent");
    }
    Beat();
    usleep(1000);
  }
}

void Session::Beat() {
  __u64* beat = is_host_ ? &control()->host_beat.count : &control()->agent_beat.count;
  __atomic_store_n(beat, ++beats_, __ATOMIC_RELAXED);  // relaxed: a sign of life, not a publish
}

absl::Status Session::CheckPeer(uint64_t timeout_ns) {
  const wave_session_ctl* c = control();
  const uint32_t st = LoadState(&c->verdict.state);
  if (Is(st, SessionState::kClosed)) return absl::CancelledError("the host closed the session");
  if (!is_host_) {
    // Still ours: the generation we joined for, and not reopened or handed to someone else.
    const bool reopened = Is(st, SessionState::kHello) || Is(st, SessionState::kRejected);
    const bool other =
        Is(st, SessionState::kJoined) && c->answer.agent_pid != static_cast<uint32_t>(getpid());
    if (reopened || other ||
        __atomic_load_n(&c->generation, __ATOMIC_RELAXED) > joined_generation_) {
      return absl::AbortedError(
          "the host declared this agent dead and reopened the session for another");
    }
  }
  const uint64_t beats =
      __atomic_load_n(is_host_ ? &c->agent_beat.count : &c->host_beat.count, __ATOMIC_RELAXED);
  const uint64_t now = NowNs();
  if (beats != peer_beats_) {  // a sign of life, seen now on this side's clock
    peer_beats_ = beats;
    peer_moved_ns_ = now;
    return absl::OkStatus();
  }
  if (now > peer_moved_ns_ && now - peer_moved_ns_ > timeout_ns) {
    return absl::UnavailableError(absl::StrFormat(
        "the %s has been silent for %u ms (heartbeat timeout %u ms): presumed dead",
        is_host_ ? "agent" : "host", (now - peer_moved_ns_) / 1'000'000, timeout_ns / 1'000'000));
  }
  return absl::OkStatus();
}

void Session::Close() {
  if (is_host_ && region_.data() != nullptr) {
    StoreState(&control()->verdict.state, SessionState::kClosed);
  }
}

LinkModel Session::link_model() const {
  return LinkModel{.clock = &LinkClock(), .latency_ns = params_.link_latency_ns};
}

std::string Session::placement() const {
  const wave_session_ctl* c = control();
  auto where = [](int node) {
    return node < 0 ? std::string("not bound") : absl::StrFormat("on NUMA node %d", node);
  };
  const bool joined = LoadState(&c->verdict.state) >= static_cast<uint32_t>(SessionState::kJoined);
  std::string out = "host half " + where(c->hello.host_node) + ", agent half " +
                    (joined || !is_host_ ? where(c->answer.agent_node) : "not joined yet");
  if (!bind_note_.empty()) out += " (" + bind_note_ + ")";
  return out;
}

absl::StatusOr<HostLink> Session::AttachHostLink(LinkModel to_agent, LinkModel to_host) {
  return wave::AttachHostLink(link_mem(), link_bytes(), to_agent, to_host);
}

absl::StatusOr<AgentLink> Session::AttachAgentLink(LinkModel to_agent, LinkModel to_host) {
  return wave::AttachAgentLink(link_mem(), link_bytes(), to_agent, to_host);
}

absl::StatusOr<HostEnd> Session::AttachHost(LinkModel to_agent, LinkModel to_host,
                                            uint16_t subsystem) {
  return wave::AttachHost(link_mem(), link_bytes(), to_agent, to_host, subsystem);
}

absl::StatusOr<AgentEnd> Session::AttachAgent(LinkModel to_agent, LinkModel to_host,
                                              uint16_t subsystem) {
  return wave::AttachAgent(link_mem(), link_bytes(), to_agent, to_host, subsystem);
}

}  // namespace wave
