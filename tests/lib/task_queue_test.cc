// TaskQueue and TaskHeap (the intrusive run queue and heap policies share), CpuTable and the nice
// weights. Task's fields are private to the
// agent, so the tasks come from a real Agent fed TASK_NEW events over an in-process link.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "abi/wave_abi.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "lib/sched/agent.h"
#include "lib/sched/cpu_loads.h"
#include "lib/sched/nice.h"
#include "lib/sched/null_policy.h"
#include "lib/sched/task.h"
#include "transport/link.h"
#include "transport/region.h"

namespace wave {
namespace {

void MustOk(const absl::Status& s) {
  if (!s.ok()) {
    ADD_FAILURE() << s;
    std::abort();
  }
}

// An agent over a real link, with tasks 1..n created by TASK_NEW events.
class TaskSource {
 public:
  explicit TaskSource(int n) {
    const LinkConfig config = LinkConfig::Sched(256, 16);
    absl::StatusOr<SharedRegion> r = SharedRegion::CreateAnonymous(LinkBytes(config));
    MustOk(r.status());
    region_ = *std::move(r);
    MustOk(LinkFormat(region_.data(), region_.size(), config));
    absl::StatusOr<HostEnd> h = AttachHost(region_.data(), region_.size());
    MustOk(h.status());
    host_ = *std::move(h);
    absl::StatusOr<AgentEnd> a = AttachAgent(region_.data(), region_.size());
    MustOk(a.status());
    agent_.emplace(*std::move(a), policy_, AgentOptions{.num_cpus = 4});
    for (int i = 1; i <= n; ++i) {
      wave_msg m;
      std::memset(&m, 0, sizeof(m));
      m.task.hdr.type = WAVE_EV_TASK_NEW;
      m.task.hdr.len = WAVE_MSG_SIZE;
      m.task.task_id = static_cast<uint64_t>(i);
      m.task.seq = 1;
      m.task.cpu = -1;
      m.task.flags = WAVE_TASK_F_RUNNABLE;
      if (!host_.events.Push(m)) std::abort();
    }
    absl::StatusOr<PollResult> p = agent_->Poll();
    MustOk(p.status());
    EXPECT_EQ(p->events, static_cast<uint32_t>(n));
    for (int i = 1; i <= n; ++i) {
      Task* t = agent_->tasks().Find(static_cast<uint64_t>(i));
      if (t == nullptr) std::abort();
      tasks_.push_back(t);
    }
  }

  Task* operator[](int i) const { return tasks_[i]; }

 private:
  NullPolicy policy_;
  SharedRegion region_;
  HostEnd host_;
  std::optional<Agent> agent_;
  std::vector<Task*> tasks_;
};

std::vector<uint64_t> Ids(const TaskQueue& q) {
  std::vector<uint64_t> ids;
  for (Task* t = q.Front(); t != nullptr; t = q.Next(t)) ids.push_back(t->id());
  return ids;
}

using IdList = std::vector<uint64_t>;

TEST(TaskQueueTest, EmptyQueue) {
  TaskSource src(1);
  TaskQueue q;
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.size(), 0u);
  EXPECT_EQ(q.Front(), nullptr);
  EXPECT_EQ(q.PopFront(), nullptr);
  EXPECT_FALSE(q.Contains(src[0]));
  EXPECT_FALSE(q.Remove(src[0]));
  EXPECT_EQ(src[0]->queue(), nullptr);
  q.Clear();
  EXPECT_TRUE(q.empty());
}

TEST(TaskQueueTest, PushBackIsFifo) {
  TaskSource src(4);
  TaskQueue q;
  for (int i = 0; i < 4; ++i) q.PushBack(src[i]);
  EXPECT_EQ(q.size(), 4u);
  EXPECT_FALSE(q.empty());
  EXPECT_EQ(Ids(q), (IdList{1, 2, 3, 4}));
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(q.Contains(src[i]));
    EXPECT_EQ(src[i]->queue(), &q);
  }
  for (uint64_t want = 1; want <= 4; ++want) {
    Task* t = q.PopFront();
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->id(), want);
    EXPECT_FALSE(q.Contains(t));
    EXPECT_EQ(t->queue(), nullptr);
    EXPECT_EQ(q.size(), 4 - want);
  }
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.Front(), nullptr);
  EXPECT_EQ(q.PopFront(), nullptr);
}

