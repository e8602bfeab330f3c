/* wave_cpus.bpf.h - cpus of any number (up to WAVE_MAX_CPUS) for both mechanisms' programs
 * (bpf/trace.bpf.c, bpf/scx_wave.bpf.c): one definition of which cpus are managed and of a task's
 * allowed cpus as the programs keep them (bpf/cpus.h). The loader sets both before load
 * (host/bpf/libbpf_util.h, SetBpfCpus). Include after vmlinux.h, bpf_helpers.h and
 * abi/wave_abi.h. */
#ifndef LIBWAVE_BPF_WAVE_CPUS_BPF_H_
#define LIBWAVE_BPF_WAVE_CPUS_BPF_H_

#include "bpf/cpus.h"

/* Set by the loader before load. */
const volatile __u32 wave_cpu_words = 1; /* words of the kernel's cpu masks: nr_cpu_ids / 64, up */
const volatile __u64 wave_managed_words[WAVE_CPUS_MAX_WORDS] = {}; /* cpu 64w+i: bit i, word w */

static __always_inline bool wave_cpu_managed(__s32 cpu) {
  if (cpu < 0 || cpu >= (__s32)WAVE_MAX_CPUS) return false;
  return (wave_managed_words[((__u32)cpu >> 6) & (WAVE_CPUS_MAX_WORDS - 1)] >> (cpu & 63)) & 1;
}

/* `mask` (a task's allowed cpus) AND the managed cpus, as bpf/cpus.h says. */
static __always_inline __u64 wave_allowed_cpus(const struct cpumask* mask) {
  if (wave_cpu_words <= 1) return mask->bits[0] & wave_managed_words[0];
  __u64 h = 0;
  for (__u32 i = 0; i < WAVE_CPUS_MAX_WORDS; i++) {
    if (i >= wave_cpu_words) break;
    __u64 word = 0;
    bpf_probe_read_kernel(&word, sizeof(word), (const void*)((unsigned long)mask + i * 8));
    h = wave_cpus_fold(h, i, word & wave_managed_words[i]);
  }
  return h;
}

#endif /* LIBWAVE_BPF_WAVE_CPUS_BPF_H_ */
