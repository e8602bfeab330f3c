// ValidateCommit: the host's check of every commit the agent sends, one status per failure, in
// the documented order; MakeCommitResult: the answer echoes the commit.
#include "host/mech/validate.h"

#include <climits>
#include <cstdint>
#include <cstring>
#include <vector>

#include "abi/wave_abi.h"
#include "gtest/gtest.h"

namespace wave {
namespace {

constexpr int kCpus = 8;

// A commit that passes every check against Task() and Cpu() below.
wave_a2k_commit Good() {
  wave_a2k_commit c;
  std::memset(&c, 0, sizeof(c));
  c.hdr.type = WAVE_CMD_COMMIT;
  c.hdr.len = WAVE_MSG_SIZE;
  c.task_id = 42;
  c.seq = 7;
  c.txn_id = 1234;
  c.cpu = 3;
  return c;
}

HostTaskView Task() { return {.seq = 7, .cpus = nullptr, .runnable = true, .on_cpu = false}; }
HostCpuView Cpu() { return {.managed = true, .busy = false}; }

wave_commit_status Check(const wave_a2k_commit& c, const HostTaskView& t = Task(),
                         const HostCpuView& cpu = Cpu(), int num_cpus = kCpus) {
  return ValidateCommit(c, &t, num_cpus, &cpu);
}

TEST(ValidateCommitTest, GoodCommitIsOk) {
  EXPECT_EQ(Check(Good()), WAVE_COMMIT_OK);
  wave_a2k_commit c = Good();
  c.slice_ns = 50000;  // any slice
  EXPECT_EQ(Check(c), WAVE_COMMIT_OK);
  c.cpu = 0;
  EXPECT_EQ(Check(c), WAVE_COMMIT_OK);
  c.cpu = kCpus - 1;
  EXPECT_EQ(Check(c), WAVE_COMMIT_OK);
  // The stamp belongs to the ring; it is not the validator's business.
  c.hdr.stamp = 0xdeadbeef;
  EXPECT_EQ(Check(c), WAVE_COMMIT_OK);
}

TEST(ValidateCommitTest, WrongTypeIsMalformed) {
  for (uint16_t type :
       {uint16_t{WAVE_MSG_NONE}, uint16_t{WAVE_EV_TASK_NEW}, uint16_t{WAVE_EV_COMMIT_RESULT},
        uint16_t{WAVE_CMD_COMMIT + 1}, uint16_t{WAVE_EV_NET_RPC}, uint16_t{0xffff}}) {
    wave_a2k_commit c = Good();
    c.hdr.type = type;
    EXPECT_EQ(Check(c), WAVE_COMMIT_MALFORMED) << "type " << type;
  }
}

TEST(ValidateCommitTest, WrongLengthIsMalformed) {
  for (uint16_t len : {0, 8, 56, 63, 65, 128, 0xffff}) {
    wave_a2k_commit c = Good();
    c.hdr.len = len;
    EXPECT_EQ(Check(c), WAVE_COMMIT_MALFORMED) << "len " << len;
  }
}

TEST(ValidateCommitTest, UnknownFlagsAreMalformed) {
  for (uint32_t flags : {1u << 1, 1u << 31, WAVE_COMMIT_F_PREEMPT | (1u << 5), ~0u}) {
    wave_a2k_commit c = Good();
    c.flags = flags;
    EXPECT_EQ(Check(c), WAVE_COMMIT_MALFORMED) << "flags " << flags;
  }
}

TEST(ValidateCommitTest, NonzeroReservedOrInconsistentGroupIsMalformed) {
  wave_a2k_commit c = Good();
  c.reserved = 1;
  EXPECT_EQ(Check(c), WAVE_COMMIT_MALFORMED);
  c = Good();
  c.reserved = 1ull << 63;
  EXPECT_EQ(Check(c), WAVE_COMMIT_MALFORMED);
  c = Good();
  c.group = 1;  // a group of size 0
  EXPECT_EQ(Check(c), WAVE_COMMIT_MALFORMED);
  c = Good();
  c.group_size = 2;  // a size without a group
  EXPECT_EQ(Check(c), WAVE_COMMIT_MALFORMED);
  c = Good();
  c.group = 5;
  c.group_size = WAVE_MAX_GROUP + 1;
  EXPECT_EQ(Check(c), WAVE_COMMIT_MALFORMED);
  // A well-formed group member validates like a plain commit.
  c.group_size = 2;
  EXPECT_EQ(Check(c), WAVE_COMMIT_OK);
}

TEST(ValidateCommitTest, MalformedComesFirst) {
  // Even for an unknown task and no such cpu, a malformed commit is reported as malformed.
  wave_a2k_commit c = Good();
  c.hdr.len = 0;
  c.cpu = -1;
  EXPECT_EQ(ValidateCommit(c, nullptr, kCpus, nullptr), WAVE_COMMIT_MALFORMED);
}

TEST(ValidateCommitTest, UnknownTask) {
  const HostCpuView cpu = Cpu();
  EXPECT_EQ(ValidateCommit(Good(), nullptr, kCpus, &cpu), WAVE_COMMIT_UNKNOWN_TASK);
  // Before any cpu check: the host cannot judge a cpu for a task it does not know.
  wave_a2k_commit c = Good();
  c.cpu = -5;
  EXPECT_EQ(ValidateCommit(c, nullptr, kCpus, nullptr), WAVE_COMMIT_UNKNOWN_TASK);
}

TEST(ValidateCommitTest, CpuOutOfRangeIsNotAllowed) {
  const HostTaskView t = Task();
  for (int cpu : {-1, -64, INT_MIN, kCpus, kCpus + 1, 63, 64, 65, INT_MAX}) {
    wave_a2k_commit c = Good();
    c.cpu = cpu;
    // The caller passes no cpu view for a cpu outside [0, num_cpus).
    EXPECT_EQ(ValidateCommit(c, &t, kCpus, nullptr), WAVE_COMMIT_CPU_NOT_ALLOWED) << "cpu " << cpu;
  }
  // A host of more than 64 cpus: every cpu it has may be named; none beyond.
  const HostCpuView view = Cpu();
  for (int cpu : {0, 63, 64, 100, 4095}) {
    wave_a2k_commit c = Good();
    c.cpu = cpu;
    EXPECT_EQ(ValidateCommit(c, &t, 4096, &view), WAVE_COMMIT_OK) << "cpu " << cpu;
  }
  wave_a2k_commit c = Good();
  c.cpu = 4096;
  EXPECT_EQ(ValidateCommit(c, &t, 4096, nullptr), WAVE_COMMIT_CPU_NOT_ALLOWED);
}

TEST(ValidateCommitTest, CpuNotInMaskIsNotAllowed) {
  HostTaskView t = Task();
  CpuSet cpus = CpuSet::FromWord(~(1ull << 3));  // every cpu but the commit's
  t.cpus = &cpus;
  EXPECT_EQ(Check(Good(), t), WAVE_COMMIT_CPU_NOT_ALLOWED);
  cpus = CpuSet();
  EXPECT_EQ(Check(Good(), t), WAVE_COMMIT_CPU_NOT_ALLOWED);
  cpus = CpuSet::Of({3});  // only the commit's
  EXPECT_EQ(Check(Good(), t), WAVE_COMMIT_OK);
  cpus = CpuSet::Of({63});
  wave_a2k_commit c = Good();
  c.cpu = 63;
  EXPECT_EQ(ValidateCommit(c, &t, 64, nullptr), WAVE_COMMIT_CPU_NOT_ALLOWED);  // no view
  const HostCpuView view = Cpu();
  EXPECT_EQ(ValidateCommit(c, &t, 64, &view), WAVE_COMMIT_OK);
}

TEST(ValidateCommitTest, UnmanagedCpuIsNotAllowed) {
  HostCpuView cpu = Cpu();
  cpu.managed = false;
  EXPECT_EQ(Check(Good(), Task(), cpu), WAVE_COMMIT_CPU_NOT_ALLOWED);
  // Even with PREEMPT: the policy may not take a cpu it was not given.
  wave_a2k_commit c = Good();
  c.flags = WAVE_COMMIT_F_PREEMPT;
  cpu.busy = true;
  EXPECT_EQ(Check(c, Task(), cpu), WAVE_COMMIT_CPU_NOT_ALLOWED);
  // In range but no view: treated like an unmanaged cpu, never dereferenced.
  const HostTaskView t = Task();
  EXPECT_EQ(ValidateCommit(Good(), &t, kCpus, nullptr), WAVE_COMMIT_CPU_NOT_ALLOWED);
}

TEST(ValidateCommitTest, StaleSeq) {
  HostTaskView t = Task();
  t.seq = 8;  // the task moved on
  EXPECT_EQ(Check(Good(), t), WAVE_COMMIT_STALE);
  t.seq = 6;  // a commit from the future is not current either
  EXPECT_EQ(Check(Good(), t), WAVE_COMMIT_STALE);
  // Stale wins over the task's state: the agent must learn the new seq first.
  t.seq = 8;
  t.on_cpu = true;
  EXPECT_EQ(Check(Good(), t), WAVE_COMMIT_STALE);
  t.on_cpu = false;
  t.runnable = false;
  EXPECT_EQ(Check(Good(), t), WAVE_COMMIT_STALE);
}

TEST(ValidateCommitTest, TaskOnCpu) {
  HostTaskView t = Task();
  t.on_cpu = true;
  EXPECT_EQ(Check(Good(), t), WAVE_COMMIT_ON_CPU);
  t.runnable = false;  // on cpu is reported before not runnable
  EXPECT_EQ(Check(Good(), t), WAVE_COMMIT_ON_CPU);
}

TEST(ValidateCommitTest, TaskNotRunnable) {
  HostTaskView t = Task();
  t.runnable = false;
  EXPECT_EQ(Check(Good(), t), WAVE_COMMIT_NOT_RUNNABLE);
  HostCpuView busy = Cpu();
  busy.busy = true;
  EXPECT_EQ(Check(Good(), t, busy), WAVE_COMMIT_NOT_RUNNABLE);  // before the cpu's state
}

TEST(ValidateCommitTest, BusyCpuNeedsPreempt) {
  HostCpuView cpu = Cpu();
  cpu.busy = true;
  EXPECT_EQ(Check(Good(), Task(), cpu), WAVE_COMMIT_CPU_BUSY);
  wave_a2k_commit c = Good();
  c.flags = WAVE_COMMIT_F_PREEMPT;
  EXPECT_EQ(Check(c, Task(), cpu), WAVE_COMMIT_OK);
  cpu.busy = false;
  EXPECT_EQ(Check(c, Task(), cpu), WAVE_COMMIT_OK);  // PREEMPT on a free cpu is fine
}

TEST(ValidateCommitTest, ZeroCpuHostAllowsNothing) {
  const HostTaskView t = Task();
  wave_a2k_commit c = Good();
  c.cpu = 0;
  EXPECT_EQ(ValidateCommit(c, &t, 0, nullptr), WAVE_COMMIT_CPU_NOT_ALLOWED);
  EXPECT_EQ(ValidateCommit(c, &t, -1, nullptr), WAVE_COMMIT_CPU_NOT_ALLOWED);
}

TEST(ValidateCommitTest, RandomCommitsNeverCrashAndOkOnlyWhenEverythingHolds) {
  // A deterministic sweep of corrupt commits: the validator must answer, and OK only for one
  // that passes every rule.
  uint64_t x = 0x9e3779b97f4a7c15ull;
  auto next = [&x] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  for (int i = 0; i < 20000; ++i) {
    union wave_msg m;
    for (auto& b : m.raw) b = static_cast<uint8_t>(next());
    if (i % 2 == 0) {  // keep the header right half the time so later checks are reached
      m.commit.hdr.type = WAVE_CMD_COMMIT;
      m.commit.hdr.len = WAVE_MSG_SIZE;
      m.commit.flags &= WAVE_COMMIT_F_ALL;
      m.commit.reserved = 0;
      m.commit.group = 0;
      m.commit.group_size = 0;
      m.commit.cpu = static_cast<int32_t>(next() % 12) - 2;
      m.commit.seq = next() % 3;
    }
    const wave_a2k_commit& c = m.commit;
    const CpuSet cpus = CpuSet::FromWord(next());
    HostTaskView t{.seq = next() % 3,
                   .cpus = &cpus,
                   .runnable = (next() & 1) != 0,
                   .on_cpu = (next() & 1) != 0};
    HostCpuView cv{.managed = (next() & 1) != 0, .busy = (next() & 1) != 0};
    const bool known = next() % 4 != 0;
    const bool in_range = c.cpu >= 0 && c.cpu < kCpus;
    const wave_commit_status s =
        ValidateCommit(c, known ? &t : nullptr, kCpus, in_range ? &cv : nullptr);
    ASSERT_LT(static_cast<uint32_t>(s), WAVE_COMMIT_STATUS_COUNT);
    if (s == WAVE_COMMIT_OK) {
      ASSERT_TRUE(known);
      ASSERT_TRUE(in_range);
      EXPECT_EQ(c.hdr.type, WAVE_CMD_COMMIT);
      EXPECT_EQ(c.hdr.len, WAVE_MSG_SIZE);
      EXPECT_EQ(c.flags & ~WAVE_COMMIT_F_ALL, 0u);
      EXPECT_EQ(c.reserved, 0u);
      EXPECT_TRUE(c.group == 0 ? c.group_size == 0
                               : c.group_size >= 1 && c.group_size <= WAVE_MAX_GROUP);
      EXPECT_TRUE(cpus.Test(c.cpu));
      EXPECT_TRUE(cv.managed);
      EXPECT_EQ(c.seq, t.seq);
      EXPECT_TRUE(t.runnable);
      EXPECT_FALSE(t.on_cpu);
      EXPECT_TRUE(!cv.busy || (c.flags & WAVE_COMMIT_F_PREEMPT));
    }
  }
}

TEST(MakeCommitResultTest, EchoesTheCommit) {
  wave_a2k_commit c = Good();
  c.cpu = 5;
  c.slice_ns = 999;
  c.flags = WAVE_COMMIT_F_PREEMPT;
  for (uint32_t s = 0; s < WAVE_COMMIT_STATUS_COUNT; ++s) {
    const wave_commit_status status = static_cast<wave_commit_status>(s);
    const wave_msg m = MakeCommitResult(c, status, /*host_seq=*/11, /*time_ns=*/123456789);
    const wave_k2a_commit_result& r = m.result;
    EXPECT_EQ(r.hdr.type, WAVE_EV_COMMIT_RESULT);
    EXPECT_EQ(r.hdr.len, WAVE_MSG_SIZE);
    EXPECT_EQ(r.hdr.stamp, 0u);
    EXPECT_EQ(r.txn_id, c.txn_id);
    EXPECT_EQ(r.task_id, c.task_id);
    EXPECT_EQ(r.cpu, c.cpu);
    EXPECT_EQ(r.status, s);
    EXPECT_EQ(r.seq, 11u);
    EXPECT_EQ(r.time_ns, 123456789u);
    EXPECT_EQ(r.flags, 0u);
    EXPECT_EQ(r.reserved0, 0u);
    EXPECT_EQ(r.reserved1, 0u);
  }
}

TEST(MakeCommitResultTest, EchoesEvenAMalformedCommit) {
  // The agent matches results to commits by txn id: the answer to garbage still names it.
  wave_a2k_commit c = Good();
  c.hdr.type = 0;
  c.txn_id = ~0ull;
  c.task_id = 0;
  c.cpu = -7;
  const wave_msg m = MakeCommitResult(c, WAVE_COMMIT_MALFORMED, 0, 0);
  EXPECT_EQ(m.result.hdr.type, WAVE_EV_COMMIT_RESULT);
  EXPECT_EQ(m.result.txn_id, ~0ull);
  EXPECT_EQ(m.result.task_id, 0u);
  EXPECT_EQ(m.result.cpu, -7);
  EXPECT_EQ(m.result.status, uint32_t{WAVE_COMMIT_MALFORMED});
  EXPECT_EQ(m.result.seq, 0u);
}

// ---- group commits ----

wave_a2k_commit Member(uint32_t group, uint32_t size, uint64_t task, int cpu) {
  wave_a2k_commit c = Good();
  c.group = group;
  c.group_size = size;
  c.task_id = task;
  c.cpu = cpu;
  c.txn_id = task * 100;
  return c;
}

std::vector<CommitUnit> Assemble(const std::vector<wave_a2k_commit>& stream, bool end = true) {
  CommitAssembler a;
  std::vector<CommitUnit> out;
  for (const wave_a2k_commit& c : stream) a.Add(c, &out);
  if (end) a.EndOfBatch(&out);
  return out;
}

TEST(CommitAssemblerTest, PlainCommitsAreUnitsOfOne) {
  std::vector<CommitUnit> u = Assemble({Good(), Good()});
  ASSERT_EQ(u.size(), 2u);
  EXPECT_EQ(u[0].members.size(), 1u);
  EXPECT_FALSE(u[0].malformed);
}

TEST(CommitAssemblerTest, AGroupIsOneUnitInOrder) {
  std::vector<CommitUnit> u =
      Assemble({Good(), Member(7, 3, 11, 1), Member(7, 3, 12, 2), Member(7, 3, 13, 3), Good()});
  ASSERT_EQ(u.size(), 3u);
  ASSERT_EQ(u[1].members.size(), 3u);
  EXPECT_FALSE(u[1].malformed);
  EXPECT_EQ(u[1].members[0].task_id, 11u);
  EXPECT_EQ(u[1].members[2].task_id, 13u);
  // A group of one is a plain commit.
  u = Assemble({Member(9, 1, 5, 0)});
  ASSERT_EQ(u.size(), 1u);
  EXPECT_FALSE(u[0].malformed);
}

TEST(CommitAssemblerTest, BrokenGroupsAreMalformedAndTheBreakerStandsAlone) {
  // Interrupted by a plain commit.
  std::vector<CommitUnit> u = Assemble({Member(7, 3, 11, 1), Good(), Member(7, 3, 12, 2)});
  ASSERT_EQ(u.size(), 3u);
  EXPECT_TRUE(u[0].malformed);
  EXPECT_EQ(u[0].members.size(), 1u);
  EXPECT_FALSE(u[1].malformed);  // the plain commit is judged on its own
  EXPECT_TRUE(u[2].malformed);   // the rest of the group never completes in this batch
  // Another group id, or another size, in the middle.
  u = Assemble({Member(7, 2, 11, 1), Member(8, 2, 12, 2), Member(8, 2, 13, 3)});
  ASSERT_EQ(u.size(), 2u);
  EXPECT_TRUE(u[0].malformed);
  EXPECT_FALSE(u[1].malformed);
  u = Assemble({Member(7, 2, 11, 1), Member(7, 3, 12, 2)});
  ASSERT_EQ(u.size(), 2u);
  EXPECT_TRUE(u[0].malformed);
  EXPECT_TRUE(u[1].malformed);
  // Incomplete at the end of the batch; without EndOfBatch it stays pending.
  CommitAssembler a;
  std::vector<CommitUnit> out;
  a.Add(Member(7, 2, 11, 1), &out);
  EXPECT_TRUE(out.empty());
  EXPECT_TRUE(a.in_group());
  a.EndOfBatch(&out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].malformed);
  EXPECT_FALSE(a.in_group());
}

struct UnitCheck {
  std::vector<HostTaskView> tasks;
  std::vector<HostCpuView> cpus;
  std::vector<wave_commit_status> statuses;
  bool ok = false;
};

UnitCheck CheckUnit(const CommitUnit& unit, const std::vector<HostTaskView>& tasks,
                    const std::vector<HostCpuView>& cpus) {
  UnitCheck r{tasks, cpus, std::vector<wave_commit_status>(unit.members.size()), false};
  std::vector<const HostTaskView*> tp;
  std::vector<const HostCpuView*> cp;
  for (size_t i = 0; i < unit.members.size(); ++i) {
    tp.push_back(&r.tasks[i]);
    cp.push_back(&r.cpus[i]);
  }
  r.ok = ValidateUnit(unit, tp.data(), kCpus, cp.data(), r.statuses.data());
  return r;
}

TEST(ValidateUnitTest, AllOrNothing) {
  const CommitUnit group{{Member(7, 3, 11, 1), Member(7, 3, 12, 2), Member(7, 3, 13, 3)}, false};
  const HostTaskView t = Task();
  const HostCpuView free_cpu{.managed = true, .busy = false};
  UnitCheck r = CheckUnit(group, {t, t, t}, {free_cpu, free_cpu, free_cpu});
  EXPECT_TRUE(r.ok);
  for (wave_commit_status s : r.statuses) EXPECT_EQ(s, WAVE_COMMIT_OK);
  // One member's cpu is busy: that one says why, the others are aborted, nothing runs.
  r = CheckUnit(group, {t, t, t}, {free_cpu, HostCpuView{.managed = true, .busy = true}, free_cpu});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.statuses[0], WAVE_COMMIT_GROUP_ABORTED);
  EXPECT_EQ(r.statuses[1], WAVE_COMMIT_CPU_BUSY);
  EXPECT_EQ(r.statuses[2], WAVE_COMMIT_GROUP_ABORTED);
  // Two members fail for different reasons: both keep their own.
  HostTaskView stale = t;
  stale.seq = t.seq + 1;
  HostTaskView blocked = t;
  blocked.runnable = false;
  r = CheckUnit(group, {stale, t, blocked}, {free_cpu, free_cpu, free_cpu});
  EXPECT_EQ(r.statuses[0], WAVE_COMMIT_STALE);
  EXPECT_EQ(r.statuses[1], WAVE_COMMIT_GROUP_ABORTED);
  EXPECT_EQ(r.statuses[2], WAVE_COMMIT_NOT_RUNNABLE);
}

TEST(ValidateUnitTest, DuplicateTaskOrCpuOrBrokenGroupIsMalformedAsAWhole) {
  const HostTaskView t = Task();
  const HostCpuView free_cpu{.managed = true, .busy = false};
  for (const CommitUnit& unit : {CommitUnit{{Member(7, 2, 11, 1), Member(7, 2, 11, 2)}, false},
                                 CommitUnit{{Member(7, 2, 11, 1), Member(7, 2, 12, 1)}, false},
                                 CommitUnit{{Member(7, 2, 11, 1), Member(7, 2, 12, 2)}, true}}) {
    UnitCheck r = CheckUnit(unit, {t, t}, {free_cpu, free_cpu});
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.statuses[0], WAVE_COMMIT_MALFORMED);
    EXPECT_EQ(r.statuses[1], WAVE_COMMIT_MALFORMED);
  }
}

TEST(MakeCommitResultTest, CarriesTheStagedFlag) {
  const wave_msg m = MakeCommitResult(Good(), WAVE_COMMIT_OK, 3, 4, WAVE_RESULT_F_STAGED);
  EXPECT_EQ(m.result.flags, WAVE_RESULT_F_STAGED);
}

}  // namespace
}  // namespace wave
