// CpuSet and its encoding on the link: every set survives host -> wire -> agent, in the fewest
// slots the encoding allows, and a malformed encoding is refused, never followed.
#include "abi/cpuset.h"

#include <vector>

#include "gtest/gtest.h"

namespace wave {
namespace {

TEST(CpuSet, RangesWordsAndIteration) {
  const CpuSet r = CpuSet::Range(62, 130);
  EXPECT_FALSE(r.Test(61));
  EXPECT_TRUE(r.Test(62));
  EXPECT_TRUE(r.Test(64));
  EXPECT_TRUE(r.Test(130));
  EXPECT_FALSE(r.Test(131));
  EXPECT_FALSE(r.Test(-1));
  EXPECT_EQ(r.Count(), 69);
  EXPECT_EQ(r.First(), 62);
  EXPECT_EQ(r.Last(), 130);
  EXPECT_TRUE(r.IsRange());
  EXPECT_EQ(r.ToString(), "62-130");
  CpuSet s = CpuSet::Of({3, 5, 6, 7, 4000});
  EXPECT_EQ(s.ToString(), "3,5-7,4000");
  std::vector<int> seen;
  for (int c = s.First(); c >= 0; c = s.Next(c)) seen.push_back(c);
  EXPECT_EQ(seen, (std::vector<int>{3, 5, 6, 7, 4000}));
  s.Clear(4000);
  EXPECT_EQ(s.word_count(), 1u);  // trimmed
  EXPECT_EQ(s, CpuSet::FromWord(0xe8));
  EXPECT_EQ(CpuSet::All(0), CpuSet());
  EXPECT_EQ(CpuSet::All(1024).Count(), 1024);
  EXPECT_EQ(CpuSet::All(100000).Count(), static_cast<int>(WAVE_MAX_CPUS));
  EXPECT_EQ(CpuSet::Range(5, 4), CpuSet());
  CpuSet a = CpuSet::Range(0, 99);
  a &= CpuSet::Range(50, 200);
  EXPECT_EQ(a, CpuSet::Range(50, 99));
  a |= CpuSet::Of({1000});
  EXPECT_EQ(a.ToString(), "50-99,1000");
  s.Set(static_cast<int>(WAVE_MAX_CPUS));  // beyond the ABI: ignored
  EXPECT_EQ(s.Last(), 7);
}

struct Wire {
  wave_msg event;
  std::vector<wave_msg> chunks;
};

Wire Encode(const CpuSet& set, int num_cpus, uint64_t task = 42) {
  Wire w;
  wave_msg_init(&w.event, WAVE_EV_TASK_NEW);
  w.event.task.task_id = task;
  w.event.task.flags = WAVE_TASK_F_RUNNABLE;
  wave_msg chunks[kMaxCpuChunks];
  const size_t n = EncodeTaskCpus(set, num_cpus, &w.event.task, chunks);
  w.chunks.assign(chunks, chunks + n);
  EXPECT_EQ(w.event.task.flags & WAVE_TASK_F_RUNNABLE, WAVE_TASK_F_RUNNABLE);  // left alone
  return w;
}

CpuSet Decode(const Wire& w, int num_cpus) {
  CpuSetDecoder d;
  for (const wave_msg& c : w.chunks) EXPECT_TRUE(d.AddChunk(c.task_cpus));
  CpuSet out;
  EXPECT_TRUE(d.Decode(w.event.task, num_cpus, &out));
  return out;
}

TEST(CpuSetWire, EverySetSurvivesInTheFewestSlots) {
  struct Case {
    CpuSet set;
    int num_cpus;
    uint32_t mode;
    size_t chunks;
  };
  const Case cases[] = {
      {CpuSet::All(8), 8, WAVE_TASK_CPUS_ALL, 0},
      {CpuSet::All(1024), 1024, WAVE_TASK_CPUS_ALL, 0},
      {CpuSet::Range(1, 7), 8, WAVE_TASK_CPUS_WORD, 0},
      {CpuSet::Of({3}), 4096, WAVE_TASK_CPUS_WORD, 0},
      {CpuSet::Of({70, 75}), 256, WAVE_TASK_CPUS_WORD, 0},
      {CpuSet::Range(1, 255), 256, WAVE_TASK_CPUS_RANGE, 0},
      {CpuSet::Range(64, 4095), 4096, WAVE_TASK_CPUS_RANGE, 0},
      {CpuSet::Of({0, 64}), 65, WAVE_TASK_CPUS_CHUNKS, 1},
      {CpuSet::Of({0, 2, 4095}), 4096, WAVE_TASK_CPUS_CHUNKS, 2},  // zero words skipped
      {CpuSet(), 8, WAVE_TASK_CPUS_WORD, 0},
  };
  for (const Case& c : cases) {
    const Wire w = Encode(c.set, c.num_cpus);
    EXPECT_EQ(w.event.task.flags & WAVE_TASK_CPUS_MASK, c.mode) << c.set.ToString();
    EXPECT_EQ(w.chunks.size(), c.chunks) << c.set.ToString();
    EXPECT_EQ(Decode(w, c.num_cpus), c.set) << c.set.ToString();
  }
  // The worst case: every other cpu of 8192, in kMaxCpuChunks chunks.
  CpuSet alternate;
  for (int c = 0; c < static_cast<int>(WAVE_MAX_CPUS); c += 2) alternate.Set(c);
  const Wire w = Encode(alternate, WAVE_MAX_CPUS);
  EXPECT_EQ(w.chunks.size(), kMaxCpuChunks);
  EXPECT_EQ(Decode(w, WAVE_MAX_CPUS), alternate);
}

TEST(CpuSetWire, MalformedEncodingsAreRefused) {
  CpuSet out;
  {
    CpuSetDecoder d;  // CHUNKS with no chunk before it
    Wire w = Encode(CpuSet::Of({0, 64}), 128);
    EXPECT_FALSE(d.Decode(w.event.task, 128, &out));
  }
  {
    CpuSetDecoder d;  // chunks for another task
    Wire w = Encode(CpuSet::Of({0, 64}), 128);
    Wire other = Encode(CpuSet::Of({0, 64}), 128, /*task=*/7);
    EXPECT_TRUE(d.AddChunk(other.chunks[0].task_cpus));
    EXPECT_FALSE(d.Decode(w.event.task, 128, &out));
    // ...and the stray chunk is gone with it: the next plain event decodes.
    Wire plain = Encode(CpuSet::All(128), 128);
    EXPECT_TRUE(d.Decode(plain.event.task, 128, &out));
  }
  {
    CpuSetDecoder d;  // a chunk no event claims makes the next event malformed
    Wire w = Encode(CpuSet::Of({0, 64}), 128);
    EXPECT_TRUE(d.AddChunk(w.chunks[0].task_cpus));
    Wire plain = Encode(CpuSet::All(128), 128);
    EXPECT_FALSE(d.Decode(plain.event.task, 128, &out));
  }
  {
    CpuSetDecoder d;  // a chunk count that does not match
    Wire w = Encode(CpuSet::Of({0, 2, 4095}), 4096);
    EXPECT_TRUE(d.AddChunk(w.chunks[0].task_cpus));
    EXPECT_FALSE(d.Decode(w.event.task, 4096, &out));
  }
  {
    CpuSetDecoder d;  // chunks out of order, too many words, a word beyond the ABI
    Wire w = Encode(CpuSet::Of({0, 2, 4095}), 4096);
    EXPECT_TRUE(d.AddChunk(w.chunks[1].task_cpus));
    EXPECT_FALSE(d.AddChunk(w.chunks[0].task_cpus));
    wave_k2a_task_cpus bad = w.chunks[0].task_cpus;
    bad.words = WAVE_CPUS_CHUNK_WORDS + 1;
    EXPECT_FALSE(CpuSetDecoder().AddChunk(bad));
    bad = w.chunks[0].task_cpus;
    bad.first_word = WAVE_CPUS_MAX_WORDS;
    EXPECT_FALSE(CpuSetDecoder().AddChunk(bad));
  }
  Wire range = Encode(CpuSet::Range(1, 255), 256);
  range.event.task.cpus = 300 | (uint64_t{200} << 32);  // backwards
  EXPECT_FALSE(CpuSetDecoder().Decode(range.event.task, 256, &out));
  range.event.task.cpus = 0 | (uint64_t{WAVE_MAX_CPUS} << 32);  // beyond the ABI
  EXPECT_FALSE(CpuSetDecoder().Decode(range.event.task, 256, &out));
  Wire word = Encode(CpuSet::Of({3}), 8);
  word.event.task.cpus_word = WAVE_CPUS_MAX_WORDS;
  EXPECT_FALSE(CpuSetDecoder().Decode(word.event.task, 8, &out));
  Wire all = Encode(CpuSet::All(8), 8);
  all.event.task.cpus = 1;  // ALL carries nothing
  EXPECT_FALSE(CpuSetDecoder().Decode(all.event.task, 8, &out));
}

}  // namespace
}  // namespace wave
