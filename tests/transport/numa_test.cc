// NUMA placement of link memory, and a session's halves landing on their readers' nodes.
#include "transport/numa.h"

#include <gtest/gtest.h>
#include <numa.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "transport/region.h"
#include "transport/session.h"

namespace wave {
namespace {

constexpr uint64_t kSecond = 1'000'000'000;

bool SkipWithoutNuma() {
  if (NumaAvailable()) return false;
  std::printf("WAVE_SKIP: this kernel has no NUMA policy support (numa_available() < 0)\n");
  return true;
}

TEST(NumaTest, BindsARegionToThisCpusNode) {
  if (SkipWithoutNuma()) GTEST_SKIP();
  absl::StatusOr<SharedRegion> r = SharedRegion::CreateAnonymous(size_t{4} * 4096);
  ASSERT_TRUE(r.ok());
  const int node = NumaNodeOfThisCpu();
  ASSERT_GE(node, 0);
  ASSERT_TRUE(BindToNode(r->data(), r->size(), node).ok());
  absl::StatusOr<int> got = NodeOfPage(static_cast<uint8_t*>(r->data()) + 4096);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, node);
}

TEST(NumaTest, BadNodeOrMisalignedMemoryIsAClearError) {
  if (SkipWithoutNuma()) GTEST_SKIP();
  absl::StatusOr<SharedRegion> r = SharedRegion::CreateAnonymous(size_t{2} * 4096);
  ASSERT_TRUE(r.ok());
  absl::Status s = BindToNode(r->data(), r->size(), numa_max_node() + 1);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("does not exist"), absl::string_view::npos) << s;
  EXPECT_EQ(BindToNode(static_cast<uint8_t*>(r->data()) + 64, 4096, 0).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(BindToNode(r->data(), r->size(), -1).code(), absl::StatusCode::kInvalidArgument);
}

TEST(NumaTest, SessionHalvesAreOnTheirReadersNodes) {
  if (SkipWithoutNuma()) GTEST_SKIP();
  const std::string name = "test-numa-" + std::to_string(getpid());
  SessionParams params;
  params.link.sched().to_agent_capacity = 256;
  params.link.sched().to_host_capacity = 256;
  params.num_cpus = 2;
  absl::StatusOr<Session> host = Session::Create(name, params);
  ASSERT_TRUE(host.ok()) << host.status();
  absl::StatusOr<Session> agent = Session::Join(name, params, kSecond);
  ASSERT_TRUE(agent.ok()) << agent.status();
  ASSERT_TRUE(host->WaitForAgent(kSecond).ok());
  const std::string node = "on NUMA node " + std::to_string(NumaNodeOfThisCpu());
  EXPECT_EQ(host->placement(), "host half " + node + ", agent half " + node);
  EXPECT_EQ(agent->placement(), host->placement());
}

}  // namespace
}  // namespace wave
