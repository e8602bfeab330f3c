/* scx_maps.h - what bpf/scx_wave.bpf.c (the sched_ext mechanism) shares with its host half in
 * user space (host/scx). What crosses to the agent is the ABI (abi/wave_abi.h); this header
 * is only the layout of the maps around it. Like the ABI, every size and offset is asserted.
 *
 * Kernel -> user space: ABI events and COMMIT_RESULTs in a BPF ring buffer (`events`).
 * User space -> kernel: two BPF array maps created with BPF_F_MMAPABLE, mapped by the host:
 *   `ctl`    one wave_scx_ctl: the agent's heartbeat and the epoch of its decisions;
 *   `queues` one wave_scx_cpu_queues per cpu: the cpu's commit queue and its staging slots,
 *            each a single-producer (user space) / single-consumer (the cpu's `dispatch`) ring
 *            of stamped 64-byte ABI slots, and the consumer's credit line (its heads).
 * Rings follow transport/ring.h's rules: free-running 32-bit indices masked by a power-of-two
 * depth; the producer writes a slot, then (release) its stamp = index + 1; the consumer trusts
 * a slot only once its stamp says so, copies it out and validates the copy; it returns its head
 * through the credit line, which the producer reads before reusing a slot.
 */
#ifndef LIBWAVE_BPF_SCX_MAPS_H_
#define LIBWAVE_BPF_SCX_MAPS_H_

#include "abi/wave_abi.h"

#define WAVE_SCX_COMMIT_DEPTH 16u /* commit slots per cpu */
#define WAVE_SCX_STAGE_DEPTH 8u   /* staging slots per cpu */
#define WAVE_SCX_MAX_TASKS 8192u  /* managed tasks tracked at once (`tasks` map) */

/* The shared DSQ every runnable managed task waits in until a decision moves it to a cpu's
 * local DSQ. It is also the fallback FIFO: when the agent is silent (or a task has waited too
 * long), cpus consume it in order, so nothing is lost and the kernel's watchdog never fires. */
#define WAVE_SCX_PENDING_DSQ 0x57415645ull /* "WAVE" */

/* wave_scx_task.state: the kernel's view of a managed task, as of its last event. */
enum wave_scx_task_state {
  WAVE_SCX_BLOCKED = 0,
  WAVE_SCX_RUNNABLE = 1, /* waiting in the pending DSQ, or paused on a cpu by a higher class */
  WAVE_SCX_ON_CPU = 2,
};

/* Value of the `tasks` hash map, keyed by tid (__u32). Written only by the BPF side (user space
 * reads it for its own checks and for a resync replay). */
struct wave_scx_task {
  __u64 seq;      /* sequence number after the task's last event */
  __u64 enq_ns;   /* when it last entered the pending DSQ */
  __u64 cpu_mask; /* allowed cpus last reported (AND the managed cpus), as bpf/cpus.h says */
  __u32 state;    /* enum wave_scx_task_state */
  __s32 cpu;      /* cpu it runs on (ON_CPU) or last ran on; -1 before it ran */
  __u32 flags;    /* WAVE_SCX_TASK_F_* */
  __u32 reserved;
  __u64 pad;
};
#define WAVE_SCX_TASK_F_YIELDING (1u << 0) /* sched_yield: its next stop is a YIELD */
#define WAVE_SCX_TASK_F_PENDING (1u << 1)  /* in the pending DSQ */

WAVE_STATIC_ASSERT(sizeof(struct wave_scx_task) == 48, "scx task size");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_scx_task, seq) == 0, "scx task seq");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_scx_task, enq_ns) == 8, "scx task enq_ns");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_scx_task, cpu_mask) == 16, "scx task mask");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_scx_task, state) == 24, "scx task state");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_scx_task, cpu) == 28, "scx task cpu");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_scx_task, flags) == 32, "scx task flags");

/* The one entry of `ctl`. User space writes, the BPF side reads. */
struct wave_scx_ctl {
  /* CLOCK_MONOTONIC (bpf_ktime_get_ns) time of the agent's last sign of life, stored by the
   * host as it sees the agent's heartbeat; 0: no agent. Older than the program's heartbeat
   * timeout: the agent is presumed dead and cpus run the pending DSQ in FIFO order. */
  __u64 beat_ns;
  /* The epoch of the agent's decisions (top 16 bits of their txn ids, see wave_abi.h): a
   * decision of another epoch was made on state that agent has since forgotten; it is dropped
   * unanswered. */
  __u64 epoch;
  __u64 reserved[6];
};
WAVE_STATIC_ASSERT(sizeof(struct wave_scx_ctl) == 64, "scx ctl size");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_scx_ctl, beat_ns) == 0, "scx ctl beat");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_scx_ctl, epoch) == 8, "scx ctl epoch");

