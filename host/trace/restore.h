// The restore journal: what the actuator changed on which thread, kept where a second process can
// undo it. Before the actuator first touches a thread, the journal records the thread's identity
// (tid + start time) and its original settings; before each change it records the settings it is
// about to apply. To restore is to give every recorded thread that is still the same thread its
// original affinity and policy back, unless something other than wave changed them since (the
// current value differs from the one wave applied: the application's own choice wins).
//
// The journal is a file mapped shared, /dev/shm/wave-journal.<owner pid>: a header (magic,
// version, capacity, the owner's and the guardian's pid and /proc start time) and the entries.
// A guardian process forked before anything else maps it too. The guardian waits for the pipe
// from its parent to close, which happens however the parent ends, SIGKILL included, then
// restores whatever the parent left recorded, removes the file and exits. When the parent ends
// normally it has restored everything itself and the guardian only removes the file.
//
// If the guardian is killed as well (kill -9 of both), the file outlives them:
// RestoreOrphanedJournals() (`wave restore`, and the start of every `wave run`) finds each journal
// whose owner and guardian are both gone, restores it by the same rules and removes it.
#ifndef LIBWAVE_HOST_TRACE_RESTORE_H_
#define LIBWAVE_HOST_TRACE_RESTORE_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "host/trace/proc.h"
#include "transport/region.h"

namespace wave {

inline constexpr char kJournalDir[] = "/dev/shm";
inline constexpr char kJournalPrefix[] = "wave-journal.";  // + the owner's pid
inline constexpr uint32_t kJournalMagic = 0x4a564157u;     // "WAVJ"
inline constexpr uint32_t kJournalVersion = 1;
inline constexpr uint32_t kJournalMaxCapacity = 1u << 20;

// The start of a journal file; `capacity` entries of `entry_bytes` each follow it. A reader
// trusts nothing it cannot check: magic, version, entry size, and capacity against the file size.
struct RestoreJournalHeader {
  uint32_t magic;  // written last
  uint32_t version;
  uint32_t capacity;
  uint32_t entry_bytes;      // another build's entry layout is not one to read
  int32_t owner_pid;         // also the number in the file name
  int32_t guardian_pid;      // 0 until the guardian is started
  uint64_t owner_starttime;  // /proc/<pid>/stat field 22: a pid and its start time name a process
  uint64_t guardian_starttime;
  uint64_t pid_namespace;  // inode of the owner's /proc/self/ns/pid: the pids above are in it
  uint8_t reserved[16];
};
static_assert(sizeof(RestoreJournalHeader) == 64);

struct JournalEntry;  // one thread (restore.cc)

class RestoreJournal {
 public:
  static constexpr uint32_t kDefaultCapacity = 4096;

  // Creates `dir`/wave-journal.<this process's pid>. One journal per process and directory: a
  // file of that name left by an earlier process with this pid is restored first if it is an
  // orphan (see RestoreOrphanedJournals), an error if not.
  // REQUIRES: 0 < capacity <= kJournalMaxCapacity.
  static absl::StatusOr<std::unique_ptr<RestoreJournal>> Create(
      uint32_t capacity = kDefaultCapacity, const std::string& dir = kJournalDir);
  RestoreJournal(const RestoreJournal&) = delete;
  RestoreJournal& operator=(const RestoreJournal&) = delete;
  // Does not restore: call RestoreAll() first (the guardian, if any, restores what is left).
  // Removes the file once nothing in it is left to restore.
  ~RestoreJournal();

  const std::string& path() const { return path_; }
  const RestoreJournalHeader& header() const { return *header_; }

  // Forks the guardian (and records its identity in the header). Call before the process starts
  // threads. Idempotent. Once it has restored, the guardian removes the journal and the file
  // `remove_on_exit` (if not empty): the parent's published stats, which a killed parent leaves
  // behind.
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
  using Entry = JournalEntry;
  RestoreJournal() = default;
  Entry* Slot(pid_t tid) const;
  Entry* FreeSlot();

  SharedRegion region_;
  std::string path_;
  RestoreJournalHeader* header_ = nullptr;
  Entry* entries_ = nullptr;
  uint32_t capacity_ = 0;
  absl::flat_hash_map<pid_t, uint32_t> index_;  // this process's index of live entries
  pid_t guardian_pid_ = -1;
  int guardian_pipe_ = -1;  // write end; its close is the guardian's signal
};

// What RestoreOrphanedJournals did with one file.
struct OrphanedJournal {
  enum class Outcome {
    kRestored,         // owner and guardian gone: restored, file removed
    kOwnerRunning,     // left alone: `pid` is its owner, still running
    kGuardianRunning,  // left alone: `pid` is its guardian, still running (it will restore)
    kBusy,             // left alone: another process is restoring it right now
    kOtherNamespace,   // left alone: written in another pid namespace, its pids mean nothing here
    kMalformed,        // not a journal this wave can read (`message` says why): left in place
    kError,            // could not be read or removed (`message` says why)
  };
  std::string path;
  Outcome outcome = Outcome::kError;
  pid_t owner = 0;   // from the header, when it could be read
  pid_t pid = 0;     // the running owner or guardian
  int restored = 0;  // kRestored: threads that had something put back
  std::string message;
};

// Scans `dir` for wave-journal.<pid> files and restores each orphan: a journal whose owner and
// guardian are both gone (no such pid, or a pid now naming another process: its start time
// differs; a zombie is gone too). It restores every live entry as the guardian would (the same
// thread only, by tid and start time; the application's own later change wins), then removes
// the file. Only regular files owned by this user, not writable by others, are read. Files in
// the order of their owners' pids; an unreadable `dir` is one kError result, a missing one none.
std::vector<OrphanedJournal> RestoreOrphanedJournals(const std::string& dir = kJournalDir);

// One line for people (no newline): "restored 3 threads from PATH", "left PATH: owner 12 still
// running", "PATH: too short (10 bytes); left in place", ...
std::string FormatOrphanedJournal(const OrphanedJournal& j);

}  // namespace wave

#endif  // LIBWAVE_HOST_TRACE_RESTORE_H_
