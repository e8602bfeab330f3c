// libFuzzer target: the host's commit path (host/mech/validate.h) on commits it must not trust.
//
// The input (format in fuzz_input.h) sets up a host (tasks, cpus) and feeds a stream of raw
// 64-byte commits, with host events, batch ends and replays of enacted commits in between, the
// way a mechanism drives CommitAssembler, ValidateUnit and ValidateCommit. The harness enacts
// every unit ValidateUnit accepts on its model of the host, and checks:
//  - every status is a wave_commit_status; OK only where an independent reading of the checks
//    in validate.h finds nothing wrong, and otherwise one of the reasons that apply;
//  - units hold 1..WAVE_MAX_GROUP members; every commit fed lands in exactly one unit, in order,
//    once the batch ends; a complete group is one unit of group_size members, a broken group is
//    marked malformed, and everything else is a unit of one;
//  - all or nothing: a unit is enacted whole or not at all, the failing members keep their own
//    reason and the others are GROUP_ABORTED; a broken group, or one that names a task or cpu
//    twice, is MALFORMED throughout;
//  - a replayed commit is never enacted twice (enacting bumps the task's sequence);
//  - MakeCommitResult echoes the commit.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <set>
#include <utility>
#include <vector>

#include "abi/wave_abi.h"
#include "host/mech/validate.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/fuzz_input.h"

namespace wave::fuzz {
namespace {

struct ModelTask {
  uint64_t id = 0;
  // Allowed cpus: cpu i (of up to 255) iff bit i % 64 of mask_word, as a CpuSet for the view.
  uint64_t mask_word = 0;
  CpuSet cpus;
  HostTaskView view;
  int cpu = -1;  // where it runs, when view.on_cpu and it got there through this harness
};

struct ModelCpu {
  HostCpuView view;
  int running = -1;  // index of the model task that runs here, or -1
};

class Host {
 public:
  explicit Host(FuzzReader& in) {
    num_cpus_ = in.Byte();
    const int num_tasks = in.Byte() % (kMaxTasks + 1);
    const uint64_t managed = in.Take<uint64_t>();
    const uint64_t busy = in.Take<uint64_t>();
    cpus_.resize(static_cast<size_t>(num_cpus_));
    for (int i = 0; i < num_cpus_; ++i) {
      cpus_[i].view.managed = ((managed >> (i % 64)) & 1) != 0;
      cpus_[i].view.busy = ((busy >> (i % 64)) & 1) != 0;
    }
    tasks_.resize(static_cast<size_t>(num_tasks));
    for (ModelTask& t : tasks_) {
      t.id = in.Take<uint64_t>();
      t.view.seq = in.Take<uint64_t>();
      t.mask_word = in.Take<uint64_t>();
      for (size_t w = 0; w < 4; ++w) t.cpus.SetWord(w, t.mask_word);
      t.view.cpus = &t.cpus;  // tasks_ is not resized again: the pointer stays good
      const uint8_t state = in.Byte();
      t.view.runnable = (state & kTaskRunnable) != 0;
      t.view.on_cpu = (state & kTaskOnCpu) != 0;
    }
  }

  int num_cpus() const { return num_cpus_; }

  // The host's view of the task a commit names: the first task with that id, or null.
  ModelTask* FindTask(uint64_t id) {
    for (ModelTask& t : tasks_) {
      if (t.id == id) return &t;
    }
    return nullptr;
  }
  // Null unless 0 <= cpu < num_cpus: ValidateCommit must not look further.
  ModelCpu* FindCpu(int32_t cpu) {
    if (cpu < 0 || cpu >= num_cpus_) return nullptr;
    return &cpus_[static_cast<size_t>(cpu)];
  }

  void Event(CommitFuzzEvent ev, int target) {
    switch (ev) {
      case kEvNone:
        return;
      case kEvWake:
      case kEvBlock: {
        if (tasks_.empty()) return;
        ModelTask& t = tasks_[static_cast<size_t>(target) % tasks_.size()];
        TakeOffCpu(t);
        t.view.runnable = ev == kEvWake;
        ++t.view.seq;
        return;
      }
      case kEvCpuToggle:
        if (target < num_cpus_) cpus_[target].view.busy = !cpus_[target].view.busy;
        return;
    }
  }