TEST(TaskQueueTest, PushFrontGoesFirst) {
  TaskSource src(4);
  TaskQueue q;
  q.PushFront(src[0]);  // into an empty queue: head and tail
  EXPECT_EQ(Ids(q), (IdList{1}));
  q.PushBack(src[1]);
  q.PushFront(src[2]);
  q.PushBack(src[3]);
  EXPECT_EQ(Ids(q), (IdList{3, 1, 2, 4}));
  EXPECT_EQ(q.Front(), src[2]);
  EXPECT_EQ(q.size(), 4u);
  EXPECT_EQ(q.PopFront(), src[2]);
  EXPECT_EQ(q.PopFront(), src[0]);
  EXPECT_EQ(q.PopFront(), src[1]);
  EXPECT_EQ(q.PopFront(), src[3]);
  EXPECT_EQ(q.PopFront(), nullptr);
}

TEST(TaskQueueTest, NextWalksInOrderAndEndsWithNull) {
  TaskSource src(3);
  TaskQueue q;
  for (int i = 0; i < 3; ++i) q.PushBack(src[i]);
  EXPECT_EQ(q.Next(src[0]), src[1]);
  EXPECT_EQ(q.Next(src[1]), src[2]);
  EXPECT_EQ(q.Next(src[2]), nullptr);
}

TEST(TaskQueueTest, RemoveHeadMiddleTailAndOnly) {
  TaskSource src(5);
  TaskQueue q;
  for (int i = 0; i < 5; ++i) q.PushBack(src[i]);

  EXPECT_TRUE(q.Remove(src[2]));  // middle
  EXPECT_EQ(Ids(q), (IdList{1, 2, 4, 5}));
  EXPECT_FALSE(q.Contains(src[2]));
  EXPECT_EQ(src[2]->queue(), nullptr);
  EXPECT_FALSE(q.Remove(src[2]));  // twice: no-op
  EXPECT_EQ(q.size(), 4u);

  EXPECT_TRUE(q.Remove(src[0]));  // head
  EXPECT_EQ(Ids(q), (IdList{2, 4, 5}));
  EXPECT_EQ(q.Front(), src[1]);

  EXPECT_TRUE(q.Remove(src[4]));  // tail
  EXPECT_EQ(Ids(q), (IdList{2, 4}));
  EXPECT_EQ(q.Next(src[3]), nullptr);

  // The tail link was fixed: a push after removing the tail lands after the new tail.
  q.PushBack(src[0]);
  EXPECT_EQ(Ids(q), (IdList{2, 4, 1}));
  // The head link was fixed too.
  q.PushFront(src[2]);
  EXPECT_EQ(Ids(q), (IdList{3, 2, 4, 1}));

  EXPECT_TRUE(q.Remove(src[2]));
  EXPECT_TRUE(q.Remove(src[1]));
  EXPECT_TRUE(q.Remove(src[0]));
  EXPECT_EQ(Ids(q), (IdList{4}));
  EXPECT_TRUE(q.Remove(src[3]));  // the only one
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.size(), 0u);
  EXPECT_EQ(q.Front(), nullptr);

  // Reusable after being emptied by Remove.
  q.PushBack(src[4]);
  q.PushBack(src[3]);
  EXPECT_EQ(Ids(q), (IdList{5, 4}));
}

TEST(TaskQueueTest, RemoveFromTheWrongQueueIsRefusedAndHarmless) {
  TaskSource src(4);
  TaskQueue a;
  TaskQueue b;
  a.PushBack(src[0]);
  a.PushBack(src[1]);
  b.PushBack(src[2]);
  b.PushBack(src[3]);

  EXPECT_FALSE(b.Remove(src[0]));
  EXPECT_FALSE(b.Contains(src[0]));
  EXPECT_TRUE(a.Contains(src[0]));
  EXPECT_EQ(Ids(a), (IdList{1, 2}));
  EXPECT_EQ(Ids(b), (IdList{3, 4}));
  EXPECT_EQ(a.size(), 2u);
  EXPECT_EQ(b.size(), 2u);

  // Moving a task between queues: remove, then push.
  ASSERT_TRUE(a.Remove(src[1]));
  b.PushFront(src[1]);
  EXPECT_EQ(Ids(a), (IdList{1}));
  EXPECT_EQ(Ids(b), (IdList{2, 3, 4}));
  EXPECT_EQ(src[1]->queue(), &b);
}

