// A link: the two rings between a host and an agent, laid out in one shared region.
//   events  (host -> agent): task and cpu events, commit results
//   commits (agent -> host): transactions
// Layout: [LinkHeader 64B][events ring][commits ring]; each ring as in ring.h.
#ifndef LIBWAVE_TRANSPORT_LINK_H_
#define LIBWAVE_TRANSPORT_LINK_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/statusor.h"
#include "transport/ring.h"

namespace wave {

inline constexpr uint32_t kLinkMagic = 0x4b4e494cu;  // "LINK"

struct alignas(kCacheLine) LinkHeader {
  uint32_t magic;
  uint32_t abi_version;
  uint32_t slot_size;
  uint32_t event_capacity;
  uint32_t commit_capacity;
  uint32_t reserved;
  uint64_t events_offset;
  uint64_t commits_offset;
  uint64_t total_bytes;
  uint8_t pad[kCacheLine - 48];
};
static_assert(sizeof(LinkHeader) == kCacheLine);

struct LinkConfig {
  uint32_t event_capacity = 4096;
  uint32_t commit_capacity = 4096;
};

size_t LinkBytes(const LinkConfig& config);
// Formats `mem` (64-byte aligned, LinkBytes(config) long) as an empty link.
absl::Status LinkFormat(void* mem, size_t bytes, const LinkConfig& config);

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
// header (magic, ABI version, slot size, offsets within `bytes`) before trusting it.
absl::StatusOr<HostEnd> AttachHost(void* mem, size_t bytes, LinkModel to_agent = {},
                                   LinkModel to_host = {});
absl::StatusOr<AgentEnd> AttachAgent(void* mem, size_t bytes, LinkModel to_agent = {},
                                     LinkModel to_host = {});

}  // namespace wave

#endif  // LIBWAVE_TRANSPORT_LINK_H_
