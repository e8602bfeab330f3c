#include "host/trace/restore.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"

namespace wave {

namespace {
constexpr uint32_t kFree = 0;
constexpr uint32_t kLive = 1;
constexpr uint32_t kChangedMask = 1u << 0;
constexpr uint32_t kChangedAttr = 1u << 1;
}  // namespace

// One thread, in shared memory: plain data, no pointers. `state` is written last (release) when
// an entry goes live, so a reader that sees kLive sees a whole entry; the guardian (or a later
// `wave restore`) reads only after the owner is gone, so nothing changes under it.
struct JournalEntry {
  std::atomic<uint32_t> state;
  uint32_t changed;  // kChanged*
  pid_t tid;
  uint64_t starttime;
  cpu_set_t original_mask;
  cpu_set_t applied_mask;
  sched_attr original_attr;
  sched_attr applied_attr;
};

namespace {

absl::Status Errno(const std::string& what) {
  return absl::InternalError(absl::StrFormat("%s: %s", what, std::strerror(errno)));
}

uint64_t PidNamespace() {
  struct stat st;
  return stat("/proc/self/ns/pid", &st) == 0 ? static_cast<uint64_t>(st.st_ino) : 0;
}

// Whether the process `pid` that started at `starttime` still runs. A zombie does not (unless
// only its leader exited): it holds nothing and will restore nothing.
bool Running(pid_t pid, uint64_t starttime) {
  if (pid <= 0) return false;
  std::optional<ThreadStat> st = ReadThreadStat(pid);
  if (!st || st->starttime != starttime) return false;
  return (st->state != 'Z' && st->state != 'X') || ThreadsOf(pid).size() > 1;
}

// Gives a recorded thread its original settings back, if it is still the same thread and still
// has what wave applied. Whether anything was put back.
bool RestoreEntry(const JournalEntry& e) {
  // Still the same thread? A dead thread's tid may belong to someone else by now.
  std::optional<ThreadStat> st = ReadThreadStat(e.tid);
  ThreadSettings now;
  if (!st || st->starttime != e.starttime || !ReadThreadSettings(e.tid, &now)) return false;
  bool any = false;
  if ((e.changed & kChangedMask) && SameMask(now.mask, e.applied_mask) &&
      !SameMask(now.mask, e.original_mask)) {
    any |= sched_setaffinity(e.tid, sizeof(e.original_mask), &e.original_mask) == 0;
  }
  if ((e.changed & kChangedAttr) && SameAttr(now.attr, e.applied_attr) &&
      !SameAttr(now.attr, e.original_attr)) {
    sched_attr back = e.original_attr;
    // For the fair classes sched_getattr reports the current slice; setting it back would make
    // it a custom one. 0 asks for the default, which is what a thread has unless it chose
    // otherwise.
    if (back.sched_policy == SCHED_OTHER || back.sched_policy == SCHED_BATCH ||
        back.sched_policy == SCHED_IDLE) {
      back.sched_runtime = 0;
    }
    any |= SetSchedAttr(e.tid, back) == 0;
  }
  return any;
}

// All `n` bytes at `offset`, or false with errno set (EIO if the file is shorter).
bool ReadAt(int fd, void* buf, size_t n, off_t offset) {
  const ssize_t got = pread(fd, buf, n, offset);
  if (got >= 0 && static_cast<size_t>(got) != n) errno = EIO;
  return got >= 0 && static_cast<size_t>(got) == n;
}

std::string JournalPath(const std::string& dir, pid_t pid) {
  return absl::StrFormat("%s/%s%d", dir, kJournalPrefix, pid);
}

// Restores one journal file if it is an orphan. Nullopt when there is nothing to report: the
// file went away (its owner or guardian removed it, or another restorer finished it).
std::optional<OrphanedJournal> RestoreIfOrphaned(const std::string& path, pid_t named) {
  using Outcome = OrphanedJournal::Outcome;
  OrphanedJournal r;
  r.path = path;
  auto left = [&r](Outcome outcome, std::string message) {
    r.outcome = outcome;
    r.message = std::move(message);
    return r;
  };
  const int raw_fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (raw_fd < 0) {
    if (errno == ENOENT) return std::nullopt;
    if (errno == ELOOP) return left(Outcome::kMalformed, "a symbolic link, not a journal");
    return left(Outcome::kError, absl::StrFormat("open: %s", std::strerror(errno)));
  }
  struct Closer {
    int fd;
    ~Closer() { close(fd); }
  } fd{raw_fd};
  struct stat st;
  if (fstat(fd.fd, &st) != 0) {
    return left(Outcome::kError, absl::StrFormat("fstat: %s", std::strerror(errno)));
  }
  // Whoever could write it could make root set any thread's policy: only our own files count.
  if (!S_ISREG(st.st_mode)) return left(Outcome::kMalformed, "not a regular file");
  if (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return left(Outcome::kMalformed,
                absl::StrFormat("owned by uid %d with mode %03o: not a journal this user wrote",
                                st.st_uid, st.st_mode & 0777));
  }
  // One restorer at a time; a file unlinked while we waited for the lock is done.
  if (flock(fd.fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) return left(Outcome::kBusy, "");
    return left(Outcome::kError, absl::StrFormat("flock: %s", std::strerror(errno)));
  }
  if (fstat(fd.fd, &st) != 0 || st.st_nlink == 0) return std::nullopt;

  const auto size = static_cast<uint64_t>(st.st_size);
  RestoreJournalHeader h;
  if (size < sizeof(h)) {
    return left(Outcome::kMalformed, absl::StrFormat("too short (%d bytes)", size));
  }
  if (!ReadAt(fd.fd, &h, sizeof(h), 0)) {
    return left(Outcome::kError, absl::StrFormat("read: %s", std::strerror(errno)));
  }
  if (h.magic != kJournalMagic) {
    return left(Outcome::kMalformed, absl::StrFormat("not a wave journal (magic 0x%08x)", h.magic));
  }
  if (h.version != kJournalVersion) {
    return left(Outcome::kMalformed, absl::StrFormat("journal version %u, this wave reads %u",
                                                     h.version, kJournalVersion));
  }
  if (h.entry_bytes != sizeof(JournalEntry)) {
    return left(Outcome::kMalformed, absl::StrFormat("entries of %u bytes, this wave's have %u",
                                                     h.entry_bytes, sizeof(JournalEntry)));
  }
  if (h.capacity == 0 || h.capacity > kJournalMaxCapacity) {
    return left(Outcome::kMalformed, absl::StrFormat("capacity %u out of range", h.capacity));
  }
  const uint64_t want = sizeof(h) + uint64_t{h.capacity} * sizeof(JournalEntry);
  if (size != want) {
    return left(Outcome::kMalformed, absl::StrFormat("%d bytes, its header says %d", size, want));
  }
  if (h.owner_pid != named) {
    return left(Outcome::kMalformed, absl::StrFormat("its header names owner %d", h.owner_pid));
  }
  r.owner = h.owner_pid;
  if (h.pid_namespace != PidNamespace()) return left(Outcome::kOtherNamespace, "");
  if (Running(h.owner_pid, h.owner_starttime)) {
    r.pid = h.owner_pid;
    return left(Outcome::kOwnerRunning, "");
  }
  if (Running(h.guardian_pid, h.guardian_starttime)) {
    r.pid = h.guardian_pid;
    return left(Outcome::kGuardianRunning, "");
  }

  std::vector<JournalEntry> entries(h.capacity);
  const size_t bytes = entries.size() * sizeof(JournalEntry);
  if (!ReadAt(fd.fd, entries.data(), bytes, sizeof(h))) {
    return left(Outcome::kError, absl::StrFormat("read: %s", std::strerror(errno)));
  }
  // All entries checked before any is acted on: a corrupt one means the file is not what wave
  // wrote, and nothing in it is to be trusted.
  for (uint32_t i = 0; i < h.capacity; ++i) {
    const JournalEntry& e = entries[i];
    const uint32_t state = e.state.load(std::memory_order_relaxed);
    if (state == kFree) continue;
    if (state != kLive || e.tid <= 0 || (e.changed & ~(kChangedMask | kChangedAttr)) != 0) {
      return left(Outcome::kMalformed, absl::StrFormat("entry %u is corrupt", i));
    }
  }
  for (const JournalEntry& e : entries) {
    if (e.state.load(std::memory_order_relaxed) == kLive && RestoreEntry(e)) ++r.restored;
  }
  if (unlink(path.c_str()) != 0 && errno != ENOENT) {
    return left(Outcome::kError,
                absl::StrFormat("restored %d, but unlink: %s", r.restored, std::strerror(errno)));
  }
  r.outcome = Outcome::kRestored;
  return r;
}

}  // namespace

absl::StatusOr<std::unique_ptr<RestoreJournal>> RestoreJournal::Create(uint32_t capacity,
                                                                       const std::string& dir) {
  if (capacity == 0 || capacity > kJournalMaxCapacity) {
    return absl::InvalidArgumentError(absl::StrFormat("restore journal of %u entries", capacity));
  }
  const pid_t self = getpid();
  std::optional<ThreadStat> me = ReadThreadStat(self);
  if (!me) return Errno("reading /proc/self/stat");
  const std::string path = JournalPath(dir, self);
  // Written under another name and linked into place whole: a scan never sees half a header.
  // One left by an earlier process with this pid died before it held any entry.
  const std::string tmp = path + ".new";
  unlink(tmp.c_str());
  absl::StatusOr<SharedRegion> region = SharedRegion::CreateFile(
      tmp, sizeof(RestoreJournalHeader) + size_t{capacity} * sizeof(Entry));
  if (!region.ok()) return region.status();
  std::unique_ptr<RestoreJournal> j(new RestoreJournal());
  j->region_ = *std::move(region);
  j->header_ = static_cast<RestoreJournalHeader*>(j->region_.data());  // zero-filled
  j->entries_ = reinterpret_cast<Entry*>(j->header_ + 1);              // every entry kFree
  j->capacity_ = capacity;
  RestoreJournalHeader& h = *j->header_;
  h.version = kJournalVersion;
  h.capacity = capacity;
  h.entry_bytes = sizeof(Entry);
  h.owner_pid = self;
  h.owner_starttime = me->starttime;
  h.pid_namespace = PidNamespace();
  __atomic_store_n(&h.magic, kJournalMagic, __ATOMIC_RELEASE);
  int linked = link(tmp.c_str(), path.c_str());
  if (linked != 0 && errno == EEXIST) {
    // Left by an earlier process with this pid: restore it if it is an orphan, then take its
    // place.
    std::optional<OrphanedJournal> old = RestoreIfOrphaned(path, self);
    if (old && old->outcome != OrphanedJournal::Outcome::kRestored) {
      unlink(tmp.c_str());
      return absl::FailedPreconditionError(
          absl::StrFormat("cannot create the restore journal: %s", FormatOrphanedJournal(*old)));
    }
    linked = link(tmp.c_str(), path.c_str());
  }
  if (linked != 0) {
    absl::Status s = Errno(absl::StrFormat("link %s", path));
    unlink(tmp.c_str());
    return s;
  }
  unlink(tmp.c_str());
  j->path_ = path;
  return j;
}

RestoreJournal::~RestoreJournal() {
  StopGuardian();
  if (entries_ == nullptr) return;
  for (uint32_t i = 0; i < capacity_; ++i) {
    // Something left to restore: the file stays, for `wave restore`.
    if (entries_[i].state.load(std::memory_order_acquire) == kLive) return;
  }
  unlink(path_.c_str());
}

absl::Status RestoreJournal::StartGuardian(const std::string& remove_on_exit) {
  if (guardian_pid_ > 0) return absl::OkStatus();
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrFormat("pipe: %s", std::strerror(errno)));
  }
  const pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return absl::InternalError(absl::StrFormat("fork (guardian): %s", std::strerror(errno)));
  }
  if (pid == 0) {
    // The guardian: out of the terminal's process group, deaf to the signals meant for wave or
    // its command, it waits for its parent's end of the pipe to close.
    close(fds[1]);
    setpgid(0, 0);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE}) signal(sig, SIG_IGN);
    char byte;
    for (;;) {
      const ssize_t n = read(fds[0], &byte, 1);
      if (n == 0 || (n < 0 && errno != EINTR)) break;
    }
    RestoreAll();
    unlink(path_.c_str());
    if (!remove_on_exit.empty()) unlink(remove_on_exit.c_str());
    _exit(0);
  }
  close(fds[0]);
  guardian_pid_ = pid;
  guardian_pipe_ = fds[1];
  // Its identity, for a later `wave restore` to tell whether it still runs: the start time
  // before the pid, so that a reader that sees the pid sees its start time too.
  std::optional<ThreadStat> st = ReadThreadStat(pid);
  header_->guardian_starttime = st ? st->starttime : 0;
  __atomic_store_n(&header_->guardian_pid, pid, __ATOMIC_RELEASE);
  return absl::OkStatus();
}