TEST(TaskQueueTest, ClearUnlinksEveryTask) {
  TaskSource src(3);
  TaskQueue q;
  for (int i = 0; i < 3; ++i) q.PushBack(src[i]);
  q.Clear();
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.size(), 0u);
  EXPECT_EQ(q.Front(), nullptr);
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(q.Contains(src[i]));
    EXPECT_EQ(src[i]->queue(), nullptr);
  }
  // Every task can join another queue afterwards.
  TaskQueue other;
  for (int i = 2; i >= 0; --i) other.PushBack(src[i]);
  EXPECT_EQ(Ids(other), (IdList{3, 2, 1}));
}

TEST(TaskQueueTest, DestroyedQueueLeavesNoDanglingLinks) {
  TaskSource src(2);
  {
    TaskQueue q;
    q.PushBack(src[0]);
    q.PushBack(src[1]);
  }
  EXPECT_EQ(src[0]->queue(), nullptr);
  EXPECT_EQ(src[1]->queue(), nullptr);
  TaskQueue q2;
  q2.PushBack(src[1]);
  q2.PushBack(src[0]);
  EXPECT_EQ(Ids(q2), (IdList{2, 1}));
}

TEST(TaskQueueTest, ManyOperationsKeepSizeAndOrder) {
  constexpr int kN = 32;
  TaskSource src(kN);
  TaskQueue q;
  std::vector<uint64_t> model;  // the expected order
  // A fixed, deterministic mix of operations checked against a vector model.
  uint32_t x = 12345;
  auto next = [&x] {
    x = x * 1103515245u + 12345u;
    return (x >> 16) & 0x7fff;
  };
  for (int step = 0; step < 2000; ++step) {
    Task* t = src[static_cast<int>(next() % kN)];
    const uint32_t op = next() % 4;
    auto it = std::find(model.begin(), model.end(), t->id());
    const bool in = it != model.end();
    ASSERT_EQ(q.Contains(t), in);
    if (op == 0 && !in) {
      q.PushBack(t);
      model.push_back(t->id());
    } else if (op == 1 && !in) {
      q.PushFront(t);
      model.insert(model.begin(), t->id());
    } else if (op == 2) {
      EXPECT_EQ(q.Remove(t), in);
      if (in) model.erase(it);
    } else if (op == 3) {
      Task* f = q.PopFront();
      if (model.empty()) {
        EXPECT_EQ(f, nullptr);
      } else {
        ASSERT_NE(f, nullptr);
        EXPECT_EQ(f->id(), model.front());
        model.erase(model.begin());
      }
    }
    ASSERT_EQ(q.size(), model.size());
    ASSERT_EQ(q.empty(), model.empty());
    ASSERT_EQ(Ids(q), model);
  }
}

TEST(TaskQueueTest, FirstAllowedSkipsPinnedTasksWithinTheScan) {
  TaskSource src(4);
  TaskQueue q;
  for (int i = 0; i < 4; ++i) q.PushBack(src[i]);
  EXPECT_EQ(q.FirstAllowed(2), src[0]);  // every task may run anywhere
  EXPECT_EQ(TaskQueue().FirstAllowed(0), nullptr);
  EXPECT_EQ(q.FirstAllowed(-1), nullptr);
  EXPECT_EQ(q.FirstAllowed(static_cast<int>(WAVE_MAX_CPUS)), nullptr);
  EXPECT_EQ(q.FirstAllowed(2, /*max_scan=*/0), nullptr);
}

TEST(TaskQueueTest, PlaceableMeansRunnableAndHeldByNothing) {
  TaskSource src(2);
  EXPECT_TRUE(src[0]->Placeable());
  TaskQueue q;
  q.PushBack(src[0]);
  EXPECT_FALSE(src[0]->Placeable());
  q.Remove(src[0]);
  TaskHeap h;
  h.Push(src[0], 1);
  EXPECT_FALSE(src[0]->Placeable());
  EXPECT_EQ(src[0]->heap(), &h);
  h.Clear();
  EXPECT_TRUE(src[0]->Placeable());
  EXPECT_EQ(src[0]->heap(), nullptr);
  EXPECT_EQ(src[1]->last_cpu(), -1);  // it has not run
}

