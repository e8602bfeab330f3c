// ResolveCgroup: what `wave run --cgroup=PATH` accepts, and the id and depth the BPF programs
// compare against. Needs a mounted cgroup v2 hierarchy for the positive cases (no root).
#include "host/trace/cgroup.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace wave {
namespace {

using ::testing::HasSubstr;

TEST(CgroupTest, AMissingDirectoryIsNotFound) {
  absl::StatusOr<CgroupRef> c = ResolveCgroup("/nonexistent/wave/cgroup");
  EXPECT_EQ(c.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(c.status().message(), HasSubstr("/nonexistent/wave/cgroup"));
}

TEST(CgroupTest, ADirectoryElsewhereIsRefusedWithTheReason) {
  absl::StatusOr<CgroupRef> c = ResolveCgroup("/tmp");
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(c.status().message(), HasSubstr("not a cgroup v2 directory"));
}

TEST(CgroupTest, TheRootAndAChildHaveTheirInodeAndDepth) {
  absl::StatusOr<std::string> root = CgroupV2Root();
  if (!root.ok()) {
    std::printf("WAVE_SKIP: %s\n", std::string(root.status().message()).c_str());
    GTEST_SKIP() << root.status().message();
  }
  absl::StatusOr<CgroupRef> r = ResolveCgroup(*root);
  ASSERT_TRUE(r.ok()) << r.status();
  struct stat st;
  ASSERT_EQ(stat(root->c_str(), &st), 0);
  EXPECT_EQ(r->id, st.st_ino);
  EXPECT_EQ(r->level, 0u);
  // A child two levels down, if this process may create one.
  const std::string a = *root + "/wave-cgroup-test-" + std::to_string(getpid());
  const std::string b = a + "/inner";
  if (mkdir(a.c_str(), 0755) != 0) GTEST_SKIP() << "cannot create a cgroup (not root?)";
  const bool made_b = mkdir(b.c_str(), 0755) == 0;
  absl::StatusOr<CgroupRef> c = ResolveCgroup(b + "/");
  rmdir(b.c_str());
  rmdir(a.c_str());  // before any assertion: a failed one must not leave the cgroup behind
  ASSERT_TRUE(made_b);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->level, 2u);
  EXPECT_EQ(c->path, b);
}

}  // namespace
}  // namespace wave
