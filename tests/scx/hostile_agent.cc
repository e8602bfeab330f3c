// A hostile agent for the scx guest tests: joins a `wave scx` session like `wave agent` and, for
// a while, sends nothing but trouble: random bytes, commits for tasks that do not exist, cpus out
// of range or outside the task's mask, stale and future sequence numbers of real tasks, decisions
// of another epoch, groups, bad flags and reserved bits, replays of its own earlier commits, and
// staged decisions with the same faults. It keeps its heartbeat going, so the kernel side cannot
// simply fall back: it must reject, and run the threads by its waiting-time bound.
//
//   hostile_agent --session=NAME --seconds=S
// Prints: WAVE_RESULT hostile sent=N events=E
#include <time.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "abi/wave_abi.h"
#include "transport/clock.h"
#include "transport/link.h"
#include "transport/session.h"

namespace {

uint64_t Next(uint64_t& x) {
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return x;
}

struct Seen {
  uint64_t id;
  uint64_t seq;
};

}  // namespace

int main(int argc, char** argv) {
  std::string session;
  double seconds = 2;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--session=", 10) == 0) session = argv[i] + 10;
    if (std::strncmp(argv[i], "--seconds=", 10) == 0) seconds = std::atof(argv[i] + 10);
  }
  wave::SessionParams expect;
  expect.link_latency_ns = wave::kTakeHosts;
  absl::StatusOr<wave::Session> s = wave::Session::Join(session, expect, 10'000'000'000);
  if (!s.ok() || !s->WaitForAccept(10'000'000'000).ok()) {
    std::fprintf(stderr, "hostile_agent: cannot join %s\n", session.c_str());
    return 1;
  }
  absl::StatusOr<wave::AgentEnd> end = s->AttachAgent();
  if (!end.ok()) return 1;
  const int cpus = static_cast<int>(s->params().num_cpus);
  uint64_t epoch = 0;
  std::vector<Seen> seen;  // tasks and the sequences they had
  std::vector<wave_msg> sent_log;
  uint64_t x = 0x9e3779b97f4a7c15ull;
  uint64_t sent = 0;
  uint64_t events = 0;
  const uint64_t start = wave::MonotonicNs();
  for (uint64_t round = 0; wave::MonotonicNs() - start < static_cast<uint64_t>(seconds * 1e9);
       ++round) {
    s->Beat();
    absl::StatusOr<uint32_t> n = end->events.Peek(end->events.capacity());
    if (!n.ok()) return 1;
    for (uint32_t i = 0; i < *n; ++i) {
      wave_msg m;
      end->events.Read(i, &m);
      ++events;
      if (m.hdr.type == WAVE_EV_RESYNC_BEGIN) epoch = m.resync.epoch;
      if (m.hdr.type >= WAVE_EV_TASK_NEW && m.hdr.type <= WAVE_EV_TASK_ON_CPU &&
          seen.size() < 4096) {
        seen.push_back({m.task.task_id, m.task.seq});
      }
    }
    end->events.Advance(*n);
    end->events.ReturnCredits();

    wave_msg m;
    wave_msg_init(&m, WAVE_CMD_COMMIT);
    const Seen real = seen.empty() ? Seen{1, 1} : seen[Next(x) % seen.size()];
    m.commit.task_id = real.id;
    m.commit.seq = real.seq;
    m.commit.cpu = static_cast<int32_t>(Next(x) % static_cast<uint64_t>(cpus));
    m.commit.txn_id = wave_txn_first(static_cast<uint32_t>(epoch)) + round;
    switch (round % 10) {
      case 0:  // random bytes
        for (auto& b : m.raw) b = static_cast<uint8_t>(Next(x));
        break;
      case 1:  // a task that does not exist
        m.commit.task_id = (1ull << 40) + round;
        break;
      case 2:  // a cpu far out of range, or negative
        m.commit.cpu = (round & 1) ? 1000 : -5;
        break;
      case 3:  // a stale sequence (and the next one: from the future)
        m.commit.seq = real.seq + ((round & 1) ? 1 : 0) - 1;
        break;
      case 4:  // unknown flags, reserved bits, a bad length
        m.commit.flags = 0xf0;
        m.commit.reserved = round;
        if (round & 1) m.hdr.len = 12;
        break;
      case 5:  // another epoch
        m.commit.txn_id = ((epoch + 7) << 48) | round;
        break;
      case 6:  // a group: broken, or a lone member
        m.commit.group = 9;
        m.commit.group_size = (round & 1) ? 3 : 0;
        break;
      case 7:  // a replay of an earlier commit
        if (!sent_log.empty()) m = sent_log[Next(x) % sent_log.size()];
        break;
      case 8:  // preempt whatever runs, at a plausible sequence
        m.commit.flags = WAVE_COMMIT_F_PREEMPT;
        break;
      default:  // the wrong message type
        m.hdr.type = WAVE_EV_TASK_WAKEUP;
        break;
    }
    if (sent_log.size() < 256) sent_log.push_back(m);
    // Half to the commit ring, the rest (when there is prestaging) to a staging ring.
    if ((round & 1) || end->lanes.empty()) {
      if (end->commands.Push(m)) ++sent;
    } else if (end->lanes[Next(x) % end->lanes.size()].Push(m)) {
      ++sent;
    }
    if (round % 8 == 0) {
      const timespec nap{0, 200'000};
      nanosleep(&nap, nullptr);
    }
  }
  std::printf("WAVE_RESULT hostile sent=%lu events=%lu\n", static_cast<unsigned long>(sent),
              static_cast<unsigned long>(events));
  return 0;
}