std::vector<uint64_t> Drain(TaskHeap& h) {
  std::vector<uint64_t> ids;
  while (Task* t = h.Pop()) ids.push_back(t->id());
  return ids;
}

TEST(TaskHeapTest, PopsSmallestKeyFirstAndEqualKeysInPushOrder) {
  TaskSource src(5);
  TaskHeap h;
  EXPECT_TRUE(h.empty());
  EXPECT_EQ(h.Top(), nullptr);
  EXPECT_EQ(h.Pop(), nullptr);
  h.Push(src[0], 30);
  h.Push(src[1], 10);
  h.Push(src[2], 20);
  h.Push(src[3], 10);
  h.Push(src[4], 30);
  EXPECT_EQ(h.size(), 5u);
  EXPECT_EQ(h.Top(), src[1]);
  EXPECT_EQ(TaskHeap::KeyOf(src[2]), 20u);
  EXPECT_TRUE(h.Contains(src[4]));
  EXPECT_EQ(Drain(h), (IdList{2, 4, 3, 1, 5}));
  EXPECT_TRUE(h.empty());
  for (int i = 0; i < 5; ++i) EXPECT_EQ(src[i]->heap(), nullptr);
}

TEST(TaskHeapTest, RemoveAnyTaskAndTheWrongHeapRefuses) {
  TaskSource src(6);
  TaskHeap h;
  TaskHeap other;
  for (int i = 0; i < 6; ++i) h.Push(src[i], static_cast<uint64_t>(60 - 10 * i));  // 60..10
  EXPECT_FALSE(other.Remove(src[2]));
  EXPECT_TRUE(h.Remove(src[2]));  // key 40, in the middle
  EXPECT_FALSE(h.Remove(src[2]));
  EXPECT_TRUE(h.Remove(src[5]));  // the top
  EXPECT_TRUE(h.Remove(src[0]));  // the largest
  EXPECT_EQ(h.size(), 3u);
  other.Push(src[2], 0);
  EXPECT_EQ(Drain(h), (IdList{5, 4, 2}));
  EXPECT_EQ(Drain(other), (IdList{3}));
}

TEST(TaskHeapTest, AQueueAndAHeapMayHoldTheSameTask) {
  TaskSource src(1);
  TaskQueue q;
  TaskHeap h;
  q.PushBack(src[0]);
  h.Push(src[0], 5);
  EXPECT_TRUE(q.Contains(src[0]));
  EXPECT_TRUE(h.Contains(src[0]));
  EXPECT_EQ(h.Pop(), src[0]);
  EXPECT_TRUE(q.Contains(src[0]));
}

TEST(TaskHeapTest, ManyOperationsMatchASortedModel) {
  constexpr int kN = 32;
  TaskSource src(kN);
  TaskHeap h;
  // (key, push number, id): what the heap must agree with.
  struct Entry {
    uint64_t key;
    uint64_t order;
    uint64_t id;
    bool operator<(const Entry& o) const { return key != o.key ? key < o.key : order < o.order; }
  };
  std::vector<Entry> model;
  uint64_t pushes = 0;
  uint32_t x = 777;
  auto next = [&x] {
    x = x * 1103515245u + 12345u;
    return (x >> 16) & 0x7fff;
  };
  for (int step = 0; step < 3000; ++step) {
    Task* t = src[static_cast<int>(next() % kN)];
    auto it =
        std::find_if(model.begin(), model.end(), [&](const Entry& e) { return e.id == t->id(); });
    const bool in = it != model.end();
    ASSERT_EQ(h.Contains(t), in);
    const uint32_t op = next() % 3;
    if (op == 0 && !in) {
      const uint64_t key = next() % 16;  // many equal keys
      h.Push(t, key);
      model.push_back({key, pushes++, t->id()});
    } else if (op == 1) {
      EXPECT_EQ(h.Remove(t), in);
      if (in) model.erase(it);
    } else if (op == 2) {
      Task* top = h.Pop();
      if (model.empty()) {
        EXPECT_EQ(top, nullptr);
      } else {
        auto min = std::min_element(model.begin(), model.end());
        ASSERT_NE(top, nullptr);
        EXPECT_EQ(top->id(), min->id);
        model.erase(min);
      }
    }
    ASSERT_EQ(h.size(), model.size());
    if (!model.empty()) {
      EXPECT_EQ(h.Top()->id(), std::min_element(model.begin(), model.end())->id);
    }
  }
}