/* The consumer's side of one cpu's rings: written by the BPF side only. */
struct wave_scx_credit {
  __u32 commit_head; /* commit slots consumed so far (free-running) */
  __u32 stage_head;  /* staging slots consumed so far */
  __u32 reserved[14];
};
WAVE_STATIC_ASSERT(sizeof(struct wave_scx_credit) == 64, "scx credit size");

/* One entry of `queues` per cpu. */
struct wave_scx_cpu_queues {
  union wave_msg commit[WAVE_SCX_COMMIT_DEPTH]; /* WAVE_CMD_COMMIT for this cpu */
  union wave_msg stage[WAVE_SCX_STAGE_DEPTH];   /* prestaged decisions for this cpu */
  struct wave_scx_credit credit;
};
WAVE_STATIC_ASSERT(sizeof(struct wave_scx_cpu_queues) ==
                       (WAVE_SCX_COMMIT_DEPTH + WAVE_SCX_STAGE_DEPTH + 1) * WAVE_MSG_SIZE,
                   "scx queues size");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_scx_cpu_queues, stage) ==
                       WAVE_SCX_COMMIT_DEPTH * WAVE_MSG_SIZE,
                   "scx queues stage");

/* The SYSCALL program `wave_kick` takes this as its context: user space runs it after it has
 * queued decisions, to wake the cpus they are for, WAVE_SCX_KICK_BATCH at a time. */
#define WAVE_SCX_KICK_BATCH 64u
struct wave_scx_kick_args {
  __u32 count; /* cpus[0..count-1] */
  __u32 reserved;
  __s32 cpus[WAVE_SCX_KICK_BATCH];
  __u32 preempt[WAVE_SCX_KICK_BATCH / 32]; /* bit i: kick cpus[i] with SCX_KICK_PREEMPT */
};
WAVE_STATIC_ASSERT(sizeof(struct wave_scx_kick_args) == 8 + 4 * WAVE_SCX_KICK_BATCH + 8,
                   "kick args size");

/* Per-cpu counters (the `counters` per-cpu array), summed by user space. */
struct wave_scx_counters {
  __u64 emitted;         /* records submitted to the ring buffer */
  __u64 dropped;         /* records lost: the ring buffer was full */
  __u64 committed;       /* commits taken from the queue (answered or dropped) */
  __u64 staged;          /* staged decisions taken from the slots (answered or dropped) */
  __u64 dispatched;      /* decisions that put a task on this cpu */
  __u64 fallback;        /* tasks this cpu ran from the pending DSQ with no agent */
  __u64 starved;         /* tasks run in FIFO order because they waited too long */
  __u64 stale_epoch;     /* decisions of another epoch, dropped unanswered */
  __u64 task_table_full; /* tasks not tracked: the `tasks` map was full */
  __u64 idle;            /* CPU_IDLE events */
  __u64 kicks;           /* cpus kicked by the timer or by wave_kick */
  __u64 reserved[5];
};
WAVE_STATIC_ASSERT(sizeof(struct wave_scx_counters) == 128, "scx counters size");

/* Per-cpu state of the program (the `cpu_state` per-cpu array); only it writes. */
struct wave_scx_cpu_state {
  __u32 current;       /* tid of the managed task running, 0 for none */
  __u32 idle_reported; /* CPU_IDLE sent since a managed task last ran here */
  __u32 commit_head;   /* consumer indices of the cpu's rings (mirrored in the credit line) */
  __u32 stage_head;
};

/* What the program's ops.exit saw (the kernel's scx_exit_info, UEI-style). */
struct wave_scx_exit {
  __s32 kind; /* enum scx_exit_kind; 0 while the scheduler runs */
  __u32 reserved;
  __s64 exit_code;
  char reason[128];
  char msg[1024];
};

#endif /* LIBWAVE_BPF_SCX_MAPS_H_ */
