#include "transport/link.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/str_format.h"

namespace wave {
namespace {

size_t PageUp(size_t n) { return (n + kLinkPage - 1) & ~(kLinkPage - 1); }

bool PowerOfTwo(uint32_t v) { return v != 0 && (v & (v - 1)) == 0; }
bool CapacityOk(uint32_t cap) {
  return PowerOfTwo(cap) && cap >= kMinRingCapacity && cap <= kMaxRingCapacity;
}
bool DepthOk(uint32_t depth) {
  return PowerOfTwo(depth) && depth >= kMinRingCapacity && depth <= kMaxStageDepth;
}

const char* SubsysName(uint32_t s) {
  switch (s) {
    case WAVE_SUBSYS_SCHED:
      return "scheduling";
    case WAVE_SUBSYS_MEM:
      return "memory";
    case WAVE_SUBSYS_NET:
      return "network";
  }
  return "link";
}

absl::Status CheckConfig(const LinkConfig& config) {
  bool any = false;
  for (uint32_t s = 0; s < WAVE_SUBSYS_COUNT; ++s) {
    const ChannelConfig& c = config.channels[s];
    if (!c.offered()) {
      if (c.lanes != 0 || c.lane_depth != 0) {
        return absl::InvalidArgumentError(
            absl::StrFormat("%s lanes without a %s channel", SubsysName(s), SubsysName(s)));
      }
      continue;
    }
    if (s == WAVE_SUBSYS_LINK) {
      return absl::InvalidArgumentError("the link's own messages have no channel of their own");
    }
    any = true;
    if (!CapacityOk(c.to_agent_capacity) || !CapacityOk(c.to_host_capacity)) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s ring capacities %u/%u are not powers of two in [%u, %u]", SubsysName(s),
          c.to_agent_capacity, c.to_host_capacity, kMinRingCapacity, kMaxRingCapacity));
    }
    if (c.lanes == 0 ? c.lane_depth != 0 : c.lanes > WAVE_MAX_CPUS || !DepthOk(c.lane_depth)) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "staging of %u cpus x %u slots is invalid: at most %u cpus, depth a power of two in "
          "[%u, %u]",
          c.lanes, c.lane_depth, WAVE_MAX_CPUS, kMinRingCapacity, kMaxStageDepth));
    }
  }
  if (!any) return absl::InvalidArgumentError("a link needs at least one channel");
  return absl::OkStatus();
}

// The channel table a config makes: per subsystem its MAIN channel, then its lanes in cpu order.
std::vector<wave_channel_desc> TableOf(const LinkConfig& config) {
  std::vector<wave_channel_desc> table;
  for (uint32_t s = 0; s < WAVE_SUBSYS_COUNT; ++s) {
    const ChannelConfig& c = config.channels[s];
    if (!c.offered()) continue;
    wave_channel_desc d{};
    d.subsystem = static_cast<uint16_t>(s);
    d.kind = WAVE_CHAN_MAIN;
    d.to_agent_capacity = c.to_agent_capacity;
    d.to_host_capacity = c.to_host_capacity;
    table.push_back(d);
    for (uint32_t i = 0; i < c.lanes; ++i) {
      wave_channel_desc lane{};
      lane.subsystem = static_cast<uint16_t>(s);
      lane.kind = WAVE_CHAN_LANE;
      lane.index = i;
      lane.to_host_capacity = c.lane_depth;
      table.push_back(lane);
    }
  }
  return table;
}

