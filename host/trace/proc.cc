#include "host/trace/proc.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace wave {

std::optional<ThreadStat> ReadThreadStat(pid_t tid) {
  char path[64];
  std::snprintf(path, sizeof(path), "/proc/%d/stat", static_cast<int>(tid));
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  char buf[1024];
  const ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0) return std::nullopt;
  buf[n] = '\0';
  // The command name (field 2) is in parentheses and may hold anything: fields resume after the
  // last ')'.
  const char* p = std::strrchr(buf, ')');
  if (p == nullptr) return std::nullopt;
  ThreadStat st;
  int field = 2;
  for (const char* tok = p + 1; *tok != '\0';) {
    while (*tok == ' ') ++tok;
    if (*tok == '\0' || *tok == '\n') break;
    ++field;
    if (field == 3) st.state = *tok;
    if (field == 22) st.starttime = std::strtoull(tok, nullptr, 10);
    if (field == 39) {
      st.processor = static_cast<int>(std::strtol(tok, nullptr, 10));
      return st;
    }
    while (*tok != ' ' && *tok != '\0') ++tok;
  }
  return std::nullopt;
}

std::vector<pid_t> ThreadsOf(pid_t tgid) {
  std::vector<pid_t> tids;
  char path[64];
  std::snprintf(path, sizeof(path), "/proc/%d/task", static_cast<int>(tgid));
  DIR* dir = opendir(path);
  if (dir == nullptr) return tids;
  while (dirent* e = readdir(dir)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    tids.push_back(static_cast<pid_t>(std::atoi(e->d_name)));
  }
  closedir(dir);
  return tids;
}

int GetSchedAttr(pid_t tid, sched_attr* attr) {
  std::memset(attr, 0, sizeof(*attr));
  return static_cast<int>(syscall(SYS_sched_getattr, tid, attr, sizeof(*attr), 0));
}

int SetSchedAttr(pid_t tid, const sched_attr& attr) {
  sched_attr copy = attr;
  copy.size = sizeof(copy);
  return static_cast<int>(syscall(SYS_sched_setattr, tid, &copy, 0));
}

bool ReadThreadSettings(pid_t tid, ThreadSettings* out) {
  CPU_ZERO(&out->mask);
  if (sched_getaffinity(tid, sizeof(out->mask), &out->mask) != 0) return false;
  return GetSchedAttr(tid, &out->attr) == 0;
}

bool SameMask(const cpu_set_t& a, const cpu_set_t& b) { return CPU_EQUAL(&a, &b) != 0; }

bool SameAttr(const sched_attr& a, const sched_attr& b) {
  return a.sched_policy == b.sched_policy && a.sched_nice == b.sched_nice &&
         a.sched_priority == b.sched_priority && a.sched_runtime == b.sched_runtime;
}

}  // namespace wave
