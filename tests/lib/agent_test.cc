// The agent runtime over a real in-process link, against a fake host written here: the test
// pushes events into HostEnd.events and reads the agent's commits out of HostEnd.commands.
#include "lib/sched/agent.h"

#include <climits>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "abi/wave_abi.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "lib/sched/events.h"
#include "lib/sched/policy.h"
#include "lib/sched/stats.h"
#include "lib/sched/task.h"
#include "lib/sched/txn.h"
#include "policies/sched/fifo.h"
#include "transport/link.h"
#include "transport/region.h"

namespace wave {
namespace {

constexpr LinkConfig kLink = LinkConfig::Sched(256, 256);

// ---- messages the fake host sends ----

wave_msg Blank() {
  wave_msg m;
  std::memset(&m, 0, sizeof(m));
  return m;
}

wave_msg TaskMsg(uint16_t type, uint64_t id, Seq seq, int cpu = -1) {
  wave_msg m = Blank();
  m.task.hdr.type = type;
  m.task.hdr.len = WAVE_MSG_SIZE;
  m.task.task_id = id;
  m.task.seq = seq;
  m.task.cpu = cpu;
  return m;
}

// The cpus of a NEW or AFFINITY: every cpu for mask 0, else cpus 0..63 as the mask says.
void SetCpus(wave_msg& m, uint64_t mask) {
  m.task.flags &= ~WAVE_TASK_CPUS_MASK;
  m.task.flags |= mask == 0 ? WAVE_TASK_CPUS_ALL : WAVE_TASK_CPUS_WORD;
  m.task.cpus = mask;
  m.task.cpus_word = 0;
}

wave_msg NewTask(uint64_t id, Seq seq, bool runnable = true, uint64_t mask = 0) {
  wave_msg m = TaskMsg(WAVE_EV_TASK_NEW, id, seq);
  m.task.flags = runnable ? WAVE_TASK_F_RUNNABLE : 0;
  SetCpus(m, mask);
  return m;
}

wave_msg Affinity(uint64_t id, Seq seq, uint64_t mask) {
  wave_msg m = TaskMsg(WAVE_EV_TASK_AFFINITY, id, seq);
  SetCpus(m, mask);
  return m;
}

wave_msg CpuMsg(uint16_t type, int cpu) {
  wave_msg m = Blank();
  m.cpu.hdr.type = type;
  m.cpu.hdr.len = WAVE_MSG_SIZE;
  m.cpu.cpu = cpu;
  return m;
}

wave_msg Idle(int cpu) { return CpuMsg(WAVE_EV_CPU_IDLE, cpu); }

wave_msg Resync(uint16_t type, uint32_t epoch) {
  wave_msg m;
  wave_msg_init(&m, type);
  m.resync.epoch = epoch;
  m.resync.subsystem = WAVE_SUBSYS_SCHED;
  if (type == WAVE_EV_RESYNC_BEGIN) m.resync.reason = WAVE_RESYNC_AGENT_START;
  return m;
}

wave_msg Result(uint64_t txn, uint64_t task, int cpu, uint32_t status, Seq host_seq) {
  wave_msg m = Blank();
  m.result.hdr.type = WAVE_EV_COMMIT_RESULT;
  m.result.hdr.len = WAVE_MSG_SIZE;
  m.result.txn_id = txn;
  m.result.task_id = task;
  m.result.cpu = cpu;
  m.result.status = status;
  m.result.seq = host_seq;
  return m;
}

wave_msg Answer(const wave_a2k_commit& c, uint32_t status, Seq host_seq) {
  return Result(c.txn_id, c.task_id, c.cpu, status, host_seq);
}

void MustOk(const absl::Status& s) {
  if (!s.ok()) {
    ADD_FAILURE() << s;
    std::abort();
  }
}

// ---- the fake host ----

class Harness {
 public:
  Harness(Policy& policy, int num_cpus, LinkConfig config = kLink) {
    absl::StatusOr<SharedRegion> r = SharedRegion::CreateAnonymous(LinkBytes(config));
    MustOk(r.status());
    region_ = *std::move(r);
    MustOk(LinkFormat(region_.data(), region_.size(), config));
    absl::StatusOr<HostEnd> h = AttachHost(region_.data(), region_.size());
    MustOk(h.status());
    host_ = *std::move(h);
    absl::StatusOr<AgentEnd> a = AttachAgent(region_.data(), region_.size());
    MustOk(a.status());
    agent_.emplace(*std::move(a), policy, AgentOptions{.num_cpus = num_cpus});
  }

  Agent& agent() { return *agent_; }
  const AgentStats& stats() const { return agent_->stats(); }
  HostEnd& host() { return host_; }

  void Push(const wave_msg& m) { EXPECT_TRUE(host_.events.Push(m)) << "event ring full"; }
  void Push(std::initializer_list<wave_msg> ms) {
    for (const wave_msg& m : ms) Push(m);
  }

  // One turn of the agent loop: drain, schedule, flush.
  PollResult Step() {
    absl::StatusOr<PollResult> r = agent_->RunOnce();
    EXPECT_TRUE(r.ok()) << r.status();
    agent_->ReturnCredits();
    return r.ok() ? *r : PollResult{};
  }

  // Reads every commit the agent has published, and hands the credits back.
  std::vector<wave_a2k_commit> TakeCommits() {
    std::vector<wave_a2k_commit> out;
    for (;;) {
      absl::StatusOr<uint32_t> n = host_.commands.Peek(host_.commands.capacity());
      EXPECT_TRUE(n.ok()) << n.status();
      if (!n.ok() || *n == 0) break;
      for (uint32_t i = 0; i < *n; ++i) {
        wave_msg m;
        host_.commands.Read(i, &m);
        out.push_back(m.commit);
      }
      host_.commands.Advance(*n);
    }
    host_.commands.ReturnCredits();
    return out;
  }

  // Exactly one commit is expected.
  wave_a2k_commit OneCommit() {
    std::vector<wave_a2k_commit> cs = TakeCommits();
    EXPECT_EQ(cs.size(), 1u);
    return cs.empty() ? wave_a2k_commit{} : cs[0];
  }

 private:
  SharedRegion region_;
  HostEnd host_;
  std::optional<Agent> agent_;  // destroyed before the region it points into
};

// ---- test policies ----

struct Failure {
  uint64_t task_id;
  wave_commit_status status;
  Seq host_seq;
};

// FIFO that records results and checks the callback contract.
class RecordingFifo : public FifoPolicy {
 public:
  void OnCommitFailed(Task& task, const CommitResult& r) override {
    if (task.commit_pending() || r.status() >= WAVE_COMMIT_STATUS_COUNT || r.ok()) {
      ++contract_violations;
    }
    failed.push_back({task.id(), r.status(), r.host_seq()});
    FifoPolicy::OnCommitFailed(task, r);
  }
  void OnCommitDone(Task& task, const CommitResult& r) override {
    if (task.commit_pending() || !r.ok()) ++contract_violations;
    done.push_back(task.id());
  }
  void OnTaskOnCpu(Task& task, const TaskOnCpu&) override {
    if (task.state() != TaskState::kOnCpu || task.queue() != nullptr) ++contract_violations;
    on_cpu.push_back(task.id());
  }

  std::vector<Failure> failed;
  std::vector<uint64_t> done;
  std::vector<uint64_t> on_cpu;
  int contract_violations = 0;
};

// A policy with its own queue whose callbacks only record, and whose Schedule runs a script.
class ScriptedPolicy : public Policy {
 public:
  std::string name() const override { return "scripted"; }
  void OnTaskNew(Task& t, const TaskNew&) override {
    log.push_back("new " + std::to_string(t.id()));
    if (t.runnable()) rq.PushBack(&t);
  }
  void OnTaskWakeup(Task& t, const TaskWakeup&) override {
    log.push_back("wakeup " + std::to_string(t.id()));
  }
  void OnTaskBlocked(Task& t, const TaskBlocked&) override {
    // The agent has taken the task out of the queue and off its cpu already.
    log.push_back("blocked " + std::to_string(t.id()) + (t.queue() ? " queued" : "") +
                  (t.cpu() >= 0 ? " on_cpu" : ""));
  }
  void OnTaskPreempted(Task& t, const TaskPreempted&) override {
    log.push_back("preempted " + std::to_string(t.id()));
  }
  void OnTaskYield(Task& t, const TaskYield&) override {
    log.push_back("yield " + std::to_string(t.id()));
  }
  void OnTaskDead(Task& t, const TaskDead&) override {
    log.push_back("dead " + std::to_string(t.id()));  // deliberately leaves it in rq
  }
  void OnCommitFailed(Task& t, const CommitResult& r) override {
    log.push_back("failed " + std::to_string(t.id()) + " " + CommitStatusName(r.status()));
  }
  void OnCommitDone(Task& t, const CommitResult&) override {
    log.push_back("done " + std::to_string(t.id()));
  }
  void OnCpuIdle(Cpu& c, const CpuIdle&) override { log.push_back("idle " + std::to_string(c.id)); }
  void OnCpuTick(Cpu& c, const CpuTick& ev) override {
    log.push_back("tick " + std::to_string(c.id) + " " + std::to_string(ev.task_id()));
  }
  void Schedule(CpuTable& cpus, Txn& txn) override {
    ++schedules;
    if (script) script(cpus, txn);
  }

