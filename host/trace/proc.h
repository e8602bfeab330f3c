// Small readers of /proc for the trace mechanism (and its tests): a thread's identity and where
// it runs, and the scheduling settings the actuator changes.
#ifndef LIBWAVE_HOST_TRACE_PROC_H_
#define LIBWAVE_HOST_TRACE_PROC_H_

#include <linux/sched/types.h>  // struct sched_attr
#include <sched.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <vector>

namespace wave {

// Fields of /proc/<tid>/stat (any thread's tid works there, not only a group leader's).
struct ThreadStat {
  char state = '?';        // field 3
  uint64_t starttime = 0;  // field 22, in clock ticks since boot: with the tid, an identity
  int processor = -1;      // field 39: the cpu it last ran on
};
std::optional<ThreadStat> ReadThreadStat(pid_t tid);

// The tids of a thread group (/proc/<tgid>/task), empty if it is gone.
std::vector<pid_t> ThreadsOf(pid_t tgid);

// sched_getattr / sched_setattr, which glibc does not wrap. Return 0 or -1 with errno.
int GetSchedAttr(pid_t tid, sched_attr* attr);
int SetSchedAttr(pid_t tid, const sched_attr& attr);

// The settings the actuator may change (affinity, policy and slice) and compares on restore.
struct ThreadSettings {
  cpu_set_t mask;
  sched_attr attr;
};
// Reads both; false (errno set) when the thread is gone.
bool ReadThreadSettings(pid_t tid, ThreadSettings* out);
bool SameMask(const cpu_set_t& a, const cpu_set_t& b);
// Same policy, nice, rt priority and slice (sched_runtime).
bool SameAttr(const sched_attr& a, const sched_attr& b);

}  // namespace wave

#endif  // LIBWAVE_HOST_TRACE_PROC_H_
