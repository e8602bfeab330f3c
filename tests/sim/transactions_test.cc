// Issue 5 end to end on the simulated host: preemption and slices, group commits under races,
// prestaging with stale entries, agent failure and restart, and event-ring overflow.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "host/sim/sim.h"
#include "lib/sched/policy.h"
#include "policies/sched/fifo.h"
#include "tests/sim/sim_checks.h"

namespace wave {
namespace {

SimConfig ShortRun() {
  SimConfig c;
  c.duration_ns = 200'000'000;  // 0.2 s of virtual time
  return c;
}

// A FIFO that never waits for an idle cpu: every queued task goes to cpu (id % cpus) with
// PREEMPT and a short slice, so the host must displace running tasks and end slices.
class PreemptEverything : public Policy {
 public:
  std::string name() const override { return "preempt-everything"; }
  void OnTaskNew(Task& t, const TaskNew&) override { Enqueue(t); }
  void OnTaskWakeup(Task& t, const TaskWakeup&) override { Enqueue(t); }
  void OnTaskBlocked(Task& t, const TaskBlocked&) override { rq_.Remove(&t); }
  void OnTaskPreempted(Task& t, const TaskPreempted&) override { Enqueue(t); }
  void OnTaskYield(Task& t, const TaskYield&) override { Enqueue(t); }
  void OnTaskDead(Task& t, const TaskDead&) override { rq_.Remove(&t); }
  void OnCommitFailed(Task& t, const CommitResult&) override { Enqueue(t); }
  void Schedule(CpuTable& cpus, Txn& txn) override {
    for (Task* t = rq_.Front(); t != nullptr;) {
      Task* next = rq_.Next(t);
      const int cpu = static_cast<int>(t->id() % static_cast<uint64_t>(cpus.size()));
      if (txn.Commit({.task = t,
                      .cpu = cpu,
                      .seq = t->seq(),
                      .slice_ns = 20'000,
                      .flags = WAVE_COMMIT_F_PREEMPT}) == CommitCheck::kOk) {
        rq_.Remove(t);
      }
      t = next;
    }
  }

 private:
  void Enqueue(Task& t) {
    if (t.runnable() && !t.commit_pending() && !rq_.Contains(&t)) rq_.PushBack(&t);
  }
  TaskQueue rq_;
};

TEST(SimTransactions, PreemptionAndSlicesLoseNothing) {
  SimConfig c = ShortRun();
  c.workload.load_rps = 150'000;
  PreemptEverything p;
  absl::StatusOr<SimResult> r = RunSim(c, p);
  ASSERT_TRUE(r.ok()) << r.status();
  ExpectEveryRequestDone(*r);
  EXPECT_GT(r->agent.events_by_type[WAVE_EV_TASK_PREEMPTED], 0u);  // displaced and sliced
  EXPECT_GT(r->commits_ok, 0u);
}

// Gangs of two: the queue's two oldest tasks go to two available cpus as one group. Every
// result is recorded per group, to check that no group was half applied.
class Gangs : public Policy {
 public:
  std::string name() const override { return "gangs"; }
  void OnTaskNew(Task& t, const TaskNew&) override { Enqueue(t); }
  void OnTaskWakeup(Task& t, const TaskWakeup&) override { Enqueue(t); }
  void OnTaskBlocked(Task& t, const TaskBlocked&) override { rq_.Remove(&t); }
  void OnTaskPreempted(Task& t, const TaskPreempted&) override { Enqueue(t); }
  void OnTaskYield(Task& t, const TaskYield&) override { Enqueue(t); }
  void OnTaskDead(Task& t, const TaskDead&) override { rq_.Remove(&t); }
  void OnCommitFailed(Task& t, const CommitResult& r) override {
    Record(r);
    Enqueue(t);
  }
  void OnCommitDone(Task&, const CommitResult& r) override { Record(r); }
  void Schedule(CpuTable& cpus, Txn& txn) override {
    std::vector<int> free;
    for (Cpu& cpu : cpus) {
      if (cpu.available()) free.push_back(cpu.id);
    }
    for (size_t i = 0; i + 1 < free.size() && rq_.size() >= 2; i += 2) {
      Task* a = rq_.PopFront();
      Task* b = rq_.PopFront();
      const uint64_t first_txn = next_txn_guess_;
      if (txn.CommitGroup({{.task = a, .cpu = free[i], .seq = a->seq()},
                           {.task = b, .cpu = free[i + 1], .seq = b->seq()}}) != CommitCheck::kOk) {
        rq_.PushFront(b);
        rq_.PushFront(a);
        continue;
      }
      (void)first_txn;
      ++groups_sent;
    }
    // A lone task left over runs on its own.
    if (!free.empty() && free.size() % 2 == 1 && !rq_.empty()) {
      Task* t = rq_.PopFront();
      if (txn.Commit({.task = t, .cpu = free.back(), .seq = t->seq()}) != CommitCheck::kOk) {
        rq_.PushFront(t);
      }
    }
  }

