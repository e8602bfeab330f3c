// The host code of both BPF mechanisms on machines of any size, without loading a program: the
// cpu-count shim (host/bpf/bpf_cpus.h) on 1, 64, 65, 256 and 4,096 cpus, the kick batches of
// sched_ext's host on 256 cpus, and what it reads of this machine.
#include "host/bpf/bpf_cpus.h"

#include <gtest/gtest.h>
#include <sched.h>

#include <set>

#include "bpf/cpus.h"
#include "host/mech/validate.h"
#include "host/scx/loader.h"

namespace wave {
namespace {

struct FakeRodata {
  __u32 wave_cpu_words = 0;
  __u64 wave_managed_words[WAVE_CPUS_MAX_WORDS] = {};
};

TEST(BpfCpus, AnyTopologyUpToTheKernelsLimit) {
  for (int possible : {1, 64, 65, 256, 1024, 4096}) {
    SCOPED_TRACE(possible);
    absl::StatusOr<BpfCpus> c = BpfCpus::Make(possible, CpuSet::All(possible));
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_EQ(c->words(), static_cast<uint32_t>((possible + 63) / 64));
    EXPECT_EQ(c->exact(), possible <= 64);
    FakeRodata r;
    c->SetRodata(&r);
    EXPECT_EQ(r.wave_cpu_words, c->words());
    for (uint32_t w = 0; w < WAVE_CPUS_MAX_WORDS; ++w) {
      EXPECT_EQ(r.wave_managed_words[w], CpuSet::All(possible).word(w)) << w;
    }
  }
  EXPECT_FALSE(BpfCpus::Make(0, CpuSet::Of({0})).ok());
  EXPECT_FALSE(BpfCpus::Make(WAVE_MAX_CPUS + 1, CpuSet::Of({0})).ok());
  EXPECT_EQ(BpfCpus::Make(8, CpuSet()).status().code(), absl::StatusCode::kInvalidArgument);
  absl::Status beyond = BpfCpus::Make(256, CpuSet::Of({256})).status();
  EXPECT_EQ(beyond.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(beyond.message(), "cpu 256 is not one of this machine's 256 possible cpus");
}

TEST(BpfCpus, TheKeptValueIsTheMaskOnSmallMachinesAndAFingerprintOnBigOnes) {
  absl::StatusOr<BpfCpus> small = BpfCpus::Make(8, CpuSet::Range(1, 7));
  ASSERT_TRUE(small.ok());
  EXPECT_EQ(small->Value(CpuSet::All(8)), 0xfeu);  // AND the managed cpus
  EXPECT_EQ(small->Value(CpuSet::Of({3})), 1u << 3);

  // 256 cpus, 1..255 managed: every one-cpu set, every all-but-one set, distinct; unmanaged
  // cpus do not count; the same set gives the same value, as the BPF side computes it.
  absl::StatusOr<BpfCpus> big = BpfCpus::Make(256, CpuSet::Range(1, 255));
  ASSERT_TRUE(big.ok());
  std::set<uint64_t> seen;
  for (int cpu = 1; cpu < 256; ++cpu) {
    EXPECT_TRUE(seen.insert(big->Value(CpuSet::Of({cpu}))).second) << cpu;
    CpuSet all_but = CpuSet::Range(1, 255);
    all_but.Clear(cpu);
    EXPECT_TRUE(seen.insert(big->Value(all_but)).second) << cpu;
  }
  EXPECT_EQ(big->Value(CpuSet::All(256)), big->Value(CpuSet::Range(1, 255)));
  EXPECT_EQ(big->Value(CpuSet::Of({7, 200})), big->Value(CpuSet::Of({0, 7, 200})));
  uint64_t h = 0;  // what the programs' loop computes (bpf/wave_cpus.bpf.h)
  const CpuSet pinned = CpuSet::Of({200});
  for (uint32_t w = 0; w < 4; ++w) h = wave_cpus_fold(h, w, pinned.word(w));
  EXPECT_EQ(big->Value(pinned), h);
}

TEST(BpfCpus, SchedExtKicksTwoHundredFiftySixCpusInBatches) {
  CpuSet all = CpuSet::All(256);
  CpuSet preempt = CpuSet::Of({0, 63, 64, 200, 255});
  std::vector<wave_scx_kick_args> batches = KickBatches(all, preempt);
  ASSERT_EQ(batches.size(), 256 / WAVE_SCX_KICK_BATCH);
  int next = 0;
  for (const wave_scx_kick_args& b : batches) {
    ASSERT_EQ(b.count, WAVE_SCX_KICK_BATCH);
    for (uint32_t i = 0; i < b.count; ++i) {
      EXPECT_EQ(b.cpus[i], next);
      EXPECT_EQ(((b.preempt[i / 32] >> (i % 32)) & 1) != 0, preempt.Test(next)) << next;
      ++next;
    }
  }
  EXPECT_TRUE(KickBatches(CpuSet(), CpuSet()).empty());
  EXPECT_EQ(KickBatches(CpuSet::Of({300}), CpuSet()).size(), 1u);
}

// Commits on a 256-cpu host: every cpu of the machine may be named, the task's own set decides.
TEST(BpfCpus, CommitsNameAnyCpuOfABigHost) {
  const CpuSet cpus = CpuSet::Range(128, 255);
  HostTaskView t{.seq = 1, .cpus = &cpus, .runnable = true, .on_cpu = false};
  HostCpuView free{.managed = true, .busy = false};
  wave_msg m;
  wave_msg_init(&m, WAVE_CMD_COMMIT);
  m.commit.task_id = 1;
  m.commit.seq = 1;
  for (int cpu : {128, 200, 255}) {
    m.commit.cpu = cpu;
    EXPECT_EQ(ValidateCommit(m.commit, &t, 256, &free), WAVE_COMMIT_OK) << cpu;
  }
  for (int cpu : {0, 127}) {
    m.commit.cpu = cpu;
    EXPECT_EQ(ValidateCommit(m.commit, &t, 256, &free), WAVE_COMMIT_CPU_NOT_ALLOWED) << cpu;
  }
}

TEST(BpfCpus, WhatThisMachineHas) {
  absl::StatusOr<int> possible = PossibleCpus();
  ASSERT_TRUE(possible.ok()) << possible.status();
  EXPECT_GE(*possible, 1);
  std::optional<CpuSet> mine = ThreadCpus(0);
  ASSERT_TRUE(mine.has_value());
  cpu_set_t set;
  ASSERT_EQ(sched_getaffinity(0, sizeof(set), &set), 0);
  EXPECT_EQ(*mine, CpuSetOf(set));
  EXPECT_LT(mine->Last(), *possible);
  const cpu_set_t back = CpuSetTOf(*mine);
  EXPECT_TRUE(CPU_EQUAL(&back, &set));
  EXPECT_FALSE(ThreadCpus(-1).has_value());
}

}  // namespace
}  // namespace wave
