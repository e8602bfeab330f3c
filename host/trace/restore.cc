#include "host/trace/restore.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_format.h"

namespace wave {

namespace {
constexpr uint32_t kFree = 0;
constexpr uint32_t kLive = 1;
constexpr uint32_t kChangedMask = 1u << 0;
constexpr uint32_t kChangedAttr = 1u << 1;
}  // namespace

// One thread, in shared memory: plain data, no pointers. `state` is written last (release) when
// an entry goes live, so a reader that sees kLive sees a whole entry; the guardian reads only
// after its parent is gone, so nothing changes under it.
struct RestoreJournal::Entry {
  std::atomic<uint32_t> state;
  uint32_t changed;  // kChanged*
  pid_t tid;
  uint64_t starttime;
  cpu_set_t original_mask;
  cpu_set_t applied_mask;
  sched_attr original_attr;
  sched_attr applied_attr;
};

absl::StatusOr<std::unique_ptr<RestoreJournal>> RestoreJournal::Create(uint32_t capacity) {
  if (capacity == 0) return absl::InvalidArgumentError("restore journal of 0 entries");
  absl::StatusOr<SharedRegion> region = SharedRegion::CreateAnonymous(capacity * sizeof(Entry));
  if (!region.ok()) return region.status();
  std::unique_ptr<RestoreJournal> j(new RestoreJournal());
  j->region_ = *std::move(region);
  j->entries_ = static_cast<Entry*>(j->region_.data());  // zero-filled: every entry kFree
  j->capacity_ = capacity;
  return j;
}

RestoreJournal::~RestoreJournal() { StopGuardian(); }

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
    if (!remove_on_exit.empty()) unlink(remove_on_exit.c_str());
    _exit(0);
  }
  close(fds[0]);
  guardian_pid_ = pid;
  guardian_pipe_ = fds[1];
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
    // Still the same thread? A dead thread's tid may belong to someone else by now.
    std::optional<ThreadStat> st = ReadThreadStat(e.tid);
    ThreadSettings now;
    if (!st || st->starttime != e.starttime || !ReadThreadSettings(e.tid, &now)) continue;
    bool any = false;
    if ((e.changed & kChangedMask) && SameMask(now.mask, e.applied_mask) &&
        !SameMask(now.mask, e.original_mask)) {
      any |= sched_setaffinity(e.tid, sizeof(e.original_mask), &e.original_mask) == 0;
    }
    if ((e.changed & kChangedAttr) && SameAttr(now.attr, e.applied_attr) &&
        !SameAttr(now.attr, e.original_attr)) {
      sched_attr back = e.original_attr;
      // For the fair classes sched_getattr reports the current slice; setting it back would
      // make it a custom one. 0 asks for the default, which is what a thread has unless it
      // chose otherwise.
      if (back.sched_policy == SCHED_OTHER || back.sched_policy == SCHED_BATCH ||
          back.sched_policy == SCHED_IDLE) {
        back.sched_runtime = 0;
      }
      any |= SetSchedAttr(e.tid, back) == 0;
    }
    if (any) ++restored;
  }
  index_.clear();
  return restored;
}

}  // namespace wave
