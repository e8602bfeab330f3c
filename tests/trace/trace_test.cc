// End-to-end tests of the trace mechanism on this machine's kernel: real BPF programs, real
// threads, the real agent and policies (RunTraced, as `wave run` does it). They need root (or
// CAP_BPF + CAP_PERFMON) and BTF; without them they print WAVE_SKIP: and skip. They assert
// counts and placements, never durations.
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "host/trace/cgroup.h"
#include "host/trace/loader.h"
#include "host/trace/proc.h"
#include "host/trace/run.h"
#include "host/trace/stats.h"
#include "lib/sched/events.h"
#include "lib/sched/policy.h"
#include "policies/sched/pin.h"

namespace wave {
namespace {

// Records every task event the agent hands the policy, and checks each task's events are a
// possible life: woken only when blocked, on a cpu only when runnable, off it only from on it.
// Never commits.
class RecordingPolicy : public Policy {
 public:
  std::string name() const override { return "recording"; }
  void OnTaskNew(Task& t, const TaskNew& e) override {
    Count(t, WAVE_EV_TASK_NEW, e);
    state_[t.id()] = t.state();  // runnable, or running if first seen on a cpu
  }
  void OnTaskWakeup(Task& t, const TaskWakeup& e) override {
    Step(t, WAVE_EV_TASK_WAKEUP, e, TaskState::kBlocked, TaskState::kRunnable);
  }
  void OnTaskBlocked(Task& t, const TaskBlocked& e) override {
    Step(t, WAVE_EV_TASK_BLOCKED, e, TaskState::kOnCpu, TaskState::kBlocked);
  }
  void OnTaskPreempted(Task& t, const TaskPreempted& e) override {
    Step(t, WAVE_EV_TASK_PREEMPTED, e, TaskState::kOnCpu, TaskState::kRunnable);
  }
  void OnTaskYield(Task& t, const TaskYield& e) override {
    Step(t, WAVE_EV_TASK_YIELD, e, TaskState::kOnCpu, TaskState::kRunnable);
  }
  void OnTaskDead(Task& t, const TaskDead& e) override { Count(t, WAVE_EV_TASK_DEAD, e); }
  void OnTaskAffinity(Task& t, const TaskAffinity& e) override {
    Count(t, WAVE_EV_TASK_AFFINITY, e);
  }
  void OnTaskOnCpu(Task& t, const TaskOnCpu& e) override {
    Step(t, WAVE_EV_TASK_ON_CPU, e, TaskState::kRunnable, TaskState::kOnCpu);
  }
  void OnCommitFailed(Task&, const CommitResult&) override {}
  void Schedule(CpuTable&, Txn&) override {}

  // Events of each type for task `tid`.
  uint64_t Of(uint64_t tid, uint16_t type) const {
    auto it = counts_.find({tid, type});
    return it == counts_.end() ? 0 : it->second;
  }
  // Events that went against the task's state, as "TYPE@SEQ in STATE; ...", empty if none.
  std::string Impossible(uint64_t tid) const {
    auto it = impossible_.find(tid);
    return it == impossible_.end() ? "" : it->second;
  }
  uint64_t inferred() const { return inferred_; }
  // The task's events in order, as "TYPE@SEQ ...", to show what a failed count missed; an
  // inferred one is marked "~".
  std::string Log(uint64_t tid) const {
    auto it = logs_.find(tid);
    return it == logs_.end() ? "" : it->second;
  }
  std::set<uint64_t> Tasks() const {
    std::set<uint64_t> ids;
    for (const auto& [key, n] : counts_) ids.insert(key.first);
    return ids;
  }

