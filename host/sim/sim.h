// host/sim: a deterministic discrete-event model of a kernel scheduling class, on a virtual clock
// in nanoseconds. It plays the host half of Wave: N cpus, worker threads driven by a workload,
// context-switch costs, a one-way link latency per direction, and the agent placed either on a
// host cpu or on the IPU. It drives the real libwave Agent and the real policy through real
// rings (transport/), validating every commit as a real host must (host/mech).
//
// Placement:
//  - kHost: the agent spins on cpu 0, which is taken away from the workload; its link is a
//    cache-line transfer (host_link_latency_ns).
//  - kIpu: all cpus run the workload; the link has link_latency_ns each way, and the agent's
//    work costs ipu_slowdown times more than on a host core.
//
// The agent's own work costs virtual time: agent_poll_cost_ns per loop that finds work, plus a
// cost per event and per commit. Same config and seed: byte-identical results.
#ifndef LIBWAVE_HOST_SIM_SIM_H_
#define LIBWAVE_HOST_SIM_SIM_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "lib/policy.h"
#include "lib/stats.h"

namespace wave {

enum class Placement { kHost, kIpu };
enum class WorkloadKind { kRocksDb, kUniform, kExponential };

const char* PlacementName(Placement p);
const char* WorkloadName(WorkloadKind w);

// An open-loop server: requests arrive as a Poisson process and each is handed to an idle worker
// thread, which wakes, serves it and blocks again. When every worker is busy, requests wait in
// the application's queue and a worker finishing a request takes the next one without blocking.
struct WorkloadConfig {
  WorkloadKind kind = WorkloadKind::kRocksDb;
  double load_rps = 100'000;
  int threads = 256;  // worker pool
  // rocksdb (the ghOSt/Wave RocksDB experiment): GETs and range scans.
  uint64_t get_ns = 10'000;
  uint64_t scan_ns = 5'000'000;
  double scan_fraction = 0.005;
  // uniform: service time uniform in [min_ns, max_ns].
  uint64_t min_ns = 5'000;
  uint64_t max_ns = 15'000;
  // exponential: service time exponential with this mean.
  uint64_t mean_ns = 10'000;
};

struct SimConfig {
  int cpus = 8;
  Placement placement = Placement::kIpu;
  uint64_t link_latency_ns = 1'000;     // one way, agent on the IPU
  uint64_t host_link_latency_ns = 100;  // one way, agent on a host cpu: a cache-line transfer
  uint64_t ctx_switch_ns = 500;
  uint64_t agent_poll_cost_ns = 100;
  uint64_t agent_event_cost_ns = 50;
  uint64_t agent_commit_cost_ns = 50;
  double ipu_slowdown = 2.0;
  uint64_t duration_ns = 2'000'000'000;      // arrivals stop here
  uint64_t drain_limit_ns = 10'000'000'000;  // then at most this long to finish what arrived
  uint64_t seed = 1;
  uint32_t ring_capacity = 4096;  // slots per direction
  // Test knob: AFFINITY events (same mask) on runnable tasks at this rate, which races with the
  // agent's commits and makes some of them stale.
  double affinity_churn_per_s = 0;
  WorkloadConfig workload;
  // External agent (RunSimExternal): the session /dev/shm/wave-<session> that an agent process
  // (`wave agent`) joins. The simulation then runs on the real monotonic clock.
  std::string session;
  uint64_t heartbeat_timeout_ns = 50'000'000;       // the agent is presumed dead after this
  uint64_t agent_join_timeout_ns = 10'000'000'000;  // how long to wait for the agent to join
};

struct SimResult {
  SimConfig config;
  std::string policy;
  uint64_t arrived = 0;
  uint64_t completed = 0;
  uint64_t completed_in_window = 0;  // completed by duration_ns
  double throughput_rps = 0;         // completed_in_window / duration
  double latency_p50_us = 0;
  double latency_p99_us = 0;
  double latency_p999_us = 0;
  double latency_mean_us = 0;
  double latency_max_us = 0;
  int workload_cpus = 0;
  uint64_t commits_ok = 0;
  uint64_t commits_stale = 0;
  uint64_t commits_rejected = 0;
  // Runnable tasks left waiting when the simulation went quiet (or hit the drain limit) while a
  // cpu sat idle: the scheduler lost them.
  uint64_t lost_tasks = 0;
  uint64_t incomplete_requests = 0;
  // Broken invariants: a task on two cpus, a request served twice, a cpu running two tasks.
  uint64_t invariant_violations = 0;
  uint64_t events_sent = 0;
  uint64_t event_ring_full = 0;        // events that waited in the host's backlog for ring space
  double agent_busy_fraction = 0;      // of the elapsed virtual time
  double cpu_utilization = 0;          // busy time of workload cpus (switching included)
  double idle_with_work_fraction = 0;  // cpu time idle while a runnable task waited
  uint64_t end_ns = 0;
  AgentStats agent;
};

absl::Status ValidateSimConfig(const SimConfig& config);

// Runs one simulation with `policy` as the agent's policy.
absl::StatusOr<SimResult> RunSim(const SimConfig& config, Policy& policy);

// Runs the same model in real time with the agent in another process, joined through the
// session `config.session` (transport/session.h). Events are processed when the monotonic
// clock (relative to the start) passes their time; the commit ring is polled continuously. The
// agent's costs are its own (no virtual agent time); the result's `agent` stats are the host's
// view (commits sent and their results). Fails with "... presumed dead" when the agent's
// heartbeat is older than heartbeat_timeout_ns, and with "session mismatch: ..." when the
// handshake fails.
absl::StatusOr<SimResult> RunSimExternal(const SimConfig& config);

}  // namespace wave

#endif  // LIBWAVE_HOST_SIM_SIM_H_
