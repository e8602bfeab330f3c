// A hostile agent process (here a thread joined through a real session): garbage in the commit
// ring, unknown tasks, cpus out of range, replayed commits, broken groups, and finally a corrupt
// stamp. The host must answer what it can, fall back when the ring breaks, and lose nothing.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <thread>

#include "abi/wave_abi.h"
#include "host/sim/sim.h"
#include "transport/link.h"
#include "transport/session.h"

namespace wave {
namespace {

uint64_t Next(uint64_t& x) {
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return x;
}

void HostileAgent(const std::string& name, const SimConfig& host) {
  SessionParams expect;
  expect.link = LinkConfig::Sched(host.ring_capacity, host.ring_capacity);
  expect.link_latency_ns = kTakeHosts;
  absl::StatusOr<Session> s = Session::Join(name, expect, 5'000'000'000);
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_TRUE(s->WaitForAccept(5'000'000'000).ok());
  const LinkModel link = s->link_model();
  absl::StatusOr<AgentEnd> end = s->AttachAgent(link, link);
  ASSERT_TRUE(end.ok()) << end.status();
  uint64_t x = 0x9e3779b97f4a7c15ull;
  const uint64_t start = MonotonicNs();
  wave_msg last{};
  for (int round = 0; MonotonicNs() - start < 150'000'000; ++round) {
    s->Beat();
    // Drain events so the host's ring does not overflow (that path has its own test).
    absl::StatusOr<uint32_t> n = end->events.Peek(end->events.capacity());
    if (n.ok() && *n > 0) {
      end->events.Advance(*n);
      end->events.ReturnCredits();
    }
    wave_msg m;
    switch (round % 6) {
      case 0:  // random bytes
        for (auto& b : m.raw) b = static_cast<uint8_t>(Next(x));
        break;
      case 1:  // a well-formed commit for a task that does not exist
        wave_msg_init(&m, WAVE_CMD_COMMIT);
        m.commit.task_id = 1ull << 60;
        m.commit.cpu = 0;
        break;
      case 2:  // a cpu far out of range
        wave_msg_init(&m, WAVE_CMD_COMMIT);
        m.commit.task_id = 1;
        m.commit.cpu = 1 << 30;
        break;
      case 3:  // a replay of the previous message
        m = last;
        break;
      case 4:  // half a group, then a plain commit breaking it
        wave_msg_init(&m, WAVE_CMD_COMMIT);
        m.commit.task_id = 2;
        m.commit.cpu = 1;
        m.commit.group = 9;
        m.commit.group_size = 3;
        break;
      default:  // wrong length
        wave_msg_init(&m, WAVE_CMD_COMMIT);
        m.commit.hdr.len = 17;
        break;
    }
    last = m;
    end->commands.Push(m);
    usleep(200);
  }
  // Now break the ring itself: a stamp that belongs to no lap, in the host's next slot.
  absl::StatusOr<LinkLayout> l = ReadLinkLayout(s->link_data(), s->link_size());
  ASSERT_TRUE(l.ok());
  auto* ring = static_cast<uint8_t*>(s->link_data()) + l->host_offset;
  const uint32_t cap = host.ring_capacity;
  const size_t vis = (size_t{cap} * 8 + 63) / 64 * 64;
  auto* slots = reinterpret_cast<wave_msg*>(ring + 64 + vis);
  const uint32_t tail = end->commands.tail();
  __atomic_store_n(&slots[tail & (cap - 1)].hdr.stamp, tail + 12345, __ATOMIC_RELEASE);
  // Stay silent from here on: the host must not wait for us.
}

TEST(SimHostile, GarbageFromTheAgentNeverHurtsTheHost) {
  const std::string name = "test-hostile-" + std::to_string(getpid());
  SimConfig c;
  c.session = name;
  c.duration_ns = 300'000'000;
  c.workload.load_rps = 20'000;
  c.heartbeat_timeout_ns = 100'000'000;
  std::thread agent([&] { HostileAgent(name, c); });
  absl::StatusOr<SimResult> r = RunSimExternal(c);
  agent.join();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_GT(r->arrived, 0u);
  EXPECT_EQ(r->completed, r->arrived);  // the host ran everything itself once it fell back
  EXPECT_EQ(r->lost_tasks, 0u);
  EXPECT_EQ(r->invariant_violations, 0u);
  EXPECT_EQ(r->commits_ok, 0u);  // nothing the hostile agent sent was enacted
  EXPECT_GT(r->agent.results[WAVE_COMMIT_MALFORMED], 0u);
  EXPECT_GT(r->agent.results[WAVE_COMMIT_UNKNOWN_TASK], 0u);
  EXPECT_GE(r->fallbacks, 1u);
  EXPECT_GE(r->agent_errors, 1u);  // the corrupt stamp
  EXPECT_NE(r->last_agent_error.find("corrupt"), std::string::npos) << r->last_agent_error;
}

}  // namespace
}  // namespace wave
