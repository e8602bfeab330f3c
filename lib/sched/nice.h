// Nice values and cpu weights, for policies that share the cpu in proportion (fair share).
// The table is Linux's (kernel/sched/core.c, sched_prio_to_weight): nice 0 weighs 1024 and each
// step is ~1.25x, so of two competing tasks one nice level apart the lower gets ~10% more cpu
// than it would at equal weight. A task's virtual runtime advances by its cpu time scaled by
// 1024 / weight, so tasks that stay level in virtual time have cpu times in proportion to their
// weights.
#ifndef LIBWAVE_LIB_SCHED_NICE_H_
#define LIBWAVE_LIB_SCHED_NICE_H_

#include <array>
#include <cstdint>

namespace wave {

inline constexpr int kMinNice = -20;
inline constexpr int kMaxNice = 19;
inline constexpr uint32_t kNiceZeroWeight = 1024;

inline constexpr std::array<uint32_t, kMaxNice - kMinNice + 1> kNiceWeights = {
    /* -20 */ 88761, 71755, 56483, 46273, 36291,
    /* -15 */ 29154, 23254, 18705, 14949, 11916,
    /* -10 */ 9548,  7620,  6100,  4904,  3906,
    /*  -5 */ 3121,  2501,  1991,  1586,  1277,
    /*   0 */ 1024,  820,   655,   526,   423,
    /*   5 */ 335,   272,   215,   172,   137,
    /*  10 */ 110,   87,    70,    56,    45,
    /*  15 */ 36,    29,    23,    18,    15,
};

// The weight of a nice value; values outside [-20, 19] are clamped (the host is another system
// image: never index a table with what it sends).
constexpr uint32_t NiceToWeight(int nice) {
  const int n = nice < kMinNice ? kMinNice : nice > kMaxNice ? kMaxNice : nice;
  return kNiceWeights[static_cast<size_t>(n - kMinNice)];
}

// `ns` of cpu time in the virtual time of a task of `weight`: ns * 1024 / weight (exact for
// nice 0; a weight of 0 counts as 1).
constexpr uint64_t VirtualNs(uint64_t ns, uint32_t weight) {
  return ns * kNiceZeroWeight / (weight == 0 ? 1 : weight);
}

}  // namespace wave

#endif  // LIBWAVE_LIB_SCHED_NICE_H_
