// The trace mechanism on this machine's kernel (needs root, or CAP_BPF + CAP_PERFMON, and BTF):
//  - BM_PipePingPong/mode: the context-switch microbenchmark, two threads of a child process
//    bouncing a byte through two pipes, both pinned to the last cpu (each round trip: two
//    blocks, two wakeups, two switches on that cpu; no cross-cpu wakeup, whose cost on a VM is
//    mostly the idle cpu's exit, which would drown the programs' cost).
//    Each iteration runs it without, then with: mode 1 the trace programs attached and the child
//    not managed (what every other task on the machine pays); mode 2 the child run by RunTraced
//    (`wave run`), managed, its events delivered to an agent whose policy observes and never
//    commits. Counters: round_trip_ns (with), without_ns, ratio (of the medians).
//  - BM_EventRate/pairs/batch_us: RunTraced on PAIRS ping-pong pairs (a context-switch-heavy
//    load), the host batching at batch_us (0: at once). items_per_second = events the agent
//    received per second of load; counters dropped (kernel ring buffer full: must be 0) and
//    link_full (times the host waited for the agent).
//   bazel run -c opt //bench:trace_bench
// Not part of tools/bench (which runs unprivileged targets); run it on its own, as root.
#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "benchmark/benchmark.h"
#include "host/trace/loader.h"
#include "host/trace/run.h"
#include "lib/sched/null_policy.h"

