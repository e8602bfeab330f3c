// The restore journal's file and RestoreOrphanedJournals: helper processes stand for the threads
// wave pins (a process's tid is its pid), and plain sched_setaffinity pins them; no BPF. Journals
// go to a temporary directory, never /dev/shm. Needs two cpus; skips otherwise.
#include "host/trace/restore.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "host/trace/proc.h"

namespace wave {
namespace {

using ::testing::HasSubstr;
using Outcome = OrphanedJournal::Outcome;

cpu_set_t MaskOf(pid_t pid) {
  cpu_set_t m;
  CPU_ZERO(&m);
  sched_getaffinity(pid, sizeof(m), &m);
  return m;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void WriteAll(const std::string& path, const std::string& bytes, mode_t mode = 0600) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  ASSERT_GE(fd, 0) << path;
  ASSERT_EQ(write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  fchmod(fd, mode);
  close(fd);
}

RestoreJournalHeader HeaderOf(const std::string& path) {
  RestoreJournalHeader h{};
  std::memcpy(&h, ReadAll(path).data(), sizeof(h));
  return h;
}

void PatchHeader(const std::string& path, const RestoreJournalHeader& h) {
  const int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0) << path;
  ASSERT_EQ(pwrite(fd, &h, sizeof(h), 0), static_cast<ssize_t>(sizeof(h)));
  close(fd);
}

bool Exists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

uint64_t StartTime(pid_t pid) { return ReadThreadStat(pid).value_or(ThreadStat{}).starttime; }

class RestoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    all_ = MaskOf(0);
    if (CPU_COUNT(&all_) < 2) GTEST_SKIP() << "needs two cpus";
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
      if (!CPU_ISSET(cpu, &all_)) continue;
      (first_ < 0 ? first_ : second_) = cpu;
      if (second_ >= 0) break;
    }
    const char* tmp = std::getenv("TEST_TMPDIR");
    std::string dir = std::string(tmp != nullptr ? tmp : "/tmp") + "/journalsXXXXXX";
    ASSERT_NE(mkdtemp(dir.data()), nullptr);
    dir_ = dir;
  }
  void TearDown() override {
    for (pid_t pid : helpers_) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
    for (pid_t pid : strays_) kill(pid, SIGKILL);  // not our children: a failed test's guardian
    if (dir_.empty()) return;
    if (DIR* d = opendir(dir_.c_str())) {
      while (dirent* e = readdir(d)) unlink((dir_ + "/" + e->d_name).c_str());
      closedir(d);
    }
    rmdir(dir_.c_str());
  }

  // A process that sleeps until the test ends: a thread wave could pin.
  pid_t Helper() {
    const pid_t pid = fork();
    if (pid == 0) {
      for (;;) pause();
    }
    helpers_.push_back(pid);
    return pid;
  }
  cpu_set_t On(int cpu) const {
    cpu_set_t m;
    CPU_ZERO(&m);
    CPU_SET(cpu, &m);
    return m;
  }
  // What the actuator does: journal, then change.
  void Pin(RestoreJournal& j, pid_t tid, int cpu) {
    const cpu_set_t m = On(cpu);
    ASSERT_TRUE(j.Track(tid));
    j.WillSetAffinity(tid, m);
    ASSERT_EQ(sched_setaffinity(tid, sizeof(m), &m), 0);
  }
  std::string PathOf(pid_t owner) const {
    return dir_ + "/" + kJournalPrefix + std::to_string(owner);
  }

  cpu_set_t all_;
  int first_ = -1;
  int second_ = -1;
  std::string dir_;
  std::vector<pid_t> helpers_;  // children, killed and reaped at the end
  std::vector<pid_t> strays_;   // other processes a test started, killed at the end if left
};