  // Runs `c` (already validated OK): the task goes on the cpu, whatever ran there is preempted,
  // and the task's sequence moves on (its ON_CPU event).
  void Enact(const wave_a2k_commit& c) {
    ModelTask* t = FindTask(c.task_id);
    ModelCpu* cpu = FindCpu(c.cpu);
    FUZZ_CHECK(t != nullptr && cpu != nullptr);
    if (cpu->running >= 0) {
      ModelTask& prev = tasks_[static_cast<size_t>(cpu->running)];
      TakeOffCpu(prev);
      prev.view.runnable = true;
      ++prev.view.seq;
    }
    t->view.on_cpu = true;
    t->view.runnable = true;
    t->cpu = c.cpu;
    ++t->view.seq;
    cpu->view.busy = true;
    cpu->running = static_cast<int>(t - tasks_.data());
  }

 private:
  void TakeOffCpu(ModelTask& t) {
    if (t.cpu >= 0) {
      ModelCpu& cpu = cpus_[static_cast<size_t>(t.cpu)];
      if (cpu.running == static_cast<int>(&t - tasks_.data())) {
        cpu.running = -1;
        cpu.view.busy = false;
      }
    }
    t.cpu = -1;
    t.view.on_cpu = false;
  }

  int num_cpus_ = 0;
  std::vector<ModelTask> tasks_;
  std::vector<ModelCpu> cpus_;
};

// validate.h's rules read independently of validate.cc.
bool ReferenceWellFormed(const wave_a2k_commit& c) {
  if (c.hdr.type != WAVE_CMD_COMMIT || c.hdr.len != WAVE_MSG_SIZE) return false;
  if ((c.flags & ~static_cast<uint32_t>(WAVE_COMMIT_F_PREEMPT)) != 0 || c.reserved != 0) {
    return false;
  }
  if (c.group == 0) return c.group_size == 0;
  return c.group_size >= 1 && c.group_size <= WAVE_MAX_GROUP;
}

bool Grouped(const wave_a2k_commit& c) { return ReferenceWellFormed(c) && c.group != 0; }

// The reasons that apply to `c` as a bit set of (1 << status); 0 when it should be OK. Malformed
// and unknown-task come first and alone (nothing else can be checked without them); the others
// are all reported, since any of them is a correct answer.
uint32_t ReferenceReasons(const wave_a2k_commit& c, const ModelTask* model, int num_cpus,
                          const HostCpuView* cpu) {
  if (!ReferenceWellFormed(c)) return 1u << WAVE_COMMIT_MALFORMED;
  if (model == nullptr) return 1u << WAVE_COMMIT_UNKNOWN_TASK;
  const HostTaskView* task = &model->view;
  uint32_t r = 0;
  const bool cpu_ok = c.cpu >= 0 && c.cpu < num_cpus && ((model->mask_word >> (c.cpu % 64)) & 1) &&
                      cpu != nullptr && cpu->managed;
  if (!cpu_ok) r |= 1u << WAVE_COMMIT_CPU_NOT_ALLOWED;
  if (c.seq != task->seq) r |= 1u << WAVE_COMMIT_STALE;
  if (task->on_cpu) r |= 1u << WAVE_COMMIT_ON_CPU;
  if (!task->runnable) r |= 1u << WAVE_COMMIT_NOT_RUNNABLE;
  // Busy is only knowable for a cpu that may be looked at.
  if (cpu_ok && cpu->busy && (c.flags & WAVE_COMMIT_F_PREEMPT) == 0) {
    r |= 1u << WAVE_COMMIT_CPU_BUSY;
  }
  return r;
}

// WAVE_FUZZ_TRACE=1 prints every unit and its statuses (to read what a seed or a crash does).
bool Tracing() {
  static const bool trace = std::getenv("WAVE_FUZZ_TRACE") != nullptr;
  return trace;
}

bool SameBytes(const wave_a2k_commit& a, const wave_a2k_commit& b) {
  return std::memcmp(&a, &b, sizeof(a)) == 0;
}

void CheckResult(const wave_a2k_commit& c, wave_commit_status status, uint64_t host_seq,
                 uint32_t flags) {
  const wave_msg m = MakeCommitResult(c, status, host_seq, /*time_ns=*/123, flags);
  FUZZ_CHECK(m.hdr.stamp == 0 && m.hdr.type == WAVE_EV_COMMIT_RESULT && m.hdr.len == WAVE_MSG_SIZE);
  FUZZ_CHECK(m.result.txn_id == c.txn_id && m.result.task_id == c.task_id && m.result.cpu == c.cpu);
  FUZZ_CHECK(m.result.status == static_cast<uint32_t>(status) && m.result.seq == host_seq);
  FUZZ_CHECK(m.result.time_ns == 123 && m.result.flags == flags);
  FUZZ_CHECK(m.result.reserved0 == 0 && m.result.reserved1 == 0);
}

class Harness {
 public:
  explicit Harness(FuzzReader& in) : host_(in) {}

