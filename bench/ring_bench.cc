// Ring microbenchmarks between two threads pinned to CPUs 0 and 1:
//  - BM_RingBurstThroughput/N/R: a producer pushes bursts of N (ReserveBulk/Write/Submit), a
//    consumer pops bursts of up to N (Peek/Read/Advance). items_per_second = messages/s.
//    R = 0: the credit line in the producer's memory (our layout: a local read). R > 0: the naive
//    layout, the credit line across the link, each credit read costing an emulated R ns round
//    trip (credits still batched: one read per capacity/4 messages at most).
//  - BM_RingPingPong: one message bounced over two rings; counter one_way_ns = round trip / 2.
//  - BM_RingPingPongProcesses: the same between two processes: a forked child pinned to CPU 1
//    maps the rings' memfd region again (SharedRegion::MapFd) and echoes; counter one_way_ns.
//  - BM_RawPingPong: the floor: a counter bounced between two std::atomic<uint64_t> on separate
//    cache lines, same threads, same CPUs; counter one_way_ns the same way.
// DESIGN.md asks for ring one_way_ns within 1.5x of the raw one, so read them off one run:
//   bazel run -c opt //bench:ring_bench
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "abi/wave_abi.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "bench/bench_util.h"
#include "benchmark/benchmark.h"
#include "transport/link.h"
#include "transport/region.h"
#include "transport/ring.h"

