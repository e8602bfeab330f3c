// The guest workload of the scx tests: N threads in pairs; the two threads of a pair hand a
// token back and forth through a futex, each doing a fixed amount of work per item while it
// holds the token. Prints one line:
//   WAVE_RESULT workload label=L threads=N items=I done=D seconds=S throughput=T
//       lat_n=K lat_p50_us=X lat_p99_us=Y ext=E
// `done` counts completed items (every thread must finish its own); latency is wakeup to run:
// from the handoff (the partner's futex wake) to the moment the woken thread runs, on
// CLOCK_MONOTONIC. With --ext every thread runs under SCHED_EXT (policy 7), i.e. under whatever
// sched_ext scheduler is loaded; without it under the default (fair) class.
//
//   workload --threads=8 --items=200 --work-us=100 --ext --label=scx
#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr int kSchedExt = 7;

uint64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

void FutexWait(std::atomic<uint32_t>* word, uint32_t value) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAIT_PRIVATE, value, nullptr, nullptr,
          0);
}

void FutexWake(std::atomic<uint32_t>* word) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
}

struct alignas(64) Pair {
  std::atomic<uint32_t> turn{0};  // whose turn: 0 or 1
  std::atomic<uint64_t> handoff_ns{0};
};

struct Options {
  int threads = 8;
  int items = 100;
  uint64_t work_ns = 100'000;
  bool ext = false;
  std::string label = "run";
};

bool Flag(const char* arg, const char* name, const char** value) {
  const size_t n = std::strlen(name);
  if (std::strncmp(arg, name, n) != 0 || arg[n] != '=') return false;
  *value = arg + n + 1;
  return true;
}

void Spin(uint64_t ns) {
  const uint64_t end = NowNs() + ns;
  while (NowNs() < end) {
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const char* v = nullptr;
    if (Flag(argv[i], "--threads", &v)) {
      o.threads = std::atoi(v);
    } else if (Flag(argv[i], "--items", &v)) {
      o.items = std::atoi(v);
    } else if (Flag(argv[i], "--work-us", &v)) {
      o.work_ns = static_cast<uint64_t>(std::atoll(v)) * 1000;
    } else if (Flag(argv[i], "--label", &v)) {
      o.label = v;
    } else if (std::strcmp(argv[i], "--ext") == 0) {
      o.ext = true;
    } else {
      std::fprintf(stderr, "workload: unknown argument %s\n", argv[i]);
      return 2;
    }
  }
  if (o.threads < 2 || o.threads % 2 != 0 || o.items < 1) {
    std::fprintf(stderr, "workload: --threads must be even and >= 2, --items >= 1\n");
    return 2;
  }
  if (o.ext) {
    sched_param p{};
    if (sched_setscheduler(0, kSchedExt, &p) != 0) {  // the threads inherit it
      std::fprintf(stderr, "workload: SCHED_EXT: %s\n", std::strerror(errno));
      return 1;
    }
  }
  std::vector<Pair> pairs(static_cast<size_t>(o.threads / 2));
  std::vector<std::vector<uint64_t>> lat(static_cast<size_t>(o.threads));
  std::vector<int> done(static_cast<size_t>(o.threads), 0);
  std::atomic<int> wrong_policy{0};
  const uint64_t start = NowNs();
  std::vector<std::thread> threads;
  threads.reserve(static_cast<size_t>(o.threads));
  for (int t = 0; t < o.threads; ++t) {
    threads.emplace_back([&, t] {
      if (o.ext && sched_getscheduler(0) != kSchedExt) wrong_policy.fetch_add(1);
      Pair& pair = pairs[static_cast<size_t>(t / 2)];
      const uint32_t me = static_cast<uint32_t>(t % 2);
      std::vector<uint64_t>& my_lat = lat[static_cast<size_t>(t)];
      my_lat.reserve(static_cast<size_t>(o.items));
      for (int i = 0; i < o.items; ++i) {
        uint32_t turn;
        while ((turn = pair.turn.load(std::memory_order_acquire)) != me)
          FutexWait(&pair.turn, turn);
        const uint64_t handoff = pair.handoff_ns.load(std::memory_order_relaxed);
        if (handoff != 0) my_lat.push_back(NowNs() - handoff);
        Spin(o.work_ns);
        ++done[static_cast<size_t>(t)];
        pair.handoff_ns.store(NowNs(), std::memory_order_relaxed);
        pair.turn.store(1 - me, std::memory_order_release);
        FutexWake(&pair.turn);
      }
    });
  }
  for (std::thread& th : threads) th.join();
  const double seconds = static_cast<double>(NowNs() - start) / 1e9;
  std::vector<uint64_t> all;
  long total = 0;
  for (int t = 0; t < o.threads; ++t) {
    all.insert(all.end(), lat[static_cast<size_t>(t)].begin(), lat[static_cast<size_t>(t)].end());
    total += done[static_cast<size_t>(t)];
  }
  std::sort(all.begin(), all.end());
  auto pct = [&all](double p) -> double {
    if (all.empty()) return 0;
    const size_t i =
        std::min(all.size() - 1, static_cast<size_t>(p * static_cast<double>(all.size())));
    return static_cast<double>(all[i]) / 1000.0;
  };
  std::printf(
      "WAVE_RESULT workload label=%s threads=%d items=%d done=%ld seconds=%.3f throughput=%.1f "
      "lat_n=%zu lat_p50_us=%.1f lat_p99_us=%.1f ext=%d wrong_policy=%d\n",
      o.label.c_str(), o.threads, o.threads * o.items, total, seconds,
      static_cast<double>(total) / seconds, all.size(), pct(0.50), pct(0.99), o.ext ? 1 : 0,
      wrong_policy.load());
  std::fflush(stdout);
  return total == static_cast<long>(o.threads) * o.items ? 0 : 1;
}
