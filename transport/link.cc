#include "transport/link.h"

#include <cstring>

#include "absl/strings/str_format.h"

namespace wave {
namespace {

size_t PageUp(size_t n) { return (n + kLinkPage - 1) & ~(kLinkPage - 1); }

bool StageConfigOk(uint32_t cpus, uint32_t depth) {
  if (cpus == 0) return depth == 0;
  return cpus <= WAVE_MAX_CPUS && depth >= kMinRingCapacity && depth <= kMaxStageDepth &&
         (depth & (depth - 1)) == 0;
}

// Bytes each half needs, from the capacities alone.
size_t HostNeeds(uint32_t commit_capacity, uint32_t stage_cpus, uint32_t stage_depth) {
  return RingBytes(commit_capacity) + size_t{stage_cpus} * RingBytes(stage_depth) + kCacheLine;
}
size_t AgentNeeds(uint32_t event_capacity, uint32_t stage_cpus) {
  return RingBytes(event_capacity) + (1 + size_t{stage_cpus}) * kCacheLine;
}

// Where everything is, once the header has been checked.
struct LinkParts {
  uint8_t* commits;  // ring, in the host half
  size_t commits_bytes;
  uint8_t* events;  // ring, in the agent half
  size_t events_bytes;
  RingCreditLine* events_credit;              // in the host half (the events producer's)
  RingCreditLine* commits_credit;             // in the agent half
  std::vector<uint8_t*> stage;                // rings, in the host half
  std::vector<RingCreditLine*> stage_credit;  // in the agent half
  size_t stage_bytes;
};

LinkParts Carve(void* mem, const LinkHeader& h) {
  uint8_t* base = static_cast<uint8_t*>(mem);
  uint8_t* host = base + h.host_offset;
  uint8_t* agent = base + h.agent_offset;
  LinkParts p;
  p.commits = host;
  p.commits_bytes = RingBytes(h.commit_capacity);
  p.stage_bytes = h.stage_cpus == 0 ? 0 : RingBytes(h.stage_depth);
  for (uint32_t c = 0; c < h.stage_cpus; ++c) {
    p.stage.push_back(host + p.commits_bytes + size_t{c} * p.stage_bytes);
  }
  p.events_credit = reinterpret_cast<RingCreditLine*>(host + p.commits_bytes +
                                                      size_t{h.stage_cpus} * p.stage_bytes);
  p.events = agent;
  p.events_bytes = RingBytes(h.event_capacity);
  p.commits_credit = reinterpret_cast<RingCreditLine*>(agent + p.events_bytes);
  for (uint32_t c = 0; c < h.stage_cpus; ++c) {
    p.stage_credit.push_back(
        reinterpret_cast<RingCreditLine*>(agent + p.events_bytes + (1 + size_t{c}) * kCacheLine));
  }
  return p;
}

bool CapacityOk(uint32_t cap) {
  return cap >= kMinRingCapacity && cap <= kMaxRingCapacity && (cap & (cap - 1)) == 0;
}

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
  if (h.abi_major != WAVE_ABI_MAJOR || h.slot_size != WAVE_MSG_SIZE) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "link speaks ABI v%u.%u with %u-byte slots; this side speaks ABI v%u.%u with %u-byte "
        "slots",
        h.abi_major, h.abi_minor, h.slot_size, WAVE_ABI_MAJOR, WAVE_ABI_MINOR, WAVE_MSG_SIZE));
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
  // The capacities must be sane before they size anything; each ring re-checks its own header.
  if (!CapacityOk(h.event_capacity) || !CapacityOk(h.commit_capacity)) {
    return absl::FailedPreconditionError(
        absl::StrFormat("link ring capacities %u/%u are not powers of two in [%u, %u]",
                        h.event_capacity, h.commit_capacity, kMinRingCapacity, kMaxRingCapacity));
  }
  if (!StageConfigOk(h.stage_cpus, h.stage_depth)) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "link staging of %u cpus x %u slots is invalid: at most %u cpus, depth a power of two "
        "in [%u, %u]",
        h.stage_cpus, h.stage_depth, WAVE_MAX_CPUS, kMinRingCapacity, kMaxStageDepth));
  }
  const size_t host_needs = HostNeeds(h.commit_capacity, h.stage_cpus, h.stage_depth);
  const size_t agent_needs = AgentNeeds(h.event_capacity, h.stage_cpus);
  if (host_needs > h.host_bytes || agent_needs > h.agent_bytes) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "link halves too small for their rings: host %u of %u bytes, agent %u of %u bytes",
        h.host_bytes, host_needs, h.agent_bytes, agent_needs));
  }
  return h;
}

}  // namespace