namespace wave {
namespace {

using bench::BenchRing;
using bench::CpuRelax;
using bench::EchoUntilStop;
using bench::HelperError;
using bench::MakeRing;
using bench::PinThisThread;
using bench::RoundTrip;
using bench::ScopedPin;
using bench::TemplateMessage;

constexpr int kFirstCpu = 0;   // the benchmark thread: producer / pinger
constexpr int kSecondCpu = 1;  // the helper thread: consumer / ponger
constexpr uint32_t kRingCapacity = 4096;
constexpr int64_t kThroughputMessages = int64_t{1} << 23;
constexpr int64_t kRoundTrips = int64_t{1} << 19;

// ---- burst throughput ----

void BM_RingBurstThroughput(benchmark::State& state) {
  const auto burst = static_cast<uint32_t>(state.range(0));
  const auto remote_read_ns = static_cast<uint64_t>(state.range(1));
  absl::StatusOr<BenchRing> ring = MakeRing(kRingCapacity);
  if (!ring.ok()) {
    state.SkipWithError(ring.status().ToString().c_str());
    return;
  }
  if (remote_read_ns > 0) {
    // The same ring, but every credit read pays the round trip (no latency on the slots).
    absl::StatusOr<RingProducer> p = ring->ReattachProducer(
        LinkModel{.clock = &LinkClock(), .latency_ns = 0, .remote_read_ns = remote_read_ns});
    if (!p.ok()) {
      state.SkipWithError(p.status().ToString().c_str());
      return;
    }
    ring->producer = *std::move(p);
  }
  ScopedPin pin(kFirstCpu);
  if (!pin.ok()) {
    state.SkipWithError("cannot pin the producer to cpu 0");
    return;
  }

  std::atomic<uint64_t> target{UINT64_MAX};  // total sent, once the producer is done
  std::atomic<bool> ready{false};
  HelperError error;
  std::thread consumer([&] {
    if (!PinThisThread(kSecondCpu)) error.Set("cannot pin the consumer to cpu 1");
    RingConsumer& c = ring->consumer;
    uint64_t got = 0;
    uint64_t sink = 0;
    ready.store(true, std::memory_order_release);
    while (got < target.load(std::memory_order_relaxed)) {
      absl::StatusOr<uint32_t> n = c.Peek(burst);
      if (!n.ok()) {
        error.Set(n.status().ToString());
        return;
      }
      if (*n == 0) {
        CpuRelax();
        continue;
      }
      for (uint32_t k = 0; k < *n; ++k) {
        wave_msg m;
        c.Read(k, &m);
        sink += m.task.task_id;
      }
      c.Advance(*n);
      got += *n;
    }
    benchmark::DoNotOptimize(sink);
  });
  while (!ready.load(std::memory_order_acquire)) CpuRelax();

  RingProducer& p = ring->producer;
  wave_msg msg = TemplateMessage();
  uint64_t sent = 0;
  for (auto _ : state) {
    while (!p.ReserveBulk(burst)) {
      if (error.failed.load(std::memory_order_relaxed)) break;
      CpuRelax();
    }
    if (error.failed.load(std::memory_order_relaxed)) break;
    for (uint32_t k = 0; k < burst; ++k) {
      msg.task.task_id = sent + k;
      p.Write(k, msg);
    }
    p.Submit(burst);
    sent += burst;
  }
  target.store(sent, std::memory_order_relaxed);
  consumer.join();
  if (error.failed.load(std::memory_order_acquire)) {
    state.SkipWithError(error.what.c_str());
    return;
  }
  state.SetItemsProcessed(static_cast<int64_t>(sent));
  state.counters["burst"] = burst;
  state.counters["remote_read_ns"] = static_cast<double>(remote_read_ns);
}
// One line per burst size: the iteration count (bursts) differs so each moves the same messages.
BENCHMARK(BM_RingBurstThroughput)->Args({1, 0})->Iterations(kThroughputMessages)->UseRealTime();
BENCHMARK(BM_RingBurstThroughput)->Args({8, 0})->Iterations(kThroughputMessages / 8)->UseRealTime();
BENCHMARK(BM_RingBurstThroughput)
    ->Args({32, 0})
    ->Iterations(kThroughputMessages / 32)
    ->UseRealTime();
BENCHMARK(BM_RingBurstThroughput)
    ->Args({128, 0})
    ->Iterations(kThroughputMessages / 128)
    ->UseRealTime();
// Write remote, read local vs a credit line across an emulated PCIe link (2 us round trip).
BENCHMARK(BM_RingBurstThroughput)
    ->Args({32, 2'000})
    ->Iterations(kThroughputMessages / 32)
    ->UseRealTime();

// ---- one-way latency ----

void ReportOneWay(benchmark::State& state, std::chrono::steady_clock::duration elapsed,
                  uint64_t round_trips) {
  if (round_trips == 0) return;
  const double ns = std::chrono::duration<double, std::nano>(elapsed).count();
  state.counters["one_way_ns"] = ns / (2.0 * static_cast<double>(round_trips));
}

void BM_RingPingPong(benchmark::State& state) {
  absl::StatusOr<BenchRing> ping = MakeRing(kRingCapacity);
  absl::StatusOr<BenchRing> pong = MakeRing(kRingCapacity);
  if (!ping.ok() || !pong.ok()) {
    state.SkipWithError("cannot make the rings");
    return;
  }
  ScopedPin pin(kFirstCpu);
  if (!pin.ok()) {
    state.SkipWithError("cannot pin the pinger to cpu 0");
    return;
  }

  constexpr uint16_t kStop = WAVE_MSG_NONE;
  HelperError error;
  std::thread ponger([&] {
    if (!PinThisThread(kSecondCpu)) error.Set("cannot pin the ponger to cpu 1");
    RingConsumer& in = ping->consumer;
    RingProducer& out = pong->producer;
    EchoUntilStop(in, out, kStop, error);
  });

  RingProducer& out = ping->producer;
  RingConsumer& in = pong->consumer;
  wave_msg msg = TemplateMessage();
  uint64_t round_trips = 0;
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    msg.task.task_id = round_trips;
    wave_msg back;
    if (!RoundTrip(out, in, msg, error, &back)) break;
    benchmark::DoNotOptimize(back);
    ++round_trips;
  }
  const auto elapsed = std::chrono::steady_clock::now() - start;
  msg.hdr.type = kStop;
  while (!error.failed.load(std::memory_order_relaxed) && !out.Push(msg)) CpuRelax();
  ponger.join();
  if (error.failed.load(std::memory_order_acquire)) {
    state.SkipWithError(error.what.c_str());
    return;
  }
  if (!in.status().ok()) {
    state.SkipWithError(in.status().ToString().c_str());
    return;
  }
  ReportOneWay(state, elapsed, round_trips);
}
BENCHMARK(BM_RingPingPong)->Iterations(kRoundTrips)->UseRealTime();

// ---- one-way latency between two processes ----

// The first line of the memfd region, ahead of the two rings: the child says it is ready here.
struct alignas(kCacheLine) ControlLine {
  uint32_t child_ready;
  uint8_t pad[kCacheLine - 4];
};
static_assert(sizeof(ControlLine) == kCacheLine);

// Exit codes of the echo child.
constexpr int kChildOk = 0;
constexpr int kChildNoPin = 2;
constexpr int kChildNoMap = 3;
constexpr int kChildBrokenRing = 4;
constexpr int kChildOrphan = 5;

std::string DescribeChildExit(int wstatus) {
  if (WIFSIGNALED(wstatus))
    return "echo child killed by signal " + std::to_string(WTERMSIG(wstatus));
  switch (WEXITSTATUS(wstatus)) {
    case kChildOk:
      return "echo child exited early";
    case kChildNoPin:
      return "echo child cannot pin itself to cpu 1";
    case kChildNoMap:
      return "echo child cannot map or attach the rings";
    case kChildBrokenRing:
      return "echo child found a broken ring";
    default:
      return "echo child exited with " + std::to_string(WEXITSTATUS(wstatus));
  }
}

// The echo child: maps the region from its own copy of the fd, then echoes ring A into ring B
// until a stop message. Never returns; exits with _exit (no atexit handlers, no stdio flush).
[[noreturn]] void EchoChild(int region_fd, pid_t parent, size_t link_bytes) {
  // Dies with the parent, whatever happens to it (and if it is already gone, go now).
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(kChildOrphan);
  if (!PinThisThread(kSecondCpu)) _exit(kChildNoPin);
  const int fd = dup(region_fd);
  if (fd < 0) _exit(kChildNoMap);
  absl::StatusOr<SharedRegion> region = SharedRegion::MapFd(fd);
  if (!region.ok()) _exit(kChildNoMap);
  auto* base = static_cast<uint8_t*>(region->data());
  if (region->size() < kLinkPage + link_bytes) _exit(kChildNoMap);
  absl::StatusOr<AgentEnd> end = AttachAgent(base + kLinkPage, link_bytes);
  if (!end.ok()) _exit(kChildNoMap);
  RingConsumer* in = &end->events;
  RingProducer* out = &end->commands;
  auto* control = reinterpret_cast<ControlLine*>(base);
  __atomic_store_n(&control->child_ready, 1u, __ATOMIC_RELEASE);
  for (;;) {
    absl::StatusOr<uint32_t> n = in->Peek(1);
    if (!n.ok()) _exit(kChildBrokenRing);
    if (*n == 0) {
      CpuRelax();
      continue;
    }
    wave_msg m;
    in->Read(0, &m);
    in->Advance(1);
    if (m.hdr.type == WAVE_MSG_NONE) _exit(kChildOk);  // stop
    ++m.task.seq;
    while (!out->Push(m)) {
      if (!out->status().ok()) _exit(kChildBrokenRing);
      CpuRelax();
    }
  }
}

// Owns the forked child: Reap() collects it if it has exited; the destructor kills and reaps a
// child that is still there, so no early return leaves one spinning.
class ChildGuard {
 public:
  explicit ChildGuard(pid_t pid) : pid_(pid) {}
  ~ChildGuard() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  ChildGuard(const ChildGuard&) = delete;
  ChildGuard& operator=(const ChildGuard&) = delete;

  // True (and the wait status in *wstatus) once the child has exited and been reaped.
  bool Reap(int* wstatus) {
    if (pid_ <= 0) {
      *wstatus = status_;
      return true;
    }
    const pid_t r = waitpid(pid_, &status_, WNOHANG);
    if (r != pid_) return false;
    pid_ = -1;
    *wstatus = status_;
    return true;
  }
  // Waits up to `timeout` for the child to exit on its own.
  bool WaitExit(std::chrono::milliseconds timeout, int* wstatus) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!Reap(wstatus)) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
  }

