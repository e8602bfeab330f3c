// How the trace mechanism tells sched_yield() apart from a preemption (TASK_YIELD). A header of
// its own, with no dependencies, so that the command line can name the choice without linking
// the BPF loader. See bpf/trace.bpf.c for the two ways and their costs.
#ifndef LIBWAVE_HOST_TRACE_YIELD_EVENTS_H_
#define LIBWAVE_HOST_TRACE_YIELD_EVENTS_H_

#include <cstdint>
#include <optional>
#include <string_view>

namespace wave {

enum class YieldEvents {
  kOff,       // never: a yield is TASK_PREEMPTED
  kAuto,      // with kprobes on do_sched_yield if the kernel has them (no cost elsewhere)
  kSyscalls,  // kprobes, else the raw syscall tracepoints (every system call pays a little)
};

// "off", "auto", "syscalls".
inline const char* YieldEventsName(YieldEvents y) {
  switch (y) {
    case YieldEvents::kOff:
      return "off";
    case YieldEvents::kSyscalls:
      return "syscalls";
    case YieldEvents::kAuto:
      break;
  }
  return "auto";
}

inline std::optional<YieldEvents> ParseYieldEvents(std::string_view s) {
  for (YieldEvents y : {YieldEvents::kOff, YieldEvents::kAuto, YieldEvents::kSyscalls}) {
    if (s == YieldEventsName(y)) return y;
  }
  return std::nullopt;
}

// Where yields are seen from, as attached.
enum class YieldSource : uint32_t { kNone = 0, kKprobes = 1, kSyscalls = 2 };

// "none", "kprobes", "syscalls".
inline const char* YieldSourceName(YieldSource s) {
  switch (s) {
    case YieldSource::kKprobes:
      return "kprobes";
    case YieldSource::kSyscalls:
      return "syscalls";
    case YieldSource::kNone:
      break;
  }
  return "none";
}

}  // namespace wave

#endif  // LIBWAVE_HOST_TRACE_YIELD_EVENTS_H_