 private:
  void Count(const Task& t, uint16_t type, const TaskEvent& e) {
    ++counts_[{t.id(), type}];
    std::string& log = logs_[t.id()];
    log += log.empty() ? "" : " ";
    log += std::string(e.inferred() ? "~" : "") + MsgTypeName(type) + "@" + std::to_string(t.seq());
    if (e.inferred()) ++inferred_;
  }
  void Step(const Task& t, uint16_t type, const TaskEvent& e, TaskState from, TaskState to) {
    Count(t, type, e);
    TaskState& s = state_[t.id()];
    if (s != from) {
      impossible_[t.id()] += std::string(MsgTypeName(type)) + "@" + std::to_string(t.seq()) +
                             " in " + TaskStateName(s) + "; ";
    }
    s = to;
  }
  std::map<std::pair<uint64_t, uint16_t>, uint64_t> counts_;
  std::map<uint64_t, std::string> logs_;
  std::map<uint64_t, TaskState> state_;
  std::map<uint64_t, std::string> impossible_;
  uint64_t inferred_ = 0;
};

std::string Workload() {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  return std::string(srcdir != nullptr ? srcdir : ".") + "/libwave/tests/trace/workload";
}

std::string TmpPath(const std::string& name) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  return std::string(tmp != nullptr ? tmp : "/tmp") + "/" + name;
}

struct Report {
  std::vector<std::pair<pid_t, long>> workers;  // tid, voluntary context switches
  pid_t main = 0;
  long workers_nvcsw = -1;  // `workload sleep`: the workers' blocks over their whole lives
};

Report ReadReport(const std::string& path) {
  Report r;
  std::ifstream in(path);
  std::string word;
  while (in >> word) {
    if (word == "worker") {
      pid_t tid = 0;
      long nvcsw = 0;
      in >> tid;
      if (in.peek() == ' ') in >> nvcsw;
      r.workers.emplace_back(tid, nvcsw);
    } else if (word == "main") {
      in >> r.main;
    } else if (word == "workers_nvcsw") {
      in >> r.workers_nvcsw;
    }
  }
  return r;
}

class TraceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::Status s = CheckTraceSupport();
    if (!s.ok()) {
      std::printf("WAVE_SKIP: %s\n", std::string(s.message()).c_str());
      GTEST_SKIP() << s.message();
    }
  }
  static RunConfig Config(std::vector<std::string> command) {
    RunConfig c;
    c.command = std::move(command);
    c.publish_stats = false;
    return c;
  }
};

// Runs `workload sleep` (4 threads x 50 sleeps) managed, with the programs blind to
// `blind_tgid` (0: none), and checks that the agent heard exactly what the kernel counted: a
// wakeup for each of the workers' blocks, each task's events a possible life, nothing dropped.
// Returns the events that were inferred.
uint64_t ExpectExactCounts(pid_t blind_tgid) {
  constexpr int kThreads = 4;
  constexpr int kCycles = 50;
  const std::string out = TmpPath("sleep.out");
  std::remove(out.c_str());
  RecordingPolicy rec;
  RunConfig config;
  config.command = {Workload(), "sleep", std::to_string(kThreads), std::to_string(kCycles), out};
  config.publish_stats = false;
  config.blind_tgid = blind_tgid;
  absl::StatusOr<RunResult> r = RunTraced(config, rec);
  EXPECT_TRUE(r.ok()) << r.status();
  if (!r.ok()) return 0;
  EXPECT_TRUE(r->child_exited);
  EXPECT_EQ(r->exit_code, 0);
  const Report rep = ReadReport(out);
  EXPECT_EQ(rep.workers.size(), static_cast<size_t>(kThreads));
  EXPECT_EQ(rep.main, r->child);

  uint64_t wakeups = 0;
  uint64_t blocks = 0;
  SCOPED_TRACE(testing::Message() << FormatTraceStats(r->stats) << "agent: stale events "
                                  << r->agent.stale_events << ", unknown task "
                                  << r->agent.unknown_task);
  for (const auto& [tid, nvcsw] : rep.workers) {
    SCOPED_TRACE(testing::Message() << "worker " << tid << ": " << rec.Log(tid));
    // Each sleep blocks at least once; every block is paired with its wakeup.
    EXPECT_GE(nvcsw, kCycles);
    EXPECT_EQ(rec.Of(tid, WAVE_EV_TASK_NEW), 1u);
    EXPECT_GE(rec.Of(tid, WAVE_EV_TASK_WAKEUP), static_cast<uint64_t>(nvcsw));
    EXPECT_EQ(rec.Of(tid, WAVE_EV_TASK_WAKEUP), rec.Of(tid, WAVE_EV_TASK_BLOCKED));
    EXPECT_EQ(rec.Of(tid, WAVE_EV_TASK_DEAD), 1u);
    EXPECT_EQ(rec.Impossible(tid), "");
    wakeups += rec.Of(tid, WAVE_EV_TASK_WAKEUP);
    blocks += rec.Of(tid, WAVE_EV_TASK_BLOCKED);
  }
  // The kernel's own count of the workers' blocks, their exit paths included. Blocks after
  // TASK_DEAD are not reported, only counted (for every managed task, the main thread's too):
  // without any, the count is exact.
  EXPECT_GE(rep.workers_nvcsw, kThreads * kCycles);
  EXPECT_LE(blocks, static_cast<uint64_t>(rep.workers_nvcsw));
  EXPECT_LE(static_cast<uint64_t>(rep.workers_nvcsw), blocks + r->stats.exit_blocks);
  EXPECT_EQ(wakeups, blocks);
  // The main thread exits too. (Other managed tasks may exist: a sanitizer's helper process, a
  // child of the managed one, is managed as well.)
  EXPECT_EQ(rec.Of(rep.main, WAVE_EV_TASK_NEW), 1u);
  EXPECT_EQ(rec.Of(rep.main, WAVE_EV_TASK_DEAD), 1u);
  EXPECT_EQ(rec.Impossible(rep.main), "");

  EXPECT_EQ(r->stats.kernel_dropped, 0u);
  EXPECT_EQ(r->stats.task_table_full, 0u);
  EXPECT_EQ(r->stats.records, r->stats.kernel_emitted);
  EXPECT_EQ(r->stats.malformed_records, 0u);
  EXPECT_EQ(r->agent.malformed, 0u);
  EXPECT_EQ(r->agent.unknown_task, 0u);
  EXPECT_EQ(r->agent.stale_events, 0u);
  // Every inferred event the kernel side counted reached the agent flagged as such.
  EXPECT_EQ(rec.inferred(), r->stats.inferred);
  return rec.inferred();
}

