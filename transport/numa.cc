#include "transport/numa.h"

#include <numa.h>
#include <numaif.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <vector>

#include "absl/strings/str_format.h"

namespace wave {

bool NumaAvailable() { return numa_available() >= 0; }

int NumaNodeOfThisCpu() {
  if (!NumaAvailable()) return 0;
  const int cpu = sched_getcpu();
  if (cpu < 0) return 0;
  const int node = numa_node_of_cpu(cpu);
  return node < 0 ? 0 : node;
}

absl::Status BindToNode(void* mem, size_t bytes, int node) {
  if (!NumaAvailable()) {
    return absl::UnimplementedError("NUMA placement unavailable on this kernel");
  }
  if (node < 0 || node > numa_max_node()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("NUMA node %d does not exist (nodes 0-%d)", node, numa_max_node()));
  }
  const long page = sysconf(_SC_PAGESIZE);
  if (reinterpret_cast<uintptr_t>(mem) % static_cast<uintptr_t>(page) != 0) {
    return absl::InvalidArgumentError("NUMA binding needs page-aligned memory");
  }
  const unsigned long bits = 8 * sizeof(unsigned long);
  std::vector<unsigned long> mask(static_cast<size_t>(node) / bits + 1, 0);
  mask[static_cast<size_t>(node) / bits] |= 1ul << (static_cast<unsigned long>(node) % bits);
  if (mbind(mem, bytes, MPOL_BIND, mask.data(), mask.size() * bits + 1, MPOL_MF_MOVE) != 0) {
    return absl::InternalError(
        absl::StrFormat("cannot bind %u bytes to NUMA node %d: %s", bytes, node, strerror(errno)));
  }
  return absl::OkStatus();
}

absl::StatusOr<int> NodeOfPage(const void* addr) {
  if (!NumaAvailable()) return absl::UnimplementedError("NUMA unavailable on this kernel");
  (void)*static_cast<const volatile uint8_t*>(addr);  // the page must exist to have a node
  int node = -1;
  if (get_mempolicy(&node, nullptr, 0, const_cast<void*>(addr), MPOL_F_NODE | MPOL_F_ADDR) != 0) {
    return absl::InternalError(absl::StrFormat("get_mempolicy: %s", strerror(errno)));
  }
  return node;
}

}  // namespace wave