// Places every ring and credit line of `table` in its half; returns the layout.
LinkLayout Place(std::vector<wave_channel_desc>& table) {
  LinkLayout l;
  l.host_offset = PageUp(sizeof(wave_link_hdr) + table.size() * sizeof(wave_channel_desc));
  size_t host = 0;
  size_t agent = 0;
  for (wave_channel_desc& d : table) {
    if (d.to_host_capacity != 0) {
      d.to_host_ring = host;
      host += RingBytes(d.to_host_capacity);
      d.to_host_credit = agent;
      agent += sizeof(RingCreditLine);
    }
    if (d.to_agent_capacity != 0) {
      d.to_agent_ring = agent;
      agent += RingBytes(d.to_agent_capacity);
      d.to_agent_credit = host;
      host += sizeof(RingCreditLine);
    }
  }
  l.host_bytes = PageUp(std::max<size_t>(host, kCacheLine));
  l.agent_offset = l.host_offset + l.host_bytes;
  l.agent_bytes = PageUp(std::max<size_t>(agent, kCacheLine));
  l.total_bytes = l.agent_offset + l.agent_bytes;
  // Offsets from the start of the link.
  for (wave_channel_desc& d : table) {
    if (d.to_host_capacity != 0) {
      d.to_host_ring += l.host_offset;
      d.to_host_credit += l.agent_offset;
    }
    if (d.to_agent_capacity != 0) {
      d.to_agent_ring += l.agent_offset;
      d.to_agent_credit += l.host_offset;
    }
  }
  return l;
}

// A link someone else formatted, read once and checked.
struct Parsed {
  wave_link_hdr header;
  std::vector<wave_channel_desc> table;
};

absl::Status Bad(const std::string& what) {
  return absl::FailedPreconditionError("corrupt link: " + what);
}

