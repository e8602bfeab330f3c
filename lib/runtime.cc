#include "lib/runtime.h"

#include <time.h>

#include <utility>

#include "absl/strings/str_format.h"

namespace wave {
namespace {

const Clock* DefaultClock() {
  static const MonotonicClock* const kClock = new MonotonicClock();
  return kClock;
}

constexpr uint64_t kPeerCheckPeriodNs = 1'000'000;

}  // namespace

Runtime::Runtime(const RuntimeOptions& options) : options_(options) {
  if (options_.clock == nullptr) options_.clock = DefaultClock();
}

absl::Status Runtime::Attach(Subsystem& subsystem, AgentEnd end) {
  const uint16_t id = subsystem.id();
  if (id == WAVE_SUBSYS_LINK || id >= WAVE_SUBSYS_COUNT) {
    return absl::InvalidArgumentError(absl::StrFormat("no subsystem has id %u", id));
  }
  if (channels_[id].has_value()) {
    return absl::AlreadyExistsError(absl::StrFormat("subsystem %u is attached already", id));
  }
  Channel& c = channels_[id].emplace();
  c.subsystem = &subsystem;
  c.stats = &subsystem.channel_stats();
  c.id = id;
  c.end = std::move(end);
  subsystem.Attach(&c.end);
  for (uint16_t type : subsystem.subscriptions()) Subscribe(type, subsystem);
  return absl::OkStatus();
}

void Runtime::Subscribe(uint16_t type, Subsystem& subscriber) {
  subscribers_[type].push_back(&subscriber);
}

bool Runtime::Route(const wave_msg& msg, bool local) {
  auto it = subscribers_.find(msg.hdr.type);
  if (it == subscribers_.end()) return false;
  for (Subsystem* s : it->second) {
    if (local) {  // counted where it is heard, as if it had come on the channel
      ChannelStats& st = s->channel_stats();
      ++st.events;
      ++st.events_by_type[msg.hdr.type];
      Channel* c = channels_[s->id()].has_value() ? &*channels_[s->id()] : nullptr;
      if (c != nullptr) ++c->local;
    }
    s->OnSubscribed(msg);
  }
  return true;
}

void Runtime::DeliverLocal(const wave_msg& msg) {
  if (msg.hdr.len != WAVE_MSG_SIZE || !Route(msg, /*local=*/true)) ++unrouted_;
}

void Runtime::Dispatch(Channel& c, const wave_msg& msg) {
  ChannelStats& st = *c.stats;
  if (msg.hdr.len != WAVE_MSG_SIZE) {
    ++st.malformed;
    return;
  }
  const uint16_t type = msg.hdr.type;
  const int index = wave_msg_type_index(type);
  ++st.events_by_type.AtIndex(index);
  if (index < 0) {
    ++st.unknown_type;  // a newer host's: skipped, not an error
    return;
  }
  if (kMsgIsCommand[static_cast<size_t>(index)]) {  // hosts send events; commands go the other way
    ++st.malformed;
    return;
  }
  const uint16_t owner = WAVE_MSG_SUBSYS(type);
  if (owner == WAVE_SUBSYS_LINK) {
    if (type == WAVE_EV_RESYNC_BEGIN) {
      c.subsystem->OnResyncBegin(msg.resync);
    } else {
      c.subsystem->OnResyncEnd(msg.resync);
    }
    return;
  }
  if (owner == c.id) {
    c.subsystem->OnMessage(msg);
    return;
  }
  // Another subsystem's message on this channel: only its subscribers may take it.
  if (!Route(msg, /*local=*/false)) ++st.malformed;
}

absl::StatusOr<PollResult> Runtime::Poll() {
  PollResult r;
  uint64_t now = 0;
  bool have_now = false;
  for (std::optional<Channel>& slot : channels_) {
    if (!slot.has_value()) continue;
    Channel& c = *slot;
    Subsystem& sub = *c.subsystem;
    if (sub.poll_period_ns() != 0) {
      if (!have_now) {
        now = options_.clock->NowNs();
        have_now = true;
      }
      if (now < c.next_poll_ns && c.local == 0) continue;
      c.next_poll_ns = now + sub.poll_period_ns();
    }
    ChannelStats& st = *c.stats;
    ++st.polls;
    RingConsumer& ring = c.end.events;
    const uint32_t burst = options_.max_burst == 0 ? ring.capacity() : options_.max_burst;
    absl::StatusOr<uint32_t> n = ring.Peek(burst);
    if (!n.ok()) return n.status();
    if (*n == 0 && c.local == 0) continue;
    wave_msg m;
    for (uint32_t i = 0; i < *n; ++i) {
      ring.Read(i, &m);  // one copy out of shared memory; only the copy is trusted
      Dispatch(c, m);
    }
    ring.Advance(*n);
    st.events += *n;
    r.events += *n + c.local;
    c.local = 0;
    r.commands += sub.Decide();
  }
  return r;
}

absl::StatusOr<uint32_t> Runtime::Flush() {
  uint32_t sent = 0;
  for (std::optional<Channel>& c : channels_) {
    if (!c.has_value()) continue;
    absl::StatusOr<uint32_t> n = c->subsystem->Flush();
    if (!n.ok()) return n.status();
    sent += *n;
  }
  commands_sent_ += sent;
  return sent;
}

absl::StatusOr<PollResult> Runtime::RunOnce() {
  absl::StatusOr<PollResult> r = Poll();
  if (!r.ok()) return r;
  absl::StatusOr<uint32_t> f = Flush();
  if (!f.ok()) return f.status();
  return r;
}

void Runtime::ReturnCredits() {
  for (std::optional<Channel>& c : channels_) {
    if (c.has_value()) c->end.events.ReturnCredits();
  }
}

size_t Runtime::queued_commands() const {
  size_t n = 0;
  for (const std::optional<Channel>& c : channels_) {
    if (c.has_value()) n += c->subsystem->queued_commands();
  }
  return n;
}

absl::Status Runtime::Run(const LoopOptions& o) {
  uint64_t next_check = 0;
  absl::Status end;
  for (;;) {
    const uint64_t sent = commands_sent_;
    absl::StatusOr<PollResult> r = RunOnce();
    if (!r.ok()) {
      end = r.status();
      break;
    }
    if (o.ring_bell != nullptr && commands_sent_ != sent) o.ring_bell->Ring();
    if (r->events == 0) {
      ReturnCredits();
      if (queued_commands() == 0) {
        if (o.stop != nullptr && o.stop->load(std::memory_order_acquire)) break;
        if (o.wait_bell != nullptr) {
          o.wait_bell->Wait(o.idle_wait_ms);  // rung by the host; the timeout keeps beats going
        } else if (o.idle_sleep_ns > 0) {
          const timespec nap{static_cast<time_t>(o.idle_sleep_ns / 1'000'000'000),
                             static_cast<long>(o.idle_sleep_ns % 1'000'000'000)};
          nanosleep(&nap, nullptr);
        }
      }
    }
    if (o.session == nullptr) continue;
    o.session->Beat();
    const uint64_t now = MonotonicNs();
    if (now < next_check) continue;
    next_check = now + kPeerCheckPeriodNs;
    absl::Status peer = o.session->CheckPeer(o.heartbeat_timeout_ns);
    if (peer.ok()) continue;
    if (peer.code() != absl::StatusCode::kCancelled) end = peer;  // closed by the host: ok
    break;
  }
  if (o.ring_bell != nullptr) o.ring_bell->Ring();
  return end;
}

}  // namespace wave