// wave and its guardian both killed: the journal outlives them, and the scan restores it by the
// guardian's rules, then removes it. While they run it is left alone.
TEST_F(RestoreTest, JournalOfAKilledOwnerAndGuardianIsRestored) {
  const pid_t pinned = Helper();
  const pid_t changed = Helper();  // the application changes it again itself: that change stays
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  const pid_t owner = fork();
  ASSERT_GE(owner, 0);
  if (owner == 0) {
    // The stand-in for `wave run`: no gtest here, a guardian pid of -1 says it failed.
    pid_t guardian = -1;
    absl::StatusOr<std::unique_ptr<RestoreJournal>> j = RestoreJournal::Create(8, dir_);
    if (j.ok() && (*j)->StartGuardian().ok()) {
      const cpu_set_t m = On(first_);
      bool ok = true;
      for (pid_t tid : {pinned, changed}) {
        ok = ok && (*j)->Track(tid);
        (*j)->WillSetAffinity(tid, m);
        ok = ok && sched_setaffinity(tid, sizeof(m), &m) == 0;
      }
      if (ok) guardian = (*j)->guardian_pid();
    }
    [[maybe_unused]] ssize_t n = write(pipe_fds[1], &guardian, sizeof(guardian));
    for (;;) pause();
  }
  close(pipe_fds[1]);
  helpers_.push_back(owner);  // until the test kills it: a failed assertion must not leave it
  pid_t guardian = -1;
  ASSERT_EQ(read(pipe_fds[0], &guardian, sizeof(guardian)), static_cast<ssize_t>(sizeof(guardian)));
  close(pipe_fds[0]);
  if (guardian > 0) strays_.push_back(guardian);
  const int guardian_fd = static_cast<int>(syscall(SYS_pidfd_open, guardian, 0));
  auto kill_owner = [this, owner] {
    kill(owner, SIGKILL);
    waitpid(owner, nullptr, 0);
    helpers_.erase(std::find(helpers_.begin(), helpers_.end(), owner));
  };
  if (guardian <= 0 || guardian_fd < 0) kill_owner();
  ASSERT_GT(guardian, 0);
  ASSERT_GE(guardian_fd, 0);

  // The file and its header.
  const std::string path = PathOf(owner);
  ASSERT_TRUE(Exists(path));
  const RestoreJournalHeader h = HeaderOf(path);
  EXPECT_EQ(h.magic, kJournalMagic);
  EXPECT_EQ(h.version, kJournalVersion);
  EXPECT_EQ(h.capacity, 8u);
  EXPECT_EQ(ReadAll(path).size(), sizeof(h) + size_t{8} * h.entry_bytes);
  EXPECT_EQ(h.owner_pid, owner);
  EXPECT_EQ(h.owner_starttime, StartTime(owner));
  EXPECT_EQ(h.guardian_pid, guardian);
  EXPECT_EQ(h.guardian_starttime, StartTime(guardian));

  // Both running: left alone.
  std::vector<OrphanedJournal> r = RestoreOrphanedJournals(dir_);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].outcome, Outcome::kOwnerRunning);
  EXPECT_EQ(r[0].pid, owner);
  EXPECT_EQ(FormatOrphanedJournal(r[0]),
            "left " + path + ": owner " + std::to_string(owner) + " still running");
  const cpu_set_t first = On(first_);
  cpu_set_t now = MaskOf(pinned);
  EXPECT_TRUE(CPU_EQUAL(&first, &now));

  const cpu_set_t second = On(second_);
  ASSERT_EQ(sched_setaffinity(changed, sizeof(second), &second), 0);
  // The guardian first: killed before its pipe closes, it never restores.
  kill(guardian, SIGKILL);
  kill_owner();
  pollfd pfd{.fd = guardian_fd, .events = POLLIN, .revents = 0};
  ASSERT_EQ(poll(&pfd, 1, 60'000), 1);  // a deadline, not a timing assertion
  close(guardian_fd);
  now = MaskOf(pinned);
  EXPECT_TRUE(CPU_EQUAL(&first, &now));  // nobody restored it

  r = RestoreOrphanedJournals(dir_);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].outcome, Outcome::kRestored) << FormatOrphanedJournal(r[0]);
  EXPECT_EQ(r[0].owner, owner);
  EXPECT_EQ(r[0].restored, 1);
  EXPECT_EQ(FormatOrphanedJournal(r[0]), "restored 1 thread from " + path);
  now = MaskOf(pinned);
  EXPECT_TRUE(CPU_EQUAL(&all_, &now));
  now = MaskOf(changed);
  EXPECT_TRUE(CPU_EQUAL(&second, &now));
  EXPECT_FALSE(Exists(path));
  EXPECT_TRUE(RestoreOrphanedJournals(dir_).empty());
}

