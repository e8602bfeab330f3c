// A link: the two rings between a host and an agent.
//   events  (host -> agent): task and cpu events, commit results
//   commits (agent -> host): transactions
//
// Write remote, read local: each ring lives in its consumer's memory, and its credit line in its
// producer's. So the region has two halves, each page-aligned so it can be bound to its owner's
// NUMA node (transport/numa.h), and nothing on a hot path reads the other half:
//   [LinkHeader, page 0]
//   [host half:  commits ring | staging ring x stage_cpus | events credit line]
//   [agent half: events ring  | commits credit line | staging credit line x stage_cpus]
// The host half is read by the host and written by the agent; the agent half the reverse.
// Staging rings (prestaged decisions, see wave_abi.h) are one per cpu, stage_depth slots each,
// agent -> host; a link without prestaging has none.
// On a real IPU the agent half is IPU memory mapped across PCIe into the host, and the host half
// is host memory the IPU writes by DMA; here both are one shared mapping.
#ifndef LIBWAVE_TRANSPORT_LINK_H_
#define LIBWAVE_TRANSPORT_LINK_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "transport/ring.h"

namespace wave {

inline constexpr uint32_t kLinkMagic = 0x4b4e494cu;  // "LINK"
inline constexpr size_t kLinkPage = 4096;

struct alignas(kCacheLine) LinkHeader {
  uint32_t magic;
  uint16_t abi_major;
  uint16_t abi_minor;
  uint32_t slot_size;
  uint32_t event_capacity;
  uint32_t commit_capacity;
  uint32_t stage_cpus;
  uint64_t host_offset;  // host half: commits ring, staging rings, the events credit line
  uint64_t host_bytes;
  uint64_t agent_offset;  // agent half: events ring, the commits and staging credit lines
  uint64_t agent_bytes;
  uint64_t total_bytes;
  uint32_t stage_depth;
  uint32_t reserved;
};
static_assert(sizeof(LinkHeader) == 2 * kCacheLine);

inline constexpr uint32_t kMaxStageDepth = 256;

struct LinkConfig {
  uint32_t event_capacity = 4096;
  uint32_t commit_capacity = 4096;
  // Prestaging: one staging ring per cpu for cpus [0, stage_cpus), stage_depth slots each (a
  // power of two in [2, kMaxStageDepth]); 0 cpus: no prestaging.
  uint32_t stage_cpus = 0;
  uint32_t stage_depth = 0;
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
// Formats `mem` (64-byte aligned, LinkBytes(config) long) as an empty link.
absl::Status LinkFormat(void* mem, size_t bytes, const LinkConfig& config);
// The layout a formatted link declares, checked against `bytes`.
absl::StatusOr<LinkLayout> ReadLinkLayout(const void* mem, size_t bytes);

// The host's end: it produces events and consumes commits and staged decisions.
struct HostEnd {
  RingProducer events;
  RingConsumer commits;
  std::vector<RingConsumer> staged;  // by cpu; empty without prestaging
};
// The agent's end: it consumes events and produces commits and staged decisions.
struct AgentEnd {
  RingConsumer events;
  RingProducer commits;
  std::vector<RingProducer> staged;  // by cpu; empty without prestaging
};

// `to_agent` models the events direction, `to_host` the commits and staging direction. Both
// check the header (magic, ABI version, slot size, halves within `bytes`) before trusting it.
absl::StatusOr<HostEnd> AttachHost(void* mem, size_t bytes, LinkModel to_agent = {},
                                   LinkModel to_host = {});
absl::StatusOr<AgentEnd> AttachAgent(void* mem, size_t bytes, LinkModel to_agent = {},
                                     LinkModel to_host = {});

}  // namespace wave

#endif  // LIBWAVE_TRANSPORT_LINK_H_
