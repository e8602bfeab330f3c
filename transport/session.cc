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

LinkConfig LinkConfigOf(const SessionParams& p) {
  return LinkConfig{.event_capacity = p.event_capacity,
                    .commit_capacity = p.commit_capacity,
                    .stage_cpus = p.stage_depth == 0 ? 0 : p.num_cpus,
                    .stage_depth = p.stage_depth};
}

uint32_t LoadState(const uint32_t* p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }  // acquire
void StoreState(uint32_t* p, SessionState s) {
  __atomic_store_n(p, static_cast<uint32_t>(s), __ATOMIC_RELEASE);  // release
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

}  // namespace

// Each line is written by one side only, except `state`, which moves forward under the protocol
// above (host: hello, accepted, rejected, closed; agent: joined, rejected) and is always stored
// after the fields it publishes (release) and loaded before them (acquire).
struct Session::Control {
  struct alignas(kCacheLine) Hello {  // host
    SessionParams params;
    uint64_t link_offset;
    uint64_t link_bytes;
    uint32_t host_pid;
    int32_t host_node;  // NUMA node of the host half, -1 if not bound
  } hello;
  struct alignas(kCacheLine) Answer {  // agent
    SessionParams params;
    uint32_t agent_pid;
    int32_t agent_node;  // NUMA node of the agent half, -1 if not bound
  } answer;
  struct alignas(kCacheLine) Verdict {  // whoever decides
    uint32_t state;
    char reason[kSessionReasonBytes];
  } verdict;
  alignas(kCacheLine) uint64_t host_beat_ns;
  alignas(kCacheLine) uint64_t agent_beat_ns;
  // Bumped by the host each time it accepts an agent; an agent remembers the one it joined.
  alignas(kCacheLine) uint32_t generation;
};
static_assert(sizeof(Session::Control) <= kControlBytes);