  // Results by txn id; groups are consecutive txn ids (the Txn numbers them in order).
  std::map<uint64_t, wave_commit_status> results;
  uint64_t groups_sent = 0;

 private:
  void Enqueue(Task& t) {
    if (t.runnable() && !t.commit_pending() && !rq_.Contains(&t)) rq_.PushBack(&t);
  }
  void Record(const CommitResult& r) { results[r.txn_id()] = r.status(); }
  TaskQueue rq_;
  uint64_t next_txn_guess_ = 0;
};

TEST(SimTransactions, GroupCommitsAreAllOrNothingUnderRaces) {
  SimConfig c = ShortRun();
  c.workload.load_rps = 150'000;
  c.affinity_churn_per_s = 2'000'000;  // sequence bumps racing with the groups
  Gangs g;
  absl::StatusOr<SimResult> r = RunSim(c, g);
  ASSERT_TRUE(r.ok()) << r.status();
  ExpectEveryRequestDone(*r);
  ASSERT_GT(g.groups_sent, 0u);
  EXPECT_GT(r->agent.results[WAVE_COMMIT_GROUP_ABORTED], 0u);  // the races did break groups
  // Whenever a member was aborted for its group, its partner failed for a reason of its own,
  // and no member of that group ran.
  uint64_t aborted = 0;
  for (const auto& [txn, status] : g.results) {
    if (status != WAVE_COMMIT_GROUP_ABORTED) continue;
    ++aborted;
    const auto prev = g.results.find(txn - 1);
    const auto next = g.results.find(txn + 1);
    const bool partner_failed = (prev != g.results.end() && prev->second != WAVE_COMMIT_OK &&
                                 prev->second != WAVE_COMMIT_GROUP_ABORTED) ||
                                (next != g.results.end() && next->second != WAVE_COMMIT_OK &&
                                 next->second != WAVE_COMMIT_GROUP_ABORTED);
    EXPECT_TRUE(partner_failed) << "txn " << txn << " aborted, but its partner did not fail";
  }
  EXPECT_EQ(aborted, r->agent.results[WAVE_COMMIT_GROUP_ABORTED]);
}

TEST(SimPrestage, StaleStagedDecisionsAreAbortedNeverRun) {
  SimConfig c = ShortRun();
  c.workload.load_rps = 200'000;
  c.prestage_depth = 4;
  c.affinity_churn_per_s = 1'000'000;  // staged decisions go stale while they wait
  FifoPolicy fifo;
  absl::StatusOr<SimResult> r = RunSim(c, fifo);
  ASSERT_TRUE(r.ok()) << r.status();
  ExpectEveryRequestDone(*r);
  EXPECT_GT(r->staged_hits, 0u);
  EXPECT_GT(r->staged_aborts, 0u);
  // Each staged decision was answered once, and only valid ones ran (a stale one running would
  // have put a task on two cpus or served a request twice: invariant_violations above).
  EXPECT_EQ(r->agent.staged_ok + r->agent.staged_aborted, r->staged_hits + r->staged_aborts);
  EXPECT_EQ(r->agent.staged_ok, r->staged_hits);
}

PolicyFactory Fifo() {
  return [] { return std::make_unique<FifoPolicy>(); };
}

TEST(SimFailure, DeadAgentHostFallsBackWithinTheTimeout) {
  SimConfig c = ShortRun();
  c.agent_fail_at_ns = 50'000'000;
  c.heartbeat_timeout_ns = 20'000'000;
  absl::StatusOr<SimResult> r = RunSim(c, Fifo());
  ASSERT_TRUE(r.ok()) << r.status();
  ExpectEveryRequestDone(*r);
  EXPECT_EQ(r->fallbacks, 1u);
  // Detected after the timeout, and within one heartbeat period of it.
  EXPECT_GE(r->fallback_detect_ns, c.heartbeat_timeout_ns - c.heartbeat_period_ns);
  EXPECT_LE(r->fallback_detect_ns, c.heartbeat_timeout_ns + c.heartbeat_period_ns);
  EXPECT_GT(r->fallback_ns, 0u);
  EXPECT_EQ(r->agent_restarts, 0u);
}

TEST(SimFailure, RestartedAgentResynchronisesAndTakesOver) {
  SimConfig dead = ShortRun();
  dead.agent_fail_at_ns = 50'000'000;
  absl::StatusOr<SimResult> without = RunSim(dead, Fifo());
  ASSERT_TRUE(without.ok()) << without.status();
  SimConfig c = dead;
  c.agent_restart_at_ns = 120'000'000;
  absl::StatusOr<SimResult> r = RunSim(c, Fifo());
  ASSERT_TRUE(r.ok()) << r.status();
  ExpectEveryRequestDone(*r);
  EXPECT_EQ(r->fallbacks, 1u);
  EXPECT_EQ(r->agent_restarts, 1u);
  EXPECT_EQ(r->resyncs, 1u);
  EXPECT_EQ(r->agent.resyncs, 1u);  // the new agent saw RESYNC_BEGIN
  // The new agent placed the work of the last 80 ms: far more commits than without it.
  EXPECT_GT(r->commits_ok, without->commits_ok + 1'000);
  EXPECT_EQ(r->commits_old_epoch, 0u);
  // A restart needs a fresh policy: the plain overload refuses.
  FifoPolicy fifo;
  EXPECT_EQ(RunSim(c, fifo).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(SimFailure, FullEventRingNeverBlocksTheHostAndResynchronises) {
  SimConfig c = ShortRun();
  c.ring_capacity = 512;  // just enough for a replay of 256 threads
  c.workload.load_rps = 200'000;
  // Deep staging keeps the cpus busy (and the events coming) while the agent takes 2 ms per
  // loop: far more events arrive between two of its polls than the ring holds.
  c.prestage_depth = 64;
  c.agent_poll_cost_ns = 2'000'000;
  FifoPolicy fifo;
  absl::StatusOr<SimResult> r = RunSim(c, fifo);
  ASSERT_TRUE(r.ok()) << r.status();
  ExpectEveryRequestDone(*r);
  EXPECT_GT(r->event_ring_full, 0u);
  EXPECT_GT(r->resyncs, 0u);
  EXPECT_EQ(r->agent.resyncs, r->resyncs);
}

TEST(SimConfigChecks, FailureKnobsAreValidated) {
  SimConfig c = ShortRun();
  c.agent_restart_at_ns = 10;  // a restart without a failure
  EXPECT_EQ(ValidateSimConfig(c).code(), absl::StatusCode::kInvalidArgument);
  c = ShortRun();
  c.prestage_depth = 3;
  EXPECT_EQ(ValidateSimConfig(c).code(), absl::StatusCode::kInvalidArgument);
  c = ShortRun();
  c.ring_capacity = 128;  // cannot hold a replay of 256 threads
  EXPECT_EQ(ValidateSimConfig(c).code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace wave