  TaskQueue rq;
  std::vector<std::string> log;
  int schedules = 0;
  std::function<void(CpuTable&, Txn&)> script;
};

void ExpectCommit(const wave_a2k_commit& c, uint64_t task, int cpu, Seq seq) {
  EXPECT_EQ(c.hdr.type, WAVE_CMD_COMMIT);
  EXPECT_EQ(c.hdr.len, WAVE_MSG_SIZE);
  EXPECT_EQ(c.task_id, task);
  EXPECT_EQ(c.cpu, cpu);
  EXPECT_EQ(c.seq, seq);
  EXPECT_NE(c.txn_id, 0u);
  EXPECT_EQ(c.flags, 0u);
  EXPECT_EQ(c.slice_ns, 0u);
  EXPECT_EQ(c.group, 0u);
  EXPECT_EQ(c.group_size, 0u);
  EXPECT_EQ(c.reserved, 0u);
}

// ---- the happy path ----

TEST(AgentTest, RunnableTaskIsCommittedToTheIdleCpuWithItsSeq) {
  RecordingFifo fifo;
  Harness h(fifo, 4);
  h.Push({NewTask(7, 41), Idle(2)});
  PollResult r = h.Step();
  EXPECT_EQ(r.events, 2u);
  EXPECT_EQ(r.commands, 1u);

  const wave_a2k_commit c = h.OneCommit();
  ExpectCommit(c, 7, 2, 41);

  const Task* t = h.agent().tasks().Find(7);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->state(), TaskState::kRunnable);
  EXPECT_TRUE(t->commit_pending());
  EXPECT_EQ(t->queue(), nullptr);
  EXPECT_EQ(h.agent().cpus()[2].pending_txn(), c.txn_id);
  EXPECT_FALSE(h.agent().cpus()[2].available());
  EXPECT_EQ(h.agent().cpus().AvailableCount(), 0);
  EXPECT_EQ(h.agent().commits_in_flight(), 1u);
  EXPECT_EQ(h.agent().queued_commits(), 0u);
  EXPECT_EQ(h.stats().commits_sent, 1u);
  EXPECT_EQ(h.stats().events, 2u);
  EXPECT_EQ(h.stats().events_by_type[WAVE_EV_TASK_NEW], 1u);
  EXPECT_EQ(h.stats().events_by_type[WAVE_EV_CPU_IDLE], 1u);
  EXPECT_EQ(h.stats().malformed, 0u);

  // Nothing more to do: a quiet poll sends nothing.
  EXPECT_EQ(h.Step().events, 0u);
  EXPECT_TRUE(h.TakeCommits().empty());
}

TEST(AgentTest, NothingIsCommittedUntilACpuIsIdleAndTheTaskRunnable) {
  RecordingFifo fifo;
  Harness h(fifo, 2);
  h.Push({NewTask(1, 1), NewTask(2, 1, /*runnable=*/false)});
  h.Step();
  EXPECT_TRUE(h.TakeCommits().empty());  // no idle cpu
  EXPECT_EQ(fifo.queued(), 1u);          // only the runnable one

  h.Push(Idle(1));
  h.Step();
  ExpectCommit(h.OneCommit(), 1, 1, 1);

  h.Push(Idle(0));
  h.Step();
  EXPECT_TRUE(h.TakeCommits().empty());  // task 2 is blocked

  h.Push(TaskMsg(WAVE_EV_TASK_WAKEUP, 2, 2));
  h.Step();
  ExpectCommit(h.OneCommit(), 2, 0, 2);  // the seq of the wakeup
}

TEST(AgentTest, FifoOrderAcrossCpus) {
  RecordingFifo fifo;
  Harness h(fifo, 3);
  h.Push({NewTask(30, 1), NewTask(10, 1), NewTask(20, 1), Idle(2), Idle(0), Idle(1)});
  h.Step();
  std::vector<wave_a2k_commit> cs = h.TakeCommits();
  ASSERT_EQ(cs.size(), 3u);
  // The cpus in table order take the tasks in arrival order; txn ids increase.
  ExpectCommit(cs[0], 30, 0, 1);
  ExpectCommit(cs[1], 10, 1, 1);
  ExpectCommit(cs[2], 20, 2, 1);
  EXPECT_LT(cs[0].txn_id, cs[1].txn_id);
  EXPECT_LT(cs[1].txn_id, cs[2].txn_id);
}

TEST(AgentTest, AffinityIsRespected) {
  RecordingFifo fifo;
  Harness h(fifo, 4);
  h.Push({NewTask(1, 1, true, /*mask=*/1u << 3), Idle(0), Idle(1)});
  h.Step();
  EXPECT_TRUE(h.TakeCommits().empty());
  h.Push(Idle(3));
  h.Step();
  ExpectCommit(h.OneCommit(), 1, 3, 1);
}

// ---- results ----

TEST(AgentTest, StaleResultRequeuesAndTheNextCommitCarriesTheNewSeq) {
  RecordingFifo fifo;
  Harness h(fifo, 2);
  h.Push({NewTask(5, 10), Idle(0)});
  h.Step();
  const wave_a2k_commit first = h.OneCommit();
  ExpectCommit(first, 5, 0, 10);

  // The host moved the task on (affinity change at seq 11) before it saw the commit, so it
  // answers STALE. The agent applies the newer event, then the result, then schedules again.
  h.Push({Affinity(5, 11, 0b01), Answer(first, WAVE_COMMIT_STALE, 11)});
  PollResult r = h.Step();
  EXPECT_EQ(r.events, 2u);
  ASSERT_EQ(fifo.failed.size(), 1u);
  EXPECT_EQ(fifo.failed[0].task_id, 5u);
  EXPECT_EQ(fifo.failed[0].status, WAVE_COMMIT_STALE);
  EXPECT_EQ(fifo.failed[0].host_seq, 11u);
  EXPECT_EQ(fifo.contract_violations, 0);
  EXPECT_EQ(h.stats().commits_stale(), 1u);

  const wave_a2k_commit second = h.OneCommit();
  ExpectCommit(second, 5, 0, 11);
  EXPECT_NE(second.txn_id, first.txn_id);
  EXPECT_EQ(h.agent().commits_in_flight(), 1u);
}

TEST(AgentTest, StaleResultAloneRequeuesThenANewerEventFixesTheSeq) {
  RecordingFifo fifo;
  Harness h(fifo, 1);
  h.Push({NewTask(5, 10), Idle(0)});
  h.Step();
  const wave_a2k_commit first = h.OneCommit();

  // The result arrives before the event that bumped the seq: the policy requeues at once and,
  // the cpu being idle still, retries with the only seq the agent knows.
  h.Push(Answer(first, WAVE_COMMIT_STALE, 11));
  h.Step();
  ASSERT_EQ(fifo.failed.size(), 1u);
  EXPECT_EQ(fifo.failed[0].status, WAVE_COMMIT_STALE);
  EXPECT_EQ(fifo.failed[0].host_seq, 11u);
  const wave_a2k_commit retry = h.OneCommit();
  ExpectCommit(retry, 5, 0, 10);

  // Now the newer event, and the host's answer to the retry.
  h.Push({Affinity(5, 11, ~0ull), Answer(retry, WAVE_COMMIT_STALE, 11)});
  h.Step();
  ExpectCommit(h.OneCommit(), 5, 0, 11);
  EXPECT_EQ(h.stats().commits_stale(), 2u);
  EXPECT_EQ(fifo.contract_violations, 0);
}

TEST(AgentTest, FailedCommitFreesTheCpuForAnotherTask) {
  RecordingFifo fifo;
  Harness h(fifo, 1);
  h.Push({NewTask(1, 1), Idle(0)});
  h.Step();
  const wave_a2k_commit c = h.OneCommit();
  // The host says the task blocked meanwhile (event first, as a host emits them), then
  // NOT_RUNNABLE; task 2 arrives.
  h.Push(
      {TaskMsg(WAVE_EV_TASK_BLOCKED, 1, 2), Answer(c, WAVE_COMMIT_NOT_RUNNABLE, 2), NewTask(2, 1)});
  h.Step();
  ExpectCommit(h.OneCommit(), 2, 0, 1);
  ASSERT_EQ(fifo.failed.size(), 1u);
  EXPECT_EQ(fifo.failed[0].status, WAVE_COMMIT_NOT_RUNNABLE);
  EXPECT_EQ(fifo.queued(), 0u);  // the blocked task was not requeued
}

TEST(AgentTest, OkResultAndOnCpuPutTheTaskOnTheCpu) {
  RecordingFifo fifo;
  Harness h(fifo, 2);
  h.Push({NewTask(1, 1), Idle(1)});
  h.Step();
  const wave_a2k_commit c = h.OneCommit();

  // As a host enacts: the task runs (seq 2), then the result.
  h.Push({TaskMsg(WAVE_EV_TASK_ON_CPU, 1, 2, 1), Answer(c, WAVE_COMMIT_OK, 2)});
  h.Step();
  const Task* t = h.agent().tasks().Find(1);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->state(), TaskState::kOnCpu);
  EXPECT_EQ(t->cpu(), 1);
  EXPECT_EQ(t->seq(), 2u);
  EXPECT_FALSE(t->commit_pending());
  EXPECT_EQ(t->queue(), nullptr);
  const Cpu& cpu = h.agent().cpus()[1];
  EXPECT_EQ(cpu.current(), t);
  EXPECT_FALSE(cpu.host_idle());
  EXPECT_EQ(cpu.pending_txn(), 0u);
  EXPECT_FALSE(cpu.available());
  EXPECT_EQ(h.agent().commits_in_flight(), 0u);
  EXPECT_EQ(fifo.done, (std::vector<uint64_t>{1}));
  EXPECT_EQ(fifo.on_cpu, (std::vector<uint64_t>{1}));
  EXPECT_EQ(h.stats().commits_ok(), 1u);
  EXPECT_EQ(fifo.contract_violations, 0);