absl::StatusOr<Parsed> CheckedLink(const void* mem, size_t bytes) {
  if (mem == nullptr || reinterpret_cast<uintptr_t>(mem) % kCacheLine != 0) {
    return absl::InvalidArgumentError("link memory is null or not 64-byte aligned");
  }
  if (bytes < sizeof(wave_link_hdr)) {
    return absl::InvalidArgumentError(absl::StrFormat("link region too small: %u bytes", bytes));
  }
  Parsed p;
  wave_link_hdr& h = p.header;
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
  // Each half: page-aligned, after the table, inside the link, and the halves do not overlap.
  if (h.channel_count == 0 || h.channel_count > WAVE_MAX_CHANNELS) {
    return Bad(absl::StrFormat("%u channels, expected 1..%u", h.channel_count, WAVE_MAX_CHANNELS));
  }
  const uint64_t table_end =
      uint64_t{h.table_offset} + uint64_t{h.channel_count} * sizeof(wave_channel_desc);
  if (h.table_offset < sizeof(wave_link_hdr) || h.table_offset % kCacheLine != 0 ||
      table_end > h.total_bytes) {
    return Bad(absl::StrFormat("channel table at %u+%u outside the link", h.table_offset,
                               table_end - h.table_offset));
  }
  auto check_half = [&](const char* name, uint64_t off, uint64_t len) -> absl::Status {
    if (off < table_end || off % kLinkPage != 0 || len < kCacheLine || len > h.total_bytes ||
        off > h.total_bytes - len) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "link %s half at %u+%u out of range: must be page-aligned within [%u, %u)", name, off,
          len, table_end, h.total_bytes));
    }
    return absl::OkStatus();
  };
  if (absl::Status s = check_half("host", h.host_offset, h.host_bytes); !s.ok()) return s;
  if (absl::Status s = check_half("agent", h.agent_offset, h.agent_bytes); !s.ok()) return s;
  if (h.host_offset < h.agent_offset + h.agent_bytes &&
      h.agent_offset < h.host_offset + h.host_bytes) {
    return absl::FailedPreconditionError(
        absl::StrFormat("link halves overlap: host %u+%u, agent %u+%u", h.host_offset, h.host_bytes,
                        h.agent_offset, h.agent_bytes));
  }
  p.table.resize(h.channel_count);
  std::memcpy(p.table.data(), static_cast<const uint8_t*>(mem) + h.table_offset,
              p.table.size() * sizeof(wave_channel_desc));  // one read of the table

  // Every ring and credit line, each inside its half; then none may overlap another.
  struct Span {
    uint64_t off, len;
  };
  std::vector<Span> spans;
  auto in_half = [&](uint64_t off, uint64_t len, bool host) {
    const uint64_t lo = host ? h.host_offset : h.agent_offset;
    const uint64_t hi = lo + (host ? h.host_bytes : h.agent_bytes);
    if (off % kCacheLine != 0 || off < lo || len > hi - lo || off > hi - len) return false;
    spans.push_back({off, len});
    return true;
  };
  std::array<bool, WAVE_SUBSYS_COUNT> main_seen{};
  std::array<uint32_t, WAVE_SUBSYS_COUNT> lanes_seen{};
  std::array<uint32_t, WAVE_SUBSYS_COUNT> lane_depth{};
  for (size_t i = 0; i < p.table.size(); ++i) {
    const wave_channel_desc& d = p.table[i];
    const std::string where = absl::StrFormat("channel %u", i);
    if (d.subsystem == WAVE_SUBSYS_LINK || d.subsystem >= WAVE_SUBSYS_COUNT) {
      return Bad(absl::StrFormat("%s: subsystem %u", where, d.subsystem));
    }
    if (d.reserved[0] != 0 || d.reserved[1] != 0) {
      return Bad(absl::StrFormat("%s: reserved fields set", where));
    }
    if (d.kind == WAVE_CHAN_MAIN) {
      // Both rings, each a power of two in range.
      if (!CapacityOk(d.to_agent_capacity) || !CapacityOk(d.to_host_capacity)) {
        return Bad(absl::StrFormat("%s: capacities %u/%u", where, d.to_agent_capacity,
                                   d.to_host_capacity));
      }
      if (main_seen[d.subsystem] || d.index != 0) {
        return Bad(absl::StrFormat("%s: a second %s channel", where, SubsysName(d.subsystem)));
      }
      main_seen[d.subsystem] = true;
    } else if (d.kind == WAVE_CHAN_LANE) {
      // A subsystem's lanes follow its MAIN channel, in cpu order, all of one depth.
      if (!main_seen[d.subsystem] || d.to_agent_capacity != 0 || !DepthOk(d.to_host_capacity) ||
          d.index != lanes_seen[d.subsystem] ||
          (d.index > 0 && d.to_host_capacity != lane_depth[d.subsystem])) {
        return Bad(absl::StrFormat("%s: lane %u of %u slots out of place", where, d.index,
                                   d.to_host_capacity));
      }
      ++lanes_seen[d.subsystem];
      lane_depth[d.subsystem] = d.to_host_capacity;
    } else {
      return Bad(absl::StrFormat("%s: kind %u", where, d.kind));
    }
    // The ring to the host always; the ring to the agent for a MAIN channel (a LANE has none).
    const bool ok = in_half(d.to_host_ring, RingBytes(d.to_host_capacity), true) &&
                    in_half(d.to_host_credit, sizeof(RingCreditLine), false) &&
                    (d.kind == WAVE_CHAN_LANE
                         ? d.to_agent_ring == 0 && d.to_agent_credit == 0
                         : in_half(d.to_agent_ring, RingBytes(d.to_agent_capacity), false) &&
                               in_half(d.to_agent_credit, sizeof(RingCreditLine), true));
    if (!ok) return Bad(absl::StrFormat("%s: a ring or credit line outside its half", where));
  }
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) { return a.off < b.off; });
  for (size_t i = 1; i < spans.size(); ++i) {
    if (spans[i].off < spans[i - 1].off + spans[i - 1].len) {
      return Bad(absl::StrFormat("rings overlap at offset %u", spans[i].off));
    }
  }
  return p;
}

uint8_t* At(void* mem, uint64_t off) { return static_cast<uint8_t*>(mem) + off; }
RingCreditLine* CreditAt(void* mem, uint64_t off) {
  return reinterpret_cast<RingCreditLine*>(At(mem, off));
}

}  // namespace

LinkLayout LinkLayoutFor(const LinkConfig& config) {
  std::vector<wave_channel_desc> table = TableOf(config);
  return Place(table);
}

size_t LinkBytes(const LinkConfig& config) { return LinkLayoutFor(config).total_bytes; }

