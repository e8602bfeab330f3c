#include "host/mech/validate.h"

namespace wave {

bool CommitWellFormed(const wave_a2k_commit& c) {
  if (c.hdr.type != WAVE_CMD_COMMIT || c.hdr.len != WAVE_MSG_SIZE) return false;
  if ((c.flags & ~WAVE_COMMIT_F_ALL) != 0 || c.reserved != 0) return false;
  if (c.group == 0) return c.group_size == 0;
  return c.group_size >= 1 && c.group_size <= WAVE_MAX_GROUP;
}

wave_commit_status ValidateCommit(const wave_a2k_commit& c, const HostTaskView* task, int num_cpus,
                                  const HostCpuView* cpu) {
  if (!CommitWellFormed(c)) return WAVE_COMMIT_MALFORMED;
  if (task == nullptr) return WAVE_COMMIT_UNKNOWN_TASK;
  if (c.cpu < 0 || c.cpu >= num_cpus || (task->cpus != nullptr && !task->cpus->Test(c.cpu)) ||
      cpu == nullptr || !cpu->managed) {
    return WAVE_COMMIT_CPU_NOT_ALLOWED;
  }
  if (c.seq != task->seq) return WAVE_COMMIT_STALE;
  if (task->on_cpu) return WAVE_COMMIT_ON_CPU;
  if (!task->runnable) return WAVE_COMMIT_NOT_RUNNABLE;
  if (cpu->busy && (c.flags & WAVE_COMMIT_F_PREEMPT) == 0) return WAVE_COMMIT_CPU_BUSY;
  return WAVE_COMMIT_OK;
}

void CommitAssembler::Add(const wave_a2k_commit& c, std::vector<CommitUnit>* out) {
  const bool grouped = CommitWellFormed(c) && c.group != 0;
  if (in_group()) {
    // Copies: push_back below may move the members (found by tests/fuzz:commit_fuzzer).
    const uint32_t group_size = partial_.members.front().group_size;
    if (grouped && Continues(c)) {
      partial_.members.push_back(c);
      if (partial_.members.size() == group_size) {
        out->push_back(std::move(partial_));
        partial_ = CommitUnit{};
      }
      return;
    }
    partial_.malformed = true;  // broken by a commit that does not belong to it
    out->push_back(std::move(partial_));
    partial_ = CommitUnit{};
  }
  if (!grouped || c.group_size == 1) {
    out->push_back(CommitUnit{{c}, false});
    return;
  }
  partial_.members.push_back(c);
}

bool CommitAssembler::Continues(const wave_a2k_commit& c) const {
  if (!in_group() || !CommitWellFormed(c) || c.group == 0) return false;
  const wave_a2k_commit& first = partial_.members.front();
  return c.group == first.group && c.group_size == first.group_size;
}

void CommitAssembler::EndOfBatch(std::vector<CommitUnit>* out) {
  if (!in_group()) return;
  partial_.malformed = true;
  out->push_back(std::move(partial_));
  partial_ = CommitUnit{};
}

bool ValidateUnit(const CommitUnit& unit, const HostTaskView* const* tasks, int num_cpus,
                  const HostCpuView* const* cpus, wave_commit_status* statuses) {
  const size_t n = unit.members.size();
  if (n == 0) return false;  // nothing to enact (the assembler never makes such a unit)
  bool malformed = unit.malformed;
  // Distinct tasks and cpus (n <= WAVE_MAX_GROUP: quadratic is fine and allocation-free).
  for (size_t i = 0; i < n && !malformed; ++i) {
    for (size_t j = i + 1; j < n; ++j) {
      if (unit.members[i].task_id == unit.members[j].task_id ||
          unit.members[i].cpu == unit.members[j].cpu) {
        malformed = true;
        break;
      }
    }
  }
  if (malformed) {
    for (size_t i = 0; i < n; ++i) statuses[i] = WAVE_COMMIT_MALFORMED;
    return false;
  }
  bool all_ok = true;
  for (size_t i = 0; i < n; ++i) {
    statuses[i] = ValidateCommit(unit.members[i], tasks[i], num_cpus, cpus[i]);
    all_ok = all_ok && statuses[i] == WAVE_COMMIT_OK;
  }
  if (!all_ok) {
    for (size_t i = 0; i < n; ++i) {
      if (statuses[i] == WAVE_COMMIT_OK) statuses[i] = WAVE_COMMIT_GROUP_ABORTED;
    }
  }
  return all_ok;
}

wave_msg MakeCommitResult(const wave_a2k_commit& commit, wave_commit_status status,
                          uint64_t host_seq, uint64_t time_ns, uint32_t flags) {
  wave_msg m;
  wave_msg_init(&m, WAVE_EV_COMMIT_RESULT);
  m.result.txn_id = commit.txn_id;
  m.result.task_id = commit.task_id;
  m.result.seq = host_seq;
  m.result.time_ns = time_ns;
  m.result.cpu = commit.cpu;
  m.result.status = status;
  m.result.flags = flags;
  return m;
}

}  // namespace wave