 private:
  pid_t pid_;
  int status_ = 0;
};

void BM_RingPingPongProcesses(benchmark::State& state) {
  // [ControlLine, page 0][a link: the parent is its host, the child its agent]
  const LinkConfig config = LinkConfig::Sched(kRingCapacity, kRingCapacity);
  const size_t link_bytes = LinkBytes(config);
  absl::StatusOr<SharedRegion> region =
      SharedRegion::CreateMemfd("ring_bench", kLinkPage + link_bytes);
  if (!region.ok()) {
    state.SkipWithError(region.status().ToString().c_str());
    return;
  }
  auto* base = static_cast<uint8_t*>(region->data());
  auto* control = reinterpret_cast<ControlLine*>(base);
  if (absl::Status s = LinkFormat(base + kLinkPage, link_bytes, config); !s.ok()) {
    state.SkipWithError(s.ToString().c_str());
    return;
  }
  absl::StatusOr<HostEnd> end = AttachHost(base + kLinkPage, link_bytes);
  if (!end.ok()) {
    state.SkipWithError(end.status().ToString().c_str());
    return;
  }
  RingProducer* out = &end->events;
  RingConsumer* in = &end->commands;
  ScopedPin pin(kFirstCpu);
  if (!pin.ok()) {
    state.SkipWithError("cannot pin the parent to cpu 0");
    return;
  }

  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    state.SkipWithError("fork failed");
    return;
  }
  if (pid == 0) EchoChild(region->fd(), parent, link_bytes);
  ChildGuard child(pid);