absl::StatusOr<LinkLayout> ReadLinkLayout(const void* mem, size_t bytes) {
  absl::StatusOr<Parsed> p = CheckedLink(mem, bytes);
  if (!p.ok()) return p.status();
  const wave_link_hdr& h = p->header;
  return LinkLayout{h.host_offset, h.host_bytes, h.agent_offset, h.agent_bytes, h.total_bytes};
}

absl::StatusOr<LinkConfig> ReadLinkConfig(const void* mem, size_t bytes) {
  absl::StatusOr<Parsed> p = CheckedLink(mem, bytes);
  if (!p.ok()) return p.status();
  LinkConfig c;
  for (const wave_channel_desc& d : p->table) {
    ChannelConfig& ch = c.channels[d.subsystem];
    if (d.kind == WAVE_CHAN_MAIN) {
      ch.to_agent_capacity = d.to_agent_capacity;
      ch.to_host_capacity = d.to_host_capacity;
    } else {
      ++ch.lanes;
      ch.lane_depth = d.to_host_capacity;
    }
  }
  return c;
}

absl::Status LinkFormat(void* mem, size_t bytes, const LinkConfig& config) {
  if (mem == nullptr || reinterpret_cast<uintptr_t>(mem) % kCacheLine != 0) {
    return absl::InvalidArgumentError("link memory is null or not 64-byte aligned");
  }
  if (absl::Status s = CheckConfig(config); !s.ok()) return s;
  std::vector<wave_channel_desc> table = TableOf(config);
  const LinkLayout l = Place(table);
  if (bytes < l.total_bytes) {
    return absl::InvalidArgumentError(
        absl::StrFormat("link needs %u bytes, region has %u", l.total_bytes, bytes));
  }
  for (const wave_channel_desc& d : table) {
    absl::Status s;
    if (d.to_host_capacity != 0) {
      s = RingFormat(At(mem, d.to_host_ring), RingBytes(d.to_host_capacity), d.to_host_capacity,
                     CreditAt(mem, d.to_host_credit));
    }
    if (s.ok() && d.to_agent_capacity != 0) {
      s = RingFormat(At(mem, d.to_agent_ring), RingBytes(d.to_agent_capacity), d.to_agent_capacity,
                     CreditAt(mem, d.to_agent_credit));
    }
    if (!s.ok()) return s;
  }
  std::memcpy(At(mem, sizeof(wave_link_hdr)), table.data(),
              table.size() * sizeof(wave_channel_desc));
  wave_link_hdr h{};
  h.magic = kLinkMagic;
  h.abi_major = WAVE_ABI_MAJOR;
  h.abi_minor = WAVE_ABI_MINOR;
  h.slot_size = WAVE_MSG_SIZE;
  h.channel_count = static_cast<uint32_t>(table.size());
  h.table_offset = sizeof(wave_link_hdr);
  h.host_offset = l.host_offset;
  h.host_bytes = l.host_bytes;
  h.agent_offset = l.agent_offset;
  h.agent_bytes = l.agent_bytes;
  h.total_bytes = l.total_bytes;
  std::memcpy(mem, &h, sizeof(h));
  __atomic_thread_fence(__ATOMIC_RELEASE);
  return absl::OkStatus();
}

