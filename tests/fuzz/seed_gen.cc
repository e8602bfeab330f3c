// Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/{commit,ring}/): a few inputs
// per target that reach its interesting states at once, so a short run starts deep. The files
// are checked in; regenerate them after a change to fuzz_input.h with
//   bazel run //tests/fuzz:seed_gen -- "$PWD/tests/fuzz/corpus"
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "abi/wave_abi.h"
#include "tests/fuzz/fuzz_input.h"
#include "transport/link.h"
#include "transport/ring.h"

namespace wave::fuzz {
namespace {

// Writes DIR/SUBDIR/NAME.
bool WriteFile(const std::string& dir, const char* subdir, const std::string& name,
               const std::vector<uint8_t>& bytes) {
  std::string path = dir;
  path.append("/").append(subdir).append("/").append(name);
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) {
    std::perror(path.c_str());
    return false;
  }
  const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  return std::fclose(f) == 0 && ok;
}

// ---- commit_fuzzer seeds ----

struct SeedTask {
  uint64_t id;
  uint64_t seq;
  uint64_t cpu_mask = ~0ull;
  uint8_t state = kTaskRunnable;
};

FuzzWriter CommitHost(uint8_t num_cpus, const std::vector<SeedTask>& tasks,
                      uint64_t managed = ~0ull, uint64_t busy = 0) {
  FuzzWriter w;
  w.Byte(num_cpus);
  w.Byte(static_cast<uint8_t>(tasks.size()));
  w.Put(managed);
  w.Put(busy);
  for (const SeedTask& t : tasks) {
    w.Put(t.id);
    w.Put(t.seq);
    w.Put(t.cpu_mask);
    w.Byte(t.state);
  }
  return w;
}

wave_a2k_commit Commit(uint64_t task, uint64_t seq, int32_t cpu, uint32_t group = 0,
                       uint32_t group_size = 0) {
  wave_msg m;
  wave_msg_init(&m, WAVE_CMD_COMMIT);
  m.commit.task_id = task;
  m.commit.seq = seq;
  m.commit.cpu = cpu;
  m.commit.txn_id = task * 1000 + seq;
  m.commit.group = group;
  m.commit.group_size = group_size;
  return m.commit;
}

uint8_t Ctl(bool end_of_batch, CommitFuzzEvent ev = kEvNone, uint8_t target = 0) {
  return static_cast<uint8_t>((end_of_batch ? kCtlEndOfBatch : 0) | (ev << kCtlEventShift) |
                              (target << kCtlTargetShift));
}

void Record(FuzzWriter& w, uint8_t ctl, const wave_a2k_commit& c) {
  w.Byte(ctl);
  w.Put(c);
}

void Replay(FuzzWriter& w, uint8_t ctl, uint8_t k) {
  w.Byte(static_cast<uint8_t>(ctl | kCtlReplay));
  w.Byte(k);
}

std::vector<std::pair<std::string, FuzzWriter>> CommitSeeds() {
  std::vector<std::pair<std::string, FuzzWriter>> seeds;
  const std::vector<SeedTask> three = {{1, 10}, {2, 20}, {3, 30}};

  {  // One good commit.
    FuzzWriter w = CommitHost(8, {{42, 7}});
    Record(w, Ctl(true), Commit(42, 7, 3));
    seeds.emplace_back("plain_ok", w);
  }
  {  // A group of three, all good: enacted together.
    FuzzWriter w = CommitHost(8, three);
    Record(w, Ctl(false), Commit(1, 10, 0, 9, 3));
    Record(w, Ctl(false), Commit(2, 20, 1, 9, 3));
    Record(w, Ctl(true), Commit(3, 30, 2, 9, 3));
    seeds.emplace_back("group_of_3_ok", w);
  }
  {  // A group of three with a stale member: that one STALE, the others GROUP_ABORTED.
    FuzzWriter w = CommitHost(8, three);
    Record(w, Ctl(false), Commit(1, 10, 0, 9, 3));
    Record(w, Ctl(false), Commit(2, 19, 1, 9, 3));
    Record(w, Ctl(true), Commit(3, 30, 2, 9, 3));
    seeds.emplace_back("group_one_stale", w);
  }
  {  // A group broken by a plain commit, then one left open at the end of a batch.
    FuzzWriter w = CommitHost(8, three);
    Record(w, Ctl(false), Commit(1, 10, 0, 9, 3));
    Record(w, Ctl(false), Commit(2, 20, 1, 9, 3));
    Record(w, Ctl(false), Commit(3, 30, 2));
    Record(w, Ctl(true), Commit(1, 10, 4, 5, 2));
    seeds.emplace_back("group_broken", w);
  }
  {  // Members that name one cpu twice, then one task twice: MALFORMED throughout.
    FuzzWriter w = CommitHost(8, three);
    Record(w, Ctl(false), Commit(1, 10, 0, 7, 2));
    Record(w, Ctl(false), Commit(2, 20, 0, 7, 2));
    Record(w, Ctl(false), Commit(1, 10, 0, 8, 2));
    Record(w, Ctl(true), Commit(1, 10, 1, 8, 2));
    seeds.emplace_back("group_twice", w);
  }
  {  // A group of WAVE_MAX_GROUP members (tasks the host does not know).
    FuzzWriter w = CommitHost(64, three);
    for (uint32_t i = 0; i < WAVE_MAX_GROUP; ++i) {
      Record(w, Ctl(i + 1 == WAVE_MAX_GROUP),
             Commit(100 + i, 1, static_cast<int32_t>(i), 77, WAVE_MAX_GROUP));
    }
    seeds.emplace_back("group_max", w);
  }
  {  // Replays: an enacted commit sent again, before and after the task moved on.
    FuzzWriter w = CommitHost(8, {{42, 7}, {43, 1}});
    Record(w, Ctl(true), Commit(42, 7, 3));
    Replay(w, Ctl(true), 0);
    Replay(w, Ctl(true, kEvWake, 0), 0);
    Record(w, Ctl(true), Commit(42, 9, 3, 0, 0));
    Replay(w, Ctl(true, kEvBlock, 0), 1);
    seeds.emplace_back("replay", w);
  }
  {  // A busy cpu: refused without PREEMPT, taken with it; cpu and task events in between.
    FuzzWriter w = CommitHost(4, {{5, 1}, {6, 1}}, ~0ull, 1u << 2);
    Record(w, Ctl(true), Commit(5, 1, 2));
    wave_a2k_commit c = Commit(5, 1, 2);
    c.flags = WAVE_COMMIT_F_PREEMPT;
    Record(w, Ctl(true), c);
    Record(w, Ctl(true, kEvCpuToggle, 1), Commit(6, 1, 1));
    Record(w, Ctl(true, kEvBlock, 1), Commit(6, 2, 3));
    seeds.emplace_back("busy_preempt", w);
  }
  {  // Every way a commit can be malformed.
    FuzzWriter w = CommitHost(8, {{42, 7}});
    wave_a2k_commit c = Commit(42, 7, 3);
    c.hdr.len = WAVE_MSG_SIZE - 1;
    Record(w, Ctl(false), c);
    c = Commit(42, 7, 3);
    c.hdr.type = WAVE_EV_COMMIT_RESULT;
    Record(w, Ctl(false), c);
    c = Commit(42, 7, 3);
    c.flags = 1u << 7;
    Record(w, Ctl(false), c);
    c = Commit(42, 7, 3);
    c.reserved = 1;
    Record(w, Ctl(false), c);
    Record(w, Ctl(false), Commit(42, 7, 3, 1, 0));
    Record(w, Ctl(false), Commit(42, 7, 3, 0, 1));
    Record(w, Ctl(true), Commit(42, 7, 3, 1, WAVE_MAX_GROUP + 1));
    seeds.emplace_back("malformed", w);
  }
  {  // Huge and negative indices, on a host with more cpus than a mask holds.
    FuzzWriter w = CommitHost(200, {{42, 7}, {UINT64_MAX, UINT64_MAX, 1ull << 63}});
    Record(w, Ctl(false), Commit(42, 7, 100));
    Record(w, Ctl(false), Commit(42, 7, 64));
    Record(w, Ctl(false), Commit(42, 7, -1));
    Record(w, Ctl(false), Commit(42, 7, INT32_MAX));
    Record(w, Ctl(false), Commit(42, 7, INT32_MIN));
    Record(w, Ctl(true), Commit(UINT64_MAX, UINT64_MAX, 63));
    seeds.emplace_back("huge_indices", w);
  }
  return seeds;
}

// ---- ring_fuzzer seeds ----

FuzzWriter RingSetup(uint8_t capacity_selector, bool link_model, uint16_t latency = 0,
                     uint32_t first = 0, uint8_t credit_batch = 0) {
  FuzzWriter w;
  w.Byte(0);  // ring mode
  w.Byte(capacity_selector);
  w.Byte(credit_batch);
  w.Byte(link_model ? kRingLinkModel : 0);
  w.Put(latency);
  w.Put(first);
  return w;
}
void Produce(FuzzWriter& w, uint8_t n, uint8_t submit, bool bulk = false) {
  w.Byte(kOpProduce);
  w.Byte(n);
  w.Byte(submit);
  w.Byte(bulk ? kProduceBulk : 0);
  w.Byte(0xa5);
}
void Consume(FuzzWriter& w, uint8_t max, uint8_t advance) {
  w.Byte(kOpConsume);
  w.Byte(max);
  w.Byte(advance);
}
void PokeRing(FuzzWriter& w, uint16_t offset, const std::vector<uint8_t>& bytes) {
  w.Byte(kOpPoke);
  w.Put(offset);
  w.Byte(static_cast<uint8_t>(bytes.size() - 1));
  w.Bytes(bytes.data(), bytes.size());
}
template <typename T>
std::vector<uint8_t> BytesOf(T v) {
  std::vector<uint8_t> b(sizeof(v));
  std::memcpy(b.data(), &v, sizeof(v));
  return b;
}

FuzzWriter LinkSetup(uint8_t events, uint8_t commits, uint16_t shrink = 0, uint8_t channels = 0) {
  FuzzWriter w;
  w.Byte(kModeLink);
  w.Byte(events);
  w.Byte(commits);
  w.Byte(channels);
  w.Put(shrink);
  return w;
}
void Patch(FuzzWriter& w, bool anywhere, uint16_t offset, const std::vector<uint8_t>& bytes) {
  w.Byte(anywhere ? kPatchAnywhere : 0);
  w.Put(offset);
  w.Byte(static_cast<uint8_t>(bytes.size() - 1));
  w.Bytes(bytes.data(), bytes.size());
}

std::vector<std::pair<std::string, FuzzWriter>> RingSeeds() {
  std::vector<std::pair<std::string, FuzzWriter>> seeds;
  constexpr uint8_t kCap8 = 2;  // CapacityFromSelector(2) == 8
  {
    FuzzWriter w = RingSetup(kCap8, false);
    Produce(w, 3, 3);
    Consume(w, 8, 3);
    Produce(w, 8, 8);
    Consume(w, 4, 4);
    w.Byte(kOpReturnCredits);
    Produce(w, 8, 8, true);
    Consume(w, 9, 9);
    seeds.emplace_back("ring_stream", w);
  }
  {  // Indices start just below 2^32 and cross it.
    FuzzWriter w = RingSetup(1, false, 0, 0xfffffffeu, 1);
    for (int i = 0; i < 3; ++i) {
      Produce(w, 4, 4);
      Consume(w, 4, 4);
    }
    seeds.emplace_back("ring_wrap", w);
  }
  {  // The link model: nothing is visible before its latency has passed.
    FuzzWriter w = RingSetup(kCap8, true, 500);
    Produce(w, 2, 2);
    Consume(w, 8, 8);
    w.Byte(kOpTick);
    w.Put(uint16_t{499});
    Consume(w, 8, 8);
    w.Byte(kOpTick);
    w.Put(uint16_t{1});
    Consume(w, 8, 8);
    seeds.emplace_back("ring_link_model", w);
  }
  {  // A corrupt stamp at the head: the consumer reports it and stays broken.
    FuzzWriter w = RingSetup(kCap8, false);
    Produce(w, 2, 2);
    w.Byte(kOpStamp);
    w.Byte(0);
    w.Put(uint32_t{12345});
    Consume(w, 8, 8);
    Consume(w, 8, 8);
    seeds.emplace_back("ring_bad_stamp", w);
  }
  {  // A credit beyond the tail: the producer stops with DataLoss when it needs credits.
    FuzzWriter w = RingSetup(kCap8, false);
    Produce(w, 8, 8);
    Consume(w, 8, 8);
    w.Byte(kOpCredit);
    w.Put(uint32_t{1000});
    Produce(w, 1, 1);
    Produce(w, 1, 1);
    seeds.emplace_back("ring_bad_credit", w);
  }
  {  // Header damage: reattaching fails; a smaller valid capacity is accepted.
    FuzzWriter w = RingSetup(kCap8, false);
    Produce(w, 3, 3);
    PokeRing(w, offsetof(RingHeader, magic), BytesOf(uint32_t{0x12345678}));
    w.Byte(kOpReattach);
    w.Byte(kReattachConsumer | kReattachProducer);
    PokeRing(w, offsetof(RingHeader, magic), BytesOf(kRingMagic));
    w.Byte(kOpReattach);  // asked about 8 bytes less than the ring needs: refused
    w.Byte(kReattachConsumer | kReattachProducer | (1u << kReattachShortShift));
    PokeRing(w, offsetof(RingHeader, capacity), BytesOf(uint32_t{4}));
    w.Byte(kOpReattach);
    w.Byte(kReattachConsumer | kReattachProducer);
    Consume(w, 8, 8);
    Produce(w, 4, 4);
    Consume(w, 8, 8);
    seeds.emplace_back("ring_bad_header", w);
  }
  {  // A slot forged with the right stamp, and garbage in visible_at.
    FuzzWriter w = RingSetup(kCap8, true, 100);
    PokeRing(w, 64, BytesOf(UINT64_MAX));
    Produce(w, 1, 1);
    w.Byte(kOpStamp);
    w.Byte(1);
    w.Put(uint32_t{2});
    w.Byte(kOpTick);
    w.Put(uint16_t{200});
    Consume(w, 8, 8);
    seeds.emplace_back("ring_forged", w);
  }
  {
    FuzzWriter w = LinkSetup(kCap8, kCap8);
    seeds.emplace_back("link_intact", w);
  }
  {
    FuzzWriter w = LinkSetup(kCap8, 0);
    Patch(w, false, offsetof(wave_link_hdr, magic), BytesOf(uint32_t{0x12345678}));
    seeds.emplace_back("link_bad_magic", w);
  }
  {
    FuzzWriter w = LinkSetup(kCap8, kCap8);
    Patch(w, false, offsetof(wave_link_hdr, agent_offset), BytesOf(uint64_t{kLinkPage}));
    seeds.emplace_back("link_halves_overlap", w);
  }
  {
    FuzzWriter w = LinkSetup(kCap8, kCap8, static_cast<uint16_t>(kShrink | 64));
    seeds.emplace_back("link_region_short", w);
  }
  {  // A ring header inside the host half that claims more slots than the half holds.
    FuzzWriter w = LinkSetup(kCap8, kCap8);
    Patch(w, true, kLinkPage + offsetof(RingHeader, capacity), BytesOf(uint32_t{64}));
    seeds.emplace_back("link_ring_too_big", w);
  }
  {  // Scheduling with lanes, and a memory channel: every ring of the table round-trips.
    FuzzWriter w = LinkSetup(kCap8, kCap8, 0, static_cast<uint8_t>(kLinkMemChannel | 3));
    seeds.emplace_back("link_channels", w);
  }
  {  // The second channel's commands ring moved onto the first's: rings overlap.
    FuzzWriter w = LinkSetup(kCap8, kCap8, 0, static_cast<uint8_t>(kLinkMemChannel | 1));
    const uint16_t second = sizeof(wave_link_hdr) + sizeof(wave_channel_desc);
    Patch(w, true, second + offsetof(wave_channel_desc, to_host_ring),
          BytesOf(uint64_t{kLinkPage}));
    seeds.emplace_back("link_rings_overlap", w);
  }
  {  // A channel of no subsystem.
    FuzzWriter w = LinkSetup(kCap8, kCap8);
    Patch(w, true, sizeof(wave_link_hdr) + offsetof(wave_channel_desc, subsystem),
          BytesOf(uint16_t{WAVE_SUBSYS_COUNT}));
    seeds.emplace_back("link_bad_subsystem", w);
  }
  return seeds;
}

int Main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: seed_gen CORPUS_DIR (with commit/ and ring/ inside)\n");
    return 2;
  }
  const std::string dir = argv[1];
  for (const auto& [name, w] : CommitSeeds()) {
    if (!WriteFile(dir, "commit", name, w.bytes())) return 1;
  }
  for (const auto& [name, w] : RingSeeds()) {
    if (!WriteFile(dir, "ring", name, w.bytes())) return 1;
  }
  return 0;
}

}  // namespace
}  // namespace wave::fuzz

int main(int argc, char** argv) { return wave::fuzz::Main(argc, argv); }