TEST_F(TraceTest, KnownWorkloadGivesExactCounts) {
  // Inferred events may appear here too: a kernel can skip a program run (see trace.bpf.c).
  ExpectExactCounts(0);
}

// An unmanaged process of N spinning threads (`workload spin`), stopped at the end.
struct Spinners {
  pid_t pid = -1;
  std::string stop;
  std::vector<pid_t> tids;
  void Stop() {
    if (pid <= 0) return;
    std::ofstream(stop) << "stop\n";
    waitpid(pid, nullptr, 0);
    pid = -1;
  }
  ~Spinners() { Stop(); }
};

void StartSpinners(int n, const std::string& name, Spinners* s) {
  const std::string out = TmpPath(name + ".out");
  s->stop = TmpPath(name + ".stop");
  std::remove(out.c_str());
  std::remove(s->stop.c_str());
  const std::string workload = Workload();
  s->pid = fork();
  ASSERT_GE(s->pid, 0);
  if (s->pid == 0) {
    execl(workload.c_str(), workload.c_str(), "spin", std::to_string(n).c_str(), s->stop.c_str(),
          out.c_str(), nullptr);
    _exit(127);
  }
  for (int i = 0; i < 6000 && ReadReport(out).workers.size() != static_cast<size_t>(n); ++i) {
    usleep(10'000);
  }
  for (const auto& w : ReadReport(out).workers) s->tids.push_back(w.first);
  ASSERT_EQ(s->tids.size(), static_cast<size_t>(n));
}

TEST_F(TraceTest, MissedProgramRunsAreInferred) {
  // Unmanaged spinners keep the cpus busy, and the programs are blind while they are current:
  // a worker's wakeup from the timer interrupt that lands on a spinner, and the switch from the
  // spinner to the worker, are never seen. The counts must come out exact regardless. Under
  // other load the spinners may not be current when it matters: each attempt checks the counts,
  // and up to 5 are made until one hides some event.
  // Two spinners per cpu, so that one is current nearly everywhere, nearly always.
  const int spinners = std::max(4, 2 * AllowedCpus().Count());
  Spinners blinders;
  StartSpinners(spinners, "blind", &blinders);
  uint64_t inferred = 0;
  for (int attempt = 0; attempt < 5 && inferred == 0 && !HasFailure(); ++attempt) {
    inferred = ExpectExactCounts(blinders.pid);
  }
  EXPECT_GT(inferred, 0u) << "the spinners never hid an event: nothing was tested";
}

TEST_F(TraceTest, SchedYieldIsReportedAsYield) {
  // Two threads on one cpu, each yielding 200 times: most yields switch to the other thread.
  constexpr int kCalls = 200;
  const std::string out = TmpPath("yield.out");
  RecordingPolicy rec;
  RunConfig config = Config({Workload(), "yield", "2", std::to_string(kCalls), out});
  config.yields = YieldEvents::kSyscalls;  // kprobes where the kernel has them
  absl::StatusOr<RunResult> r = RunTraced(config, rec);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, 0);
  const Report rep = ReadReport(out);
  ASSERT_EQ(rep.workers.size(), 2u);
  SCOPED_TRACE(FormatTraceStats(r->stats));
  EXPECT_NE(r->stats.yield_source, static_cast<uint64_t>(YieldSource::kNone));
  for (const auto& [tid, unused] : rep.workers) {
    SCOPED_TRACE(testing::Message() << "worker " << tid << ": " << rec.Log(tid));
    // A yield with nothing else to run there does not switch, and makes no event.
    EXPECT_GE(rec.Of(tid, WAVE_EV_TASK_YIELD), 1u);
    EXPECT_LE(rec.Of(tid, WAVE_EV_TASK_YIELD), static_cast<uint64_t>(kCalls));
    EXPECT_EQ(rec.Impossible(tid), "");
  }
}

