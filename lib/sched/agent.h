// An agent of one subsystem, scheduling, on one link: a Runtime (lib/runtime.h) with a
// SchedSubsystem (lib/sched/sched.h) attached. What the in-process mechanisms (the simulator,
// `wave run`'s agent thread) and the tests use; `wave-agent` builds its Runtime itself, with the
// subsystems the session serves.
//
//   Agent agent(std::move(link_end), policy, {.num_cpus = 8});
//   while (running) agent.RunOnce();
#ifndef LIBWAVE_LIB_SCHED_AGENT_H_
#define LIBWAVE_LIB_SCHED_AGENT_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "lib/runtime.h"
#include "lib/sched/policy.h"
#include "lib/sched/sched.h"
#include "lib/sched/stats.h"
#include "lib/sched/task.h"
#include "transport/link.h"

namespace wave {

struct AgentOptions {
  int num_cpus = 0;
  // Most events handled per Poll (0: the ring's capacity).
  uint32_t max_burst = 256;
  // The WAVE_FEAT_* the session agreed on (SchedOptions::features).
  uint64_t features = WAVE_FEATURES;
};

class Agent {
 public:
  Agent(AgentEnd link, Policy& policy, const AgentOptions& options);

  // Drains up to max_burst visible events, applies them, then calls Policy::Schedule once.
  // Commits stay queued until Flush(). An error means the event ring is corrupt.
  absl::StatusOr<PollResult> Poll() { return runtime_.Poll(); }
  // Publishes queued commits in one burst. Those that do not fit stay queued for the next flush
  // (never dropped). Returns how many were published; an error means the commit ring is corrupt.
  absl::StatusOr<uint32_t> Flush() { return runtime_.Flush(); }
  // Poll + Flush.
  absl::StatusOr<PollResult> RunOnce() { return runtime_.RunOnce(); }
  // An event from the agent's own side of the link (the IPU's NIC), for the subscribers of its
  // type (the policy's Subscriptions()); the policy schedules at the next Poll.
  void DeliverLocal(const wave_msg& msg) { runtime_.DeliverLocal(msg); }
  // Hands credits for consumed events back now (call before sleeping).
  void ReturnCredits() { runtime_.ReturnCredits(); }

  const AgentStats& stats() const { return sched_.stats(); }
  const TaskTable& tasks() const { return sched_.tasks(); }
  CpuTable& cpus() { return sched_.cpus(); }
  // Commits and staged decisions queued for the next Flush.
  size_t queued_commits() const { return sched_.queued_commands(); }
  // Commits sent whose result has not come back.
  size_t commits_in_flight() const { return sched_.commits_in_flight(); }
  Runtime& runtime() { return runtime_; }

 private:
  SchedSubsystem sched_;
  Runtime runtime_;  // after sched_: destroyed first
};

}  // namespace wave

#endif  // LIBWAVE_LIB_SCHED_AGENT_H_
