// NUMA placement of link memory: each half of a link goes on its reader's node (write remote,
// read local). Works on a one-node machine (everything is node 0) and on kernels or machines
// without NUMA support (then placement is reported as unavailable, and nothing fails).
#ifndef LIBWAVE_TRANSPORT_NUMA_H_
#define LIBWAVE_TRANSPORT_NUMA_H_

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace wave {

// True when the kernel supports NUMA policy calls (libnuma's numa_available()).
bool NumaAvailable();
// The node of the cpu this thread runs on (0 when NUMA is unavailable).
int NumaNodeOfThisCpu();
// Binds the pages of [mem, mem + bytes) to `node` and moves any already there.
// REQUIRES: mem is page-aligned. Errors name the node and the reason.
absl::Status BindToNode(void* mem, size_t bytes, int node);
// The node the page holding `addr` is on (the page is touched first so it exists).
absl::StatusOr<int> NodeOfPage(const void* addr);

}  // namespace wave

#endif  // LIBWAVE_TRANSPORT_NUMA_H_
