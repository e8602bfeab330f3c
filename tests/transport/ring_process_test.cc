// The ring between two processes: a memfd region, fork(), the child maps the fd again (at
// another address) and runs one end, the parent runs the other.
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <new>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "tests/transport/ring_test_util.h"
#include "transport/region.h"
#include "transport/ring.h"

namespace wave {
namespace {

using ::wave::testing::ConsumeStream;
using ::wave::testing::CreditAfter;
using ::wave::testing::ProduceStream;
using ::wave::testing::StreamOptions;
using ::wave::testing::StreamResult;
using ::wave::testing::TestRingBytes;

constexpr uint32_t kCapacity = 512;
constexpr uint64_t kMessages = 4'000'000;
constexpr double kStallSeconds = 10;

// One cache line after the ring: how the two processes tell each other how it went.
struct alignas(kCacheLine) Control {
  std::atomic<uint32_t> abort{0};
  std::atomic<uint32_t> done{0};
  std::atomic<uint64_t> count{0};
  std::atomic<uint64_t> checksum{0};
};
static_assert(std::atomic<uint32_t>::is_always_lock_free);
static_assert(std::atomic<uint64_t>::is_always_lock_free);
static_assert(sizeof(Control) == kCacheLine);

// [ring][its credit line][Control]
size_t RegionBytes() { return TestRingBytes(kCapacity) + sizeof(Control); }
Control* ControlOf(void* region) {
  return reinterpret_cast<Control*>(static_cast<uint8_t*>(region) + TestRingBytes(kCapacity));
}

// Child exit codes.
constexpr int kChildOk = 0;
constexpr int kChildMapFailed = 10;
constexpr int kChildAttachFailed = 11;
constexpr int kChildStreamFailed = 12;

enum class ChildRole { kProducer, kConsumer };

// Runs in the forked child; never returns. Maps the region again from a dup of the fd, so the
// ring is used at a different address than the parent's.
[[noreturn]] void RunChild(int fd, ChildRole role, uint64_t seed) {
  absl::StatusOr<SharedRegion> region = SharedRegion::MapFd(dup(fd));
  if (!region.ok()) {
    std::fprintf(stderr, "child: %s\n", region.status().ToString().c_str());
    _exit(kChildMapFailed);
  }
  Control* control = ControlOf(region->data());
  StreamOptions options;
  options.count = kMessages;
  options.seed = seed;
  options.stall_seconds = kStallSeconds;
  options.abort = &control->abort;
  options.peer_alive = [parent = getppid()] { return getppid() == parent; };
  StreamResult result;
  if (role == ChildRole::kProducer) {
    absl::StatusOr<RingProducer> producer = RingProducer::Attach(
        region->data(), RingBytes(kCapacity), CreditAfter(region->data(), kCapacity));
    if (!producer.ok()) {
      std::fprintf(stderr, "child: %s\n", producer.status().ToString().c_str());
      control->abort.store(1);
      _exit(kChildAttachFailed);
    }
    result = ProduceStream(*producer, options);
  } else {
    absl::StatusOr<RingConsumer> consumer = RingConsumer::Attach(
        region->data(), RingBytes(kCapacity), CreditAfter(region->data(), kCapacity));
    if (!consumer.ok()) {
      std::fprintf(stderr, "child: %s\n", consumer.status().ToString().c_str());
      control->abort.store(1);
      _exit(kChildAttachFailed);
    }
    result = ConsumeStream(*consumer, options);
  }
  control->count.store(result.count);
  control->checksum.store(result.checksum);
  control->done.store(1, std::memory_order_release);
  if (!result.ok) {
    std::fprintf(stderr, "child: %s\n", result.error.c_str());
    _exit(kChildStreamFailed);
  }
  _exit(kChildOk);
}

// Waits for `pid` for at most `seconds`, then kills it. Returns the wait status.
int WaitChild(pid_t pid, double seconds) {
  int status = 0;
  for (int waited_ms = 0; waited_ms < seconds * 1000; waited_ms += 10) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0) return -1;
    usleep(10'000);
  }
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  return status;
}

// True while the child has not exited (without reaping it).
bool ChildRunning(pid_t pid) {
  siginfo_t info{};
  if (waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
    return false;
  }
  return info.si_pid == 0;
}

class RingProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<SharedRegion> r = SharedRegion::CreateMemfd("ring_process_test", RegionBytes());
    ASSERT_TRUE(r.ok()) << r.status();
    region_ = *std::move(r);
    ASSERT_GE(region_.size(), RegionBytes());
    ASSERT_GE(region_.fd(), 0);
    ASSERT_TRUE(RingFormat(region_.data(), RingBytes(kCapacity), kCapacity,
                           CreditAfter(region_.data(), kCapacity))
                    .ok());
    control_ = new (ControlOf(region_.data())) Control;
  }

  void ExpectChildSucceeded(pid_t pid) {
    const int status = WaitChild(pid, kStallSeconds + 5);
    ASSERT_TRUE(WIFEXITED(status)) << "child did not exit normally; wait status " << status;
    EXPECT_EQ(WEXITSTATUS(status), kChildOk) << "child failed; see its stderr above";
  }

  SharedRegion region_;
  Control* control_ = nullptr;
};