namespace wave {
namespace {

constexpr int kOverheadRounds = 20'000;
constexpr int kRateRounds = 50'000;

// The child: PAIRS pairs of threads, ROUNDS round trips each, on cpu CPU (-1: anywhere); writes
// its wall time in ns to FD.
int PingPongMain(int pairs, int rounds, int cpu, int fd) {
  if (cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof(set), &set) != 0) return 1;  // threads inherit it
  }
  struct Pair {
    int ab[2];
    int ba[2];
  };
  std::vector<Pair> p(pairs);
  for (Pair& x : p) {
    if (pipe(x.ab) != 0 || pipe(x.ba) != 0) return 1;
  }
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (Pair& x : p) {
    threads.emplace_back([&x, rounds] {
      char c = 0;
      for (int i = 0; i < rounds; ++i) {
        if (write(x.ab[1], &c, 1) != 1 || read(x.ba[0], &c, 1) != 1) std::abort();
      }
    });
    threads.emplace_back([&x, rounds] {
      char c = 0;
      for (int i = 0; i < rounds; ++i) {
        if (read(x.ab[0], &c, 1) != 1 || write(x.ba[1], &c, 1) != 1) std::abort();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  const uint64_t ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start)
          .count();
  return write(fd, &ns, sizeof(ns)) == sizeof(ns) ? 0 : 1;
}

std::vector<std::string> PingPongCommand(int pairs, int rounds, int cpu, int fd) {
  return {"/proc/self/exe",       "pingpong",          std::to_string(pairs),
          std::to_string(rounds), std::to_string(cpu), std::to_string(fd)};
}

// The cpu the overhead benchmark runs its pair on: the last one this process may use.
int LastCpu() {
  const CpuSet cpus = AllowedCpus();
  return cpus.empty() ? 0 : cpus.Last();
}

// Runs the child unmanaged; returns its wall time in ns, 0 on failure.
uint64_t RunPlain(int pairs, int rounds, int cpu) {
  int fds[2];
  if (pipe(fds) != 0) return 0;
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    const std::vector<std::string> cmd = PingPongCommand(pairs, rounds, cpu, fds[1]);
    execl("/proc/self/exe", "trace_bench", cmd[1].c_str(), cmd[2].c_str(), cmd[3].c_str(),
          cmd[4].c_str(), cmd[5].c_str(), nullptr);
    _exit(127);
  }
  close(fds[1]);
  uint64_t ns = 0;
  if (read(fds[0], &ns, sizeof(ns)) != sizeof(ns)) ns = 0;
  close(fds[0]);
  waitpid(pid, nullptr, 0);
  return ns;
}

struct TracedRun {
  uint64_t ns = 0;
  RunResult result;
};

absl::StatusOr<TracedRun> RunManaged(int pairs, int rounds, int cpu, uint64_t batch_ns) {
  int fds[2];
  if (pipe2(fds, 0) != 0) return absl::InternalError("pipe");
  NullPolicy policy;  // hears every event, never commits: the cost of delivery alone
  RunConfig config;
  config.command = PingPongCommand(pairs, rounds, cpu, fds[1]);
  config.batch_ns = batch_ns;
  config.publish_stats = false;
  absl::StatusOr<RunResult> r = RunTraced(config, policy);
  close(fds[1]);
  TracedRun out;
  if (read(fds[0], &out.ns, sizeof(out.ns)) != sizeof(out.ns)) out.ns = 0;
  close(fds[0]);
  if (!r.ok()) return r.status();
  out.result = *r;
  if (out.ns == 0) return absl::InternalError("the ping-pong child failed");
  return out;
}

std::map<int, std::pair<double, double>> g_overhead;  // mode -> round trip without, with
std::map<int, YieldSource> g_yield_source;            // mode -> as attached
struct RateResult {
  double events_per_s = 0;
  uint64_t dropped = 0;
  uint64_t events = 0;
};
std::map<std::pair<int, int>, RateResult> g_rate;  // by (pairs, batch_us)

bool Supported(benchmark::State& state) {
  absl::Status s = CheckTraceSupport();
  if (s.ok()) return true;
  state.SkipWithError(std::string(s.message()).c_str());
  return false;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// Alternates runs without and with (mode 1: the programs attached, the child not managed;
// mode 2: the child managed by RunTraced; mode 3: as 1, with yields seen through the syscall
// tracepoints unless the kernel has kprobes), so that both see the same machine; reports medians.
void BM_PipePingPong(benchmark::State& state) {
  const int mode = static_cast<int>(state.range(0));
  if (!Supported(state)) return;
  std::unique_ptr<TraceProgram> prog;
  if (mode == 1 || mode == 3) {
    absl::StatusOr<std::unique_ptr<TraceProgram>> p =
        TraceProgram::Load({.yields = mode == 3 ? YieldEvents::kSyscalls : YieldEvents::kAuto});
    if (!p.ok()) {
      state.SkipWithError(std::string(p.status().message()).c_str());
      return;
    }
    prog = *std::move(p);
    g_yield_source[mode] = prog->yield_source();
  }
  std::vector<double> without;
  std::vector<double> with;
  for (auto _ : state) {
    if (prog) (void)prog->Detach();
    const uint64_t base = RunPlain(1, kOverheadRounds, LastCpu());
    uint64_t ns = 0;
    if (mode == 2) {
      absl::StatusOr<TracedRun> r = RunManaged(1, kOverheadRounds, LastCpu(), 1'000'000);
      if (!r.ok()) {
        state.SkipWithError(std::string(r.status().message()).c_str());
        return;
      }
      ns = r->ns;
    } else {
      if (prog) (void)prog->Attach();
      ns = RunPlain(1, kOverheadRounds, LastCpu());
    }
    if (ns == 0 || base == 0) {
      state.SkipWithError("the ping-pong child failed");
      return;
    }
    state.SetIterationTime(static_cast<double>(ns) * 1e-9);
    without.push_back(static_cast<double>(base) / kOverheadRounds);
    with.push_back(static_cast<double>(ns) / kOverheadRounds);
  }
  const double rt_without = Median(without);
  const double rt_with = Median(with);
  state.counters["round_trip_ns"] = rt_with;
  state.counters["without_ns"] = rt_without;
  state.counters["ratio"] = rt_with / rt_without;
  g_overhead[mode] = {rt_without, rt_with};
}
BENCHMARK(BM_PipePingPong)
    ->ArgName("mode")
    ->Arg(1)
    ->Arg(2)
    ->Arg(3)
    ->UseManualTime()
    ->Iterations(11);

void BM_EventRate(benchmark::State& state) {
  const int pairs = static_cast<int>(state.range(0));
  const int batch_us = static_cast<int>(state.range(1));
  if (!Supported(state)) return;
  uint64_t events = 0;
  uint64_t dropped = 0;
  uint64_t link_full = 0;
  double seconds = 0;
  for (auto _ : state) {
    absl::StatusOr<TracedRun> r =
        RunManaged(pairs, kRateRounds, -1, static_cast<uint64_t>(batch_us) * 1000);
    if (!r.ok()) {
      state.SkipWithError(std::string(r.status().message()).c_str());
      return;
    }
    state.SetIterationTime(static_cast<double>(r->ns) * 1e-9);
    seconds += static_cast<double>(r->ns) * 1e-9;
    events += r->result.agent.events;
    dropped += r->result.stats.kernel_dropped;
    link_full += r->result.stats.link_full;
  }
  state.SetItemsProcessed(static_cast<int64_t>(events));
  state.counters["dropped"] = static_cast<double>(dropped);
  state.counters["link_full"] = static_cast<double>(link_full);
  g_rate[{pairs, batch_us}] = {static_cast<double>(events) / seconds, dropped, events};
}
BENCHMARK(BM_EventRate)
    ->ArgNames({"pairs", "batch_us"})
    ->Args({1, 0})
    ->Args({4, 0})
    ->Args({4, 1000})
    ->UseManualTime()
    ->Iterations(3);

void PrintSummary() {
  const char* what[] = {"", "programs attached, task not managed", "managed by RunTraced",
                        "as the first, --yields=syscalls"};
  std::printf("\ntrace mechanism, pipe ping-pong round trip on one cpu (2 switches), medians:\n");
  for (const auto& [mode, rt] : g_overhead) {
    std::printf("  %-36s %6.0f ns   without %6.0f ns   ratio %.2f", what[mode], rt.second, rt.first,
                rt.second / rt.first);
    auto y = g_yield_source.find(mode);
    if (y != g_yield_source.end()) std::printf("   (yields via %s)", YieldSourceName(y->second));
    std::printf("\n");
  }
  for (const auto& [key, r] : g_rate) {
    std::printf(
        "events kernel -> agent, %d ping-pong pair(s), batch %d us: %.2f M/s, %llu events, "
        "%llu dropped\n",
        key.first, key.second, r.events_per_s / 1e6, static_cast<unsigned long long>(r.events),
        static_cast<unsigned long long>(r.dropped));
  }
}

}  // namespace
}  // namespace wave

int main(int argc, char** argv) {
  if (argc == 6 && std::strcmp(argv[1], "pingpong") == 0) {
    return wave::PingPongMain(std::atoi(argv[2]), std::atoi(argv[3]), std::atoi(argv[4]),
                              std::atoi(argv[5]));
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  wave::PrintSummary();
  return 0;
}
