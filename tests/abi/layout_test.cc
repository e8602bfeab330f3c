// The ABI's layout is the same compiled as C11 (layout_c.c, the way BPF programs and C peers see
// it) and as C++ (here): every struct's size and alignment and every field's size and offset.
#include <cstring>
#include <string>
#include <vector>

#include "abi/wave_abi.h"
#include "gtest/gtest.h"
#include "tests/abi/layout_c.h"
#include "tests/abi/layout_list.h"

namespace {

#define WAVE_LAYOUT_S(tag, name) {#name, sizeof(tag name), alignof(tag name), 0},
#define WAVE_LAYOUT_F(tag, name, field) \
  {#name "." #field, sizeof(((tag name*)nullptr)->field), 0, WAVE_OFFSETOF(tag name, field)},

const wave_layout_row kCpp[] = {WAVE_LAYOUT(WAVE_LAYOUT_S, WAVE_LAYOUT_F)};

TEST(AbiLayout, CAndCppAgreeOnEverySizeAndOffset) {
  ASSERT_EQ(wave_layout_c_count, sizeof(kCpp) / sizeof(kCpp[0]));
  for (unsigned long i = 0; i < wave_layout_c_count; ++i) {
    const wave_layout_row& c = wave_layout_c[i];
    const wave_layout_row& cpp = kCpp[i];
    ASSERT_STREQ(c.name, cpp.name);
    EXPECT_EQ(c.size, cpp.size) << c.name;
    EXPECT_EQ(c.align, cpp.align) << c.name;
    EXPECT_EQ(c.offset, cpp.offset) << c.name;
  }
}

TEST(AbiLayout, EveryMessageIsOneSlotAndEightByteAligned) {
  for (const wave_layout_row& r : kCpp) {
    if (r.align == 0) continue;  // a field
    EXPECT_EQ(r.size % 8, 0u) << r.name;
    // A message (a slot) holds 64-bit words; the headers and lines of 32-bit ones are 4-aligned.
    if (r.size == WAVE_MSG_SIZE && std::strcmp(r.name, "wave_ring_hdr") != 0 &&
        std::strcmp(r.name, "wave_ring_credit") != 0) {
      EXPECT_EQ(r.align, 8u) << r.name;
    }
  }
}

TEST(AbiTypes, OneListGivesNamesIndicesAndSubsystems) {
  EXPECT_STREQ(wave_msg_type_name(WAVE_EV_TASK_NEW), "TASK_NEW");
  EXPECT_STREQ(wave_msg_type_name(WAVE_CMD_COMMIT), "COMMIT");
  EXPECT_STREQ(wave_msg_type_name(WAVE_EV_NET_RPC), "NET_RPC");
  EXPECT_STREQ(wave_msg_type_name(0x01ff), "UNKNOWN");
  EXPECT_EQ(WAVE_MSG_SUBSYS(WAVE_EV_RESYNC_BEGIN), WAVE_SUBSYS_LINK);
  EXPECT_EQ(WAVE_MSG_SUBSYS(WAVE_EV_TASK_NEW), WAVE_SUBSYS_SCHED);
  EXPECT_EQ(WAVE_MSG_SUBSYS(WAVE_CMD_COMMIT), WAVE_SUBSYS_SCHED);
  EXPECT_EQ(WAVE_MSG_SUBSYS(WAVE_EV_NET_RPC), WAVE_SUBSYS_NET);
  // Indices are dense, in the list's order, and the list ascends.
  std::vector<int> seen(WAVE_MSG_TYPE_COUNT, 0);
  int last_value = -1;
  for (int t = 0; t <= 0xffff; ++t) {
    const int i = wave_msg_type_index(static_cast<__u16>(t));
    EXPECT_EQ(wave_msg_type_known(static_cast<__u16>(t)) != 0, i >= 0);
    if (i < 0) continue;
    ASSERT_LT(i, WAVE_MSG_TYPE_COUNT);
    ++seen[static_cast<size_t>(i)];
    EXPECT_GT(t, last_value);
    last_value = t;
  }
  for (int n : seen) EXPECT_EQ(n, 1);
  EXPECT_FALSE(wave_msg_type_known(WAVE_MSG_NONE));
  EXPECT_TRUE(wave_msg_is_command(WAVE_CMD_COMMIT));
  EXPECT_FALSE(wave_msg_is_command(WAVE_EV_COMMIT_RESULT));
  EXPECT_FALSE(wave_msg_is_command(0xffff));
}

TEST(AbiEpoch, EpochsRunOneToMaxAndWrapPastZero) {
  EXPECT_EQ(wave_epoch_next(0), 1u);
  EXPECT_EQ(wave_epoch_next(1), 2u);
  EXPECT_EQ(wave_epoch_next(0xfffe), 0xffffu);
  EXPECT_EQ(wave_epoch_next(0xffff), 1u);  // never 0: that is "before the first resync"
  for (__u32 e : {0u, 1u, 77u, 0xffffu}) {
    EXPECT_EQ(wave_txn_epoch(wave_txn_first(e)), e);
    EXPECT_EQ(wave_txn_epoch(wave_txn_first(e) + 123456789), e);
  }
  // 70,000 resyncs: the epoch stays a valid 16-bit one all the way.
  __u32 e = 0;
  for (int i = 0; i < 70'000; ++i) {
    e = wave_epoch_next(e);
    ASSERT_GE(e, 1u);
    ASSERT_LE(e, 0xffffu);
    ASSERT_EQ(wave_txn_epoch(wave_txn_first(e)), e);
  }
}

TEST(AbiCommitStatus, NamesFromTheList) {
  EXPECT_STREQ(wave_commit_status_name(WAVE_COMMIT_OK), "ok");
  EXPECT_STREQ(wave_commit_status_name(WAVE_COMMIT_GROUP_ABORTED), "group_aborted");
  EXPECT_STREQ(wave_commit_status_name(WAVE_COMMIT_STATUS_COUNT), "invalid");
  EXPECT_EQ(WAVE_COMMIT_OK, WAVE_RESULT_OK);
  EXPECT_EQ(WAVE_COMMIT_STALE, WAVE_RESULT_STALE);
}

}  // namespace