LinkLayout LinkLayoutFor(const LinkConfig& config) {
  LinkLayout l;
  l.host_offset = kLinkPage;
  l.host_bytes = PageUp(HostNeeds(config.commit_capacity, config.stage_cpus, config.stage_depth));
  l.agent_offset = l.host_offset + l.host_bytes;
  l.agent_bytes = PageUp(AgentNeeds(config.event_capacity, config.stage_cpus));
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
  if (!CapacityOk(config.event_capacity) || !CapacityOk(config.commit_capacity)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "ring capacities %u/%u are not powers of two in [%u, %u]", config.event_capacity,
        config.commit_capacity, kMinRingCapacity, kMaxRingCapacity));
  }
  if (!StageConfigOk(config.stage_cpus, config.stage_depth)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "staging of %u cpus x %u slots is invalid: at most %u cpus, depth a power of two in "
        "[%u, %u]",
        config.stage_cpus, config.stage_depth, WAVE_MAX_CPUS, kMinRingCapacity, kMaxStageDepth));
  }
  const LinkLayout l = LinkLayoutFor(config);
  if (bytes < l.total_bytes) {
    return absl::InvalidArgumentError(
        absl::StrFormat("link needs %u bytes, region has %u", l.total_bytes, bytes));
  }
  LinkHeader h{};
  h.magic = kLinkMagic;
  h.abi_major = WAVE_ABI_MAJOR;
  h.abi_minor = WAVE_ABI_MINOR;
  h.slot_size = WAVE_MSG_SIZE;
  h.event_capacity = config.event_capacity;
  h.commit_capacity = config.commit_capacity;
  h.stage_cpus = config.stage_cpus;
  h.stage_depth = config.stage_depth;
  h.host_offset = l.host_offset;
  h.host_bytes = l.host_bytes;
  h.agent_offset = l.agent_offset;
  h.agent_bytes = l.agent_bytes;
  h.total_bytes = l.total_bytes;
  LinkParts p = Carve(mem, h);
  absl::Status s = RingFormat(p.commits, p.commits_bytes, h.commit_capacity, p.commits_credit);
  if (s.ok()) s = RingFormat(p.events, p.events_bytes, h.event_capacity, p.events_credit);
  for (uint32_t c = 0; s.ok() && c < h.stage_cpus; ++c) {
    s = RingFormat(p.stage[c], p.stage_bytes, h.stage_depth, p.stage_credit[c]);
  }
  if (!s.ok()) return s;
  std::memcpy(mem, &h, sizeof(h));
  __atomic_thread_fence(__ATOMIC_RELEASE);
  return absl::OkStatus();
}

absl::StatusOr<HostEnd> AttachHost(void* mem, size_t bytes, LinkModel to_agent, LinkModel to_host) {
  absl::StatusOr<LinkHeader> h = CheckedHeader(mem, bytes);
  if (!h.ok()) return h.status();
  LinkParts p = Carve(mem, *h);
  // Events: ring in the agent's half, credit line in ours. Commits and staging: the reverse.
  absl::StatusOr<RingProducer> ev =
      RingProducer::Attach(p.events, p.events_bytes, p.events_credit, to_agent);
  if (!ev.ok()) return ev.status();
  absl::StatusOr<RingConsumer> cm =
      RingConsumer::Attach(p.commits, p.commits_bytes, p.commits_credit, to_host);
  if (!cm.ok()) return cm.status();
  if (ev->capacity() != h->event_capacity || cm->capacity() != h->commit_capacity) {
    return absl::FailedPreconditionError(
        absl::StrFormat("link header says rings of %u/%u slots, the rings say %u/%u",
                        h->event_capacity, h->commit_capacity, ev->capacity(), cm->capacity()));
  }
  HostEnd end{*std::move(ev), *std::move(cm), {}};
  for (uint32_t c = 0; c < h->stage_cpus; ++c) {
    // Credits go back one at a time: a freed staging slot is room the agent is waiting for.
    absl::StatusOr<RingConsumer> st =
        RingConsumer::Attach(p.stage[c], p.stage_bytes, p.stage_credit[c], to_host, 1);
    if (!st.ok()) return st.status();
    end.staged.push_back(*std::move(st));
  }
  return end;
}

absl::StatusOr<AgentEnd> AttachAgent(void* mem, size_t bytes, LinkModel to_agent,
                                     LinkModel to_host) {
  absl::StatusOr<LinkHeader> h = CheckedHeader(mem, bytes);
  if (!h.ok()) return h.status();
  LinkParts p = Carve(mem, *h);
  absl::StatusOr<RingConsumer> ev =
      RingConsumer::Attach(p.events, p.events_bytes, p.events_credit, to_agent);
  if (!ev.ok()) return ev.status();
  absl::StatusOr<RingProducer> cm =
      RingProducer::Attach(p.commits, p.commits_bytes, p.commits_credit, to_host);
  if (!cm.ok()) return cm.status();
  if (ev->capacity() != h->event_capacity || cm->capacity() != h->commit_capacity) {
    return absl::FailedPreconditionError(
        absl::StrFormat("link header says rings of %u/%u slots, the rings say %u/%u",
                        h->event_capacity, h->commit_capacity, ev->capacity(), cm->capacity()));
  }
  AgentEnd end{*std::move(ev), *std::move(cm), {}};
  for (uint32_t c = 0; c < h->stage_cpus; ++c) {
    absl::StatusOr<RingProducer> st =
        RingProducer::Attach(p.stage[c], p.stage_bytes, p.stage_credit[c], to_host);
    if (!st.ok()) return st.status();
    end.staged.push_back(*std::move(st));
  }
  return end;
}

}  // namespace wave
