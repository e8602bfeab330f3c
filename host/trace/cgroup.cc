#include "host/trace/cgroup.h"

#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_format.h"

namespace wave {

absl::StatusOr<std::string> CgroupV2Root() {
  // mountinfo: ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    const size_t dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream after(line.substr(dash + 3));
    std::string fstype;
    after >> fstype;
    if (fstype != "cgroup2") continue;
    std::istringstream before(line.substr(0, dash));
    std::string id, parent, dev, root, mount_point;
    if (before >> id >> parent >> dev >> root >> mount_point) return mount_point;
  }
  return absl::NotFoundError("no cgroup v2 hierarchy is mounted (/proc/self/mountinfo)");
}

absl::StatusOr<CgroupRef> ResolveCgroup(const std::string& path) {
  char resolved[PATH_MAX];
  if (realpath(path.c_str(), resolved) == nullptr) {
    return absl::NotFoundError(absl::StrFormat("cgroup %s: %s", path, std::strerror(errno)));
  }
  struct statfs fs;
  struct stat st;
  if (statfs(resolved, &fs) != 0 || stat(resolved, &st) != 0) {
    return absl::NotFoundError(absl::StrFormat("cgroup %s: %s", path, std::strerror(errno)));
  }
  if (static_cast<unsigned long>(fs.f_type) != CGROUP2_SUPER_MAGIC || !S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s is not a cgroup v2 directory (wave manages cgroups of the unified hierarchy%s)", path,
        [] {
          absl::StatusOr<std::string> root = CgroupV2Root();
          return root.ok() ? ", mounted at " + *root : std::string(", which is not mounted");
        }()));
  }
  // Its depth: the directories between it and the mount's root, which a parent on another file
  // system (or a stat that fails) ends.
  CgroupRef ref{.path = resolved, .id = st.st_ino, .level = 0};
  std::string dir = resolved;
  while (true) {
    const size_t slash = dir.find_last_of('/');
    if (slash == std::string::npos || dir == "/") break;
    const std::string parent = slash == 0 ? "/" : dir.substr(0, slash);
    struct statfs pfs;
    struct stat pst;
    if (statfs(parent.c_str(), &pfs) != 0 || stat(parent.c_str(), &pst) != 0 ||
        static_cast<unsigned long>(pfs.f_type) != CGROUP2_SUPER_MAGIC || pst.st_dev != st.st_dev) {
      break;
    }
    ++ref.level;
    dir = parent;
  }
  return ref;
}

bool InCgroupSubtree(const CgroupRef& cgroup, int pid) {
  absl::StatusOr<std::string> root = CgroupV2Root();
  if (!root.ok()) return false;
  std::ifstream in(pid == 0 ? std::string("/proc/self/cgroup")
                            : absl::StrFormat("/proc/%d/cgroup", pid));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("0::", 0) != 0) continue;  // the unified hierarchy's line
    const std::string rel = line.substr(3);
    std::string dir = *root + (rel == "/" ? "" : rel);
    char resolved[PATH_MAX];
    if (realpath(dir.c_str(), resolved) != nullptr) dir = resolved;
    return dir == cgroup.path || dir.rfind(cgroup.path + "/", 0) == 0;
  }
  return false;
}

absl::Status MoveToCgroup(const std::string& path, int pid) {
  std::ofstream procs(path + "/cgroup.procs");
  procs << pid << "\n";
  procs.flush();
  if (!procs) {
    return absl::InternalError(
        absl::StrFormat("moving %d into %s: %s", pid, path, std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace wave
