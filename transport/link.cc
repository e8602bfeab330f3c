#include "transport/link.h"

#include <cstring>

#include "absl/strings/str_format.h"

namespace wave {
namespace {

size_t PageUp(size_t n) { return (n + kLinkPage - 1) & ~(kLinkPage - 1); }

// One ring and the credit line of the ring going the other way, as found in one half.
struct Half {
  uint8_t* ring;
  size_t ring_bytes;
  RingCreditLine* credit;  // of the other direction's ring
};
struct LinkParts {
  Half host;   // commits ring + events credit
  Half agent;  // events ring + commits credit
};

absl::StatusOr<LinkHeader> CheckedHeader(const void* mem, size_t bytes) {
  if (mem == nullptr || reinterpret_cast<uintptr_t>(mem) % kCacheLine != 0) {
    return absl::InvalidArgumentError("link memory is null or not 64-byte aligned");
  }
  if (bytes < sizeof(LinkHeader)) {
    return absl::InvalidArgumentError(absl::StrFormat("link region too small: %u bytes", bytes));
  }
  LinkHeader h;
  std::memcpy(&h, mem, sizeof(h));  // one read of the header, then only the copy
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
  // Each half: page-aligned, after the header, inside the link, and the halves do not overlap.
  auto check = [&](const char* name, uint64_t off, uint64_t len) -> absl::Status {
    if (off < sizeof(LinkHeader) || off % kLinkPage != 0 || len < kCacheLine ||
        len > h.total_bytes || off > h.total_bytes - len) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "link %s half at %u+%u out of range: must be page-aligned within [%u, %u)", name, off,
          len, sizeof(LinkHeader), h.total_bytes));
    }
    return absl::OkStatus();
  };
  if (absl::Status s = check("host", h.host_offset, h.host_bytes); !s.ok()) return s;
  if (absl::Status s = check("agent", h.agent_offset, h.agent_bytes); !s.ok()) return s;
  if (h.host_offset < h.agent_offset + h.agent_bytes &&
      h.agent_offset < h.host_offset + h.host_bytes) {
    return absl::FailedPreconditionError(
        absl::StrFormat("link halves overlap: host %u+%u, agent %u+%u", h.host_offset, h.host_bytes,
                        h.agent_offset, h.agent_bytes));
  }
  return h;
}

// The ring fills the half but its last cache line, which holds the other ring's credit line.
Half Split(void* mem, uint64_t off, uint64_t len) {
  uint8_t* base = static_cast<uint8_t*>(mem) + off;
  return Half{base, static_cast<size_t>(len - kCacheLine),
              reinterpret_cast<RingCreditLine*>(base + len - kCacheLine)};
}

absl::StatusOr<LinkParts> CheckedParts(void* mem, size_t bytes) {
  absl::StatusOr<LinkHeader> h = CheckedHeader(mem, bytes);
  if (!h.ok()) return h.status();
  return LinkParts{Split(mem, h->host_offset, h->host_bytes),
                   Split(mem, h->agent_offset, h->agent_bytes)};
}

}  // namespace

LinkLayout LinkLayoutFor(const LinkConfig& config) {
  LinkLayout l;
  l.host_offset = kLinkPage;
  l.host_bytes = PageUp(RingBytes(config.commit_capacity) + kCacheLine);
  l.agent_offset = l.host_offset + l.host_bytes;
  l.agent_bytes = PageUp(RingBytes(config.event_capacity) + kCacheLine);
  l.total_bytes = l.agent_offset + l.agent_bytes;
  return l;
}

size_t LinkBytes(const LinkConfig& config) { return LinkLayoutFor(config).total_bytes; }

absl::StatusOr<LinkLayout> ReadLinkLayout(const void* mem, size_t bytes) {
  absl::StatusOr<LinkHeader> h = CheckedHeader(mem, bytes);
  if (!h.ok()) return h.status();
  return LinkLayout{h->host_offset, h->host_bytes, h->agent_offset, h->agent_bytes, h->total_bytes};
}

absl::Status LinkFormat(void* mem, size_t bytes, const LinkConfig& config) {
  if (mem == nullptr || reinterpret_cast<uintptr_t>(mem) % kCacheLine != 0) {
    return absl::InvalidArgumentError("link memory is null or not 64-byte aligned");
  }
  const LinkLayout l = LinkLayoutFor(config);
  if (bytes < l.total_bytes) {
    return absl::InvalidArgumentError(
        absl::StrFormat("link needs %u bytes, region has %u", l.total_bytes, bytes));
  }
  const Half host = Split(mem, l.host_offset, l.host_bytes);
  const Half agent = Split(mem, l.agent_offset, l.agent_bytes);
  absl::Status s = RingFormat(host.ring, host.ring_bytes, config.commit_capacity, agent.credit);
  if (!s.ok()) return s;
  s = RingFormat(agent.ring, agent.ring_bytes, config.event_capacity, host.credit);
  if (!s.ok()) return s;
  LinkHeader h{};
  h.magic = kLinkMagic;
  h.abi_version = WAVE_ABI_VERSION;
  h.slot_size = WAVE_MSG_SIZE;
  h.event_capacity = config.event_capacity;
  h.commit_capacity = config.commit_capacity;
  h.host_offset = l.host_offset;
  h.host_bytes = l.host_bytes;
  h.agent_offset = l.agent_offset;
  h.agent_bytes = l.agent_bytes;
  h.total_bytes = l.total_bytes;
  std::memcpy(mem, &h, sizeof(h));
  __atomic_thread_fence(__ATOMIC_RELEASE);
  return absl::OkStatus();
}

absl::StatusOr<HostEnd> AttachHost(void* mem, size_t bytes, LinkModel to_agent, LinkModel to_host) {
  absl::StatusOr<LinkParts> p = CheckedParts(mem, bytes);
  if (!p.ok()) return p.status();
  // Events: ring in the agent's half, credit line in ours. Commits: the reverse.
  absl::StatusOr<RingProducer> ev =
      RingProducer::Attach(p->agent.ring, p->agent.ring_bytes, p->host.credit, to_agent);
  if (!ev.ok()) return ev.status();
  absl::StatusOr<RingConsumer> cm =
      RingConsumer::Attach(p->host.ring, p->host.ring_bytes, p->agent.credit, to_host);
  if (!cm.ok()) return cm.status();
  return HostEnd{*std::move(ev), *std::move(cm)};
}

absl::StatusOr<AgentEnd> AttachAgent(void* mem, size_t bytes, LinkModel to_agent,
                                     LinkModel to_host) {
  absl::StatusOr<LinkParts> p = CheckedParts(mem, bytes);
  if (!p.ok()) return p.status();
  absl::StatusOr<RingConsumer> ev =
      RingConsumer::Attach(p->agent.ring, p->agent.ring_bytes, p->host.credit, to_agent);
  if (!ev.ok()) return ev.status();
  absl::StatusOr<RingProducer> cm =
      RingProducer::Attach(p->host.ring, p->host.ring_bytes, p->agent.credit, to_host);
  if (!cm.ok()) return cm.status();
  return AgentEnd{*std::move(ev), *std::move(cm)};
}

}  // namespace wave