TEST_F(TraceTest, WithYieldEventsOffAYieldIsAPreemption) {
  const std::string out = TmpPath("yield.out");
  RecordingPolicy rec;
  RunConfig config = Config({Workload(), "yield", "2", "50", out});
  config.yields = YieldEvents::kOff;
  absl::StatusOr<RunResult> r = RunTraced(config, rec);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->stats.yield_source, static_cast<uint64_t>(YieldSource::kNone));
  EXPECT_EQ(r->stats.events_by_type[WAVE_EV_TASK_YIELD], 0u);
  EXPECT_GT(r->stats.events_by_type[WAVE_EV_TASK_PREEMPTED], 0u);
}

TEST_F(TraceTest, UnmanagedTasksProduceNoEvents) {
  // The same workload, started by the test itself and not managed, runs alongside.
  const std::string other_out = TmpPath("unmanaged.out");
  const std::string workload = Workload();
  const pid_t other = fork();
  ASSERT_GE(other, 0);
  if (other == 0) {
    execl(workload.c_str(), workload.c_str(), "sleep", "3", "200", other_out.c_str(), nullptr);
    _exit(127);
  }
  const std::string out = TmpPath("managed.out");
  RecordingPolicy rec;
  absl::StatusOr<RunResult> r = RunTraced(Config({workload, "sleep", "2", "100", out}), rec);
  int status = 0;
  ASSERT_EQ(waitpid(other, &status, 0), other);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

  const Report managed = ReadReport(out);
  const Report unmanaged = ReadReport(other_out);
  ASSERT_EQ(unmanaged.workers.size(), 3u);
  std::set<uint64_t> managed_ids = {static_cast<uint64_t>(managed.main)};
  for (const auto& w : managed.workers) managed_ids.insert(w.first);
  // The agent heard of every managed thread, and of none of the unmanaged process's, nor of this
  // process (whose threads run wave's host and agent). (Under a sanitizer the managed process has
  // a helper child, managed too.)
  for (uint64_t id : managed_ids) EXPECT_EQ(rec.Tasks().count(id), 1u) << id;
  EXPECT_EQ(rec.Tasks().count(other), 0u);
  for (const auto& w : unmanaged.workers) EXPECT_EQ(rec.Tasks().count(w.first), 0u);
  EXPECT_EQ(rec.Tasks().count(getpid()), 0u);
  EXPECT_EQ(r->stats.kernel_dropped, 0u);
}