  int wstatus = 0;
  const auto ready_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (__atomic_load_n(&control->child_ready, __ATOMIC_ACQUIRE) == 0) {
    if (child.Reap(&wstatus)) {
      state.SkipWithError(DescribeChildExit(wstatus).c_str());
      return;
    }
    if (std::chrono::steady_clock::now() >= ready_deadline) {
      state.SkipWithError("echo child not ready after 10 s");
      return;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }

  // While waiting for a reply, look at the child only once in a while (waitpid is a syscall).
  constexpr uint32_t kSpinsPerCheck = 1u << 20;
  std::string failure;
  wave_msg msg = TemplateMessage();
  uint64_t round_trips = 0;
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    msg.task.task_id = round_trips;
    while (!out->Push(msg)) CpuRelax();
    for (uint32_t spins = 1;; ++spins) {
      absl::StatusOr<uint32_t> n = in->Peek(1);
      if (!n.ok()) {
        failure = n.status().ToString();
        break;
      }
      if (*n == 1) break;
      if (spins % kSpinsPerCheck == 0 && child.Reap(&wstatus)) {
        failure = DescribeChildExit(wstatus);
        break;
      }
      CpuRelax();
    }
    if (!failure.empty()) break;
    wave_msg back;
    in->Read(0, &back);
    in->Advance(1);
    benchmark::DoNotOptimize(back);
    ++round_trips;
  }
  const auto elapsed = std::chrono::steady_clock::now() - start;
  if (!failure.empty()) {
    state.SkipWithError(failure.c_str());
    return;  // the guard kills the child
  }
  msg.hdr.type = WAVE_MSG_NONE;  // stop
  if (!out->Push(msg) || !child.WaitExit(std::chrono::seconds(2), &wstatus)) {
    state.SkipWithError("echo child did not stop; killed");
    return;
  }
  if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != kChildOk) {
    state.SkipWithError(DescribeChildExit(wstatus).c_str());
    return;
  }
  ReportOneWay(state, elapsed, round_trips);
}
BENCHMARK(BM_RingPingPongProcesses)->Iterations(kRoundTrips)->UseRealTime();

// Two counters, each alone on its cache line (128-byte aligned, so that the adjacent-line
// prefetcher does not pair them either): the best a cross-core handoff can do.
struct alignas(128) PaddedCounter {
  std::atomic<uint64_t> value{0};
};

void BM_RawPingPong(benchmark::State& state) {
  ScopedPin pin(kFirstCpu);
  if (!pin.ok()) {
    state.SkipWithError("cannot pin the pinger to cpu 0");
    return;
  }
  constexpr uint64_t kStop = UINT64_MAX;
  auto lines = std::make_unique<PaddedCounter[]>(2);
  std::atomic<uint64_t>& ping = lines[0].value;
  std::atomic<uint64_t>& pong = lines[1].value;
  HelperError error;
  std::thread ponger([&] {
    if (!PinThisThread(kSecondCpu)) error.Set("cannot pin the ponger to cpu 1");
    for (uint64_t expect = 1;; ++expect) {
      uint64_t v;
      while ((v = ping.load(std::memory_order_acquire)) != expect) {
        if (v == kStop) return;
        CpuRelax();
      }
      pong.store(expect, std::memory_order_release);
    }
  });

  uint64_t round_trips = 0;
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    const uint64_t i = round_trips + 1;
    ping.store(i, std::memory_order_release);
    while (pong.load(std::memory_order_acquire) != i) CpuRelax();
    round_trips = i;
  }
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ping.store(kStop, std::memory_order_release);
  ponger.join();
  if (error.failed.load(std::memory_order_acquire)) {
    state.SkipWithError(error.what.c_str());
    return;
  }
  ReportOneWay(state, elapsed, round_trips);
}
BENCHMARK(BM_RawPingPong)->Iterations(kRoundTrips)->UseRealTime();

}  // namespace
}  // namespace wave
