#include "host/mech/commit_pump.h"

namespace wave {

absl::StatusOr<uint32_t> CommitPump::Pump(RingConsumer& commands, CommitHost& host) {
  const uint32_t room = host.AnswerRoom();
  uint32_t promised = 0;  // answers the units taken in this call may need
  uint32_t taken = 0;
  bool stopped = false;
  units_.clear();
  while (!stopped) {
    absl::StatusOr<uint32_t> n = commands.Peek(commands.capacity());
    if (!n.ok()) return n.status();
    if (*n == 0) break;
    uint32_t i = 0;
    for (; i < *n; ++i) {
      wave_msg m;
      commands.Read(i, &m);  // a copy: validated, never the shared slot
      const wave_a2k_commit& c = m.commit;
      if (wave_txn_epoch(c.txn_id) != epoch_) {  // made on state the agent has since forgotten
        ++stats_.received;
        ++stats_.old_epoch;
        continue;
      }
      // What answering it may take: a whole group's answers when it opens one (reserved at
      // once, so a group is never left half answerable), nothing more for a group's next member,
      // one otherwise.
      uint32_t need = 1;
      if (assembler_.Continues(c)) {
        need = 0;
      } else if (CommitWellFormed(c) && c.group != 0 && c.group_size > 1) {
        need = c.group_size;
      }
      if (promised + need > room) {
        stopped = true;  // it waits in the ring until its answer fits
        break;
      }
      promised += need;
      ++stats_.received;
      assembler_.Add(c, &units_);
    }
    commands.Advance(i);
    taken += i;
  }
  // Everything visible was taken: a group still incomplete now was not published whole.
  if (!stopped) assembler_.EndOfBatch(&units_);
  for (const CommitUnit& unit : units_) Apply(unit, host);
  host.EndAnswers();
  if (taken > 0) commands.ReturnCredits();
  return taken;
}

void CommitPump::Apply(const CommitUnit& unit, CommitHost& host) {
  const size_t n = unit.members.size();
  tv_.assign(n, HostTaskView{});
  cv_.assign(n, HostCpuView{});
  tp_.assign(n, nullptr);
  cp_.assign(n, nullptr);
  st_.assign(n, WAVE_COMMIT_MALFORMED);
  if (scratch_.size() < n) scratch_.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const wave_a2k_commit& c = unit.members[i];
    if (host.LookupTask(c, &tv_[i], &scratch_[i])) tp_[i] = &tv_[i];
    if (c.cpu >= 0 && c.cpu < options_.num_cpus && host.LookupCpu(c, &cv_[i])) cp_[i] = &cv_[i];
  }
  bool ok;
  if (options_.host_checks) {
    ok = ValidateUnit(unit, tp_.data(), options_.num_cpus, cp_.data(), st_.data());
    // A host that cannot apply groups refuses every group commit, even a group of one.
    if (!options_.groups && (n > 1 || unit.members[0].group != 0)) {
      for (size_t i = 0; i < n; ++i) st_[i] = WAVE_COMMIT_MALFORMED;
      ok = false;
    }
  } else {
    // Routed only: the kernel side checks everything, authoritatively. A cpu the host does not
    // have cannot be routed.
    ok = true;
    for (size_t i = 0; i < n; ++i) {
      st_[i] = cp_[i] != nullptr ? WAVE_COMMIT_OK : WAVE_COMMIT_CPU_NOT_ALLOWED;
      ok = ok && cp_[i] != nullptr;
    }
    if (!ok) {
      for (size_t i = 0; i < n; ++i) {
        if (st_[i] == WAVE_COMMIT_OK) st_[i] = WAVE_COMMIT_GROUP_ABORTED;
      }
    }
  }
  if (ok) ++stats_.enacted;
  for (size_t i = 0; i < n; ++i) {
    const wave_a2k_commit& c = unit.members[i];
    uint32_t status = st_[i];
    if (ok) {
      status = host.Enact(c);
      if (status == CommitHost::kAnsweredLater) {
        ++stats_.answered_later;
        continue;
      }
    }
    ++stats_.results[status];
    host.Answer(MakeCommitResult(c, static_cast<wave_commit_status>(status),
                                 tp_[i] != nullptr ? tv_[i].seq : 0, host.NowNs()));
  }
}

}  // namespace wave