void RestoreJournal::StopGuardian() {
  if (guardian_pipe_ >= 0) close(guardian_pipe_);
  guardian_pipe_ = -1;
  if (guardian_pid_ > 0) {
    while (waitpid(guardian_pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  guardian_pid_ = -1;
}

RestoreJournal::Entry* RestoreJournal::Slot(pid_t tid) const {
  auto it = index_.find(tid);
  return it == index_.end() ? nullptr : &entries_[it->second];
}

RestoreJournal::Entry* RestoreJournal::FreeSlot() {
  for (uint32_t i = 0; i < capacity_; ++i) {
    if (entries_[i].state.load(std::memory_order_relaxed) == kFree) return &entries_[i];
  }
  return nullptr;
}

bool RestoreJournal::Track(pid_t tid) {
  if (Tracked(tid)) return true;
  Entry* e = FreeSlot();
  if (e == nullptr) return false;
  std::optional<ThreadStat> st = ReadThreadStat(tid);
  ThreadSettings now;
  if (!st || !ReadThreadSettings(tid, &now)) return false;
  e->changed = 0;
  e->tid = tid;
  e->starttime = st->starttime;
  e->original_mask = now.mask;
  e->applied_mask = now.mask;
  e->original_attr = now.attr;
  e->applied_attr = now.attr;
  e->state.store(kLive, std::memory_order_release);
  index_[tid] = static_cast<uint32_t>(e - entries_);
  return true;
}

bool RestoreJournal::Inherit(pid_t tid, pid_t creator) {
  const Entry* parent = Slot(creator);
  if (parent == nullptr || parent->changed == 0) return false;
  if (!Track(tid)) return false;
  Entry* e = Slot(tid);
  // What it has now came from its creator, who had wave's settings; its own original is the
  // creator's.
  e->original_mask = parent->original_mask;
  e->original_attr = parent->original_attr;
  e->changed = parent->changed;
  return true;
}

void RestoreJournal::WillSetAffinity(pid_t tid, const cpu_set_t& mask) {
  Entry* e = Slot(tid);
  if (e == nullptr) return;
  e->applied_mask = mask;
  e->changed |= kChangedMask;
  std::atomic_thread_fence(std::memory_order_release);
}

void RestoreJournal::WillSetAttr(pid_t tid, const sched_attr& attr) {
  Entry* e = Slot(tid);
  if (e == nullptr) return;
  e->applied_attr = attr;
  e->changed |= kChangedAttr;
  std::atomic_thread_fence(std::memory_order_release);
}

const cpu_set_t* RestoreJournal::AppliedMask(pid_t tid) const {
  const Entry* e = Slot(tid);
  return e == nullptr || (e->changed & kChangedMask) == 0 ? nullptr : &e->applied_mask;
}

const sched_attr* RestoreJournal::OriginalAttr(pid_t tid) const {
  const Entry* e = Slot(tid);
  return e == nullptr ? nullptr : &e->original_attr;
}

const cpu_set_t* RestoreJournal::OriginalMask(pid_t tid) const {
  const Entry* e = Slot(tid);
  return e == nullptr ? nullptr : &e->original_mask;
}

bool RestoreJournal::AttrChanged(pid_t tid) const {
  const Entry* e = Slot(tid);
  return e != nullptr && (e->changed & kChangedAttr) != 0;
}

void RestoreJournal::Forget(pid_t tid) {
  auto it = index_.find(tid);
  if (it == index_.end()) return;
  entries_[it->second].state.store(kFree, std::memory_order_release);
  index_.erase(it);
}

int RestoreJournal::RestoreAll() {
  int restored = 0;
  for (uint32_t i = 0; i < capacity_; ++i) {
    Entry& e = entries_[i];
    if (e.state.load(std::memory_order_acquire) != kLive) continue;
    e.state.store(kFree, std::memory_order_relaxed);
    if (RestoreEntry(e)) ++restored;
  }
  index_.clear();
  return restored;
}

std::vector<OrphanedJournal> RestoreOrphanedJournals(const std::string& dir) {
  std::vector<OrphanedJournal> out;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) return out;
    OrphanedJournal r;
    r.path = dir;
    r.message = absl::StrFormat("cannot list: %s", std::strerror(errno));
    out.push_back(std::move(r));
    return out;
  }
  std::vector<pid_t> pids;
  const size_t plen = std::strlen(kJournalPrefix);
  while (dirent* e = readdir(d)) {
    if (std::strncmp(e->d_name, kJournalPrefix, plen) != 0) continue;
    const char* digits = e->d_name + plen;
    const size_t n = std::strlen(digits);
    if (n == 0 || n > 9 ||
        !std::all_of(digits, digits + n, [](char c) { return c >= '0' && c <= '9'; })) {
      continue;  // not ours (e.g. one still being written: wave-journal.<pid>.new)
    }
    const long pid = std::strtol(digits, nullptr, 10);
    if (pid > 0) pids.push_back(static_cast<pid_t>(pid));
  }
  closedir(d);
  std::sort(pids.begin(), pids.end());
  for (pid_t pid : pids) {
    std::optional<OrphanedJournal> r = RestoreIfOrphaned(JournalPath(dir, pid), pid);
    if (r) out.push_back(*std::move(r));
  }
  return out;
}

std::string FormatOrphanedJournal(const OrphanedJournal& j) {
  using Outcome = OrphanedJournal::Outcome;
  switch (j.outcome) {
    case Outcome::kRestored:
      return absl::StrFormat("restored %d thread%s from %s", j.restored, j.restored == 1 ? "" : "s",
                             j.path);
    case Outcome::kOwnerRunning:
      return absl::StrFormat("left %s: owner %d still running", j.path, j.pid);
    case Outcome::kGuardianRunning:
      return absl::StrFormat("left %s: its guardian %d still running (it restores them)", j.path,
                             j.pid);
    case Outcome::kBusy:
      return absl::StrFormat("left %s: another process is restoring it", j.path);
    case Outcome::kOtherNamespace:
      return absl::StrFormat("left %s: written in another pid namespace", j.path);
    case Outcome::kMalformed:
      return absl::StrFormat("%s: %s; left in place", j.path, j.message);
    case Outcome::kError:
      break;
  }
  return absl::StrFormat("%s: %s", j.path, j.message);
}

}  // namespace wave