  // The cpu is taken: a new task waits.
  h.Push(NewTask(2, 1));
  h.Step();
  EXPECT_TRUE(h.TakeCommits().empty());
  EXPECT_EQ(fifo.queued(), 1u);
}

TEST(AgentTest, OkResultBeforeOnCpuDoesNotOfferTheCpuAgain) {
  // A host may answer before it reports the task on the cpu. An OK result means the cpu was
  // given to the task, so it is not idle any more; committing another task there would only
  // earn a CPU_BUSY.
  RecordingFifo fifo;
  Harness h(fifo, 1);
  h.Push({NewTask(1, 1), NewTask(2, 1), Idle(0)});
  h.Step();
  const wave_a2k_commit c = h.OneCommit();
  ExpectCommit(c, 1, 0, 1);

  h.Push(Answer(c, WAVE_COMMIT_OK, 2));
  h.Step();
  EXPECT_TRUE(h.TakeCommits().empty());
  EXPECT_FALSE(h.agent().cpus()[0].available());

  h.Push(TaskMsg(WAVE_EV_TASK_ON_CPU, 1, 2, 0));
  h.Step();
  EXPECT_TRUE(h.TakeCommits().empty());
  EXPECT_EQ(h.agent().cpus()[0].current(), h.agent().tasks().Find(1));
  EXPECT_EQ(fifo.queued(), 1u);
}

TEST(AgentTest, OnCpuReplacesTheTaskTheCpuHadBefore) {
  ScriptedPolicy p;
  Harness h(p, 2);
  h.Push({NewTask(1, 1), NewTask(2, 1), TaskMsg(WAVE_EV_TASK_ON_CPU, 1, 2, 0)});
  h.Step();
  EXPECT_EQ(h.agent().cpus()[0].current(), h.agent().tasks().Find(1));
  // Task 2 now runs on cpu 0 (e.g. the host preempted); then task 1 moves to cpu 1.
  h.Push(TaskMsg(WAVE_EV_TASK_ON_CPU, 2, 2, 0));
  h.Step();
  EXPECT_EQ(h.agent().cpus()[0].current(), h.agent().tasks().Find(2));
  EXPECT_EQ(h.agent().tasks().Find(1)->cpu(), -1);
  h.Push(TaskMsg(WAVE_EV_TASK_ON_CPU, 2, 3, 1));
  h.Step();
  EXPECT_EQ(h.agent().cpus()[0].current(), nullptr);
  EXPECT_EQ(h.agent().cpus()[1].current(), h.agent().tasks().Find(2));
  EXPECT_EQ(h.agent().tasks().Find(2)->cpu(), 1);
}

// ---- leaving a cpu ----

// Puts task `id` (seq 1) on `cpu` through a full commit round trip; returns its seq (2).
Seq RunOn(Harness& h, uint64_t id, int cpu) {
  h.Push({NewTask(id, 1), Idle(cpu)});
  h.Step();
  const wave_a2k_commit c = h.OneCommit();
  EXPECT_EQ(c.cpu, cpu);
  h.Push({TaskMsg(WAVE_EV_TASK_ON_CPU, id, 2, cpu), Answer(c, WAVE_COMMIT_OK, 2)});
  h.Step();
  EXPECT_EQ(h.agent().tasks().Find(id)->state(), TaskState::kOnCpu);
  return 2;
}

TEST(AgentTest, BlockedTakesTheTaskOffItsCpu) {
  RecordingFifo fifo;
  Harness h(fifo, 2);
  RunOn(h, 1, 0);
  h.Push(TaskMsg(WAVE_EV_TASK_BLOCKED, 1, 3, 0));
  h.Step();
  const Task* t = h.agent().tasks().Find(1);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->state(), TaskState::kBlocked);
  EXPECT_EQ(t->cpu(), -1);
  EXPECT_EQ(t->queue(), nullptr);
  EXPECT_EQ(h.agent().cpus()[0].current(), nullptr);
  EXPECT_EQ(fifo.queued(), 0u);
  EXPECT_TRUE(h.TakeCommits().empty());

  // The host then reports the cpu idle; a wakeup brings the task back to it.
  h.Push({Idle(0), TaskMsg(WAVE_EV_TASK_WAKEUP, 1, 4)});
  h.Step();
  ExpectCommit(h.OneCommit(), 1, 0, 4);
}

// Hears which events were inferred by the host (WAVE_TASK_F_INFERRED) rather than seen.
class InferenceListener : public ScriptedPolicy {
 public:
  void OnTaskWakeup(Task& t, const TaskWakeup& e) override {
    inferred.push_back(e.inferred());
    ScriptedPolicy::OnTaskWakeup(t, e);
  }
  void OnTaskOnCpu(Task&, const TaskOnCpu& e) override { inferred.push_back(e.inferred()); }
  std::vector<bool> inferred;
};

TEST(AgentTest, InferredEventsCountLikeSeenOnesAndSaySo) {
  InferenceListener p;
  Harness h(p, 2);
  // First seen on cpu 1 (TASK_NEW with ON_CPU), then blocked; its wakeup and its next switch
  // in were missed and are inferred when it is seen leaving cpu 0.
  wave_msg seen = NewTask(1, 1, false);
  seen.task.flags = WAVE_TASK_F_ON_CPU;
  seen.task.cpu = 1;
  h.Push({seen, TaskMsg(WAVE_EV_TASK_BLOCKED, 1, 2, 1)});
  wave_msg wakeup = TaskMsg(WAVE_EV_TASK_WAKEUP, 1, 3);
  wakeup.task.flags = WAVE_TASK_F_INFERRED;
  wave_msg on_cpu = TaskMsg(WAVE_EV_TASK_ON_CPU, 1, 4, 0);
  on_cpu.task.flags = WAVE_TASK_F_INFERRED;
  h.Push({wakeup, on_cpu});
  h.Step();
  const Task* t = h.agent().tasks().Find(1);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->state(), TaskState::kOnCpu);
  EXPECT_EQ(t->cpu(), 0);
  EXPECT_EQ(h.agent().cpus()[0].current(), t);
  EXPECT_EQ(h.agent().cpus()[1].current(), nullptr);
  EXPECT_EQ(p.inferred, (std::vector<bool>{true, true}));
  EXPECT_EQ(h.stats().malformed, 0u);
}

TEST(AgentTest, BlockedRemovesAQueuedTaskEvenIfThePolicyDoesNot) {
  ScriptedPolicy p;  // never removes anything from its queue itself
  Harness h(p, 1);
  h.Push({NewTask(1, 1), NewTask(2, 1), NewTask(3, 1)});
  h.Step();
  ASSERT_EQ(p.rq.size(), 3u);
  h.Push(TaskMsg(WAVE_EV_TASK_BLOCKED, 2, 2));
  h.Step();
  const Task* t = h.agent().tasks().Find(2);
  EXPECT_EQ(t->state(), TaskState::kBlocked);
  EXPECT_FALSE(p.rq.Contains(t));
  EXPECT_EQ(p.rq.size(), 2u);
  EXPECT_EQ(p.rq.Next(p.rq.Front())->id(), 3u);
  EXPECT_EQ(p.log.back(), "blocked 2");  // already out of the queue when the policy is told
}

TEST(AgentTest, PreemptedAndYieldMakeTheTaskRunnableAgain) {
  RecordingFifo fifo;
  Harness h(fifo, 2);
  RunOn(h, 1, 0);
  h.Push({TaskMsg(WAVE_EV_TASK_PREEMPTED, 1, 3, 0), Idle(0)});
  h.Step();
  EXPECT_EQ(h.agent().cpus()[0].current(), nullptr);
  ExpectCommit(h.OneCommit(), 1, 0, 3);

  RunOn(h, 2, 1);
  h.Push({TaskMsg(WAVE_EV_TASK_YIELD, 2, 3, 1), Idle(1)});
  h.Step();
  EXPECT_EQ(h.agent().tasks().Find(2)->state(), TaskState::kRunnable);
  ExpectCommit(h.OneCommit(), 2, 1, 3);
}