// Alive means the same process: a pid now naming another one (its start time differs) is gone.
// A running guardian keeps the journal its own.
TEST_F(RestoreTest, OwnerAndGuardianAreTheSameProcessOrGone) {
  const pid_t pinned = Helper();
  absl::StatusOr<std::unique_ptr<RestoreJournal>> j = RestoreJournal::Create(8, dir_);
  ASSERT_TRUE(j.ok()) << j.status();
  const std::string path = PathOf(getpid());
  EXPECT_EQ((*j)->path(), path);
  Pin(**j, pinned, first_);
  // One journal per process and directory.
  absl::StatusOr<std::unique_ptr<RestoreJournal>> again = RestoreJournal::Create(8, dir_);
  ASSERT_FALSE(again.ok());
  EXPECT_THAT(again.status().message(), HasSubstr("still running"));

  RestoreJournalHeader h = HeaderOf(path);
  h.owner_starttime += 1;  // this pid, another process
  h.guardian_pid = getpid();
  h.guardian_starttime = StartTime(getpid());
  PatchHeader(path, h);
  std::vector<OrphanedJournal> r = RestoreOrphanedJournals(dir_);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].outcome, Outcome::kGuardianRunning);
  EXPECT_EQ(r[0].pid, getpid());
  const cpu_set_t first = On(first_);
  cpu_set_t now = MaskOf(pinned);
  EXPECT_TRUE(CPU_EQUAL(&first, &now));

  // The guardian gone too: a new journal of this pid restores the old one and takes its place.
  h.guardian_starttime += 1;
  PatchHeader(path, h);
  j->reset();  // something still live in it: the file stays
  ASSERT_TRUE(Exists(path));
  j = RestoreJournal::Create(8, dir_);
  ASSERT_TRUE(j.ok()) << j.status();
  now = MaskOf(pinned);
  EXPECT_TRUE(CPU_EQUAL(&all_, &now));
  EXPECT_EQ((*j)->header().owner_starttime, StartTime(getpid()));
  EXPECT_EQ((*j)->RestoreAll(), 0);
  j->reset();  // nothing left: the file goes
  EXPECT_FALSE(Exists(path));
}

// Files that are not journals this wave wrote: reported with the reason, left in place, never
// acted on. Names that are not wave-journal.<pid> are not looked at.
TEST_F(RestoreTest, MalformedFilesAreReportedAndLeft) {
  std::string journal;
  {
    absl::StatusOr<std::unique_ptr<RestoreJournal>> j = RestoreJournal::Create(8, dir_);
    ASSERT_TRUE(j.ok()) << j.status();
    journal = ReadAll((*j)->path());
  }
  ASSERT_FALSE(Exists(PathOf(getpid())));
  auto with_header = [&journal](pid_t owner, auto change) {
    std::string bytes = journal;
    RestoreJournalHeader h;
    std::memcpy(&h, bytes.data(), sizeof(h));
    h.owner_pid = owner;
    h.owner_starttime = 1;  // not running
    change(h, bytes);
    std::memcpy(bytes.data(), &h, sizeof(h));
    return bytes;
  };
  auto same = [](RestoreJournalHeader&, std::string&) {};
  WriteAll(PathOf(1001), "short");
  WriteAll(PathOf(1002), std::string(journal.size(), 'x'));
  WriteAll(PathOf(1003),
           with_header(1003, [](RestoreJournalHeader& h, std::string&) { h.version = 99; }));
  WriteAll(PathOf(1004), with_header(1004, [](RestoreJournalHeader&, std::string& b) {
             b.resize(b.size() - 100);
           }));
  WriteAll(PathOf(1005), with_header(1006, same));
  WriteAll(PathOf(1006), with_header(1006, same), 0660);
  WriteAll(PathOf(1007), with_header(1007, [](RestoreJournalHeader&, std::string& b) {
             b[sizeof(RestoreJournalHeader)] = 7;  // the first entry's state
           }));
  ASSERT_EQ(symlink(PathOf(1005).c_str(), PathOf(1008).c_str()), 0);
  for (const char* ignored : {"wave-journal.", "wave-journal.12.new", "wave-journal.x"}) {
    WriteAll(dir_ + "/" + ignored, "junk");
  }

  const std::vector<OrphanedJournal> r = RestoreOrphanedJournals(dir_);
  const std::vector<std::string> why = {
      "too short (5 bytes)",         "not a wave journal (magic 0x78787878)",
      "journal version 99",          "its header says",
      "its header names owner 1006", "with mode 660: not a journal this user wrote",
      "entry 0 is corrupt",          "a symbolic link"};
  ASSERT_EQ(r.size(), why.size());
  for (size_t i = 0; i < r.size(); ++i) {
    const std::string path = PathOf(1001 + static_cast<pid_t>(i));
    EXPECT_EQ(r[i].path, path);
    EXPECT_EQ(r[i].outcome, Outcome::kMalformed) << FormatOrphanedJournal(r[i]);
    EXPECT_THAT(FormatOrphanedJournal(r[i]), HasSubstr(why[i]));
    EXPECT_THAT(FormatOrphanedJournal(r[i]), HasSubstr("; left in place"));
    EXPECT_EQ(FormatOrphanedJournal(r[i]).find('\n'), std::string::npos);
    struct stat st;
    EXPECT_EQ(lstat(path.c_str(), &st), 0) << path;
  }
}

}  // namespace
}  // namespace wave
