// Workloads with known scheduling behaviour for the trace tests (run under `wave run` or
// RunTraced). Each writes what the test needs to know (tids, counts) to OUT.
//
//   workload sleep N M OUT        N threads x M blocking sleeps of 200 us; at the end OUT gets
//                                 "worker TID NVCSW" per thread (NVCSW: the thread's voluntary
//                                 context switches, the kernel's own count of its blocks, as the
//                                 thread saw it before it returned), "main TID" and
//                                 "workers_nvcsw TOTAL": the workers' voluntary switches over
//                                 their whole lives, exit paths included (the process's count,
//                                 once they are all gone, less the main thread's)
//   workload spin N STOP OUT      N threads spin until the file STOP exists (at most 120 s);
//                                 OUT gets "worker TID" per thread as soon as they all started
//   workload tree N STOP OUT MODE forks a process running `spin N STOP OUT`, waits until each of
//                                 its workers is pinned to one cpu (at most 60 s), then with MODE
//                                 "exit" exits (0 if they were pinned, 1 if not), with "wait"
//                                 waits for STOP
//   workload yield N M OUT        N threads on one cpu (the process pins itself to the cpu it
//                                 starts on) x M sched_yield() calls each, started together;
//                                 OUT gets "worker TID" per thread at the end
//   workload show TID             prints "mask LIST policy P nice N slice NS" of a thread
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "host/trace/proc.h"

