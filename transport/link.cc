#include "transport/link.h"

#include <cstring>

#include "absl/strings/str_format.h"

namespace wave {
namespace {

struct RingSpan {
  void* mem;
  size_t bytes;
};
struct LinkSpans {
  RingSpan events;
  RingSpan commits;
};

absl::StatusOr<LinkSpans> CheckedSpans(void* mem, size_t bytes) {
  if (mem == nullptr || reinterpret_cast<uintptr_t>(mem) % kCacheLine != 0) {
    return absl::InvalidArgumentError("link memory is null or not 64-byte aligned");
  }
  if (bytes < sizeof(LinkHeader)) {
    return absl::InvalidArgumentError(absl::StrFormat("link region too small: %u bytes", bytes));
  }
  LinkHeader h;
  std::memcpy(&h, mem, sizeof(h));
  if (h.magic != kLinkMagic) {
    return absl::FailedPreconditionError(
        absl::StrFormat("not a wave link: magic 0x%08x, expected 0x%08x", h.magic, kLinkMagic));
  }
  if (h.abi_version != WAVE_ABI_VERSION || h.slot_size != WAVE_MSG_SIZE) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "link speaks ABI v%u with %u-byte slots; this side speaks ABI v%u with %u-byte slots",
        h.abi_version, h.slot_size, WAVE_ABI_VERSION, WAVE_MSG_SIZE));
  }
  if (h.total_bytes > bytes) {
    return absl::FailedPreconditionError(
        absl::StrFormat("link claims %u bytes, region has %u", h.total_bytes, bytes));
  }
  // A span is [its offset, the next one): name it and both ends, since either may be the bad one.
  auto span = [&](const char* name, uint64_t off, uint64_t end) -> absl::StatusOr<RingSpan> {
    if (off < sizeof(LinkHeader) || off % kCacheLine != 0 || off >= end || end > h.total_bytes) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "link %s ring offset %u (ending at %u) out of range: must be 64-byte aligned and "
          "within [%u, %u)",
          name, off, end, sizeof(LinkHeader), h.total_bytes));
    }
    return RingSpan{static_cast<uint8_t*>(mem) + off, static_cast<size_t>(end - off)};
  };
  absl::StatusOr<RingSpan> ev = span("events", h.events_offset, h.commits_offset);
  if (!ev.ok()) return ev.status();
  absl::StatusOr<RingSpan> cm = span("commits", h.commits_offset, h.total_bytes);
  if (!cm.ok()) return cm.status();
  return LinkSpans{*ev, *cm};
}

}  // namespace

size_t LinkBytes(const LinkConfig& config) {
  return sizeof(LinkHeader) + RingBytes(config.event_capacity) + RingBytes(config.commit_capacity);
}

absl::Status LinkFormat(void* mem, size_t bytes, const LinkConfig& config) {
  if (mem == nullptr || reinterpret_cast<uintptr_t>(mem) % kCacheLine != 0) {
    return absl::InvalidArgumentError("link memory is null or not 64-byte aligned");
  }
  if (bytes < sizeof(LinkHeader)) return absl::InvalidArgumentError("link region too small");
  const size_t ev_bytes = RingBytes(config.event_capacity);
  uint8_t* base = static_cast<uint8_t*>(mem);
  absl::Status s =
      RingFormat(base + sizeof(LinkHeader), bytes - sizeof(LinkHeader), config.event_capacity);
  if (!s.ok()) return s;
  s = RingFormat(base + sizeof(LinkHeader) + ev_bytes, bytes - sizeof(LinkHeader) - ev_bytes,
                 config.commit_capacity);
  if (!s.ok()) return s;
  LinkHeader h{};
  h.magic = kLinkMagic;
  h.abi_version = WAVE_ABI_VERSION;
  h.slot_size = WAVE_MSG_SIZE;
  h.event_capacity = config.event_capacity;
  h.commit_capacity = config.commit_capacity;
  h.events_offset = sizeof(LinkHeader);
  h.commits_offset = sizeof(LinkHeader) + ev_bytes;
  h.total_bytes = LinkBytes(config);
  std::memcpy(mem, &h, sizeof(h));
  __atomic_thread_fence(__ATOMIC_RELEASE);
  return absl::OkStatus();
}

absl::StatusOr<HostEnd> AttachHost(void* mem, size_t bytes, LinkModel to_agent, LinkModel to_host) {
  absl::StatusOr<LinkSpans> sp = CheckedSpans(mem, bytes);
  if (!sp.ok()) return sp.status();
  absl::StatusOr<RingProducer> ev =
      RingProducer::Attach(sp->events.mem, sp->events.bytes, to_agent);
  if (!ev.ok()) return ev.status();
  absl::StatusOr<RingConsumer> cm =
      RingConsumer::Attach(sp->commits.mem, sp->commits.bytes, to_host);
  if (!cm.ok()) return cm.status();
  return HostEnd{*std::move(ev), *std::move(cm)};
}

absl::StatusOr<AgentEnd> AttachAgent(void* mem, size_t bytes, LinkModel to_agent,
                                     LinkModel to_host) {
  absl::StatusOr<LinkSpans> sp = CheckedSpans(mem, bytes);
  if (!sp.ok()) return sp.status();
  absl::StatusOr<RingConsumer> ev =
      RingConsumer::Attach(sp->events.mem, sp->events.bytes, to_agent);
  if (!ev.ok()) return ev.status();
  absl::StatusOr<RingProducer> cm =
      RingProducer::Attach(sp->commits.mem, sp->commits.bytes, to_host);
  if (!cm.ok()) return cm.status();
  return AgentEnd{*std::move(ev), *std::move(cm)};
}

}  // namespace wave
