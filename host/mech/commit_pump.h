// The host's half of scheduling transactions, shared by every mechanism (sim, trace, scx): take
// the agent's commits from the command ring, drop those of another epoch, cut the rest into units
// (a commit, or a whole group), validate each unit against the mechanism's current view of its
// tasks and cpus (validate.h), enact the valid ones, and answer every commit with a
// COMMIT_RESULT.
//
// One back-pressure rule: a commit is taken from the ring only when the event ring has room for
// its answer (for a group, for all of its answers). The rest wait in the command ring, so no
// answer is ever dropped, and an agent that sends faster than the host can answer is slowed down
// by its own ring filling, not by the host losing track of what it answered.
#ifndef LIBWAVE_HOST_MECH_COMMIT_PUMP_H_
#define LIBWAVE_HOST_MECH_COMMIT_PUMP_H_

#include <array>
#include <cstdint>
#include <vector>

#include "abi/wave_abi.h"
#include "absl/status/statusor.h"
#include "host/mech/validate.h"
#include "transport/ring.h"

namespace wave {

// What a mechanism supplies to the pump.
class CommitHost {
 public:
  virtual ~CommitHost() = default;
  // The host's current view of the task a commit names (false: the host does not know it) and
  // of its cpu, which is in [0, num_cpus) (false: not one the agent may name). `scratch` is the
  // pump's, valid until the unit is answered: a mechanism may build the task's cpu set there and
  // point view->cpus at it.
  virtual bool LookupTask(const wave_a2k_commit& commit, HostTaskView* view, CpuSet* scratch) = 0;
  virtual bool LookupCpu(const wave_a2k_commit& commit, HostCpuView* view) = 0;
  // Enacts one member of a unit that passed validation (members in order); returns its final
  // status (OK, or why enacting failed), or kAnsweredLater when the mechanism's kernel side
  // answers it itself (sched_ext). A failed member of a group does not undo the others: the
  // mechanisms that can fail here enact advisory placements.
  static constexpr uint32_t kAnsweredLater = WAVE_COMMIT_STATUS_COUNT;
  virtual uint32_t Enact(const wave_a2k_commit& commit) = 0;
  // Room for answers in the event ring now, each answer (a COMMIT_RESULT), and the end of this
  // round's answers (publish them in one burst). The pump never answers more than the room it
  // was given.
  virtual uint32_t AnswerRoom() = 0;
  virtual void Answer(const wave_msg& result) = 0;
  virtual void EndAnswers() {}
  virtual uint64_t NowNs() = 0;
};

struct CommitPumpOptions {
  int num_cpus = 0;
  // The mechanism applies all-or-nothing groups; without, a group commit is MALFORMED.
  bool groups = true;
  // Validate before enacting (off only to test a kernel side's own checks: then a commit is only
  // routed, and one naming no cpu of the host is CPU_NOT_ALLOWED).
  bool host_checks = true;
};

// What the pump did, cumulative.
struct CommitPumpStats {
  uint64_t received = 0;                                     // commits taken from the ring
  uint64_t old_epoch = 0;                                    // of another epoch: dropped unanswered
  uint64_t enacted = 0;                                      // units enacted
  std::array<uint64_t, WAVE_COMMIT_STATUS_COUNT> results{};  // answered here, by status
  uint64_t answered_later = 0;                               // left to the kernel side
};

class CommitPump {
 public:
  explicit CommitPump(const CommitPumpOptions& options) : options_(options) {}

  // The epoch of the agent's decisions (a new agent, or a resync).
  void set_epoch(uint32_t epoch) { epoch_ = epoch; }
  uint32_t epoch() const { return epoch_; }
  // A new link: a group still being assembled from the old one is forgotten.
  void Reset() { assembler_ = CommitAssembler{}; }

  // Takes every commit waiting whose answer fits, in ring order; returns how many were taken. An
  // error means the command ring is corrupt.
  absl::StatusOr<uint32_t> Pump(RingConsumer& commands, CommitHost& host);

  const CommitPumpStats& stats() const { return stats_; }

 private:
  // Validates, enacts and answers one unit.
  void Apply(const CommitUnit& unit, CommitHost& host);

  const CommitPumpOptions options_;
  uint32_t epoch_ = 0;
  CommitAssembler assembler_;
  std::vector<CommitUnit> units_;
  CommitPumpStats stats_;
  // Scratch for one unit (at most WAVE_MAX_GROUP members).
  std::vector<HostTaskView> tv_;
  std::vector<CpuSet> scratch_;
  std::vector<HostCpuView> cv_;
  std::vector<const HostTaskView*> tp_;
  std::vector<const HostCpuView*> cp_;
  std::vector<wave_commit_status> st_;
};

}  // namespace wave

#endif  // LIBWAVE_HOST_MECH_COMMIT_PUMP_H_
