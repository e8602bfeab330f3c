// A cgroup v2 directory, as the trace mechanism's BPF programs identify it: the kernfs id of the
// cgroup (the directory's inode number) and its depth below the hierarchy's root, so that the
// programs can tell whether a task is in its subtree with a few reads (bpf/trace.bpf.c).
#ifndef LIBWAVE_HOST_TRACE_CGROUP_H_
#define LIBWAVE_HOST_TRACE_CGROUP_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace wave {

struct CgroupRef {
  std::string path;    // canonical
  uint64_t id = 0;     // kernfs id (inode number)
  uint32_t level = 0;  // 0: the hierarchy's root
};

// Resolves a cgroup v2 directory. Errors: NotFound (no such directory), InvalidArgument (not a
// directory of a cgroup v2 file system: a cgroup v1 hierarchy, say, or any other directory).
absl::StatusOr<CgroupRef> ResolveCgroup(const std::string& path);

// Where the cgroup v2 hierarchy is mounted (/sys/fs/cgroup, or /sys/fs/cgroup/unified on a
// hybrid setup), from /proc/self/mountinfo; NotFound if it is not mounted.
absl::StatusOr<std::string> CgroupV2Root();

// Whether process `pid` (0: this one) is in the subtree of `cgroup`, from /proc/PID/cgroup.
bool InCgroupSubtree(const CgroupRef& cgroup, int pid = 0);

// Moves process `pid` (all its threads) into the cgroup at `path` (its cgroup.procs).
absl::Status MoveToCgroup(const std::string& path, int pid);

}  // namespace wave

#endif  // LIBWAVE_HOST_TRACE_CGROUP_H_
