#include "host/mech/validate.h"

namespace wave {

wave_commit_status ValidateCommit(const wave_a2k_commit& c, const HostTaskView* task, int num_cpus,
                                  const HostCpuView* cpu) {
  if (c.hdr.type != WAVE_CMD_COMMIT || c.hdr.len != WAVE_MSG_SIZE ||
      (c.flags & ~WAVE_COMMIT_F_ALL) != 0 || c.reserved != 0 || c.group != 0 || c.group_size != 0) {
    return WAVE_COMMIT_MALFORMED;  // group commits arrive with transactions (issue: prestaging)
  }
  if (task == nullptr) return WAVE_COMMIT_UNKNOWN_TASK;
  if (c.cpu < 0 || c.cpu >= num_cpus || c.cpu >= static_cast<int>(WAVE_MAX_CPUS) ||
      ((task->cpu_mask >> c.cpu) & 1) == 0 || cpu == nullptr || !cpu->managed) {
    return WAVE_COMMIT_CPU_NOT_ALLOWED;
  }
  if (c.seq != task->seq) return WAVE_COMMIT_STALE;
  if (task->on_cpu) return WAVE_COMMIT_ON_CPU;
  if (!task->runnable) return WAVE_COMMIT_NOT_RUNNABLE;
  if (cpu->busy && (c.flags & WAVE_COMMIT_F_PREEMPT) == 0) return WAVE_COMMIT_CPU_BUSY;
  return WAVE_COMMIT_OK;
}

wave_msg MakeCommitResult(const wave_a2k_commit& commit, wave_commit_status status,
                          uint64_t host_seq, uint64_t time_ns) {
  wave_msg m;
  wave_msg_init(&m, WAVE_EV_COMMIT_RESULT);
  m.result.txn_id = commit.txn_id;
  m.result.task_id = commit.task_id;
  m.result.seq = host_seq;
  m.result.time_ns = time_ns;
  m.result.cpu = commit.cpu;
  m.result.status = status;
  return m;
}

}  // namespace wave