TEST(AgentTest, IdleCpuForgetsItsTask) {
  ScriptedPolicy p;
  Harness h(p, 1);
  h.Push({NewTask(1, 1), TaskMsg(WAVE_EV_TASK_ON_CPU, 1, 2, 0)});
  h.Step();
  h.Push(Idle(0));
  h.Step();
  EXPECT_EQ(h.agent().cpus()[0].current(), nullptr);
  EXPECT_EQ(h.agent().tasks().Find(1)->cpu(), -1);
  EXPECT_TRUE(h.agent().cpus()[0].host_idle());
  h.Push(CpuMsg(WAVE_EV_CPU_BUSY, 0));
  h.Step();
  EXPECT_FALSE(h.agent().cpus()[0].host_idle());
  h.Push(CpuMsg(WAVE_EV_CPU_AVAILABLE, 0));
  h.Step();
  EXPECT_TRUE(h.agent().cpus()[0].available());
  wave_msg tick = CpuMsg(WAVE_EV_CPU_TICK, 0);
  tick.cpu.task_id = 1;
  h.Push(tick);
  h.Step();
  EXPECT_EQ(p.log.back(), "tick 0 1");
}

// ---- dead tasks ----

TEST(AgentTest, DeadTaskIsFreedAndALateResultIsHarmless) {
  RecordingFifo fifo;
  Harness h(fifo, 2);
  h.Push({NewTask(1, 1), Idle(0)});
  h.Step();
  const wave_a2k_commit c = h.OneCommit();

  h.Push(TaskMsg(WAVE_EV_TASK_DEAD, 1, 2));
  h.Step();
  EXPECT_EQ(h.agent().tasks().Find(1), nullptr);
  EXPECT_EQ(h.agent().tasks().size(), 0u);
  // Its commit is still in flight and keeps the cpu reserved.
  EXPECT_EQ(h.agent().commits_in_flight(), 1u);
  EXPECT_EQ(h.agent().cpus()[0].pending_txn(), c.txn_id);

  h.Push(Answer(c, WAVE_COMMIT_UNKNOWN_TASK, 0));
  h.Step();
  EXPECT_EQ(h.agent().commits_in_flight(), 0u);
  EXPECT_EQ(h.stats().results[WAVE_COMMIT_UNKNOWN_TASK], 1u);
  EXPECT_EQ(h.stats().malformed, 0u);
  EXPECT_TRUE(fifo.failed.empty());  // nobody to tell
  EXPECT_TRUE(h.TakeCommits().empty());
  // The cpu is free again.
  EXPECT_TRUE(h.agent().cpus()[0].available());
  h.Push(NewTask(2, 1));
  h.Step();
  ExpectCommit(h.OneCommit(), 2, 0, 1);

  // A second answer for the same txn is one for nothing in flight.
  h.Push(Answer(c, WAVE_COMMIT_OK, 0));
  h.Step();
  EXPECT_EQ(h.stats().malformed, 1u);
  EXPECT_EQ(fifo.contract_violations, 0);
}

TEST(AgentTest, DeadTaskOnACpuLeavesIt) {
  RecordingFifo fifo;
  Harness h(fifo, 1);
  RunOn(h, 1, 0);
  h.Push(TaskMsg(WAVE_EV_TASK_DEAD, 1, 3, 0));
  h.Step();
  EXPECT_EQ(h.agent().tasks().Find(1), nullptr);
  EXPECT_EQ(h.agent().cpus()[0].current(), nullptr);
  // Events for it now are for an unknown task.
  h.Push(TaskMsg(WAVE_EV_TASK_WAKEUP, 1, 4));
  h.Step();
  EXPECT_EQ(h.stats().unknown_task, 1u);
}

TEST(AgentTest, DeadOrDepartedQueuedTaskLeavesThePolicysQueue) {
  ScriptedPolicy p;  // leaves dead tasks in its queue: the agent must take them out
  Harness h(p, 1);
  h.Push({NewTask(1, 1), NewTask(2, 1), NewTask(3, 1)});
  h.Step();
  h.Push({TaskMsg(WAVE_EV_TASK_DEAD, 2, 2), TaskMsg(WAVE_EV_TASK_DEPARTED, 3, 2)});
  h.Step();
  EXPECT_EQ(h.agent().tasks().size(), 1u);
  EXPECT_EQ(p.rq.size(), 1u);
  EXPECT_EQ(p.rq.Front(), h.agent().tasks().Find(1));
  EXPECT_EQ(p.rq.Next(p.rq.Front()), nullptr);
  // DEPARTED defaults to OnTaskDead.
  EXPECT_EQ(p.log[p.log.size() - 2], "dead 2");
  EXPECT_EQ(p.log.back(), "dead 3");
}

TEST(AgentTest, ResultForAnEarlierLifeOfATaskIdIsNotReportedToTheNewOne) {
  // A task departs with a commit in flight and rejoins (same id) before the result comes back;
  // the new life gets its own commit. The old commit's result must not be reported as the new
  // life's: its commit is still pending.
  RecordingFifo fifo;
  Harness h(fifo, 2);
  h.Push({NewTask(1, 1), Idle(0)});
  h.Step();
  const wave_a2k_commit old_commit = h.OneCommit();
  h.Push({TaskMsg(WAVE_EV_TASK_DEPARTED, 1, 2), NewTask(1, 3), Idle(1)});
  h.Step();
  const wave_a2k_commit new_commit = h.OneCommit();
  ExpectCommit(new_commit, 1, 1, 3);

  h.Push(Answer(old_commit, WAVE_COMMIT_STALE, 3));
  h.Step();
  EXPECT_TRUE(fifo.failed.empty());
  EXPECT_EQ(fifo.contract_violations, 0);
  EXPECT_TRUE(h.agent().tasks().Find(1)->commit_pending());
  EXPECT_EQ(fifo.queued(), 0u);
  EXPECT_TRUE(h.TakeCommits().empty());
  EXPECT_TRUE(h.agent().cpus()[0].available());  // the old commit's cpu is free

  h.Push(Answer(new_commit, WAVE_COMMIT_OK, 4));
  h.Step();
  EXPECT_EQ(fifo.done, (std::vector<uint64_t>{1}));
  EXPECT_FALSE(h.agent().tasks().Find(1)->commit_pending());
  EXPECT_EQ(fifo.contract_violations, 0);
}

// ---- the host's time: CpuTable::now_ns() ----

// `m` stamped with the host's time.
wave_msg At(uint64_t time_ns, wave_msg m) {
  switch (m.hdr.type) {
    case WAVE_EV_COMMIT_RESULT:
      m.result.time_ns = time_ns;
      break;
    case WAVE_EV_RESYNC_BEGIN:
    case WAVE_EV_RESYNC_END:
      m.resync.time_ns = time_ns;
      break;
    case WAVE_EV_NET_RPC:
      m.net_rpc.time_ns = time_ns;
      break;
    default:
      if (m.hdr.type >= WAVE_EV_CPU_IDLE) {
        m.cpu.time_ns = time_ns;
      } else {
        m.task.time_ns = time_ns;
      }
  }
  return m;
}