// The pin policy's home cpu for thread `tid` among the `managed` cpus.
int HomeOf(pid_t tid, const CpuSet& managed) {
  return PinPolicy::HomeCpu(tid, managed, static_cast<int>(sysconf(_SC_NPROCESSORS_CONF)));
}

// Whether thread `tid` may run on its home cpu only (its affinity, /proc/<tid>/status).
bool PinnedHome(pid_t tid, const CpuSet& managed) {
  ThreadSettings s;
  return ReadThreadSettings(tid, &s) && CPU_COUNT(&s.mask) == 1 &&
         CPU_ISSET(HomeOf(tid, managed), &s.mask);
}

// Runs `workload spin` under the pin policy in a thread; returns whether every worker ended up
// on its home cpu, with an affinity of that one cpu, before the deadline.
void ExpectPinned(const CpuSet& cpus) {
  const std::string out = TmpPath("spin.out");
  const std::string stop = TmpPath("spin.stop");
  std::remove(out.c_str());
  std::remove(stop.c_str());
  PinPolicy pin;
  RunConfig config;
  config.command = {Workload(), "spin", "4", stop, out};
  config.cpus = cpus;
  config.publish_stats = false;
  absl::StatusOr<RunResult> result = absl::UnknownError("not run");
  std::thread runner([&] { result = RunTraced(config, pin); });

  const CpuSet managed = !cpus.empty() ? cpus : AllowedCpus();
  std::map<pid_t, int> where;  // tid -> processor, when last seen pinned at home
  bool all_home = false;
  for (int i = 0; i < 6000 && !all_home; ++i) {  // a deadline, not a timing assertion
    usleep(10'000);
    const Report rep = ReadReport(out);
    if (rep.workers.size() != 4) continue;
    all_home = true;
    for (const auto& w : rep.workers) {
      std::optional<ThreadStat> st = ReadThreadStat(w.first);
      const bool pinned =
          PinnedHome(w.first, managed) && st && st->processor == HomeOf(w.first, managed);
      if (pinned) where[w.first] = st->processor;
      all_home = all_home && pinned;
    }
  }
  std::ofstream(stop) << "stop\n";
  runner.join();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(all_home) << "threads not all on their home cpus (/proc/<tid>/stat field 39)\n"
                        << FormatTraceStats(result->stats);
  for (const auto& [tid, cpu] : where) {
    EXPECT_EQ(cpu, HomeOf(tid, managed)) << "tid " << tid;
  }
  // Wave pinned them. (Not necessarily with one affinity each: a thread created by a pinned one
  // starts pinned, and with one managed cpu it is then already home.)
  EXPECT_GE(result->stats.affinity_set, 1u);
  EXPECT_GE(result->stats.commits[WAVE_COMMIT_OK], 1u);
  EXPECT_EQ(result->stats.kernel_dropped, 0u);
}

TEST_F(TraceTest, PinPolicyPlacesThreadsOnTheirCpus) { ExpectPinned(CpuSet()); }

TEST_F(TraceTest, PinPolicyKeepsToTheManagedCpus) {
  const CpuSet allowed = AllowedCpus();
  ExpectPinned(allowed.empty() ? CpuSet::Of({0}) : CpuSet::Of({allowed.Last()}));  // one cpu
}

TEST_F(TraceTest, CgroupTasksAreManaged) {
  absl::StatusOr<std::string> root = CgroupV2Root();
  if (!root.ok()) {
    std::printf("WAVE_SKIP: %s\n", std::string(root.status().message()).c_str());
    GTEST_SKIP() << root.status().message();
  }
  const std::string dir = *root + "/wave-test-" + std::to_string(getpid());
  if (mkdir(dir.c_str(), 0755) != 0) {
    std::printf("WAVE_SKIP: cannot create a cgroup under %s: %s\n", root->c_str(),
                std::strerror(errno));
    GTEST_SKIP() << "no cgroup";
  }
  struct Rmdir {
    std::string dir;
    ~Rmdir() { rmdir(dir.c_str()); }
  } rmdir_at_end{dir};  // declared first: runs after the spinners are gone
  ThreadSettings before;
  ASSERT_TRUE(ReadThreadSettings(0, &before));
  Spinners inside;
  Spinners outside;
  StartSpinners(2, "inside", &inside);
  StartSpinners(1, "outside", &outside);
  ASSERT_TRUE(MoveToCgroup(dir, inside.pid).ok());

  // The pin policy on the cgroup alone, no command: wave runs until its host thread gets SIGTERM.
  PinPolicy pin;
  RunConfig config;
  config.cgroup = dir;
  config.publish_stats = false;
  std::atomic<pid_t> host_tid{0};
  config.on_start = [&host_tid](pid_t child) {
    EXPECT_EQ(child, 0);
    host_tid.store(static_cast<pid_t>(syscall(SYS_gettid)));
  };
  absl::StatusOr<RunResult> result = absl::UnknownError("not run");
  std::thread runner([&] { result = RunTraced(config, pin); });
  // Stops wave the way a user would, with SIGTERM to it (its host thread reads the signal), and
  // waits for it: at the end of the test, or on its way out of a failed assertion.
  auto stop = [&] {
    if (!runner.joinable()) return;
    if (host_tid.load() != 0) syscall(SYS_tgkill, getpid(), host_tid.load(), SIGTERM);
    runner.join();
  };
  struct Stopper {
    std::function<void()> stop;
    ~Stopper() { stop(); }
  } stopper{stop};

  bool pinned = false;
  bool outside_pinned = false;
  for (int i = 0; i < 6000 && !pinned; ++i) {  // a deadline, not a timing assertion
    usleep(10'000);
    pinned = host_tid.load() != 0;
    for (pid_t tid : inside.tids) pinned = pinned && PinnedHome(tid, AllowedCpus());
    ThreadSettings o;
    outside_pinned = outside_pinned ||
                     (ReadThreadSettings(outside.tids[0], &o) && !SameMask(o.mask, before.mask));
  }
  stop();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(pinned) << "the cgroup's threads were not all pinned\n"
                      << FormatTraceStats(result->stats);
  EXPECT_FALSE(outside_pinned) << "a process outside the cgroup was managed";
  EXPECT_EQ(result->signal, SIGTERM);
  EXPECT_EQ(result->exit_code, 0);
  EXPECT_GE(result->stats.events_by_type[WAVE_EV_TASK_NEW], 2u);
  EXPECT_EQ(result->stats.kernel_dropped, 0u);
  // Restored when wave stopped.
  for (pid_t tid : inside.tids) {
    ThreadSettings now;
    ASSERT_TRUE(ReadThreadSettings(tid, &now));
    EXPECT_TRUE(SameMask(now.mask, before.mask)) << "tid " << tid << " still pinned";
  }
}

TEST_F(TraceTest, SurvivingThreadsGetTheirSettingsBack) {
  // The command starts a process whose spinning threads the pin policy pins, and exits while
  // they still run: when wave ends, they must have their original affinity and attributes.
  ThreadSettings before;
  ASSERT_TRUE(ReadThreadSettings(0, &before));
  const std::string out = TmpPath("tree.out");
  const std::string stop = TmpPath("tree.stop");
  std::remove(out.c_str());
  std::remove(stop.c_str());
  PinPolicy pin;
  absl::StatusOr<RunResult> r =
      RunTraced(Config({Workload(), "tree", "3", stop, out, "exit"}), pin);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, 0) << "the workers were never all pinned";
  const Report rep = ReadReport(out);
  ASSERT_EQ(rep.workers.size(), 3u);
  for (const auto& w : rep.workers) {
    ThreadSettings now;
    ASSERT_TRUE(ReadThreadSettings(w.first, &now)) << "worker " << w.first << " is gone";
    EXPECT_TRUE(SameMask(now.mask, before.mask)) << "worker " << w.first << " still pinned";
    EXPECT_EQ(now.attr.sched_policy, before.attr.sched_policy);
    EXPECT_EQ(now.attr.sched_nice, before.attr.sched_nice);
    EXPECT_EQ(now.attr.sched_runtime, before.attr.sched_runtime) << "slice not restored";
  }
  EXPECT_GE(r->stats.restored, 3u);
  std::ofstream(stop) << "stop\n";
}

}  // namespace
}  // namespace wave
