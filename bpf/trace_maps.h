/* trace_maps.h - the layout of the trace mechanism's BPF maps, shared by bpf/trace.bpf.c and its
 * loader (host/trace). Only the map values live here; what crosses to the agent is the ABI
 * (abi/wave_abi.h). Like the ABI, every size and offset is asserted.
 */
#ifndef LIBWAVE_BPF_TRACE_MAPS_H_
#define LIBWAVE_BPF_TRACE_MAPS_H_

#include "abi/wave_abi.h"

/* Tasks the kernel side tracks at once (entries of the `tasks` map). A managed task beyond this
 * is not reported; the `task_table_full` counter says how often that happened. */
#define WAVE_TRACE_MAX_TASKS 16384u
/* Thread groups that can be managed at once (entries of the `managed_tgids` map). */
#define WAVE_TRACE_MAX_TGIDS 4096u

/* wave_trace_task.state: the kernel's view of a managed task, as of its last event. */
enum wave_trace_task_state {
  WAVE_TRACE_BLOCKED = 0,
  WAVE_TRACE_RUNNABLE = 1,
  WAVE_TRACE_ON_CPU = 2,
  WAVE_TRACE_DEAD = 3, /* exited; the entry goes away at its last context switch */
};

/* Value of the `tasks` hash map, keyed by tid (__u32). The kernel side writes it; user space
 * only reads it (to validate commits against the current sequence, not the last one it saw). */
struct wave_trace_task {
  __u64 seq;      /* sequence of the task's last event */
  __u64 cpu_mask; /* allowed cpus last reported (AND the managed cpus), as bpf/cpus.h says */
  __u32 state;    /* enum wave_trace_task_state */
  __s32 cpu;      /* cpu it runs on (ON_CPU) or last ran on */
  __u32 tgid;
  __u32 creator;  /* tid of the thread that created it (0: it existed before it was managed) */
  __u32 yielding; /* inside sched_yield(): a switch away from it now is a TASK_YIELD */
  __u32 pad;
};

WAVE_STATIC_ASSERT(sizeof(struct wave_trace_task) == 40, "trace task size");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_trace_task, seq) == 0, "trace task seq");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_trace_task, cpu_mask) == 8, "trace task mask");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_trace_task, state) == 16, "trace task state");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_trace_task, cpu) == 20, "trace task cpu");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_trace_task, tgid) == 24, "trace task tgid");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_trace_task, creator) == 28, "trace task creator");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_trace_task, yielding) == 32, "trace task yielding");

/* Per-cpu counters (the `counters` per-cpu array), summed by user space. */
struct wave_trace_counters {
  __u64 emitted;         /* records submitted to the ring buffer */
  __u64 dropped;         /* records lost: the ring buffer was full */
  __u64 task_table_full; /* managed tasks not tracked: the `tasks` map was full */
  __u64
      wakeups_running; /* wakeups of a task that had not blocked yet: no event (see trace.bpf.c) */
  __u64 migrations;    /* sched_migrate_task of managed tasks */
  __u64 children;      /* child processes of managed ones that became managed */
  __u64 inferred;      /* events emitted with WAVE_TASK_F_INFERRED: a transition was missed */
  __u64 exit_blocks;   /* voluntary switches of managed tasks after their TASK_DEAD: not reported */
};
WAVE_STATIC_ASSERT(sizeof(struct wave_trace_counters) == 64, "counters size");

#endif /* LIBWAVE_BPF_TRACE_MAPS_H_ */
