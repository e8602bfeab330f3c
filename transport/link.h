// A link: the channels between a host and an agent, in one region (abi/wave_link.h has the
// layout). Each subsystem has its own MAIN channel (events to the agent, commands to the host,
// each ring with its own credits and capacity) and, for scheduling's prestaging, one LANE per
// cpu (a ring of staged decisions to the host):
//   [wave_link_hdr + channel table, whole pages]
//   [host half:  every ring to the host | every to-agent credit line ]
//   [agent half: every ring to the agent | every to-host credit line ]
// Write remote, read local: each ring lives in its consumer's half and its credit line in its
// producer's, so nothing on a hot path reads the other half; each half is page-aligned so it can
// be bound to its reader's NUMA node (transport/numa.h). On a real IPU the agent half is IPU
// memory mapped across PCIe into the host and the host half is host memory the IPU writes by DMA;
// here both are one shared mapping.
//
// Both sides check the header and every channel of the table (ranges, sizes, halves, no two
// rings overlapping) before trusting any of it: the other side is another system image.
#ifndef LIBWAVE_TRANSPORT_LINK_H_
#define LIBWAVE_TRANSPORT_LINK_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "abi/wave_abi.h"
#include "absl/status/statusor.h"
#include "transport/ring.h"

namespace wave {

inline constexpr uint32_t kLinkMagic = WAVE_LINK_MAGIC;
inline constexpr size_t kLinkPage = WAVE_LINK_PAGE;
inline constexpr uint32_t kMaxStageDepth = 256;

// One subsystem's channels; all zero: the link has none for it.
struct ChannelConfig {
  // The MAIN channel's event and command rings: powers of two in [kMinRingCapacity,
  // kMaxRingCapacity] (both, or neither).
  uint32_t to_agent_capacity = 0;
  uint32_t to_host_capacity = 0;
  // LANE channels for cpus 0..lanes-1, lane_depth slots each (a power of two in
  // [2, kMaxStageDepth]); 0 lanes: none.
  uint32_t lanes = 0;
  uint32_t lane_depth = 0;
  bool offered() const { return to_agent_capacity != 0 || to_host_capacity != 0; }
};

struct LinkConfig {
  std::array<ChannelConfig, WAVE_SUBSYS_COUNT> channels{};

  // Scheduling alone, the common case: events and commits, and staging lanes for
  // [0, stage_cpus) of stage_depth slots (0 cpus: no prestaging).
  static constexpr LinkConfig Sched(uint32_t event_capacity = 4096, uint32_t commit_capacity = 4096,
                                    uint32_t stage_cpus = 0, uint32_t stage_depth = 0) {
    LinkConfig c;
    c.sched() = ChannelConfig{.to_agent_capacity = event_capacity,
                              .to_host_capacity = commit_capacity,
                              .lanes = stage_cpus,
                              .lane_depth = stage_cpus == 0 ? 0 : stage_depth};
    return c;
  }
  constexpr ChannelConfig& sched() { return channels[WAVE_SUBSYS_SCHED]; }
  constexpr const ChannelConfig& sched() const { return channels[WAVE_SUBSYS_SCHED]; }
};

// Where each half lies, relative to the start of the link.
struct LinkLayout {
  size_t host_offset = 0;
  size_t host_bytes = 0;
  size_t agent_offset = 0;
  size_t agent_bytes = 0;
  size_t total_bytes = 0;
};
LinkLayout LinkLayoutFor(const LinkConfig& config);
size_t LinkBytes(const LinkConfig& config);
// Formats `mem` (64-byte aligned, LinkBytes(config) long) as an empty link. InvalidArgument for
// a config that is not one (a capacity that is not a power of two in range, lanes beyond
// WAVE_MAX_CPUS or without a MAIN channel, no channel at all).
absl::Status LinkFormat(void* mem, size_t bytes, const LinkConfig& config);
// The layout a formatted link declares, checked against `bytes`.
absl::StatusOr<LinkLayout> ReadLinkLayout(const void* mem, size_t bytes);
// The channels a formatted link declares (after every check), as a config.
absl::StatusOr<LinkConfig> ReadLinkConfig(const void* mem, size_t bytes);

// One subsystem's rings at the host: it produces events, consumes commands and, for scheduling,
// the staged decisions of each cpu's lane.
struct HostEnd {
  RingProducer events;
  RingConsumer commands;
  std::vector<RingConsumer> lanes;  // by cpu; empty without prestaging
};
// One subsystem's rings at the agent: the reverse.
struct AgentEnd {
  RingConsumer events;
  RingProducer commands;
  std::vector<RingProducer> lanes;  // by cpu; empty without prestaging
};

// Every subsystem's end, by subsystem (empty where the link has no channel for it).
struct HostLink {
  std::array<std::optional<HostEnd>, WAVE_SUBSYS_COUNT> ends;
};
struct AgentLink {
  std::array<std::optional<AgentEnd>, WAVE_SUBSYS_COUNT> ends;
};

// `to_agent` models the events direction, `to_host` the commands and lanes direction.
absl::StatusOr<HostLink> AttachHostLink(void* mem, size_t bytes, LinkModel to_agent = {},
                                        LinkModel to_host = {});
absl::StatusOr<AgentLink> AttachAgentLink(void* mem, size_t bytes, LinkModel to_agent = {},
                                          LinkModel to_host = {});
// One subsystem's end (FailedPrecondition when the link has no channel for it).
absl::StatusOr<HostEnd> AttachHost(void* mem, size_t bytes, LinkModel to_agent = {},
                                   LinkModel to_host = {}, uint16_t subsystem = WAVE_SUBSYS_SCHED);
absl::StatusOr<AgentEnd> AttachAgent(void* mem, size_t bytes, LinkModel to_agent = {},
                                     LinkModel to_host = {},
                                     uint16_t subsystem = WAVE_SUBSYS_SCHED);

}  // namespace wave

#endif  // LIBWAVE_TRANSPORT_LINK_H_
