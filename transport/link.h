// A link: the two rings between a host and an agent.
//   events  (host -> agent): task and cpu events, commit results
//   commits (agent -> host): transactions
//
// Write remote, read local: each ring lives in its consumer's memory, and its credit line in its
// producer's. So the region has two halves, each page-aligned so it can be bound to its owner's
// NUMA node (transport/numa.h), and nothing on a hot path reads the other half:
//   [LinkHeader, page 0]
//   [host half:  commits ring | events credit line ]   read by the host, written by the agent
//   [agent half: events ring  | commits credit line]   read by the agent, written by the host
// On a real IPU the agent half is IPU memory mapped across PCIe into the host, and the host half
// is host memory the IPU writes by DMA; here both are one shared mapping.
#ifndef LIBWAVE_TRANSPORT_LINK_H_
#define LIBWAVE_TRANSPORT_LINK_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/statusor.h"
#include "transport/ring.h"

namespace wave {

inline constexpr uint32_t kLinkMagic = 0x4b4e494cu;  // "LINK"
inline constexpr size_t kLinkPage = 4096;

struct alignas(kCacheLine) LinkHeader {
  uint32_t magic;
  uint32_t abi_version;
  uint32_t slot_size;
  uint32_t event_capacity;
  uint32_t commit_capacity;
  uint32_t reserved;
  uint64_t host_offset;  // host half: commits ring, then the events ring's credit line
  uint64_t host_bytes;
  uint64_t agent_offset;  // agent half: events ring, then the commits ring's credit line
  uint64_t agent_bytes;
  uint64_t total_bytes;
};
static_assert(sizeof(LinkHeader) == kCacheLine);

struct LinkConfig {
  uint32_t event_capacity = 4096;
  uint32_t commit_capacity = 4096;
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

// The host's end: it produces events and consumes commits.
struct HostEnd {
  RingProducer events;
  RingConsumer commits;
};
// The agent's end: it consumes events and produces commits.
struct AgentEnd {
  RingConsumer events;
  RingProducer commits;
};

// `to_agent` models the events direction, `to_host` the commits direction. Both check the
// header (magic, ABI version, slot size, halves within `bytes`) before trusting it.
absl::StatusOr<HostEnd> AttachHost(void* mem, size_t bytes, LinkModel to_agent = {},
                                   LinkModel to_host = {});
absl::StatusOr<AgentEnd> AttachAgent(void* mem, size_t bytes, LinkModel to_agent = {},
                                     LinkModel to_host = {});

}  // namespace wave

#endif  // LIBWAVE_TRANSPORT_LINK_H_
