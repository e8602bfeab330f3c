/* cpus.h - how both mechanisms' BPF programs summarize a task's allowed cpus in one 64-bit word,
 * shared with their loaders in user space (host/bpf) so both sides compute the same value.
 *
 * On a machine of at most 64 possible cpus the value is the mask itself (AND the managed cpus):
 * exact, and what tests read. On a bigger one it is a fingerprint of every word of the mask (AND
 * the managed cpus): the programs keep it to notice a change (then they emit TASK_AFFINITY and
 * user space reads the set itself from the kernel, sched_getaffinity, to tell the agent), and it
 * is never turned back into a set. Two masks with one fingerprint would hide an affinity change
 * until the next one; with a 64-bit multiply-xor fold that takes a collision of 1 in 2^64.
 */
#ifndef LIBWAVE_BPF_CPUS_H_
#define LIBWAVE_BPF_CPUS_H_

#include "abi/wave_abi.h"

/* One step of the fingerprint: word `i` of the mask (already AND the managed cpus). Start at 0. */
static inline __u64 wave_cpus_fold(__u64 h, __u32 i, __u64 word) {
  h ^= word + 0x9e3779b97f4a7c15ull * (__u64)(i + 1);
  h *= 0xff51afd7ed558ccdull;
  return h ^ (h >> 33);
}

#endif /* LIBWAVE_BPF_CPUS_H_ */