TEST(NiceTest, LinuxWeights) {
  EXPECT_EQ(NiceToWeight(0), 1024u);
  EXPECT_EQ(NiceToWeight(-20), 88761u);
  EXPECT_EQ(NiceToWeight(19), 15u);
  EXPECT_EQ(NiceToWeight(5), 335u);
  EXPECT_EQ(NiceToWeight(-100), NiceToWeight(-20));  // clamped
  EXPECT_EQ(NiceToWeight(100), NiceToWeight(19));
  for (int n = kMinNice; n < kMaxNice; ++n) {  // each step ~1.25x
    const double r = static_cast<double>(NiceToWeight(n)) / NiceToWeight(n + 1);
    EXPECT_GT(r, 1.18) << n;
    EXPECT_LT(r, 1.32) << n;
  }
  EXPECT_EQ(VirtualNs(1000, 1024), 1000u);
  EXPECT_EQ(VirtualNs(1000, 2048), 500u);
  EXPECT_EQ(VirtualNs(1000, 0), 1024000u);
}

TEST(CpuTableTest, IdsAndSize) {
  CpuTable cpus(8);
  EXPECT_EQ(cpus.size(), 8);
  int n = 0;
  for (Cpu& c : cpus) {
    EXPECT_EQ(c.id, n);
    EXPECT_EQ(&cpus[n], &c);
    EXPECT_FALSE(c.host_idle());
    EXPECT_EQ(c.current(), nullptr);
    EXPECT_EQ(c.pending_txn(), 0u);
    EXPECT_FALSE(c.available());
    ++n;
  }
  EXPECT_EQ(n, 8);
  const CpuTable& ccpus = cpus;
  EXPECT_EQ(ccpus[7].id, 7);
}

TEST(CpuTableTest, ZeroOrNegativeSizeIsEmpty) {
  CpuTable zero(0);
  EXPECT_EQ(zero.size(), 0);
  EXPECT_EQ(zero.begin(), zero.end());
  EXPECT_EQ(zero.AvailableCount(), 0);
  CpuTable negative(-3);
  EXPECT_EQ(negative.size(), 0);
  EXPECT_EQ(negative.AvailableCount(), 0);
}

TEST(CpuTableTest, AvailableMeansIdleAndNoCommitInFlight) {
  CpuTable cpus(4);
  EXPECT_EQ(cpus.AvailableCount(), 0);
  cpus.SetHostIdle(0, true);
  cpus.SetHostIdle(1, true);
  EXPECT_TRUE(cpus[0].available());
  EXPECT_EQ(cpus.AvailableCount(), 2);
  cpus.SetPendingTxn(1, 7);  // idle, but a commit to it is in flight
  EXPECT_FALSE(cpus[1].available());
  EXPECT_EQ(cpus.AvailableCount(), 1);
  cpus.SetPendingTxn(2, 8);  // not idle and pending
  EXPECT_FALSE(cpus[2].available());
  cpus.SetPendingTxn(1, 0);
  EXPECT_EQ(cpus.AvailableCount(), 2);
  cpus.SetHostIdle(0, false);
  EXPECT_EQ(cpus.AvailableCount(), 1);
}

TEST(CpuTableTest, SetsFollowTheCpusAndLoopsVisitOnlyTheirMembers) {
  CpuTable cpus(1024);
  EXPECT_TRUE(cpus.Available().empty());
  cpus.SetHostIdle(3, true);
  cpus.SetHostIdle(700, true);
  cpus.SetHostIdle(1023, true);
  cpus.SetStageDepth(5, 2);
  cpus.SetStageDepth(900, 1);
  std::vector<int> seen;
  for (Cpu& c : cpus.Available()) {
    seen.push_back(c.id);
    if (c.id == 3) cpus.SetPendingTxn(700, 9);  // leaves the set ahead of the loop: skipped
    if (c.id == 3) cpus.SetPendingTxn(3, 8);    // the one at hand may leave
  }
  EXPECT_EQ(seen, (std::vector<int>{3, 1023}));
  EXPECT_EQ(cpus.available_set(), CpuSet::Of({1023}));
  seen.clear();
  for (const Cpu& c : std::as_const(cpus).Stageable()) seen.push_back(c.id);
  EXPECT_EQ(seen, (std::vector<int>{5, 900}));
  cpus.SetStaged(900, 1);  // its only slot taken
  EXPECT_EQ(cpus.stageable_set(), CpuSet::Of({5}));
  cpus.SetStaged(900, 0);
  cpus.Reset(1023);
  EXPECT_TRUE(cpus.Available().empty());
  EXPECT_EQ(cpus.stageable_set(), CpuSet::Of({5, 900}));  // the ring is still there
}

