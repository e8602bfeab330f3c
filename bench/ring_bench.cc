// Ring microbenchmarks between two threads pinned to CPUs 0 and 1 (or a thread and a child
// process). Each benchmark runs its cases ("arms") in alternation, a few microseconds (latency)
// or a fraction of a millisecond (throughput) each, and reports medians over rounds and ratios
// within a round: on a shared 2-vCPU VM the absolute figures move with the load and with where
// the host puts the two vCPUs (here one-way latency is ~40 ns or ~220 ns, from run to run), and
// arms run seconds apart are not comparable.
//  - BM_RingBurstThroughput: a producer pushes bursts of N (ReserveBulk/Write/Submit), a
//    consumer pops bursts of up to N (Peek/Read/Advance); arms bN for N = 1, 8, 32, 128, b8
//    with a consumer that backs off after an empty poll, and burst 32 with the credit line
//    across an emulated link (each read a 2 us round trip) on the 4096-slot ring and on a
//    256-slot one, each next to its local twin. Counters per arm: <arm>_msgs_per_s (median over
//    rounds) and, counted, the consumer's messages per non-empty poll (_batch) and empty polls
//    per message, the producer's full waits per message and credit reads per 1000 messages;
//    remote_ratio and remote_ratio_ring256 (remote / local, per round, median).
//  - BM_RingPingPong: rounds of three arms, kBatch round trips each, on the same two threads:
//    two raw handoffs (one cache line that both sides write in turn; two lines, one writer
//    each, as in the ring; plain acquire/release loads and stores) and one message bounced
//    over two rings. Counters (medians over rounds; one-way = round trip / 2): one_way_ns (the
//    ring), raw_one_way_ns (the floor: per round, the faster raw arm), raw_one_line_ns,
//    raw_two_lines_ns, ratio (ring / floor per round) and ratio_two_lines (ring / two lines).
//  - BM_RingPingPongProcesses: the same arms between two processes: a forked child pinned to
//    CPU 1 maps the memfd region again (SharedRegion::MapFd), joins the link as its agent end
//    and echoes; the raw lines are on the region's first page. Same counters.
// DESIGN.md asks for ring one_way_ns within 1.5x of the raw one measured in the same run; the
// arms alternate every few microseconds so that a noisy VM moves both alike:
//   bazel run -c opt //bench:ring_bench      (or tools/bench for the table)
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

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
using bench::HelperError;
using bench::MakeRing;
using bench::Median;
using bench::Padded;
using bench::PinThisThread;
using bench::RoundTrip;
using bench::ScopedPin;
using bench::TemplateMessage;

constexpr int kFirstCpu = 0;   // the benchmark thread: producer / pinger
constexpr int kSecondCpu = 1;  // the helper thread: consumer / ponger
constexpr uint32_t kRingCapacity = 4096;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// ---- burst throughput ----
//
// Rounds of arms, like the latency benchmark: in each round every arm moves kChunk messages,
// timed from the producer's first reservation to the consumer's last message (the producer
// waits for the consumer to finish a chunk, and the consumer returns its credits then, before
// the next arm starts). A chunk during which either thread was switched out is left out. Per
// arm: the median rate over the other rounds, and what each side did per message, counted
// (counts do not depend on how noisy the machine is).

