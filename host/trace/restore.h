// The restore journal: what the actuator changed on which thread, kept where a second process can
// undo it. Before the actuator first touches a thread, the journal records the thread's identity
// (tid + start time) and its original settings; before each change it records the settings it is
// about to apply. To restore is to give every recorded thread that is still the same thread its
// original affinity and policy back, unless something other than wave changed them since (the
// current value differs from the one wave applied: the application's own choice wins).
//
// The journal lives in a MAP_SHARED region, and a guardian process forked before anything else
// holds it too. The guardian waits for the pipe from its parent to close, which happens however
// the parent ends, SIGKILL included, then restores whatever the parent left recorded, and exits.
// When the parent ends normally it has restored everything itself and the guardian finds nothing
// to do. (A SIGKILL of the guardian itself is not covered.)
#ifndef LIBWAVE_HOST_TRACE_RESTORE_H_
#define LIBWAVE_HOST_TRACE_RESTORE_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "host/trace/proc.h"
#include "transport/region.h"

namespace wave {

class RestoreJournal {
 public:
  static constexpr uint32_t kDefaultCapacity = 4096;

  // REQUIRES: capacity > 0.
  static absl::StatusOr<std::unique_ptr<RestoreJournal>> Create(
      uint32_t capacity = kDefaultCapacity);
  RestoreJournal(const RestoreJournal&) = delete;
  RestoreJournal& operator=(const RestoreJournal&) = delete;
  // Does not restore: call RestoreAll() first (the guardian, if any, restores what is left).
  ~RestoreJournal();

  // Forks the guardian. Call before the process starts threads. Idempotent. The guardian also
  // removes the file `remove_on_exit` (if not empty) once it has restored: the parent's
  // published stats, which a killed parent leaves behind.
  absl::Status StartGuardian(const std::string& remove_on_exit = "");
  pid_t guardian_pid() const { return guardian_pid_; }
  // Closes the pipe and waits for the guardian to exit (after RestoreAll, it has nothing to do).
  void StopGuardian();

  // Before the first change to `tid`: records its identity and current settings as the original.
  // False when the journal is full or the thread is gone.
  bool Track(pid_t tid);
  bool Tracked(pid_t tid) const { return index_.contains(tid); }
  // A new thread (or process) created by `creator`: if creator is tracked, the new one inherited
  // settings wave applied, so it is tracked too, with the creator's original settings and its
  // current ones as applied. Returns whether it is now tracked.
  bool Inherit(pid_t tid, pid_t creator);
  // Record the settings about to be applied. REQUIRES: Tracked(tid).
  void WillSetAffinity(pid_t tid, const cpu_set_t& mask);
  void WillSetAttr(pid_t tid, const sched_attr& attr);
  // The settings wave last applied (or inherited), if tracked.
  const cpu_set_t* AppliedMask(pid_t tid) const;
  const sched_attr* OriginalAttr(pid_t tid) const;
  const cpu_set_t* OriginalMask(pid_t tid) const;
  bool AttrChanged(pid_t tid) const;
  // The thread died: its slot is free again.
  void Forget(pid_t tid);

  // Restores every recorded live thread; returns how many threads had something put back.
  int RestoreAll();
  uint32_t size() const { return static_cast<uint32_t>(index_.size()); }

 private:
  struct Entry;
  RestoreJournal() = default;
  Entry* Slot(pid_t tid) const;
  Entry* FreeSlot();

  SharedRegion region_;
  Entry* entries_ = nullptr;
  uint32_t capacity_ = 0;
  absl::flat_hash_map<pid_t, uint32_t> index_;  // this process's index of live entries
  pid_t guardian_pid_ = -1;
  int guardian_pipe_ = -1;  // write end; its close is the guardian's signal
};

}  // namespace wave

#endif  // LIBWAVE_HOST_TRACE_RESTORE_H_