namespace {

constexpr size_t kStackBytes = size_t{256} * 1024;

pid_t Gettid() { return static_cast<pid_t>(syscall(SYS_gettid)); }

double Now() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

bool Exists(const char* path) { return access(path, F_OK) == 0; }

void WriteFile(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  std::ofstream(tmp) << text;
  std::rename(tmp.c_str(), path.c_str());  // readers see all of it or nothing
}

// Threads on stacks allocated and touched up front: a thread that page-faults its stack while
// another maps memory may block on the mm lock, which would be a sleep the test did not ask for.
struct Threads {
  std::vector<pthread_t> ids;
  std::vector<void*> stacks;
  void JoinAll() {
    for (pthread_t t : ids) pthread_join(t, nullptr);
    for (void* s : stacks) std::free(s);
  }
};

template <typename Fn>
Threads StartThreads(int n, Fn* fn, void* arg) {
  Threads threads;
  threads.ids.resize(n);
  for (int i = 0; i < n; ++i) {
    void* stack = nullptr;
    if (posix_memalign(&stack, 4096, kStackBytes) != 0) std::abort();
    threads.stacks.push_back(stack);
    std::memset(stack, 0, kStackBytes);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstack(&attr, stack, kStackBytes);
    if (pthread_create(&threads.ids[i], &attr, fn, arg) != 0) std::abort();
    pthread_attr_destroy(&attr);
  }
  return threads;
}

struct SleepWork {
  int cycles = 0;
  std::atomic<bool> go{false};
  std::atomic<int> next{0};
  pid_t tids[64] = {};
  long nvcsw[64] = {};
};

void* Sleeper(void* arg) {
  auto* w = static_cast<SleepWork*>(arg);
  const int me = w->next.fetch_add(1);
  while (!w->go.load(std::memory_order_acquire)) sched_yield();  // not a sleep: no wakeup
  const timespec ts{0, 200'000};
  for (int i = 0; i < w->cycles; ++i) nanosleep(&ts, nullptr);
  rusage ru;
  getrusage(RUSAGE_THREAD, &ru);
  w->tids[me] = Gettid();
  w->nvcsw[me] = ru.ru_nvcsw;
  return nullptr;
}

int Sleep(int n, int m, const std::string& out) {
  static SleepWork w;
  w.cycles = m;
  Threads threads = StartThreads(n, &Sleeper, &w);
  w.go.store(true, std::memory_order_release);
  threads.JoinAll();
  // A joined thread may not be released yet; once it is, its counts are the process's.
  for (int i = 0; i < 10'000 && wave::ThreadsOf(getpid()).size() > 1; ++i) usleep(1000);
  rusage all;
  rusage me;
  getrusage(RUSAGE_SELF, &all);
  getrusage(RUSAGE_THREAD, &me);
  std::ostringstream s;
  for (int i = 0; i < n; ++i) s << "worker " << w.tids[i] << " " << w.nvcsw[i] << "\n";
  s << "main " << Gettid() << "\n";
  s << "workers_nvcsw " << all.ru_nvcsw - me.ru_nvcsw << "\n";
  WriteFile(out, s.str());
  return 0;
}

struct SpinWork {
  const char* stop = nullptr;
  std::atomic<int> started{0};
  pid_t tids[64] = {};
};

void* Spinner(void* arg) {
  auto* w = static_cast<SpinWork*>(arg);
  w->tids[w->started.fetch_add(1)] = Gettid();
  const double deadline = Now() + 120;
  volatile uint64_t x = 0;
  while (!Exists(w->stop) && Now() < deadline) {
    for (int i = 0; i < 1'000'000; ++i) x = x + 1;
  }
  return nullptr;
}

int Spin(int n, const char* stop, const std::string& out) {
  static SpinWork w;
  w.stop = stop;
  Threads threads = StartThreads(n, &Spinner, &w);
  while (w.started.load() < n) sched_yield();
  std::ostringstream s;
  for (int i = 0; i < n; ++i) s << "worker " << w.tids[i] << "\n";
  WriteFile(out, s.str());
  threads.JoinAll();
  return 0;
}

struct YieldWork {
  int calls = 0;
  std::atomic<bool> go{false};
  std::atomic<int> next{0};
  pid_t tids[64] = {};
};

void* Yielder(void* arg) {
  auto* w = static_cast<YieldWork*>(arg);
  w->tids[w->next.fetch_add(1)] = Gettid();
  while (!w->go.load(std::memory_order_acquire)) {
  }
  for (int i = 0; i < w->calls; ++i) sched_yield();
  return nullptr;
}

int Yield(int n, int m, const std::string& out) {
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(sched_getcpu(), &one);
  if (sched_setaffinity(0, sizeof(one), &one) != 0) std::abort();  // threads inherit it
  static YieldWork w;
  w.calls = m;
  Threads threads = StartThreads(n, &Yielder, &w);
  while (w.next.load() < n) sched_yield();
  w.go.store(true, std::memory_order_release);
  threads.JoinAll();
  std::ostringstream s;
  for (int i = 0; i < n; ++i) s << "worker " << w.tids[i] << "\n";
  WriteFile(out, s.str());
  return 0;
}

std::vector<pid_t> Workers(const std::string& out) {
  std::vector<pid_t> tids;
  std::ifstream in(out);
  std::string word;
  pid_t tid;
  while (in >> word >> tid) {
    if (word == "worker") tids.push_back(tid);
  }
  return tids;
}

bool Pinned(pid_t tid) {
  cpu_set_t set;
  CPU_ZERO(&set);
  return sched_getaffinity(tid, sizeof(set), &set) == 0 && CPU_COUNT(&set) == 1;
}

int Tree(int n, const char* stop, const std::string& out, const std::string& mode) {
  const pid_t pid = fork();
  if (pid == 0) _exit(Spin(n, stop, out));
  const double deadline = Now() + 60;
  bool pinned = false;
  while (!pinned && Now() < deadline) {
    std::vector<pid_t> tids = Workers(out);
    pinned = static_cast<int>(tids.size()) == n;
    for (pid_t t : tids) pinned = pinned && Pinned(t);
    if (!pinned) usleep(10'000);
  }
  if (mode == "exit") return pinned ? 0 : 1;
  while (!Exists(stop)) usleep(10'000);
  waitpid(pid, nullptr, 0);
  return 0;
}

int Show(pid_t tid) {
  wave::ThreadSettings s;
  if (!wave::ReadThreadSettings(tid, &s)) {
    std::perror("show");
    return 1;
  }
  std::string list;
  for (int c = 0; c < CPU_SETSIZE; ++c) {
    if (CPU_ISSET(c, &s.mask)) list += (list.empty() ? "" : ",") + std::to_string(c);
  }
  std::printf("mask %s policy %u nice %d slice %llu\n", list.c_str(), s.attr.sched_policy,
              s.attr.sched_nice, static_cast<unsigned long long>(s.attr.sched_runtime));
  return 0;
}

int Usage() {
  std::fputs(
      "usage: workload sleep N M OUT | spin N STOP OUT | tree N STOP OUT exit|wait | yield N M OUT"
      " | show TID\n",
      stderr);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> a(argv + 1, argv + argc);
  if (a.size() == 4 && a[0] == "sleep") return Sleep(std::stoi(a[1]), std::stoi(a[2]), a[3]);
  if (a.size() == 4 && a[0] == "spin") return Spin(std::stoi(a[1]), argv[3], a[3]);
  if (a.size() == 5 && a[0] == "tree") return Tree(std::stoi(a[1]), argv[3], a[3], a[4]);
  if (a.size() == 2 && a[0] == "show") return Show(std::stoi(a[1]));
  if (a.size() == 4 && a[0] == "yield") return Yield(std::stoi(a[1]), std::stoi(a[2]), a[3]);
  return Usage();
}
