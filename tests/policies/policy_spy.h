// A policy that forwards every callback to another one and watches what happens on the way:
// how long each task stays on a cpu between going on and coming off (a "stint"), and whether it
// went back to the cpu it last ran on. Tests wrap a real policy in it to check bounds from the
// host's own events (their times and runtimes), never from wall-clock time.
#ifndef LIBWAVE_TESTS_POLICIES_POLICY_SPY_H_
#define LIBWAVE_TESTS_POLICIES_POLICY_SPY_H_

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "host/sim/sim.h"
#include "lib/sched/policy.h"
#include "tests/sim/sim_checks.h"

namespace wave {

struct SpyStats {
  // Longest stint: cpu time (runtime_ns from the events) and time from going on the cpu (the
  // switch included) to coming off.
  uint64_t max_stint_runtime_ns = 0;
  uint64_t max_stint_ns = 0;
  uint64_t stints = 0;
  uint64_t preempted = 0;
  // Runs on the cpu the task last ran on, and runs on another one.
  uint64_t same_cpu = 0;
  uint64_t other_cpu = 0;
  double same_cpu_fraction() const {
    const uint64_t runs = same_cpu + other_cpu;
    return runs == 0 ? 0 : static_cast<double>(same_cpu) / static_cast<double>(runs);
  }
};

class PolicySpy : public Policy {
 public:
  explicit PolicySpy(std::unique_ptr<Policy> inner) : inner_(std::move(inner)) {}
  std::string name() const override { return inner_->name(); }
  Policy& inner() { return *inner_; }
  const SpyStats& stats() const { return stats_; }

  void OnTaskNew(Task& t, const TaskNew& ev) override { inner_->OnTaskNew(t, ev); }
  void OnTaskWakeup(Task& t, const TaskWakeup& ev) override { inner_->OnTaskWakeup(t, ev); }
  void OnTaskBlocked(Task& t, const TaskBlocked& ev) override {
    EndStint(t, ev);
    inner_->OnTaskBlocked(t, ev);
  }
  void OnTaskPreempted(Task& t, const TaskPreempted& ev) override {
    EndStint(t, ev);
    ++stats_.preempted;
    inner_->OnTaskPreempted(t, ev);
  }
  void OnTaskYield(Task& t, const TaskYield& ev) override {
    EndStint(t, ev);
    inner_->OnTaskYield(t, ev);
  }
  void OnTaskDead(Task& t, const TaskDead& ev) override {
    open_.erase(t.id());
    last_cpu_.erase(t.id());
    inner_->OnTaskDead(t, ev);
  }
  void OnCommitFailed(Task& t, const CommitResult& r) override { inner_->OnCommitFailed(t, r); }
  void Schedule(CpuTable& cpus, Txn& txn) override { inner_->Schedule(cpus, txn); }
  void OnTaskDeparted(Task& t, const TaskDeparted& ev) override {
    open_.erase(t.id());
    last_cpu_.erase(t.id());
    inner_->OnTaskDeparted(t, ev);
  }
  void OnTaskAffinity(Task& t, const TaskAffinity& ev) override { inner_->OnTaskAffinity(t, ev); }
  void OnTaskPriority(Task& t, const TaskPriority& ev) override { inner_->OnTaskPriority(t, ev); }
  void OnTaskOnCpu(Task& t, const TaskOnCpu& ev) override {
    open_[t.id()] = {ev.time_ns(), ev.runtime_ns()};
    auto [it, first] = last_cpu_.try_emplace(t.id(), ev.cpu());
    if (!first) {
      ++(it->second == ev.cpu() ? stats_.same_cpu : stats_.other_cpu);
      it->second = ev.cpu();
    }
    inner_->OnTaskOnCpu(t, ev);
  }
  void OnCommitDone(Task& t, const CommitResult& r) override { inner_->OnCommitDone(t, r); }
  void OnCpuIdle(Cpu& c, const CpuIdle& ev) override { inner_->OnCpuIdle(c, ev); }
  void OnCpuTick(Cpu& c, const CpuTick& ev) override { inner_->OnCpuTick(c, ev); }
  void OnResync() override {
    open_.clear();  // a stint across a resync is not measured
    inner_->OnResync();
  }

 private:
  struct Start {
    uint64_t time_ns;
    uint64_t runtime_ns;
  };
  void EndStint(const Task& t, const TaskEvent& ev) {
    auto it = open_.find(t.id());
    if (it == open_.end()) return;
    const Start s = it->second;
    open_.erase(it);
    ++stats_.stints;
    if (ev.runtime_ns() > s.runtime_ns) {
      stats_.max_stint_runtime_ns =
          std::max(stats_.max_stint_runtime_ns, ev.runtime_ns() - s.runtime_ns);
    }
    if (ev.time_ns() > s.time_ns) {
      stats_.max_stint_ns = std::max(stats_.max_stint_ns, ev.time_ns() - s.time_ns);
    }
  }
  std::unique_ptr<Policy> inner_;
  SpyStats stats_;
  absl::flat_hash_map<uint64_t, Start> open_;    // tasks on a cpu: since when
  absl::flat_hash_map<uint64_t, int> last_cpu_;  // where each task last went on a cpu
};

struct SpiedRun {
  SimResult result;
  SpyStats spy;
};

// Runs `policy` under a spy; checks that the run completed cleanly (RunClean).
inline SpiedRun RunSpied(const SimConfig& c, std::unique_ptr<Policy> policy) {
  PolicySpy spy(std::move(policy));
  SimResult r = RunClean(c, spy);
  return {std::move(r), spy.stats()};
}

}  // namespace wave

#endif  // LIBWAVE_TESTS_POLICIES_POLICY_SPY_H_