struct BurstArm {
  const char* name;         // counter prefix
  uint32_t burst;           // the producer's burst (ReserveBulk/Write/Submit) and the
                            // consumer's (Peek(burst)/Read/Advance)
  uint32_t ring;            // 0: the 4096-slot ring, 1: the 256-slot one
  uint64_t remote_read_ns;  // > 0: the credit line across an emulated link (a read costs this)
  uint32_t backoff;         // pauses the consumer adds after an empty poll
};
constexpr uint32_t kSmallRingCapacity = 256;
constexpr uint32_t kBackoffPauses = 16;  // ~0.5 us here (a pause is ~27 ns on this EPYC)
constexpr BurstArm kBurstArms[] = {
    {"b1", 1, 0, 0, 0},
    {"b8", 8, 0, 0, 0},
    {"b32", 32, 0, 0, 0},
    {"b128", 128, 0, 0, 0},
    // The consumer that polls right behind the producer is what makes small bursts slow: the
    // same bursts of 8 with a consumer that waits a little after finding the ring empty.
    {"b8_backoff", 8, 0, 0, kBackoffPauses},
    // The naive layout: the credit line across the link, every read of it a 2 us round trip.
    {"b32_remote", 32, 0, 2'000, 0},
    // The same on a ring of 256 slots: the producer reads credits 16x as often.
    {"b32_ring256", 32, 1, 0, 0},
    {"b32_ring256_remote", 32, 1, 2'000, 0},
};
constexpr size_t kBurstArmCount = sizeof(kBurstArms) / sizeof(kBurstArms[0]);
// remote_ratio = rate of the first over the second, per round (median).
constexpr std::pair<size_t, size_t> kRemoteVsLocal[] = {{5, 2}, {7, 6}};
constexpr const char* kRemoteRatioNames[] = {"remote_ratio", "remote_ratio_ring256"};
constexpr uint32_t kChunk = 1u << 14;  // messages per arm per round: 4 laps of the big ring
constexpr int64_t kBurstRounds = 64;

// Involuntary context switches of the calling thread so far.
uint64_t Preemptions() {
  rusage ru;
  if (getrusage(RUSAGE_THREAD, &ru) != 0) return 0;
  return static_cast<uint64_t>(ru.ru_nivcsw);
}

// What one side did in one chunk. Each side counts in locals and stores them once, at the
// chunk's end (the consumer before it publishes chunks_done, which the producer reads).
struct ChunkCounts {
  uint64_t preempted = 0;     // this side's involuntary context switches
  uint64_t full_waits = 0;    // producer: ReserveBulk found no room for a burst
  uint64_t credit_reads = 0;  // producer: Reserve read the credit line (its shadow said full)
  uint64_t polls = 0;         // consumer: Peek calls that returned messages
  uint64_t empty_polls = 0;   // consumer: Peek calls that returned none
};

void BM_RingBurstThroughput(benchmark::State& state) {
  absl::StatusOr<BenchRing> rings[2] = {MakeRing(kRingCapacity), MakeRing(kSmallRingCapacity)};
  for (const absl::StatusOr<BenchRing>& ring : rings) {
    if (!ring.ok()) {
      state.SkipWithError(ring.status().ToString().c_str());
      return;
    }
  }
  ScopedPin pin(kFirstCpu);
  if (!pin.ok()) {
    state.SkipWithError("cannot pin the producer to cpu 0");
    return;
  }

  const size_t total_chunks = static_cast<size_t>(state.max_iterations) * kBurstArmCount;
  std::vector<ChunkCounts> consumed(total_chunks);
  Padded<std::atomic<uint64_t>> chunks_done;
  Padded<std::atomic<bool>> ready;
  Padded<std::atomic<bool>> stop;
  HelperError error;
  std::thread consumer([&] {
    if (!PinThisThread(kSecondCpu)) {
      error.Set("cannot pin the consumer to cpu 1");
      return;
    }
    ready.value.store(true, std::memory_order_release);
    uint64_t sink = 0;
    uint64_t preempted = Preemptions();
    for (size_t chunk = 0; chunk < total_chunks; ++chunk) {
      const BurstArm& arm = kBurstArms[chunk % kBurstArmCount];
      RingConsumer& c = rings[arm.ring]->consumer;
      uint64_t polls = 0;
      uint64_t empty_polls = 0;
      for (uint32_t got = 0; got < kChunk;) {
        absl::StatusOr<uint32_t> n = c.Peek(arm.burst);
        if (!n.ok()) {
          error.Set(n.status().ToString());
          return;
        }
        if (*n == 0) {
          if (stop.value.load(std::memory_order_relaxed)) return;
          ++empty_polls;
          CpuRelax();
          for (uint32_t k = 0; k < arm.backoff; ++k) CpuRelax();
          continue;
        }
        ++polls;
        for (uint32_t k = 0; k < *n; ++k) {
          wave_msg m;
          c.Read(k, &m);
          sink += m.task.task_id;
        }
        c.Advance(*n);
        got += *n;
      }
      c.ReturnCredits();  // idle until the next chunk: its producer attaches at this head
      const uint64_t now = Preemptions();
      consumed[chunk] = {.preempted = now - preempted, .polls = polls, .empty_polls = empty_polls};
      preempted = now;
      chunks_done.value.store(chunk + 1, std::memory_order_release);
    }
    benchmark::DoNotOptimize(sink);
  });
  while (!ready.value.load(std::memory_order_acquire) &&
         !error.failed.load(std::memory_order_acquire)) {
    CpuRelax();
  }

  using Clock = std::chrono::steady_clock;
  std::vector<double> rate[kBurstArmCount];  // per round; NaN for a preempted chunk
  ChunkCounts totals[kBurstArmCount];        // over the chunks that were not
  uint64_t clean_chunks[kBurstArmCount] = {};
  wave_msg msg = TemplateMessage();
  size_t chunk = 0;
  std::string failure;
  for (auto _ : state) {
    for (size_t a = 0; a < kBurstArmCount && failure.empty(); ++a, ++chunk) {
      const BurstArm& arm = kBurstArms[a];
      LinkModel link;
      if (arm.remote_read_ns > 0) {
        // The same ring, but every credit read pays the round trip (no latency on the slots).
        link =
            LinkModel{.clock = &LinkClock(), .latency_ns = 0, .remote_read_ns = arm.remote_read_ns};
      }
      absl::StatusOr<RingProducer> attached = rings[arm.ring]->ReattachProducer(link);
      if (!attached.ok()) {
        failure = attached.status().ToString();
        break;
      }
      RingProducer& p = *attached;
      uint64_t full_waits = 0;
      uint64_t credit_reads = 0;
      const uint64_t preempted = Preemptions();
      const auto t0 = Clock::now();
      for (uint32_t sent = 0; sent < kChunk && failure.empty(); sent += arm.burst) {
        for (;;) {
          if (p.capacity() - p.InFlight() < arm.burst) ++credit_reads;  // Reserve's rule
          if (p.ReserveBulk(arm.burst)) break;
          ++full_waits;
          if (error.failed.load(std::memory_order_relaxed)) {
            failure = error.what;
            break;
          }
          CpuRelax();
        }
        if (!failure.empty()) break;
        for (uint32_t k = 0; k < arm.burst; ++k) {
          msg.task.task_id = sent + k;
          p.Write(k, msg);
        }
        p.Submit(arm.burst);
      }
      while (failure.empty() && chunks_done.value.load(std::memory_order_acquire) != chunk + 1) {
        if (error.failed.load(std::memory_order_acquire)) failure = error.what;
        CpuRelax();
      }
      const auto t1 = Clock::now();
      if (!failure.empty()) break;
      const ChunkCounts& c = consumed[chunk];
      if (Preemptions() != preempted || c.preempted != 0) {
        rate[a].push_back(kNaN);
        continue;
      }
      ++clean_chunks[a];
      rate[a].push_back(kChunk / std::chrono::duration<double>(t1 - t0).count());
      totals[a].full_waits += full_waits;
      totals[a].credit_reads += credit_reads;
      totals[a].polls += c.polls;
      totals[a].empty_polls += c.empty_polls;
    }
    if (!failure.empty()) break;
  }
  stop.value.store(true, std::memory_order_relaxed);
  consumer.join();
  if (!failure.empty() || error.failed.load(std::memory_order_acquire)) {
    state.SkipWithError(failure.empty() ? error.what.c_str() : failure.c_str());
    return;
  }
  uint64_t all_clean = 0;
  for (size_t a = 0; a < kBurstArmCount; ++a) {
    all_clean += clean_chunks[a];
    if (clean_chunks[a] == 0) continue;
    const double msgs = static_cast<double>(clean_chunks[a]) * kChunk;
    const ChunkCounts& t = totals[a];
    const std::string name = kBurstArms[a].name;
    state.counters[name + "_msgs_per_s"] = Median(rate[a]);
    state.counters[name + "_batch"] = t.polls == 0 ? 0 : msgs / static_cast<double>(t.polls);
    state.counters[name + "_empty_polls_per_msg"] = static_cast<double>(t.empty_polls) / msgs;
    state.counters[name + "_full_waits_per_msg"] = static_cast<double>(t.full_waits) / msgs;
    state.counters[name + "_credit_reads_per_kmsg"] =
        1000.0 * static_cast<double>(t.credit_reads) / msgs;
  }
  for (size_t k = 0; k < sizeof(kRemoteVsLocal) / sizeof(kRemoteVsLocal[0]); ++k) {
    const std::vector<double>& remote = rate[kRemoteVsLocal[k].first];
    const std::vector<double>& local = rate[kRemoteVsLocal[k].second];
    std::vector<double> ratio;  // NaN (a preempted chunk on either side) drops out of the median
    for (size_t r = 0; r < remote.size() && r < local.size(); ++r) {
      ratio.push_back(remote[r] / local[r]);
    }
    state.counters[kRemoteRatioNames[k]] = Median(ratio);
  }
  state.counters["clean_chunk_fraction"] =
      chunk == 0 ? 0 : static_cast<double>(all_clean) / static_cast<double>(chunk);
}
BENCHMARK(BM_RingBurstThroughput)->Iterations(kBurstRounds)->UseRealTime();

// ---- one-way latency: the ring against the raw floor, in alternating batches ----
//
// Every round runs kBatch round trips of each arm in turn on the same two pinned threads, and the
// pinger reads the clock only between arms: the ratio of two arms of one round is taken a few
// microseconds apart, whatever the VM's scheduler does to the absolute times meanwhile. Each
// counter is the median over rounds (of the batch's time / round trips / 2).

constexpr uint32_t kBatch = 128;   // round trips per arm per round
constexpr int64_t kRounds = 4096;  // rounds per run
constexpr uint64_t kRawStop = UINT64_MAX;

// The raw arms' lines, each value alone on its 128 bytes (so that the adjacent-line prefetcher
// does not pair it with its neighbour either).
struct RawLines {
  alignas(128) uint64_t one = 0;   // both sides write it in turn
  alignas(128) uint64_t ping = 0;  // written by the pinger only
  alignas(128) uint64_t pong = 0;  // written by the ponger only
};

uint64_t LoadAcquire(const uint64_t* p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
void StoreRelease(uint64_t* p, uint64_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }

// The floor is the faster of two raw handoffs, per round (which one wins depends on where the
// host put the two vCPUs: one line by 1.5x when they share a last-level cache here, two lines
// by ~5% when they do not):
//  - one line that both sides read and write in turn (in == out on both sides): the pinger
//    stores an odd value and waits for the next even one, the ponger answers each odd value
//    with the next even one, so the line migrates once per hop;
//  - two lines, one writer each, as in the ring (each side writes only what the other polls):
//    the pinger stores each value on `ping`, the ponger answers with the same value on `pong`.
//    Each line moves twice per hop (ownership to its writer, data to its reader); the gap between
//    this and the ring is what the ring adds (its code, and a new slot line for every message).
// Nothing else happens in the loops: no call, no clock read, the same CpuRelax as the ring's
// wait loops; `seq` is copied into a local so that a loop touches no memory but its lines.
// `gone()` is looked at once per 2^20 spins (the process benchmark's check that its child
// lives; a constant false compiles away).
template <typename Gone>
bool RawPing(uint64_t* out, const uint64_t* in, uint64_t& seq, uint32_t n, Gone&& gone) {
  const uint64_t step = out == in ? 2 : 1;  // the answer: the next value, or the same one
  uint64_t s = seq;
  for (uint32_t k = 0; k < n; ++k) {
    StoreRelease(out, s + 1);
    for (uint32_t spins = 1; LoadAcquire(in) != s + step; ++spins) {
      if (spins % (1u << 20) == 0 && gone()) return false;
      CpuRelax();
    }
    s += step;
  }
  seq = s;
  return true;
}
// The ponger's half; false when the pinger stored kRawStop instead.
bool RawPong(const uint64_t* in, uint64_t* out, uint64_t& seq, uint32_t n) {
  const uint64_t step = out == in ? 2 : 1;
  uint64_t s = seq;
  for (uint32_t k = 0; k < n; ++k) {
    uint64_t v;
    while ((v = LoadAcquire(in)) != s + 1) {
      if (v == kRawStop) return false;
      CpuRelax();
    }
    StoreRelease(out, s + step);
    s += step;
  }
  seq = s;
  return true;
}

double OneWayNs(std::chrono::steady_clock::duration d, uint32_t round_trips) {
  return std::chrono::duration<double, std::nano>(d).count() / (2.0 * round_trips);
}

// Per-round one-way times of each arm, and what the benchmark reports from them.
struct Arms {
  std::vector<double> ring, one_line, two_lines;

  void Reserve(size_t rounds) {
    ring.reserve(rounds);
    one_line.reserve(rounds);
    two_lines.reserve(rounds);
  }
  void Add(double ring_ns, double one_line_ns, double two_lines_ns) {
    ring.push_back(ring_ns);
    one_line.push_back(one_line_ns);
    two_lines.push_back(two_lines_ns);
  }
  void Report(benchmark::State& state) const {
    if (ring.empty()) return;
    std::vector<double> floor, ratio, ratio_two_lines;
    for (size_t r = 0; r < ring.size(); ++r) {
      floor.push_back(std::min(one_line[r], two_lines[r]));
      ratio.push_back(ring[r] / floor.back());
      ratio_two_lines.push_back(ring[r] / two_lines[r]);
    }
    state.counters["one_way_ns"] = Median(ring);
    state.counters["raw_one_way_ns"] = Median(floor);
    state.counters["ratio"] = Median(ratio);
    state.counters["raw_one_line_ns"] = Median(one_line);
    state.counters["raw_two_lines_ns"] = Median(two_lines);
    state.counters["ratio_two_lines"] = Median(ratio_two_lines);
    state.counters["rounds"] = static_cast<double>(ring.size());
  }
};

// The ponger's half of a ring arm: echoes `n` messages (sequence + 1). False when `stop` is set
// or the ring broke (the error is set then).
bool EchoMessages(RingConsumer& in, RingProducer& out, uint32_t n, const std::atomic<bool>& stop,
                  HelperError& error) {
  for (uint32_t k = 0; k < n; ++k) {
    for (;;) {
      absl::StatusOr<uint32_t> got = in.Peek(1);
      if (!got.ok()) {
        error.Set(got.status().ToString());
        return false;
      }
      if (*got == 1) break;
      if (stop.load(std::memory_order_relaxed)) return false;
      CpuRelax();
    }
    wave_msg m;
    in.Read(0, &m);
    in.Advance(1);
    ++m.task.seq;
    while (!out.Push(m)) CpuRelax();
  }
  return true;
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
  auto lines = std::make_unique<RawLines>();

  HelperError error;
  Padded<std::atomic<bool>> ready;
  Padded<std::atomic<bool>> stop;
  std::thread ponger([&] {
    if (!PinThisThread(kSecondCpu)) {
      error.Set("cannot pin the ponger to cpu 1");
      return;
    }
    ready.value.store(true, std::memory_order_release);
    uint64_t seq_one = 0;
    uint64_t seq_two = 0;
    // The pinger's schedule: one line, two lines, ring; it ends a run at a round's start.
    while (RawPong(&lines->one, &lines->one, seq_one, kBatch) &&
           RawPong(&lines->ping, &lines->pong, seq_two, kBatch) &&
           EchoMessages(ping->consumer, pong->producer, kBatch, stop.value, error)) {
    }
  });
  while (!ready.value.load(std::memory_order_acquire) &&
         !error.failed.load(std::memory_order_acquire)) {
    CpuRelax();
  }

  RingProducer& out = ping->producer;
  RingConsumer& in = pong->consumer;
  wave_msg msg = TemplateMessage();
  uint64_t seq_one = 0;
  uint64_t seq_two = 0;
  uint64_t round_trips = 0;
  Arms arms;
  arms.Reserve(static_cast<size_t>(state.max_iterations));
  using Clock = std::chrono::steady_clock;
  for (auto _ : state) {
    if (error.failed.load(std::memory_order_acquire)) break;
    const auto t0 = Clock::now();
    RawPing(&lines->one, &lines->one, seq_one, kBatch, [] { return false; });
    const auto t1 = Clock::now();
    RawPing(&lines->ping, &lines->pong, seq_two, kBatch, [] { return false; });
    const auto t2 = Clock::now();
    bool ok = true;
    for (uint32_t k = 0; ok && k < kBatch; ++k) {
      msg.task.task_id = round_trips++;
      wave_msg back;
      ok = RoundTrip(out, in, msg, error, &back);
      benchmark::DoNotOptimize(back);
    }
    const auto t3 = Clock::now();
    if (!ok) break;
    arms.Add(OneWayNs(t3 - t2, kBatch), OneWayNs(t1 - t0, kBatch), OneWayNs(t2 - t1, kBatch));
  }
  stop.value.store(true, std::memory_order_relaxed);
  StoreRelease(&lines->one, kRawStop);  // the ponger is at a round's start: stop
  ponger.join();
  if (error.failed.load(std::memory_order_acquire)) {
    state.SkipWithError(error.what.c_str());
    return;
  }
  if (!in.status().ok()) {
    state.SkipWithError(in.status().ToString().c_str());
    return;
  }
  arms.Report(state);
}
BENCHMARK(BM_RingPingPong)->Iterations(kRounds)->UseRealTime();

// ---- one-way latency between two processes ----

// Page 0 of the memfd region, ahead of the link: the child says it is ready on one line, and the
// raw arms' lines follow.
struct ControlPage {
  alignas(128) uint32_t child_ready;
  RawLines raw;
};
static_assert(sizeof(ControlPage) <= kLinkPage);

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

// The echo child: maps the region from its own copy of the fd, then follows the parent's rounds
// (raw batches on the control page's lines, then a ring batch: ring A echoed into ring B) until
// the parent stores kRawStop at a round's start. Never returns; exits with _exit (no atexit
// handlers, no stdio flush).
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
  auto* control = reinterpret_cast<ControlPage*>(base);
  __atomic_store_n(&control->child_ready, 1u, __ATOMIC_RELEASE);
  uint64_t seq_one = 0;
  uint64_t seq_two = 0;
  for (;;) {
    if (!RawPong(&control->raw.one, &control->raw.one, seq_one, kBatch)) _exit(kChildOk);  // stop
    if (!RawPong(&control->raw.ping, &control->raw.pong, seq_two, kBatch)) {
      _exit(kChildOk);
    }
    for (uint32_t k = 0; k < kBatch; ++k) {
      for (;;) {
        absl::StatusOr<uint32_t> n = in->Peek(1);
        if (!n.ok()) _exit(kChildBrokenRing);
        if (*n == 1) break;
        CpuRelax();
      }
      wave_msg m;
      in->Read(0, &m);
      in->Advance(1);
      ++m.task.seq;
      while (!out->Push(m)) {
        if (!out->status().ok()) _exit(kChildBrokenRing);
        CpuRelax();
      }
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
  // [ControlPage, page 0][a link: the parent is its host, the child its agent]
  const LinkConfig config = LinkConfig::Sched(kRingCapacity, kRingCapacity);
  const size_t link_bytes = LinkBytes(config);
  absl::StatusOr<SharedRegion> region =
      SharedRegion::CreateMemfd("ring_bench", kLinkPage + link_bytes);
  if (!region.ok()) {
    state.SkipWithError(region.status().ToString().c_str());
    return;
  }
  auto* base = static_cast<uint8_t*>(region->data());
  auto* control = reinterpret_cast<ControlPage*>(base);
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
  auto child_gone = [&] {
    if (!child.Reap(&wstatus)) return false;
    failure = DescribeChildExit(wstatus);
    return true;
  };
  wave_msg msg = TemplateMessage();
  uint64_t seq_one = 0;
  uint64_t seq_two = 0;
  uint64_t round_trips = 0;
  Arms arms;
  arms.Reserve(static_cast<size_t>(state.max_iterations));
  using Clock = std::chrono::steady_clock;
  for (auto _ : state) {
    const auto t0 = Clock::now();
    if (!RawPing(&control->raw.one, &control->raw.one, seq_one, kBatch, child_gone)) break;
    const auto t1 = Clock::now();
    if (!RawPing(&control->raw.ping, &control->raw.pong, seq_two, kBatch, child_gone)) {
      break;
    }
    const auto t2 = Clock::now();
    for (uint32_t k = 0; failure.empty() && k < kBatch; ++k) {
      msg.task.task_id = round_trips++;
      while (!out->Push(msg)) CpuRelax();
      for (uint32_t spins = 1;; ++spins) {
        absl::StatusOr<uint32_t> n = in->Peek(1);
        if (!n.ok()) {
          failure = n.status().ToString();
          break;
        }
        if (*n == 1) break;
        if (spins % kSpinsPerCheck == 0 && child_gone()) break;
        CpuRelax();
      }
      if (!failure.empty()) break;
      wave_msg back;
      in->Read(0, &back);
      in->Advance(1);
      benchmark::DoNotOptimize(back);
    }
    const auto t3 = Clock::now();
    if (!failure.empty()) break;
    arms.Add(OneWayNs(t3 - t2, kBatch), OneWayNs(t1 - t0, kBatch), OneWayNs(t2 - t1, kBatch));
  }
  if (!failure.empty()) {
    state.SkipWithError(failure.c_str());
    return;  // the guard kills the child
  }
  StoreRelease(&control->raw.one, kRawStop);  // the child is at a round's start: stop
  if (!child.WaitExit(std::chrono::seconds(2), &wstatus)) {
    state.SkipWithError("echo child did not stop; killed");
    return;
  }
  if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != kChildOk) {
    state.SkipWithError(DescribeChildExit(wstatus).c_str());
    return;
  }
  arms.Report(state);
}
BENCHMARK(BM_RingPingPongProcesses)->Iterations(kRounds)->UseRealTime();

}  // namespace
}  // namespace wave