TEST(CpuLoadsTest, ShortestCountsBusyCpusOneMore) {
  CpuLoads loads;
  loads.Resize(200);
  for (int c = 0; c < 200; ++c) loads.Set(c, 3, true);
  loads.Set(150, 1, true);
  loads.Set(10, 2, true);
  const CpuSet all = CpuSet::All(200);
  CpuSet available;
  EXPECT_EQ(loads.Shortest(all, available), 150);  // all busy: 150 has load 2, 10 load 3
  available.Set(10);
  // 150 is busy: load 2, equal to 10 (available, length 2) -> the lower id.
  EXPECT_EQ(loads.Shortest(all, available), 10);
  available.Set(150);
  EXPECT_EQ(loads.Shortest(all, available), 150);
  // Restricted to cpus with the common length: the lowest allowed, available ones first.
  available.Set(199);
  EXPECT_EQ(loads.Shortest(CpuSet::Of({50, 199}), available), 199);
  EXPECT_EQ(loads.Shortest(CpuSet::Of({50, 60}), available), 50);
  EXPECT_EQ(loads.Shortest(CpuSet::Of({250}), available), -1);  // no such cpu
}

TEST(CpuLoadsTest, ShortestFindsCpusFarAboveTheShortestQueue) {
  CpuLoads loads;
  loads.Resize(64);
  for (int c = 0; c < 64; ++c) loads.Set(c, 0, false);
  loads.Set(40, 100, true);
  loads.Set(41, 90, true);
  EXPECT_EQ(loads.Shortest(CpuSet::Of({40, 41}), CpuSet()), 41);
}

TEST(CpuLoadsTest, LongestFirstThenShorterLowestIdFirst) {
  CpuLoads loads;
  loads.Resize(300);
  loads.Set(7, 2, true);
  loads.Set(290, 5, false);
  loads.Set(3, 2, true);
  loads.Set(100, 5, true);
  std::vector<int> order;
  for (int c = loads.Longest(); c >= 0; c = loads.NextLongest(c)) order.push_back(c);
  EXPECT_EQ(order, (std::vector<int>{100, 290, 3, 7}));
  EXPECT_EQ(loads.waiting(), CpuSet::Of({3, 7, 100}));
  loads.Set(100, 0, false);
  loads.Set(290, 0, false);
  EXPECT_EQ(loads.longest_length(), 2u);
  EXPECT_EQ(loads.Longest(), 3);
  loads.Clear();
  EXPECT_EQ(loads.Longest(), -1);
  EXPECT_EQ(loads.size(), 300);
  EXPECT_TRUE(loads.waiting().empty());
}

TEST(CpuTableTest, CpusDoNotShareCacheLines) {
  static_assert(alignof(Cpu) == 64);
  CpuTable cpus(3);
  for (int i = 0; i < cpus.size(); ++i) {
    EXPECT_EQ(reinterpret_cast<uintptr_t>(&cpus[i]) % 64, 0u);
  }
  EXPECT_EQ(reinterpret_cast<uintptr_t>(&cpus[1]) - reinterpret_cast<uintptr_t>(&cpus[0]),
            sizeof(Cpu));
  EXPECT_EQ(sizeof(Cpu) % 64, 0u);
}

TEST(TaskStateNameTest, EveryStateHasAName) {
  EXPECT_STREQ(TaskStateName(TaskState::kBlocked), "blocked");
  EXPECT_STREQ(TaskStateName(TaskState::kRunnable), "runnable");
  EXPECT_STREQ(TaskStateName(TaskState::kOnCpu), "on_cpu");
  EXPECT_STREQ(TaskStateName(TaskState::kDead), "dead");
}

}  // namespace
}  // namespace wave