TEST(AgentClockTest, NowIsTheLatestTimeOfAnAcceptedEventOrResult) {
  ScriptedPolicy p;
  std::vector<uint64_t> seen;  // now_ns() at each Schedule
  p.script = [&](CpuTable& cpus, Txn& txn) {
    seen.push_back(cpus.now_ns());
    if (!p.rq.empty() && cpus[0].available()) {
      Task* t = p.rq.PopFront();
      txn.Commit({.task = t, .cpu = 0, .seq = t->seq()});
    }
  };
  Harness h(p, 2);
  EXPECT_EQ(h.agent().cpus().now_ns(), 0u);

  // Events out of order within a batch: the latest counts, and time never goes back.
  h.Push({At(200, NewTask(1, 1)), At(150, Idle(0))});
  h.Step();
  EXPECT_EQ(seen, (std::vector<uint64_t>{200}));
  const wave_a2k_commit c = h.OneCommit();
  h.Push(At(100, CpuMsg(WAVE_EV_CPU_BUSY, 1)));
  h.Step();
  EXPECT_EQ(h.agent().cpus().now_ns(), 200u);

  // Results count; so do cpu events the policy never sees (BUSY).
  h.Push(At(300, Answer(c, WAVE_COMMIT_OK, 1)));
  h.Step();
  EXPECT_EQ(h.agent().cpus().now_ns(), 300u);
  h.Push(At(350, CpuMsg(WAVE_EV_CPU_BUSY, 1)));
  h.Step();
  EXPECT_EQ(seen.back(), 350u);

  // What the agent rejects does not move it: a stale event, one for an unknown task, a
  // duplicate NEW, a cpu out of range, a result for nothing sent. Nor does the NIC's clock.
  h.Push({At(1'000, TaskMsg(WAVE_EV_TASK_WAKEUP, 1, 1)),
          At(1'001, TaskMsg(WAVE_EV_TASK_WAKEUP, 42, 5)), At(1'002, NewTask(1, 9)),
          At(1'003, Idle(7)), At(1'004, Answer(c, WAVE_COMMIT_OK, 1))});
  h.Step();
  wave_msg rpc = Blank();
  rpc.net_rpc.hdr.type = WAVE_EV_NET_RPC;
  rpc.net_rpc.hdr.len = WAVE_MSG_SIZE;
  rpc.net_rpc.task_id = 1;
  h.agent().DeliverLocal(At(1'005, rpc));
  h.Step();
  EXPECT_EQ(h.stats().stale_events, 1u);
  EXPECT_EQ(h.stats().unknown_task, 1u);
  EXPECT_EQ(h.stats().duplicate_new, 1u);
  EXPECT_EQ(h.stats().malformed, 2u);
  EXPECT_EQ(h.agent().cpus().now_ns(), 350u);

  // A resync forgets the host's state, not its time.
  h.Push({At(400, Resync(WAVE_EV_RESYNC_BEGIN, 1)), At(390, NewTask(1, 1)),
          At(410, Resync(WAVE_EV_RESYNC_END, 1))});
  h.Step();
  EXPECT_EQ(h.stats().resyncs, 1u);
  EXPECT_EQ(seen.back(), 410u);
  h.Push(At(5, Resync(WAVE_EV_RESYNC_BEGIN, 2)));
  h.Step();
  EXPECT_EQ(h.agent().cpus().now_ns(), 410u);
}

// ---- malformed input: counted, skipped, never followed ----

TEST(AgentMalformedTest, BadLength) {
  RecordingFifo fifo;
  Harness h(fifo, 2);
  h.Push(NewTask(1, 1));
  for (uint16_t len : {0, 8, 32, 63, 65, 128, 0xffff}) {
    wave_msg m = Idle(0);
    m.hdr.len = len;
    h.Push(m);
  }
  h.Step();
  EXPECT_EQ(h.stats().malformed, 7u);
  EXPECT_FALSE(h.agent().cpus()[0].host_idle());
  EXPECT_TRUE(h.TakeCommits().empty());
  EXPECT_EQ(h.stats().events, 8u);  // consumed all the same
}

// A type this version does not know is a newer host's: skipped and counted as unknown, not as
// malformed. A known type that does not belong on the event ring (a command) is malformed.
TEST(AgentMalformedTest, UnknownTypeIsSkippedAndCounted) {
  RecordingFifo fifo;
  Harness h(fifo, 2);
  const std::vector<uint16_t> unknown = {WAVE_MSG_NONE, 0x0003, 0x0100, 0x010c, 0x0124,
                                         0x0131,        0x0200, 0x0302, 0x7f00, 0xffff};
  for (uint16_t type : unknown) h.Push(TaskMsg(type, 1, 1, 0));
  h.Push(TaskMsg(WAVE_CMD_COMMIT, 1, 1, 0));
  h.Push({NewTask(2, 1), Idle(0)});  // and the agent goes on as before
  h.Step();
  EXPECT_EQ(h.stats().unknown_type, unknown.size());
  EXPECT_EQ(h.stats().events_by_type.unknown(), unknown.size());
  EXPECT_EQ(h.stats().malformed, 1u);
  EXPECT_EQ(h.agent().tasks().size(), 1u);
  ExpectCommit(h.OneCommit(), 2, 0, 1);
}

TEST(AgentMalformedTest, CpuOutOfRange) {
  ScriptedPolicy p;
  Harness h(p, 4);
  h.Push(NewTask(1, 1));
  h.Step();
  const std::vector<wave_msg> bad = {
      Idle(-1),
      Idle(4),
      Idle(INT_MIN),
      Idle(INT_MAX),
      CpuMsg(WAVE_EV_CPU_BUSY, 4),
      CpuMsg(WAVE_EV_CPU_AVAILABLE, -2),
      CpuMsg(WAVE_EV_CPU_TICK, 64),
      TaskMsg(WAVE_EV_TASK_WAKEUP, 1, 2, -2),
      TaskMsg(WAVE_EV_TASK_BLOCKED, 1, 2, 4),
      TaskMsg(WAVE_EV_TASK_ON_CPU, 1, 2, -1),  // ON_CPU needs a cpu
      TaskMsg(WAVE_EV_TASK_ON_CPU, 1, 2, 4),
      TaskMsg(WAVE_EV_TASK_ON_CPU, 1, 2, INT_MIN),
      NewTask(2, 1),
  };
  for (wave_msg m : bad) {
    if (m.hdr.type == WAVE_EV_TASK_NEW) m.task.cpu = 99;
    h.Push(m);
  }
  h.Step();
  EXPECT_EQ(h.stats().malformed, bad.size());
  EXPECT_EQ(h.agent().tasks().size(), 1u);
  EXPECT_EQ(h.agent().cpus().AvailableCount(), 0);
  const Task* t = h.agent().tasks().Find(1);
  EXPECT_EQ(t->seq(), 1u);  // none of them was applied
  EXPECT_EQ(t->state(), TaskState::kRunnable);
  for (const Cpu& c : h.agent().cpus()) EXPECT_EQ(c.current(), nullptr);
  // The seq was not consumed: a good event with it is applied.
  h.Push(TaskMsg(WAVE_EV_TASK_ON_CPU, 1, 2, 3));
  h.Step();
  EXPECT_EQ(h.agent().cpus()[3].current(), t);
}

TEST(AgentMalformedTest, EventForUnknownTask) {
  RecordingFifo fifo;
  Harness h(fifo, 2);
  for (uint16_t type : {WAVE_EV_TASK_WAKEUP, WAVE_EV_TASK_BLOCKED, WAVE_EV_TASK_PREEMPTED,
                        WAVE_EV_TASK_YIELD, WAVE_EV_TASK_DEAD, WAVE_EV_TASK_DEPARTED,
                        WAVE_EV_TASK_AFFINITY, WAVE_EV_TASK_PRIORITY, WAVE_EV_TASK_ON_CPU}) {
    h.Push(TaskMsg(type, 42, 5, 1));
  }
  h.Push(Idle(0));
  h.Step();
  EXPECT_EQ(h.stats().unknown_task, 9u);
  EXPECT_EQ(h.stats().malformed, 0u);
  EXPECT_EQ(h.agent().tasks().size(), 0u);
  EXPECT_EQ(h.agent().cpus()[1].current(), nullptr);
  EXPECT_TRUE(h.TakeCommits().empty());
}

TEST(AgentMalformedTest, ReplayedSeqIsStale) {
  RecordingFifo fifo;
  Harness h(fifo, 1);
  h.Push({NewTask(1, 5, /*runnable=*/false)});
  h.Step();
  h.Push({TaskMsg(WAVE_EV_TASK_WAKEUP, 1, 5), TaskMsg(WAVE_EV_TASK_WAKEUP, 1, 4),
          TaskMsg(WAVE_EV_TASK_WAKEUP, 1, 0), Idle(0)});
  h.Step();
  EXPECT_EQ(h.stats().stale_events, 3u);
  EXPECT_EQ(h.agent().tasks().Find(1)->state(), TaskState::kBlocked);
  EXPECT_TRUE(h.TakeCommits().empty());

  h.Push(TaskMsg(WAVE_EV_TASK_WAKEUP, 1, 6));
  h.Step();
  ExpectCommit(h.OneCommit(), 1, 0, 6);
  // A replay of the wakeup, or an older block, changes nothing.
  h.Push({TaskMsg(WAVE_EV_TASK_WAKEUP, 1, 6), TaskMsg(WAVE_EV_TASK_BLOCKED, 1, 5)});
  h.Step();
  EXPECT_EQ(h.stats().stale_events, 5u);
  EXPECT_EQ(h.agent().tasks().Find(1)->state(), TaskState::kRunnable);
  EXPECT_EQ(h.agent().tasks().Find(1)->seq(), 6u);
}

TEST(AgentMalformedTest, DuplicateNewIsIgnored) {
  RecordingFifo fifo;
  Harness h(fifo, 2);
  h.Push(NewTask(1, 3, /*runnable=*/true, /*mask=*/0b10));
  h.Step();
  h.Push({NewTask(1, 9, /*runnable=*/false, /*mask=*/0b01), NewTask(1, 1)});
  h.Step();
  EXPECT_EQ(h.stats().duplicate_new, 2u);
  const Task* t = h.agent().tasks().Find(1);
  EXPECT_EQ(t->seq(), 3u);
  EXPECT_EQ(t->state(), TaskState::kRunnable);
  EXPECT_EQ(t->cpus(), CpuSet::Of({1}));
  EXPECT_EQ(fifo.queued(), 1u);  // queued once
  h.Push(Idle(1));
  h.Step();
  ExpectCommit(h.OneCommit(), 1, 1, 3);
}

TEST(AgentMalformedTest, ResultForATxnNeverSent) {
  RecordingFifo fifo;
  Harness h(fifo, 1);
  h.Push({NewTask(1, 1), Idle(0)});
  h.Step();
  const wave_a2k_commit c = h.OneCommit();

  h.Push({Result(0, 1, 0, WAVE_COMMIT_OK, 1), Result(c.txn_id + 1, 1, 0, WAVE_COMMIT_OK, 1),
          Result(~0ull, 1, 0, WAVE_COMMIT_STALE, 1),
          // The right txn naming another task: not ours either.
          Result(c.txn_id, 2, 0, WAVE_COMMIT_STALE, 1)});
  h.Step();
  EXPECT_EQ(h.stats().malformed, 4u);
  EXPECT_TRUE(fifo.failed.empty());
  EXPECT_TRUE(fifo.done.empty());
  // The real commit is still in flight and its real result is accepted.
  EXPECT_EQ(h.agent().commits_in_flight(), 1u);
  EXPECT_TRUE(h.agent().tasks().Find(1)->commit_pending());
  h.Push(Answer(c, WAVE_COMMIT_OK, 2));
  h.Step();
  EXPECT_EQ(fifo.done, (std::vector<uint64_t>{1}));
  EXPECT_EQ(h.agent().commits_in_flight(), 0u);
}

TEST(AgentMalformedTest, ResultWithOutOfRangeStatusIsAFailure) {
  // It answers a real commit, so dropping it would leave the task pending forever: the agent
  // counts it as MALFORMED and reports a failure the policy can act on.
  RecordingFifo fifo;
  Harness h(fifo, 1);
  h.Push({NewTask(1, 1), Idle(0)});
  h.Step();
  wave_a2k_commit c = h.OneCommit();
  for (uint32_t status : {uint32_t{WAVE_COMMIT_STATUS_COUNT}, 1000u, 0xffffffffu}) {
    h.Push(Answer(c, status, 1));
    h.Step();
    ASSERT_FALSE(fifo.failed.empty());
    EXPECT_EQ(fifo.failed.back().status, WAVE_COMMIT_MALFORMED);
    c = h.OneCommit();  // requeued and retried on the still idle cpu
    ExpectCommit(c, 1, 0, 1);
  }
  EXPECT_EQ(h.stats().results[WAVE_COMMIT_MALFORMED], 3u);
  EXPECT_EQ(fifo.failed.size(), 3u);
  EXPECT_EQ(fifo.contract_violations, 0);
}

// ---- Txn: the local checks ----

TEST(TxnTest, EveryLocalCheck) {
  ScriptedPolicy p;
  Harness h(p, 4);
  h.Push({NewTask(1, 1), NewTask(2, 1, /*runnable=*/false), NewTask(3, 1), NewTask(4, 1),
          NewTask(5, 1), Affinity(3, 2, /*mask=*/0b0010)});
  h.Step();
  Task* t1 = h.agent().tasks().Find(1);
  Task* blocked = h.agent().tasks().Find(2);
  Task* only_cpu1 = h.agent().tasks().Find(3);
  Task* t4 = h.agent().tasks().Find(4);
  Task* t5 = h.agent().tasks().Find(5);
  ASSERT_TRUE(t1 && blocked && only_cpu1 && t4 && t5);
  ASSERT_EQ(only_cpu1->cpus(), CpuSet::Of({1}));

  CpuTable cpus(4);
  for (int i = 0; i < 3; ++i) cpus.SetHostIdle(i, true);  // cpu 3 is busy
  uint64_t next_txn = 100;
  Txn txn(cpus, next_txn);

  auto refused = [&](const CommitOptions& o, CommitCheck want) {
    EXPECT_EQ(txn.Commit(o), want) << CommitCheckName(want);
    // No side effects.
    EXPECT_TRUE(txn.empty());
    EXPECT_EQ(next_txn, 100u);
    for (const Cpu& c : cpus) EXPECT_EQ(c.pending_txn(), 0u);
    if (o.task != nullptr) {
      EXPECT_FALSE(o.task->commit_pending());
    }
  };
  refused({.task = nullptr, .cpu = 0}, CommitCheck::kNoTask);
  refused({.task = blocked, .cpu = 0, .seq = 1}, CommitCheck::kTaskNotRunnable);
  refused({.task = t1, .cpu = -1, .seq = 1}, CommitCheck::kCpuOutOfRange);
  refused({.task = t1, .cpu = 4, .seq = 1}, CommitCheck::kCpuOutOfRange);
  refused({.task = t1, .cpu = 64, .seq = 1}, CommitCheck::kCpuOutOfRange);
  refused({.task = t1, .cpu = INT_MIN, .seq = 1}, CommitCheck::kCpuOutOfRange);
  refused({.task = only_cpu1, .cpu = 0, .seq = 2}, CommitCheck::kCpuNotAllowed);
  refused({.task = only_cpu1, .cpu = 2, .seq = 2}, CommitCheck::kCpuNotAllowed);
  refused({.task = t1, .cpu = 3, .seq = 1}, CommitCheck::kCpuUnavailable);  // not idle
  refused({.task = t1, .cpu = 0, .seq = 1, .flags = 1u << 1}, CommitCheck::kBadFlags);
  refused({.task = t1, .cpu = 0, .seq = 1, .flags = 0x80000000u}, CommitCheck::kBadFlags);
  refused({.task = t1, .cpu = 0, .seq = 1, .flags = WAVE_COMMIT_F_PREEMPT | 4u},
          CommitCheck::kBadFlags);

  // Accepted: marks the task and the cpu, takes a txn id.
  EXPECT_EQ(txn.Commit({.task = t1, .cpu = 0, .seq = 1}), CommitCheck::kOk);
  EXPECT_EQ(txn.size(), 1u);
  EXPECT_EQ(next_txn, 101u);
  EXPECT_TRUE(t1->commit_pending());
  EXPECT_EQ(cpus[0].pending_txn(), 100u);
  EXPECT_FALSE(cpus[0].available());

  // The task has a commit in flight: not twice, whatever the cpu.
  EXPECT_EQ(txn.Commit({.task = t1, .cpu = 1, .seq = 1}), CommitCheck::kTaskPending);
  // The cpu has a commit in flight: unavailable, even to a preempting commit.
  EXPECT_EQ(txn.Commit({.task = t4, .cpu = 0, .seq = 1}), CommitCheck::kCpuUnavailable);
  EXPECT_EQ(txn.Commit({.task = t4, .cpu = 0, .seq = 1, .flags = WAVE_COMMIT_F_PREEMPT}),
            CommitCheck::kCpuUnavailable);
  EXPECT_FALSE(t4->commit_pending());
  EXPECT_EQ(txn.size(), 1u);

  // A busy cpu takes a commit that may preempt.
  EXPECT_EQ(txn.Commit({.task = t4, .cpu = 3, .seq = 1, .flags = WAVE_COMMIT_F_PREEMPT}),
            CommitCheck::kOk);
  EXPECT_EQ(cpus[3].pending_txn(), 101u);
  // The affine task on its one cpu.
  EXPECT_EQ(txn.Commit({.task = only_cpu1, .cpu = 1, .seq = 2}), CommitCheck::kOk);
  EXPECT_EQ(txn.size(), 3u);
  EXPECT_EQ(next_txn, 103u);
  // Every cpu is now pending or refused.
  EXPECT_EQ(txn.Commit({.task = t5, .cpu = 2, .seq = 1}), CommitCheck::kOk);
  EXPECT_EQ(cpus.AvailableCount(), 0);
}

TEST(TxnTest, EveryCheckHasAName) {
  for (CommitCheck c :
       {CommitCheck::kOk, CommitCheck::kNoTask, CommitCheck::kTaskNotRunnable,
        CommitCheck::kTaskPending, CommitCheck::kCpuOutOfRange, CommitCheck::kCpuNotAllowed,
        CommitCheck::kCpuUnavailable, CommitCheck::kBadFlags}) {
    EXPECT_STRNE(CommitCheckName(c), "?");
  }
  for (uint32_t s = 0; s < WAVE_COMMIT_STATUS_COUNT; ++s) EXPECT_NE(CommitStatusName(s), nullptr);
}

TEST(TxnTest, CommitFromAPolicyIsEncodedAndSent) {
  ScriptedPolicy p;
  Harness h(p, 4);
  std::vector<CommitCheck> checks;
  p.script = [&](CpuTable& cpus, Txn& txn) {
    while (!p.rq.empty()) {
      Task* t = p.rq.PopFront();
      // Cpu 2 was never reported idle: refused locally, nothing is sent.
      checks.push_back(txn.Commit({.task = t, .cpu = 2, .seq = t->seq()}));
      checks.push_back(txn.Commit({.task = t,
                                   .cpu = 1,
                                   .seq = t->seq(),
                                   .slice_ns = 5000,
                                   .flags = WAVE_COMMIT_F_PREEMPT}));
    }
    EXPECT_FALSE(cpus[1].available());
  };
  h.Push({NewTask(9, 77), Idle(1)});
  PollResult r = h.Step();
  EXPECT_EQ(r.commands, 1u);
  EXPECT_EQ(checks, (std::vector<CommitCheck>{CommitCheck::kCpuUnavailable, CommitCheck::kOk}));
  const wave_a2k_commit c = h.OneCommit();
  EXPECT_EQ(c.hdr.type, WAVE_CMD_COMMIT);
  EXPECT_EQ(c.hdr.len, WAVE_MSG_SIZE);
  EXPECT_EQ(c.task_id, 9u);
  EXPECT_EQ(c.seq, 77u);
  EXPECT_EQ(c.cpu, 1);
  EXPECT_EQ(c.slice_ns, 5000u);
  EXPECT_EQ(c.flags, WAVE_COMMIT_F_PREEMPT);
  EXPECT_EQ(c.group, 0u);
  EXPECT_EQ(c.group_size, 0u);
  EXPECT_EQ(c.reserved, 0u);
  EXPECT_EQ(h.agent().cpus()[1].pending_txn(), c.txn_id);
}

// ---- a full commit ring ----

TEST(AgentTest, CommitsThatDoNotFitStayQueuedUntilTheNextFlush) {
  constexpr int kCpus = 32;
  RecordingFifo fifo;
  Harness h(fifo, kCpus, LinkConfig::Sched(128, 16));
  for (int i = 0; i < kCpus; ++i) h.Push(NewTask(static_cast<uint64_t>(i) + 1, 1));
  for (int i = 0; i < kCpus; ++i) h.Push(Idle(i));

  PollResult r = h.Step();  // Poll queues 32 commits; Flush publishes what fits
  EXPECT_EQ(r.commands, 32u);
  EXPECT_EQ(h.stats().commits_sent, 16u);
  EXPECT_EQ(h.agent().queued_commits(), 16u);
  EXPECT_EQ(h.agent().commits_in_flight(), 16u);
  EXPECT_EQ(h.stats().commit_ring_full, 1u);

  // The host has not read anything: nothing more fits, nothing is lost.
  absl::StatusOr<uint32_t> f = h.agent().Flush();
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(*f, 0u);
  EXPECT_EQ(h.agent().queued_commits(), 16u);
  EXPECT_EQ(h.stats().commit_ring_full, 2u);

  std::vector<wave_a2k_commit> all = h.TakeCommits();  // the host drains, credits go back
  EXPECT_EQ(all.size(), 16u);
  f = h.agent().Flush();
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(*f, 16u);
  EXPECT_EQ(h.agent().queued_commits(), 0u);
  EXPECT_EQ(h.agent().commits_in_flight(), 32u);
  EXPECT_EQ(h.stats().commits_sent, 32u);
  std::vector<wave_a2k_commit> rest = h.TakeCommits();
  all.insert(all.end(), rest.begin(), rest.end());

  ASSERT_EQ(all.size(), static_cast<size_t>(kCpus));
  for (int i = 0; i < kCpus; ++i) {
    SCOPED_TRACE(i);
    ExpectCommit(all[i], static_cast<uint64_t>(i) + 1, i, 1);  // in order, none twice
    if (i > 0) {
      EXPECT_EQ(all[i].txn_id, all[i - 1].txn_id + 1);
    }
  }
  // Every one of them is answered as in flight.
  for (const wave_a2k_commit& c : all) h.Push(Answer(c, WAVE_COMMIT_OK, 2));
  h.Step();
  EXPECT_EQ(h.agent().commits_in_flight(), 0u);
  EXPECT_EQ(h.stats().commits_ok(), 32u);
  EXPECT_EQ(h.stats().malformed, 0u);
}

TEST(AgentTest, QueuedCommitsGoOutBeforeNewerOnes) {
  RecordingFifo fifo;
  Harness h(fifo, 4, LinkConfig::Sched(64, 2));
  h.Push({NewTask(1, 1), NewTask(2, 1), NewTask(3, 1), Idle(0), Idle(1), Idle(2)});
  h.Step();
  EXPECT_EQ(h.agent().queued_commits(), 1u);
  h.Push({NewTask(4, 1), Idle(3)});
  h.Step();  // the ring is still full: task 4's commit queues behind task 3's
  EXPECT_EQ(h.agent().queued_commits(), 2u);
  std::vector<wave_a2k_commit> cs = h.TakeCommits();
  ASSERT_TRUE(h.agent().Flush().ok());
  std::vector<wave_a2k_commit> more = h.TakeCommits();
  cs.insert(cs.end(), more.begin(), more.end());
  ASSERT_EQ(cs.size(), 4u);
  for (int i = 0; i < 4; ++i) ExpectCommit(cs[i], static_cast<uint64_t>(i) + 1, i, 1);
}

// ---- lifetimes ----

TEST(AgentLifetimeTest, PolicyOutlivingTheAgentHoldsNoFreedTask) {
  FifoPolicy fifo;
  {
    Harness h(fifo, 2);
    h.Push({NewTask(1, 1), NewTask(2, 1), NewTask(3, 1)});
    h.Step();
    EXPECT_EQ(fifo.queued(), 3u);
  }
  // The agent freed its tasks; they must have left the policy's queue first.
  EXPECT_EQ(fifo.queued(), 0u);
}

TEST(AgentLifetimeTest, PolicyDestroyedBeforeTheAgent) {
  auto fifo = std::make_unique<FifoPolicy>();
  Harness h(*fifo, 2);
  h.Push({NewTask(1, 1), NewTask(2, 1)});
  h.Step();
  fifo.reset();  // its queue unlinks the tasks
  EXPECT_EQ(h.agent().tasks().Find(1)->queue(), nullptr);
  EXPECT_EQ(h.agent().tasks().Find(2)->queue(), nullptr);
}

// Holds every runnable task in a TaskHeap keyed by id and commits nothing: the agent alone must
// take tasks out of it.
class HeapHolder : public Policy {
 public:
  std::string name() const override { return "heap-holder"; }
  void OnTaskNew(Task& t, const TaskNew&) override { Hold(t); }
  void OnTaskWakeup(Task& t, const TaskWakeup&) override { Hold(t); }
  void OnTaskBlocked(Task&, const TaskBlocked&) override {}
  void OnTaskPreempted(Task& t, const TaskPreempted&) override { Hold(t); }
  void OnTaskYield(Task& t, const TaskYield&) override { Hold(t); }
  void OnTaskDead(Task&, const TaskDead&) override {}
  void OnCommitFailed(Task& t, const CommitResult&) override { Hold(t); }
  void Schedule(CpuTable&, Txn&) override {}
  TaskHeap heap;

 private:
  void Hold(Task& t) {
    if (t.Placeable()) heap.Push(&t, t.id());
  }
};

TEST(AgentLifetimeTest, TheAgentTakesTasksOutOfHeapsLikeQueues) {
  HeapHolder p;
  {
    Harness h(p, 2);
    h.Push({NewTask(1, 1), NewTask(2, 1), NewTask(3, 1), NewTask(4, 1)});
    h.Step();
    EXPECT_EQ(p.heap.size(), 4u);
    h.Push(TaskMsg(WAVE_EV_TASK_BLOCKED, 1, 2));
    h.Push(TaskMsg(WAVE_EV_TASK_ON_CPU, 2, 2, 1));  // placed by the host itself
    h.Push(TaskMsg(WAVE_EV_TASK_DEAD, 3, 2));
    h.Step();
    EXPECT_EQ(p.heap.size(), 1u);
    EXPECT_EQ(p.heap.Top()->id(), 4u);
    const Task* two = h.agent().tasks().Find(2);
    EXPECT_EQ(two->heap(), nullptr);
    EXPECT_EQ(two->last_cpu(), 1);
    // It leaves the cpu: the cpu it last ran on is remembered.
    h.Push(TaskMsg(WAVE_EV_TASK_PREEMPTED, 2, 3, 1));
    h.Step();
    EXPECT_EQ(two->cpu(), -1);
    EXPECT_EQ(two->last_cpu(), 1);
    EXPECT_EQ(p.heap.size(), 2u);
  }
  EXPECT_TRUE(p.heap.empty());  // the agent freed its tasks, out of the heap first
}

// ---- random input ----

// Checks what must hold between any two polls, whatever the host sent.
void ExpectModelConsistent(Agent& agent, const std::set<uint64_t>& ids, size_t fifo_queued) {
  for (const Cpu& c : agent.cpus()) {
    if (c.current() == nullptr) continue;
    ASSERT_EQ(agent.tasks().Find(c.current()->id()), c.current()) << "cpu " << c.id;
    EXPECT_EQ(c.current()->cpu(), c.id);
    EXPECT_EQ(c.current()->state(), TaskState::kOnCpu);
  }
  size_t queued = 0;
  size_t found = 0;
  for (uint64_t id : ids) {
    const Task* t = agent.tasks().Find(id);
    if (t == nullptr) continue;
    ++found;
    EXPECT_NE(t->state(), TaskState::kDead);
    if (t->cpu() >= 0) {
      ASSERT_LT(t->cpu(), agent.cpus().size());
      EXPECT_EQ(agent.cpus()[t->cpu()].current(), t);
    }
    if (t->queue() != nullptr) {
      ++queued;
      EXPECT_TRUE(t->runnable()) << "queued task " << id << " is " << TaskStateName(t->state());
      EXPECT_FALSE(t->commit_pending()) << "queued task " << id << " has a commit in flight";
    }
  }
  EXPECT_EQ(found, agent.tasks().size());
  EXPECT_EQ(queued, fifo_queued);
}

TEST(AgentFuzzTest, RandomEventsNeverCrashAndTheModelStaysConsistent) {
  constexpr int kCpus = 8;
  constexpr uint64_t kMaxId = 12;
  constexpr int kRounds = 600;
  RecordingFifo fifo;
  Harness h(fifo, kCpus);
  std::mt19937_64 rng(0x5eedf00d);
  auto below = [&rng](uint64_t n) { return rng() % n; };

  std::vector<Seq> seq(kMaxId + 1, 0);             // the host's last seq per task id
  std::vector<bool> offered(kCpus, false);         // reported idle, not reported busy since
  std::map<uint64_t, wave_a2k_commit> unanswered;  // by txn id
  std::set<uint64_t> ids;                          // every id a well-formed NEW named
  uint64_t pushed = 0;
  uint64_t commits = 0;
  const uint16_t kTaskTypes[] = {
      WAVE_EV_TASK_NEW,      WAVE_EV_TASK_NEW,       WAVE_EV_TASK_WAKEUP,   WAVE_EV_TASK_WAKEUP,
      WAVE_EV_TASK_BLOCKED,  WAVE_EV_TASK_PREEMPTED, WAVE_EV_TASK_YIELD,    WAVE_EV_TASK_DEAD,
      WAVE_EV_TASK_DEPARTED, WAVE_EV_TASK_AFFINITY,  WAVE_EV_TASK_PRIORITY, WAVE_EV_TASK_ON_CPU,
      WAVE_EV_TASK_ON_CPU};
  const uint16_t kCpuTypes[] = {WAVE_EV_CPU_IDLE, WAVE_EV_CPU_IDLE, WAVE_EV_CPU_TICK,
                                WAVE_EV_CPU_AVAILABLE, WAVE_EV_CPU_BUSY};
  const uint16_t kAnyValidType[] = {WAVE_EV_TASK_NEW, WAVE_EV_TASK_ON_CPU, WAVE_EV_TASK_DEAD,
                                    WAVE_EV_CPU_IDLE, WAVE_EV_COMMIT_RESULT};

  for (int round = 0; round < kRounds; ++round) {
    const int n = 1 + static_cast<int>(below(24));
    for (int i = 0; i < n; ++i) {
      wave_msg m = Blank();
      const uint64_t kind = below(16);
      if (kind < 3) {
        // Random bytes: mostly a bad length; sometimes a good length and any type; sometimes a
        // known type with garbage in every field.
        for (auto& b : m.raw) b = static_cast<uint8_t>(rng());
        if (kind >= 1) m.hdr.len = WAVE_MSG_SIZE;
        if (kind == 2) m.hdr.type = kAnyValidType[below(std::size(kAnyValidType))];
      } else if (kind < 10) {
        const uint64_t id = 1 + below(kMaxId);
        const uint16_t type = kTaskTypes[below(std::size(kTaskTypes))];
        // Mostly the next seq; sometimes a replay or an old one.
        const Seq s = below(5) != 0 ? ++seq[id] : below(seq[id] + 1);
        // Mostly a valid cpu; sometimes none or out of range.
        int cpu = static_cast<int>(below(kCpus));
        if (below(6) == 0) cpu = static_cast<int>(below(kCpus + 4)) - 2;
        if (type != WAVE_EV_TASK_ON_CPU && below(2) == 0) cpu = -1;
        m = TaskMsg(type, id, s, cpu);
        // Mostly a good cpu set; sometimes random flags, which may name a bad encoding.
        const bool random_flags = below(3) == 0;
        m.task.flags = static_cast<uint32_t>(random_flags ? rng() : WAVE_TASK_F_RUNNABLE);
        if (!random_flags) SetCpus(m, below(3) == 0 ? 0 : rng() & 0xff);
        m.task.nice = static_cast<int16_t>(static_cast<int>(below(40)) - 20);
      } else if (kind < 13) {
        m = CpuMsg(kCpuTypes[below(std::size(kCpuTypes))], static_cast<int>(below(kCpus + 2)) - 1);
        m.cpu.task_id = below(kMaxId + 2);
      } else if (kind < 15 && !unanswered.empty()) {
        auto it = unanswered.begin();
        std::advance(it, static_cast<long>(below(unanswered.size())));
        uint32_t status = static_cast<uint32_t>(below(WAVE_COMMIT_STATUS_COUNT + 2));
        if (below(10) == 0) status = static_cast<uint32_t>(rng());
        m = Answer(it->second, status, below(100));
        if (below(10) == 0) m.result.task_id += 1;  // names the wrong task
      } else {
        m = Result(rng(), 1 + below(kMaxId), static_cast<int>(below(kCpus)),
                   static_cast<uint32_t>(below(WAVE_COMMIT_STATUS_COUNT)), below(100));
      }
      if (!h.host().events.Push(m)) break;
      ++pushed;
      // The host's shadow of what the agent may know, from the same rules the ABI gives.
      if (m.hdr.len != WAVE_MSG_SIZE) continue;
      if (m.hdr.type == WAVE_EV_TASK_NEW) ids.insert(m.task.task_id);
      if ((m.hdr.type == WAVE_EV_CPU_IDLE || m.hdr.type == WAVE_EV_CPU_AVAILABLE) &&
          m.cpu.cpu >= 0 && m.cpu.cpu < kCpus) {
        offered[m.cpu.cpu] = true;
      }
      if (m.hdr.type == WAVE_EV_CPU_BUSY && m.cpu.cpu >= 0 && m.cpu.cpu < kCpus) {
        offered[m.cpu.cpu] = false;
      }
      if (m.hdr.type == WAVE_EV_COMMIT_RESULT) {
        auto it = unanswered.find(m.result.txn_id);
        if (it != unanswered.end() && it->second.task_id == m.result.task_id) unanswered.erase(it);
      }
    }

    absl::StatusOr<PollResult> r = h.agent().RunOnce();
    ASSERT_TRUE(r.ok()) << r.status();
    h.agent().ReturnCredits();
    ASSERT_EQ(h.agent().queued_commits(), 0u);

    for (const wave_a2k_commit& c : h.TakeCommits()) {
      SCOPED_TRACE(::testing::Message() << "round " << round << " txn " << c.txn_id);
      ++commits;
      ASSERT_EQ(c.hdr.type, WAVE_CMD_COMMIT);
      ASSERT_EQ(c.hdr.len, WAVE_MSG_SIZE);
      ASSERT_GE(c.cpu, 0);
      ASSERT_LT(c.cpu, kCpus);
      EXPECT_EQ(c.flags, 0u);
      EXPECT_TRUE(offered[c.cpu]) << "commit to cpu " << c.cpu << ", never reported idle";
      for (const auto& [txn, u] : unanswered) {
        EXPECT_NE(u.cpu, c.cpu) << "a second commit in flight to cpu " << c.cpu;
      }
      const Cpu& cpu = h.agent().cpus()[c.cpu];
      EXPECT_TRUE(cpu.host_idle());
      EXPECT_EQ(cpu.pending_txn(), c.txn_id);
      const Task* t = h.agent().tasks().Find(c.task_id);
      ASSERT_NE(t, nullptr);
      EXPECT_TRUE(t->runnable());
      EXPECT_TRUE(t->commit_pending());
      EXPECT_EQ(c.seq, t->seq());
      EXPECT_TRUE(t->Allowed(c.cpu));
      unanswered[c.txn_id] = c;
    }
    EXPECT_EQ(h.agent().commits_in_flight(), unanswered.size());
    for (const Cpu& c : h.agent().cpus()) {
      if (c.pending_txn() == 0) continue;
      auto it = unanswered.find(c.pending_txn());
      ASSERT_NE(it, unanswered.end());
      EXPECT_EQ(it->second.cpu, c.id);
    }
    ExpectModelConsistent(h.agent(), ids, fifo.queued());
    if (HasFatalFailure() || HasFailure()) break;
  }

  EXPECT_EQ(h.stats().events, pushed);
  EXPECT_EQ(fifo.contract_violations, 0);
  // The input reached every path it was meant to.
  EXPECT_GT(pushed, 5000u);
  EXPECT_GT(h.stats().malformed, 0u);
  EXPECT_GT(h.stats().unknown_task, 0u);
  EXPECT_GT(h.stats().stale_events, 0u);
  EXPECT_GT(h.stats().duplicate_new, 0u);
  EXPECT_GT(commits, 50u);
  EXPECT_GT(h.stats().commits_ok(), 0u);
  EXPECT_GT(h.stats().commits_stale(), 0u);
  EXPECT_GT(h.stats().results[WAVE_COMMIT_MALFORMED], 0u);
  EXPECT_GT(fifo.on_cpu.size(), 0u);

  // Wind down: kill everyone, answer everything. The agent is left empty and still works.
  auto push = [&h](const wave_msg& m) {
    while (!h.host().events.Push(m)) h.Step();
  };
  for (uint64_t id : ids) push(TaskMsg(WAVE_EV_TASK_DEAD, id, ~0ull));
  while (h.Step().events != 0) {
  }
  for (const wave_a2k_commit& c : h.TakeCommits()) unanswered[c.txn_id] = c;
  for (const auto& [txn, c] : unanswered) push(Answer(c, WAVE_COMMIT_STALE, 0));
  while (h.Step().events != 0) {
  }
  EXPECT_TRUE(h.TakeCommits().empty());
  EXPECT_EQ(h.agent().tasks().size(), 0u);
  EXPECT_EQ(h.agent().commits_in_flight(), 0u);
  EXPECT_EQ(fifo.queued(), 0u);
  for (Cpu& c : h.agent().cpus()) {
    EXPECT_EQ(c.current(), nullptr);
    EXPECT_EQ(c.pending_txn(), 0u);
  }
  h.Push({NewTask(1000, 1), Idle(5)});
  h.Step();
  std::vector<wave_a2k_commit> cs = h.TakeCommits();
  ASSERT_EQ(cs.size(), 1u);
  EXPECT_EQ(cs[0].task_id, 1000u);
  EXPECT_EQ(fifo.contract_violations, 0);
}

}  // namespace
}  // namespace wave
