#include "lib/events.h"

namespace wave {

const char* MsgTypeName(uint16_t type) {
  switch (type) {
    case WAVE_EV_TASK_NEW:
      return "TASK_NEW";
    case WAVE_EV_TASK_WAKEUP:
      return "TASK_WAKEUP";
    case WAVE_EV_TASK_BLOCKED:
      return "TASK_BLOCKED";
    case WAVE_EV_TASK_PREEMPTED:
      return "TASK_PREEMPTED";
    case WAVE_EV_TASK_YIELD:
      return "TASK_YIELD";
    case WAVE_EV_TASK_DEAD:
      return "TASK_DEAD";
    case WAVE_EV_TASK_DEPARTED:
      return "TASK_DEPARTED";
    case WAVE_EV_TASK_AFFINITY:
      return "TASK_AFFINITY";
    case WAVE_EV_TASK_PRIORITY:
      return "TASK_PRIORITY";
    case WAVE_EV_TASK_ON_CPU:
      return "TASK_ON_CPU";
    case WAVE_EV_NET_RPC:
      return "NET_RPC";
    case WAVE_EV_CPU_IDLE:
      return "CPU_IDLE";
    case WAVE_EV_CPU_TICK:
      return "CPU_TICK";
    case WAVE_EV_CPU_AVAILABLE:
      return "CPU_AVAILABLE";
    case WAVE_EV_CPU_BUSY:
      return "CPU_BUSY";
    case WAVE_EV_COMMIT_RESULT:
      return "COMMIT_RESULT";
    case WAVE_EV_RESYNC_BEGIN:
      return "RESYNC_BEGIN";
    case WAVE_EV_RESYNC_END:
      return "RESYNC_END";
    case WAVE_CMD_COMMIT:
      return "COMMIT";
    default:
      return "UNKNOWN";
  }
}

const char* CommitStatusName(uint32_t status) {
  switch (status) {
    case WAVE_COMMIT_OK:
      return "ok";
    case WAVE_COMMIT_STALE:
      return "stale";
    case WAVE_COMMIT_NOT_RUNNABLE:
      return "not_runnable";
    case WAVE_COMMIT_ON_CPU:
      return "on_cpu";
    case WAVE_COMMIT_CPU_NOT_ALLOWED:
      return "cpu_not_allowed";
    case WAVE_COMMIT_CPU_BUSY:
      return "cpu_busy";
    case WAVE_COMMIT_UNKNOWN_TASK:
      return "unknown_task";
    case WAVE_COMMIT_MALFORMED:
      return "malformed";
    case WAVE_COMMIT_GROUP_ABORTED:
      return "group_aborted";
    default:
      return "invalid";
  }
}

}  // namespace wave