  void Feed(const wave_a2k_commit& c) {
    pending_.push_back(c);
    std::vector<CommitUnit> units;
    assembler_.Add(c, &units);
    FUZZ_CHECK(units.size() <= 2);
    for (const CommitUnit& u : units) Unit(u);
    CheckPending();
  }

  void EndOfBatch() {
    std::vector<CommitUnit> units;
    assembler_.EndOfBatch(&units);
    FUZZ_CHECK(units.size() <= 1);
    for (const CommitUnit& u : units) {
      FUZZ_CHECK(u.malformed);  // only an incomplete group is left at a batch end
      Unit(u);
    }
    FUZZ_CHECK(!assembler_.in_group());
    FUZZ_CHECK(pending_.empty());  // every commit fed is in a unit by now
  }

  const std::vector<wave_a2k_commit>& enacted() const { return enacted_; }
  Host& host() { return host_; }

 private:
  // Commits fed but not yet in a unit: exactly the assembler's open group.
  void CheckPending() const {
    FUZZ_CHECK(assembler_.in_group() == !pending_.empty());
    FUZZ_CHECK(pending_.size() < WAVE_MAX_GROUP);
    if (pending_.empty()) return;
    const wave_a2k_commit& first = pending_.front();
    FUZZ_CHECK(Grouped(first) && pending_.size() < first.group_size);
  }