TEST_F(RingProcessTest, ChildProducesParentConsumes) {
  absl::StatusOr<RingConsumer> consumer = RingConsumer::Attach(
      region_.data(), RingBytes(kCapacity), CreditAfter(region_.data(), kCapacity));
  ASSERT_TRUE(consumer.ok()) << consumer.status();

  std::fflush(nullptr);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0) << "fork failed";
  if (pid == 0) RunChild(region_.fd(), ChildRole::kProducer, 0xc0ffee01);

  StreamOptions options;
  options.count = kMessages;
  options.seed = 0xc0ffee02;
  options.stall_seconds = kStallSeconds;
  options.abort = &control_->abort;
  options.peer_alive = [pid] { return ChildRunning(pid); };
  const StreamResult consumed = ConsumeStream(*consumer, options);
  if (!consumed.ok) control_->abort.store(1);

  ExpectChildSucceeded(pid);
  ASSERT_TRUE(consumed.ok) << consumed.error;
  ASSERT_EQ(control_->done.load(std::memory_order_acquire), 1u);
  EXPECT_EQ(consumed.count, kMessages);
  EXPECT_EQ(control_->count.load(), kMessages);
  EXPECT_EQ(consumed.checksum, control_->checksum.load());
  EXPECT_EQ(consumer->head(), static_cast<uint32_t>(kMessages));
  absl::StatusOr<uint32_t> rest = consumer->Peek(kCapacity);
  ASSERT_TRUE(rest.ok()) << rest.status();
  EXPECT_EQ(*rest, 0u);
}

TEST_F(RingProcessTest, ParentProducesChildConsumes) {
  absl::StatusOr<RingProducer> producer = RingProducer::Attach(
      region_.data(), RingBytes(kCapacity), CreditAfter(region_.data(), kCapacity));
  ASSERT_TRUE(producer.ok()) << producer.status();

  std::fflush(nullptr);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0) << "fork failed";
  if (pid == 0) RunChild(region_.fd(), ChildRole::kConsumer, 0xc0ffee03);

  StreamOptions options;
  options.count = kMessages;
  options.seed = 0xc0ffee04;
  options.stall_seconds = kStallSeconds;
  options.abort = &control_->abort;
  options.peer_alive = [pid] { return ChildRunning(pid); };
  const StreamResult produced = ProduceStream(*producer, options);
  if (!produced.ok) control_->abort.store(1);

  ExpectChildSucceeded(pid);
  ASSERT_TRUE(produced.ok) << produced.error;
  ASSERT_EQ(control_->done.load(std::memory_order_acquire), 1u);
  EXPECT_EQ(produced.count, kMessages);
  EXPECT_EQ(control_->count.load(), kMessages);
  EXPECT_EQ(control_->checksum.load(), produced.checksum);
  EXPECT_EQ(producer->tail(), static_cast<uint32_t>(kMessages));
}

}  // namespace
}  // namespace wave