absl::StatusOr<HostLink> AttachHostLink(void* mem, size_t bytes, LinkModel to_agent,
                                        LinkModel to_host) {
  absl::StatusOr<Parsed> p = CheckedLink(mem, bytes);
  if (!p.ok()) return p.status();
  HostLink link;
  for (const wave_channel_desc& d : p->table) {
    std::optional<HostEnd>& end = link.ends[d.subsystem];
    if (d.kind == WAVE_CHAN_LANE) {
      // Credits go back one at a time: a freed staging slot is room the agent is waiting for.
      absl::StatusOr<RingConsumer> lane =
          RingConsumer::Attach(At(mem, d.to_host_ring), RingBytes(d.to_host_capacity),
                               CreditAt(mem, d.to_host_credit), to_host, 1);
      if (!lane.ok()) return lane.status();
      end->lanes.push_back(*std::move(lane));
      continue;
    }
    // Events: ring in the agent's half, credit line in ours. Commands: the reverse.
    absl::StatusOr<RingProducer> ev =
        RingProducer::Attach(At(mem, d.to_agent_ring), RingBytes(d.to_agent_capacity),
                             CreditAt(mem, d.to_agent_credit), to_agent);
    if (!ev.ok()) return ev.status();
    absl::StatusOr<RingConsumer> cm =
        RingConsumer::Attach(At(mem, d.to_host_ring), RingBytes(d.to_host_capacity),
                             CreditAt(mem, d.to_host_credit), to_host);
    if (!cm.ok()) return cm.status();
    end.emplace(HostEnd{*std::move(ev), *std::move(cm), {}});
    if (end->events.capacity() != d.to_agent_capacity ||
        end->commands.capacity() != d.to_host_capacity) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "link table says rings of %u/%u slots, the rings say %u/%u", d.to_agent_capacity,
          d.to_host_capacity, end->events.capacity(), end->commands.capacity()));
    }
  }
  return link;
}

absl::StatusOr<AgentLink> AttachAgentLink(void* mem, size_t bytes, LinkModel to_agent,
                                          LinkModel to_host) {
  absl::StatusOr<Parsed> p = CheckedLink(mem, bytes);
  if (!p.ok()) return p.status();
  AgentLink link;
  for (const wave_channel_desc& d : p->table) {
    std::optional<AgentEnd>& end = link.ends[d.subsystem];
    if (d.kind == WAVE_CHAN_LANE) {
      absl::StatusOr<RingProducer> lane =
          RingProducer::Attach(At(mem, d.to_host_ring), RingBytes(d.to_host_capacity),
                               CreditAt(mem, d.to_host_credit), to_host);
      if (!lane.ok()) return lane.status();
      end->lanes.push_back(*std::move(lane));
      continue;
    }
    absl::StatusOr<RingConsumer> ev =
        RingConsumer::Attach(At(mem, d.to_agent_ring), RingBytes(d.to_agent_capacity),
                             CreditAt(mem, d.to_agent_credit), to_agent);
    if (!ev.ok()) return ev.status();
    absl::StatusOr<RingProducer> cm =
        RingProducer::Attach(At(mem, d.to_host_ring), RingBytes(d.to_host_capacity),
                             CreditAt(mem, d.to_host_credit), to_host);
    if (!cm.ok()) return cm.status();
    end.emplace(AgentEnd{*std::move(ev), *std::move(cm), {}});
    if (end->events.capacity() != d.to_agent_capacity ||
        end->commands.capacity() != d.to_host_capacity) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "link table says rings of %u/%u slots, the rings say %u/%u", d.to_agent_capacity,
          d.to_host_capacity, end->events.capacity(), end->commands.capacity()));
    }
  }
  return link;
}

absl::StatusOr<HostEnd> AttachHost(void* mem, size_t bytes, LinkModel to_agent, LinkModel to_host,
                                   uint16_t subsystem) {
  absl::StatusOr<HostLink> link = AttachHostLink(mem, bytes, to_agent, to_host);
  if (!link.ok()) return link.status();
  if (subsystem >= WAVE_SUBSYS_COUNT || !link->ends[subsystem].has_value()) {
    return absl::FailedPreconditionError(
        absl::StrFormat("the link has no %s channel", SubsysName(subsystem)));
  }
  return *std::move(link->ends[subsystem]);
}

absl::StatusOr<AgentEnd> AttachAgent(void* mem, size_t bytes, LinkModel to_agent, LinkModel to_host,
                                     uint16_t subsystem) {
  absl::StatusOr<AgentLink> link = AttachAgentLink(mem, bytes, to_agent, to_host);
  if (!link.ok()) return link.status();
  if (subsystem >= WAVE_SUBSYS_COUNT || !link->ends[subsystem].has_value()) {
    return absl::FailedPreconditionError(
        absl::StrFormat("the link has no %s channel", SubsysName(subsystem)));
  }
  return *std::move(link->ends[subsystem]);
}

}  // namespace wave