  void Unit(const CommitUnit& u) {
    const size_t n = u.members.size();
    FUZZ_CHECK(n >= 1 && n <= WAVE_MAX_GROUP);
    // The unit is the oldest commits fed, in order, byte for byte.
    FUZZ_CHECK(n <= pending_.size());
    for (size_t i = 0; i < n; ++i) {
      FUZZ_CHECK(SameBytes(u.members[i], pending_.front()));
      pending_.pop_front();
    }
    // Its shape.
    const wave_a2k_commit& first = u.members.front();
    if (n > 1 || u.malformed || (Grouped(first) && first.group_size > 1)) {
      for (const wave_a2k_commit& m : u.members) {
        FUZZ_CHECK(Grouped(m) && m.group == first.group && m.group_size == first.group_size);
      }
      FUZZ_CHECK(u.malformed ? n < first.group_size : n == first.group_size);
    }

    // n <= WAVE_MAX_GROUP (checked above): fixed arrays, no allocation per unit.
    std::array<const HostTaskView*, WAVE_MAX_GROUP> tasks{};
    std::array<const ModelTask*, WAVE_MAX_GROUP> models{};
    std::array<const HostCpuView*, WAVE_MAX_GROUP> cpus{};
    std::array<wave_commit_status, WAVE_MAX_GROUP> own{};
    bool all_ok = true;
    bool twice = false;
    for (size_t i = 0; i < n; ++i) {
      const wave_a2k_commit& c = u.members[i];
      const ModelTask* t = host_.FindTask(c.task_id);
      const ModelCpu* cpu = host_.FindCpu(c.cpu);
      tasks[i] = t != nullptr ? &t->view : nullptr;
      models[i] = t;
      cpus[i] = cpu != nullptr ? &cpu->view : nullptr;
      own[i] = ValidateCommit(c, tasks[i], host_.num_cpus(), cpus[i]);
      FUZZ_CHECK(static_cast<uint32_t>(own[i]) < WAVE_COMMIT_STATUS_COUNT);
      FUZZ_CHECK(own[i] != WAVE_COMMIT_GROUP_ABORTED);  // a commit alone is never aborted
      FUZZ_CHECK(CommitWellFormed(c) == ReferenceWellFormed(c));
      const uint32_t reasons = ReferenceReasons(c, models[i], host_.num_cpus(), cpus[i]);
      if (reasons == 0) {
        FUZZ_CHECK(own[i] == WAVE_COMMIT_OK);
      } else {
        FUZZ_CHECK(((reasons >> own[i]) & 1) != 0);
      }
      all_ok = all_ok && own[i] == WAVE_COMMIT_OK;
      for (size_t j = 0; j < i; ++j) {
        twice = twice || u.members[j].task_id == c.task_id || u.members[j].cpu == c.cpu;
      }
    }

    std::array<wave_commit_status, WAVE_MAX_GROUP> got{};
    got.fill(WAVE_COMMIT_STATUS_COUNT);
    const bool enact = ValidateUnit(u, tasks.data(), host_.num_cpus(), cpus.data(), got.data());
    for (size_t i = 0; i < n; ++i) {
      FUZZ_CHECK(static_cast<uint32_t>(got[i]) < WAVE_COMMIT_STATUS_COUNT);
      FUZZ_CHECK((got[i] == WAVE_COMMIT_OK) == enact);  // all or nothing
      if (u.malformed || twice) {
        FUZZ_CHECK(got[i] == WAVE_COMMIT_MALFORMED);
      } else if (own[i] != WAVE_COMMIT_OK) {
        FUZZ_CHECK(got[i] == own[i]);  // a failing member keeps its own reason
      } else {
        FUZZ_CHECK(got[i] == (all_ok ? WAVE_COMMIT_OK : WAVE_COMMIT_GROUP_ABORTED));
      }
      const ModelTask* t = host_.FindTask(u.members[i].task_id);
      CheckResult(u.members[i], got[i], t != nullptr ? t->view.seq : 0,
                  static_cast<uint32_t>(i & WAVE_RESULT_F_STAGED));
    }
    FUZZ_CHECK(enact == (all_ok && !u.malformed && !twice));
    if (Tracing()) {
      std::fprintf(stderr, "unit of %zu%s:", n, u.malformed ? " (broken group)" : "");
      for (size_t i = 0; i < n; ++i) {
        std::fprintf(stderr, " [task %llu seq %llu cpu %d group %u/%u: %d]",
                     static_cast<unsigned long long>(u.members[i].task_id),
                     static_cast<unsigned long long>(u.members[i].seq), u.members[i].cpu,
                     u.members[i].group, u.members[i].group_size, static_cast<int>(got[i]));
      }
      std::fprintf(stderr, "%s\n", enact ? " -> enacted" : "");
    }
    if (!enact) return;

    for (const wave_a2k_commit& c : u.members) {
      // A commit names (task, seq); the host moves the sequence on when it enacts one, so no
      // (task, seq) is ever enacted twice, however often the agent replays it.
      FUZZ_CHECK(enacted_ids_.insert({c.task_id, c.seq}).second);
      host_.Enact(c);
      enacted_.push_back(c);
    }
  }

  Host host_;
  CommitAssembler assembler_;
  std::deque<wave_a2k_commit> pending_;
  std::vector<wave_a2k_commit> enacted_;
  std::set<std::pair<uint64_t, uint64_t>> enacted_ids_;
};

void RunOne(const uint8_t* data, size_t size) {
  FuzzReader in(data, size);
  Harness h(in);
  while (!in.empty()) {
    const uint8_t ctl = in.Byte();
    h.host().Event(static_cast<CommitFuzzEvent>((ctl >> kCtlEventShift) & 3),
                   ctl >> kCtlTargetShift);
    wave_a2k_commit c;
    if ((ctl & kCtlReplay) != 0) {
      const uint8_t k = in.Byte();
      if (h.enacted().empty()) {
        std::memset(&c, 0, sizeof(c));
      } else {
        c = h.enacted()[k % h.enacted().size()];
      }
    } else {
      in.Bytes(&c, sizeof(c));
    }
    h.Feed(c);
    if ((ctl & kCtlEndOfBatch) != 0) h.EndOfBatch();
  }
  h.EndOfBatch();
}

}  // namespace
}  // namespace wave::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  wave::fuzz::RunOne(data, size);
  return 0;
}