std::string SessionMismatch(const SessionParams& host, const SessionParams& agent) {
  auto diff = [](const char* what, uint32_t h, uint32_t a) {
    return absl::StrFormat("session mismatch: %s is %u on the host, %u on the agent", what, h, a);
  };
  if (host.magic != agent.magic) return diff("magic", host.magic, agent.magic);
  if (host.abi_major != agent.abi_major) {
    return absl::StrFormat("session mismatch: ABI version is %u.%u on the host, %u.%u on the agent",
                           host.abi_major, host.abi_minor, agent.abi_major, agent.abi_minor);
  }
  if (host.slot_size != agent.slot_size) return diff("slot size", host.slot_size, agent.slot_size);
  if (host.event_capacity != agent.event_capacity) {
    return diff("event ring size", host.event_capacity, agent.event_capacity);
  }
  if (host.commit_capacity != agent.commit_capacity) {
    return diff("commit ring size", host.commit_capacity, agent.commit_capacity);
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

Session::Control* Session::control() const { return static_cast<Control*>(region_.data()); }
void* Session::link_mem() const {
  return static_cast<uint8_t*>(region_.data()) + control()->hello.link_offset;
}
size_t Session::link_bytes() const { return control()->hello.link_bytes; }

absl::StatusOr<Session> Session::Create(const std::string& name, const SessionParams& params) {
  if (!ValidName(name)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("session name '%s' must be 1-64 of [A-Za-z0-9._-]", name));
  }
  const LinkConfig lc = LinkConfigOf(params);
  const std::string path = PathFor(name);
  const size_t bytes = kControlBytes + LinkBytes(lc);
  absl::StatusOr<SharedRegion> region = SharedRegion::CreateFile(path, bytes);
  if (!region.ok() && errno == EEXIST) {
    // Left behind by a host that died? Replace it only if its host is gone.
    absl::StatusOr<SharedRegion> old = SharedRegion::OpenFile(path);
    if (old.ok() && old->size() >= sizeof(Control)) {
      const auto* c = static_cast<const Control*>(old->data());
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
  if (absl::Status st = LinkFormat(static_cast<uint8_t*>(s.region_.data()) + kControlBytes,
                                   bytes - kControlBytes, lc);
      !st.ok()) {
    return st;
  }
  Control* c = s.control();
  c->hello.params = params;
  c->hello.link_offset = kControlBytes;
  c->hello.link_bytes = bytes - kControlBytes;
  c->hello.host_pid = static_cast<uint32_t>(getpid());
  c->hello.host_node = BindHalf(s.link_mem(), s.link_bytes(), /*host=*/true, &s.bind_note_);
  s.Beat();
  StoreState(&c->verdict.state, SessionState::kHello);
  return s;
}

absl::StatusOr<Session> Session::Join(const std::string& name, const SessionParams& expect,
                                      uint64_t timeout_ns) {
  if (!ValidName(name)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("session name '%s' must be 1-64 of [A-Za-z0-9._-]", name));
  }
  MonotonicClock clock;
  const uint64_t deadline = clock.NowNs() + timeout_ns;
  const std::string path = PathFor(name);
  absl::StatusOr<SharedRegion> region = SharedRegion::OpenFile(path);
  while (!region.ok() && clock.NowNs() < deadline) {
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
  Control* c = s.control();
  while (LoadState(&c->verdict.state) < static_cast<uint32_t>(SessionState::kHello)) {
    if (clock.NowNs() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrFormat("host at session '%s' never said hello", name));
    }
    usleep(1000);
  }
  if (LoadState(&c->verdict.state) != static_cast<uint32_t>(SessionState::kHello)) {
    return absl::FailedPreconditionError(
        absl::StrFormat("session '%s' is not waiting for an agent (taken or closed)", name));
  }
  Control::Hello hello;
  std::memcpy(&hello, &c->hello, sizeof(hello));  // read the other side's memory once
  SessionParams mine = expect;
  std::string why = SessionMismatch(hello.params, mine);
  if (why.empty() && (hello.link_offset != kControlBytes ||
                      hello.link_offset + hello.link_bytes > s.region_.size())) {
    why = absl::StrFormat("session region is corrupt: link at %u+%u in %u bytes", hello.link_offset,
                          hello.link_bytes, s.region_.size());
  }
  if (!why.empty()) {
    std::snprintf(c->verdict.reason, sizeof(c->verdict.reason), "%s", why.c_str());
    StoreState(&c->verdict.state, SessionState::kRejected);
    return absl::FailedPreconditionError(why);
  }
  s.params_ = hello.params;
  c->answer.params = mine;
  c->answer.agent_pid = static_cast<uint32_t>(getpid());
  c->answer.agent_node = BindHalf(s.link_mem(), s.link_bytes(), /*host=*/false, &s.bind_note_);
  // The host bumps the generation when it accepts us.
  s.joined_generation_ = __atomic_load_n(&c->generation, __ATOMIC_RELAXED) + 1;
  s.Beat();
  StoreState(&c->verdict.state, SessionState::kJoined);
  return s;
}

absl::Status Session::WaitForAgent(uint64_t timeout_ns) {
  Control* c = control();
  const uint64_t deadline = clock_.NowNs() + timeout_ns;
  for (;;) {
    const uint32_t st = LoadState(&c->verdict.state);
    if (st == static_cast<uint32_t>(SessionState::kRejected)) {
      char reason[kSessionReasonBytes + 1] = {};
      std::memcpy(reason, c->verdict.reason, kSessionReasonBytes);
      return absl::FailedPreconditionError(reason);
    }
    if (st == static_cast<uint32_t>(SessionState::kJoined)) break;
    if (clock_.NowNs() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrFormat("no agent joined %s within %u ms", path_, timeout_ns / 1'000'000));
    }
    Beat();
    usleep(1000);
  }
  Control::Answer answer;
  std::memcpy(&answer, &c->answer, sizeof(answer));
  std::string why = SessionMismatch(params_, answer.params);
  if (!why.empty()) {
    std::snprintf(c->verdict.reason, sizeof(c->verdict.reason), "%s", why.c_str());
    StoreState(&c->verdict.state, SessionState::kRejected);
    return absl::FailedPreconditionError(why);
  }
  Beat();
  __atomic_store_n(&c->generation, c->generation + 1, __ATOMIC_RELAXED);
  StoreState(&c->verdict.state, SessionState::kAccepted);
  return absl::OkStatus();
}

absl::Status Session::Reopen() {
  if (!is_host_) return absl::FailedPreconditionError("only the host reopens a session");
  Control* c = control();
  if (absl::Status s = LinkFormat(link_mem(), link_bytes(), LinkConfigOf(params_)); !s.ok()) {
    return s;
  }
  c->answer = Control::Answer{};
  std::memset(c->verdict.reason, 0, sizeof(c->verdict.reason));
  __atomic_store_n(&c->agent_beat_ns, 0, __ATOMIC_RELAXED);
  c->hello.host_node = BindHalf(link_mem(), link_bytes(), /*host=*/true, &bind_note_);
  Beat();
  StoreState(&c->verdict.state, SessionState::kHello);
  return absl::OkStatus();
}

absl::StatusOr<bool> Session::TryAccept() {
  Control* c = control();
  const uint32_t st = LoadState(&c->verdict.state);
  if (st == static_cast<uint32_t>(SessionState::kRejected)) {
    // The agent found a mismatch and said so: report it once, then wait for another.
    char reason[kSessionReasonBytes + 1] = {};
    std::memcpy(reason, c->verdict.reason, kSessionReasonBytes);
    if (absl::Status s = Reopen(); !s.ok()) return s;
    return absl::FailedPreconditionError(reason);
  }
  if (st != static_cast<uint32_t>(SessionState::kJoined)) {
    Beat();
    return false;
  }
  absl::Status s = WaitForAgent(0);
  if (s.ok()) return true;
  if (absl::Status r = Reopen(); !r.ok()) return r;
  return s;
}

uint64_t Session::features() const {
  const Control* c = control();
  const bool joined = LoadState(&c->verdict.state) >= static_cast<uint32_t>(SessionState::kJoined);
  return joined ? c->hello.params.features & c->answer.params.features : params_.features;
}

uint32_t Session::generation() const {
  return __atomic_load_n(&control()->generation, __ATOMIC_RELAXED);
}

absl::Status Session::WaitForAccept(uint64_t timeout_ns) {
  Control* c = control();
  const uint64_t deadline = clock_.NowNs() + timeout_ns;
  for (;;) {
    const uint32_t st = LoadState(&c->verdict.state);
    if (st == static_cast<uint32_t>(SessionState::kAccepted)) return absl::OkStatus();
    if (st == static_cast<uint32_t>(SessionState::kRejected)) {
      char reason[kSessionReasonBytes + 1] = {};
      std::memcpy(reason, c->verdict.reason, kSessionReasonBytes);
      return absl::FailedPreconditionError(reason);
    }
    if (st == static_cast<uint32_t>(SessionState::kClosed)) {
      return absl::CancelledError("the host closed the session");
    }
    if (clock_.NowNs() >= deadline) {
      return absl::DeadlineExceededError("the host never accepted this agent");
    }
    Beat();
    usleep(1000);
  }
}

void Session::Beat() {
  uint64_t* beat = is_host_ ? &control()->host_beat_ns : &control()->agent_beat_ns;
  __atomic_store_n(beat, clock_.NowNs(), __ATOMIC_RELAXED);  // relaxed: a time, not a publish
}

absl::Status Session::CheckPeer(uint64_t timeout_ns) const {
  const Control* c = control();
  const uint32_t st = LoadState(&c->verdict.state);
  if (st == static_cast<uint32_t>(SessionState::kClosed)) {
    return absl::CancelledError("the host closed the session");
  }
  if (!is_host_) {
    // Still ours: the generation we joined for, and not reopened or handed to someone else.
    const bool reopened = st == static_cast<uint32_t>(SessionState::kHello) ||
                          st == static_cast<uint32_t>(SessionState::kRejected);
    const bool other = st == static_cast<uint32_t>(SessionState::kJoined) &&
                       c->answer.agent_pid != static_cast<uint32_t>(getpid());
    if (reopened || other ||
        __atomic_load_n(&c->generation, __ATOMIC_RELAXED) > joined_generation_) {
      return absl::AbortedError(
          "the host declared this agent dead and reopened the session for another");
    }
  }
  const uint64_t beat =
      __atomic_load_n(is_host_ ? &c->agent_beat_ns : &c->host_beat_ns, __ATOMIC_RELAXED);
  const uint64_t now = clock_.NowNs();
  if (now > beat && now - beat > timeout_ns) {
    return absl::UnavailableError(absl::StrFormat(
        "the %s has been silent for %u ms (heartbeat timeout %u ms): presumed dead",
        is_host_ ? "agent" : "host", (now - beat) / 1'000'000, timeout_ns / 1'000'000));
  }
  return absl::OkStatus();
}

void Session::Close() {
  if (is_host_ && region_.data() != nullptr)
    StoreState(&control()->verdict.state, SessionState::kClosed);
}

LinkModel Session::link_model() const {
  return LinkModel{.clock = &LinkClock(), .latency_ns = params_.link_latency_ns};
}

std::string Session::placement() const {
  const Control* c = control();
  auto where = [](int node) {
    return node < 0 ? std::string("not bound") : absl::StrFormat("on NUMA node %d", node);
  };
  const bool joined = LoadState(&c->verdict.state) >= static_cast<uint32_t>(SessionState::kJoined);
  std::string out = "host half " + where(c->hello.host_node) + ", agent half " +
                    (joined || !is_host_ ? where(c->answer.agent_node) : "not joined yet");
  if (!bind_note_.empty()) out += " (" + bind_note_ + ")";
  return out;
}

absl::StatusOr<HostEnd> Session::AttachHost(LinkModel to_agent, LinkModel to_host) {
  return wave::AttachHost(link_mem(), link_bytes(), to_agent, to_host);
}

absl::StatusOr<AgentEnd> Session::AttachAgent(LinkModel to_agent, LinkModel to_host) {
  return wave::AttachAgent(link_mem(), link_bytes(), to_agent, to_host);
}

}  // namespace wave
