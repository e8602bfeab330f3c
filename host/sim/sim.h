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
//
// The host as a real one must be:
//  - Transactions: every commit is validated (host/mech); PREEMPT displaces the running task;
//    a slice ends in TASK_PREEMPTED; group commits apply all or none.
//  - Prestaging (prestage_depth > 0): at a cpu's scheduling point (its task blocked or its slice
//    ended) the host takes that cpu's next staged decision from its staging ring, validates it
//    and runs it with no round trip; a stale one is aborted and the next one tried. Idle cpus
//    are checked too, whenever the host looks at its commit ring.
//  - Failure: the agent beats every heartbeat_period_ns; when its beat is older than
//    heartbeat_timeout_ns the host falls back to its own policy (round robin over a global queue,
//    fallback_slice_ns slices) and no task waits for the dead agent. A restarted agent gets a
//    replay of every live task (RESYNC) and takes over again. A full event ring never blocks:
//    events are dropped, counted, and the agent is resynchronised once there is room.
#ifndef LIBWAVE_HOST_SIM_SIM_H_
#define LIBWAVE_HOST_SIM_SIM_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/sched/policy.h"
#include "lib/sched/stats.h"

namespace wave {

enum class Placement { kHost, kIpu };
enum class WorkloadKind { kRocksDb, kUniform, kExponential, kRpc, kVms, kCpuBound };

const char* PlacementName(Placement p);
const char* WorkloadName(WorkloadKind w);

// An open-loop server: requests arrive as a Poisson process and each is handed to an idle worker
// thread, which wakes, serves it and blocks again. When every worker is busy, requests wait in
// the application's queue and a worker finishing a request takes the next one without blocking.
// cpubound is not a server: every worker is runnable from the start and always has work until
// duration_ns, when each finishes as soon as it next runs (one request per worker, no arrivals;
// load_rps is unused). It makes cpu shares measurable: see SimResult::task_runtime_ns.
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
  // exponential (and rpc): service time exponential with this mean.
  uint64_t mean_ns = 10'000;
  // rpc (a Stubby-like RPC server): each request belongs to a flow, one flow per thread, and is
  // handled by that flow's thread (queued behind it when it is busy). The NIC sees the request
  // at its arrival; the host's network stack wakes the handler net_stack_ns later. With the
  // agent on the IPU the NIC tells it at once (a NET_RPC event, no link crossing).
  uint64_t net_stack_ns = 5'000;
  // vms: `vms` virtual machines of `vcpus_per_vm` vCPU threads each, plus `antagonists` batch
  // threads that are always runnable (threads, arrivals and load are ignored). A vCPU runs
  // bursts (exponential, vm_burst_ns mean) and halts in between (exponential, vm_halt_ns mean).
  // A VM does useful work only while all its vCPUs that are not halted run at once; a vCPU
  // running without them mostly spins on their locks, at vm_alone_rate of useful speed. The run
  // ends at duration_ns.
  int vms = 3;
  int vcpus_per_vm = 2;
  int antagonists = 4;
  double vm_alone_rate = 0.3;
  uint64_t vm_burst_ns = 2'000'000;
  uint64_t vm_halt_ns = 100'000;
  // Nice values of the workers: worker i (task id i + 1) gets nice[i % nice.size()], each in
  // [-20, 19]; empty: all 0.
  std::vector<int> nice;
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
  uint32_t prestage_depth = 0;    // staged decisions per cpu; 0: no prestaging
  // Failure handling. Times are from the start of the run; 0 = never.
  uint64_t heartbeat_period_ns = 1'000'000;  // the agent beats, the host checks, this often
  uint64_t agent_fail_at_ns = 0;             // test knob: the agent stops (virtual time only)
  uint64_t agent_restart_at_ns = 0;          // test knob: a new agent starts (virtual time)
  uint64_t fallback_slice_ns = 3'000'000;    // the host's own round robin, while in fallback
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
  // rocksdb: the p99 of the GETs alone (what a scan-bound tail hides from the overall p99).
  double get_latency_p99_us = 0;
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
  uint64_t event_ring_full = 0;  // events dropped because the event ring was full
  uint64_t resyncs = 0;          // replays sent (agent restarts and overflows)
  // Prestaging, at the cpus' scheduling points.
  uint64_t staged_hits = 0;    // a staged decision ran, no round trip
  uint64_t staged_aborts = 0;  // a staged decision was stale (or otherwise invalid) and skipped
  uint64_t staged_misses = 0;  // the cpu went idle with work waiting and nothing valid staged
  // Failure handling.
  uint64_t fallbacks = 0;           // times the host took over from a silent agent
  uint64_t fallback_detect_ns = 0;  // longest time from agent_fail_at to the takeover
  uint64_t fallback_ns = 0;         // total time the host's own policy ran the cpus
  uint64_t agent_restarts = 0;      // agents that took over again after a fallback
  uint64_t commits_old_epoch = 0;   // decisions made before a resync, dropped unanswered
  uint64_t agent_errors = 0;        // broken rings from the agent's side (each a fallback)
  std::string last_agent_error;
  double agent_busy_fraction = 0;      // of the elapsed virtual time
  double cpu_utilization = 0;          // busy time of workload cpus (switching included)
  double idle_with_work_fraction = 0;  // cpu time idle while a runnable task waited
  // vms: per second of the run, in cpus' worth: useful vCPU work, vCPU time on a cpu, and
  // antagonist time on a cpu.
  double vm_useful_cpus = 0;
  double vm_oncpu_cpus = 0;
  double antagonist_cpus = 0;
  uint64_t end_ns = 0;
  // Cpu time of each worker (index: task id - 1), context switches excluded.
  std::vector<uint64_t> task_runtime_ns;
  AgentStats agent;
};

absl::Status ValidateSimConfig(const SimConfig& config);

// Runs one simulation with `policy` as the agent's policy. A config that restarts the agent
// needs a fresh policy for it: use the factory overload.
absl::StatusOr<SimResult> RunSim(const SimConfig& config, Policy& policy);
using PolicyFactory = std::function<std::unique_ptr<Policy>()>;
absl::StatusOr<SimResult> RunSim(const SimConfig& config, const PolicyFactory& make_policy);

// The baseline with no agent at all: the host's own policy (the round robin it falls back to,
// fallback_slice_ns slices over one global queue, like a kernel's default class) runs every
// workload cpu from the start. `placement` is ignored (no cpu is taken by an agent). The
// result's policy is "kernel".
absl::StatusOr<SimResult> RunSimKernel(const SimConfig& config);

// Runs the same model in real time with the agent in another process, joined through the
// session `config.session` (transport/session.h). Events are processed when the monotonic
// clock (relative to the start) passes their time; the commit ring is polled continuously. The
// agent's costs are its own (no virtual agent time); the result's `agent` stats are the host's
// view (commits sent and their results). When the agent's heartbeat is older than
// heartbeat_timeout_ns (or it breaks a ring) the host falls back to its own policy, reopens the
// session, and hands control to the next agent that joins. Fails with "session mismatch: ..."
// when the first handshake fails.
absl::StatusOr<SimResult> RunSimExternal(const SimConfig& config);

}  // namespace wave

#endif  // LIBWAVE_HOST_SIM_SIM_H_
