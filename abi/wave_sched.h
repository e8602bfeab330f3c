/* wave_sched.h - the scheduling subsystem's messages (WAVE_SUBSYS_SCHED): task and cpu events
 * host -> agent, commits agent -> host, and their results. Conventions: wave_link.h.
 *
 * Every task event carries the task's sequence number after the event; a commit names the
 * sequence it was decided on and is void once the task moved on. The scheduling channel has a
 * main ring pair (events in, commits out) and, with WAVE_FEAT_PRESTAGE, one lane per cpu: a
 * ring of prestaged decisions, agent -> host, that the host takes locally when that cpu would
 * otherwise idle.
 */
#ifndef LIBWAVE_ABI_WAVE_SCHED_H_
#define LIBWAVE_ABI_WAVE_SCHED_H_

#include "abi/wave_link.h"

/* X(KIND, NAME, VALUE): see WAVE_LINK_MSGS. */
#define WAVE_SCHED_MSGS(X)                                                                \
  /* Task events, host -> agent. */                                                       \
  X(EV, TASK_NEW, 0x0101u)       /* joined the policy; blocked or runnable (see flags) */ \
  X(EV, TASK_WAKEUP, 0x0102u)    /* blocked -> runnable */                                \
  X(EV, TASK_BLOCKED, 0x0103u)   /* on cpu -> blocked; the cpu is free */                 \
  X(EV, TASK_PREEMPTED, 0x0104u) /* on cpu -> runnable (slice end or preempted) */        \
  X(EV, TASK_YIELD, 0x0105u)     /* on cpu -> runnable, voluntarily */                    \
  X(EV, TASK_DEAD, 0x0106u)      /* exited; its id may not be used again */               \
  X(EV, TASK_DEPARTED, 0x0107u)  /* left the policy (still alive elsewhere) */            \
  X(EV, TASK_AFFINITY, 0x0108u)  /* its allowed cpus changed */                           \
  X(EV, TASK_PRIORITY, 0x0109u)  /* its nice value changed */                             \
  X(EV, TASK_ON_CPU, 0x010au)    /* a commit was enacted: the task now runs on cpu */     \
  X(EV, TASK_CPUS, 0x010bu)      /* a chunk of the next task event's cpu set */           \
  /* Cpu events, host -> agent. */                                                        \
  X(EV, CPU_IDLE, 0x0120u)      /* the cpu has nothing to run */                          \
  X(EV, CPU_TICK, 0x0121u)      /* periodic tick while a managed task runs */             \
  X(EV, CPU_AVAILABLE, 0x0122u) /* the policy may use the cpu (it is idle) */             \
  X(EV, CPU_BUSY, 0x0123u)      /* taken by something outside the policy */               \
  /* Results, host -> agent. */                                                           \
  X(EV, COMMIT_RESULT, 0x0130u)                                                           \
  /* Agent -> host. */                                                                    \
  X(CMD, COMMIT, 0x0140u)

/* wave_k2a_task.flags */
#define WAVE_TASK_F_RUNNABLE (1u << 0) /* TASK_NEW: the task starts runnable */
#define WAVE_TASK_F_ON_CPU (1u << 1)   /* TASK_NEW: the task runs on `cpu` (replay, first seen) */
/* The host did not see this transition happen (a tracing mechanism missed the kernel's event) and
 * infers it from a later one: the task was, say, found running although its wakeup never came.
 * The event is as good as a seen one for the task's state; its time_ns is when it was inferred. */
#define WAVE_TASK_F_INFERRED (1u << 2)
#define WAVE_TASK_F_KNOWN (WAVE_TASK_F_RUNNABLE | WAVE_TASK_F_ON_CPU | WAVE_TASK_F_INFERRED)

/* The allowed cpus of a TASK_NEW or TASK_AFFINITY, encoded in (flags & WAVE_TASK_CPUS_MASK):
 *   ALL    every cpu of the host; `cpus` is 0
 *   WORD   bit i of `cpus` is cpu 64 * cpus_word + i
 *   RANGE  cpus first..last, first in the low 32 bits of `cpus`, last (inclusive) in the high
 *   CHUNKS the set came in the TASK_CPUS messages just before this event, for the same task,
 *          `cpus_word` of them (an arbitrary set on a machine of more than 64 cpus)
 * What it costs: the first three cover what Linux hands out in practice (every cpu, a cpuset's
 * range, one cpu, cpus within one 64-cpu word) in the event itself; an arbitrary set costs one
 * extra slot per 320 cpus (WAVE_CPUS_CHUNK_WORDS words) its words span, sent only with the NEW
 * or AFFINITY event that changes it. Other events leave the set as it was and carry ALL. */
#define WAVE_TASK_CPUS_SHIFT 8u
#define WAVE_TASK_CPUS_MASK (3u << WAVE_TASK_CPUS_SHIFT)
#define WAVE_TASK_CPUS_ALL (0u << WAVE_TASK_CPUS_SHIFT)
#define WAVE_TASK_CPUS_WORD (1u << WAVE_TASK_CPUS_SHIFT)
#define WAVE_TASK_CPUS_RANGE (2u << WAVE_TASK_CPUS_SHIFT)
#define WAVE_TASK_CPUS_CHUNKS (3u << WAVE_TASK_CPUS_SHIFT)
#define WAVE_CPUS_CHUNK_WORDS 5u
#define WAVE_CPUS_MAX_WORDS (WAVE_MAX_CPUS / 64u)

/* A task event, host -> agent. */
struct wave_k2a_task {
  struct wave_msg_hdr hdr; /* type: WAVE_EV_TASK_* */
  __u64 task_id;           /* host's id for the task (a tid on Linux) */
  __u64 seq;               /* task sequence number after this event */
  __u64 time_ns;           /* host clock when the event happened */
  __u64 runtime_ns;        /* total cpu time of the task so far */
  __u64 cpus;              /* NEW, AFFINITY: the allowed cpus, as WAVE_TASK_CPUS_* says */
  __s32 cpu;               /* cpu where it happened; -1 when none */
  __s16 nice;              /* NEW, PRIORITY: -20..19 */
  __u16 cpus_word;         /* WORD: which 64 cpus `cpus` holds; CHUNKS: how many chunks */
  __u32 flags;             /* WAVE_TASK_F_* | WAVE_TASK_CPUS_* */
  __u32 gang;              /* NEW: tasks that must run together (a VM's vCPUs) share it; 0: none */
};

/* A chunk of a cpu set, host -> agent: words first_word..first_word+words-1 of the set (bit i
 * of word w is cpu 64 * w + i). The chunks of one set come in order, just before the task event
 * that uses them; words they do not cover are 0. */
struct wave_k2a_task_cpus {
  struct wave_msg_hdr hdr; /* type: WAVE_EV_TASK_CPUS */
  __u64 task_id;           /* the task of the event that follows */
  __u16 first_word;
  __u16 words; /* 1..WAVE_CPUS_CHUNK_WORDS */
  __u32 reserved;
  __u64 bits[WAVE_CPUS_CHUNK_WORDS];
};

/* A cpu event, host -> agent. */
struct wave_k2a_cpu {
  struct wave_msg_hdr hdr; /* type: WAVE_EV_CPU_* */
  __u64 time_ns;
  __u64 task_id; /* TICK: the task running; otherwise 0 */
  __s32 cpu;
  __u32 flags; /* 0 */
  __u64 reserved[4];
};

/* Why a commit failed; WAVE_COMMIT_OK when it did not: X(NAME, VALUE, "name"). Values are ABI. */
#define WAVE_COMMIT_STATUSES(X)                                                                   \
  X(OK, 0, "ok")                           /* WAVE_RESULT_OK */                                   \
  X(STALE, 1, "stale")                     /* WAVE_RESULT_STALE: requeue with the new sequence */ \
  X(NOT_RUNNABLE, 2, "not_runnable")       /* the task is blocked or dead */                      \
  X(ON_CPU, 3, "on_cpu")                   /* the task is already running */                      \
  X(CPU_NOT_ALLOWED, 4, "cpu_not_allowed") /* outside the task's cpus, or no such cpu */          \
  X(CPU_BUSY, 5, "cpu_busy")               /* the cpu runs something; no PREEMPT */               \
  X(UNKNOWN_TASK, 6, "unknown_task")                                                              \
  X(MALFORMED, 7, "malformed") /* wrong type, length, flags, group fields or reserved bits */     \
  X(GROUP_ABORTED, 8, "group_aborted") /* valid itself, but another of its group failed */

#define WAVE_COMMIT_STATUS_ENTRY(name, value, text) WAVE_COMMIT_##name = value,
enum wave_commit_status { WAVE_COMMIT_STATUSES(WAVE_COMMIT_STATUS_ENTRY) WAVE_COMMIT_STATUS_COUNT };
#undef WAVE_COMMIT_STATUS_ENTRY

/* "ok", "stale", ...; "invalid" for a value this version does not know. */
#define WAVE_COMMIT_STATUS_CASE(name, value, text) \
  case value:                                      \
    return text;
static inline const char* wave_commit_status_name(__u32 status) {
  switch (status) {
    WAVE_COMMIT_STATUSES(WAVE_COMMIT_STATUS_CASE)
    default:
      return "invalid";
  }
}
#undef WAVE_COMMIT_STATUS_CASE

/* A commit result, host -> agent: a wave_k2a_result whose detail is the cpu. */
struct wave_k2a_commit_result {
  struct wave_msg_hdr hdr; /* type: WAVE_EV_COMMIT_RESULT */
  __u64 txn_id;            /* echoed from the commit */
  __u64 task_id;           /* echoed from the commit */
  __u64 seq;               /* the task's sequence at the host when validated (0 if unknown) */
  __u64 time_ns;
  __s32 cpu;    /* echoed from the commit */
  __u32 status; /* enum wave_commit_status */
  __u32 flags;  /* WAVE_RESULT_F_* */
  __u32 reserved0;
  __u64 reserved1;
};

/* wave_k2a_commit_result.flags */
#define WAVE_RESULT_F_STAGED (1u << 0) /* a prestaged decision, taken or aborted by the host */

/* wave_a2k_commit.flags */
#define WAVE_COMMIT_F_PREEMPT (1u << 0) /* may preempt the task running on cpu */
#define WAVE_COMMIT_F_ALL (WAVE_COMMIT_F_PREEMPT)

/* The most commits one all-or-nothing group may hold. */
#define WAVE_MAX_GROUP 64u

/* "Run task_id on cpu, valid only if its sequence is still seq", agent -> host: a wave_a2k_cmd
 * whose object is the task. */
struct wave_a2k_commit {
  struct wave_msg_hdr hdr; /* type: WAVE_CMD_COMMIT */
  __u64 txn_id;            /* the agent's id, echoed; top bits: the epoch (wave_link.h) */
  __u64 task_id;
  __u64 seq;
  __u64 slice_ns; /* 0: run until it blocks or yields */
  __s32 cpu;
  __u32 flags;      /* WAVE_COMMIT_F_* */
  __u32 group;      /* all-or-nothing group id; 0 = none */
  __u32 group_size; /* commits in the group, 1..WAVE_MAX_GROUP; 0 when group is 0 */
  __u64 reserved;
};
/* Group commits (gang scheduling, WAVE_FEAT_GROUPS): the members of a group are consecutive in
 * the commit ring, share `group` and `group_size`, and name distinct tasks and distinct cpus.
 * The host applies all of them or none: when any fails, it answers that one with its reason and
 * the others with WAVE_COMMIT_GROUP_ABORTED. A group that is not well-formed is MALFORMED as a
 * whole.
 *
 * Prestaged decisions (WAVE_FEAT_PRESTAGE): the same message, written by the agent into the lane
 * of `cpu`. The host takes them in order when that cpu would otherwise idle, validates each like
 * a commit (a stale one is aborted, and the next one tried) and answers each with a
 * COMMIT_RESULT flagged WAVE_RESULT_F_STAGED. Staged commits carry no group.
 *
 * The replay after RESYNC_BEGIN: a TASK_NEW for every live task (flags RUNNABLE, or ON_CPU with
 * its cpu, and its cpu set), then a CPU_IDLE for every managed cpu that is free (a cpu not
 * mentioned is busy), then RESYNC_END. */

WAVE_STATIC_ASSERT(sizeof(struct wave_k2a_task) == WAVE_MSG_SIZE, "task size");
WAVE_STATIC_ASSERT(WAVE_ALIGNOF(struct wave_k2a_task) == 8, "task align");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_task, task_id) == 8, "task.task_id");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_task, seq) == 16, "task.seq");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_task, time_ns) == 24, "task.time_ns");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_task, runtime_ns) == 32, "task.runtime_ns");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_task, cpus) == 40, "task.cpus");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_task, cpu) == 48, "task.cpu");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_task, nice) == 52, "task.nice");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_task, cpus_word) == 54, "task.cpus_word");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_task, flags) == 56, "task.flags");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_task, gang) == 60, "task.gang");

WAVE_STATIC_ASSERT(sizeof(struct wave_k2a_task_cpus) == WAVE_MSG_SIZE, "task_cpus size");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_task_cpus, task_id) == 8, "task_cpus.task_id");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_task_cpus, first_word) == 16,
                   "task_cpus.first_word");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_task_cpus, words) == 18, "task_cpus.words");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_task_cpus, bits) == 24, "task_cpus.bits");

WAVE_STATIC_ASSERT(sizeof(struct wave_k2a_cpu) == WAVE_MSG_SIZE, "cpu size");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_cpu, time_ns) == 8, "cpu.time_ns");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_cpu, task_id) == 16, "cpu.task_id");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_cpu, cpu) == 24, "cpu.cpu");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_cpu, flags) == 28, "cpu.flags");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_cpu, reserved) == 32, "cpu.reserved");

/* A commit result is a generic result: the same offsets. */
WAVE_STATIC_ASSERT(sizeof(struct wave_k2a_commit_result) == WAVE_MSG_SIZE, "commit result size");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_commit_result, txn_id) ==
                       WAVE_OFFSETOF(struct wave_k2a_result, txn_id),
                   "commit result.txn_id");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_commit_result, task_id) ==
                       WAVE_OFFSETOF(struct wave_k2a_result, object_id),
                   "commit result.task_id");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_commit_result, seq) ==
                       WAVE_OFFSETOF(struct wave_k2a_result, seq),
                   "commit result.seq");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_commit_result, time_ns) ==
                       WAVE_OFFSETOF(struct wave_k2a_result, time_ns),
                   "commit result.time_ns");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_commit_result, cpu) ==
                       WAVE_OFFSETOF(struct wave_k2a_result, detail),
                   "commit result.cpu");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_commit_result, status) ==
                       WAVE_OFFSETOF(struct wave_k2a_result, status),
                   "commit result.status");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_commit_result, flags) ==
                       WAVE_OFFSETOF(struct wave_k2a_result, flags),
                   "commit result.flags");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_commit_result, reserved0) == 52,
                   "commit result.reserved0");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_commit_result, reserved1) == 56,
                   "commit result.reserved1");

/* A commit is a generic command: the same offsets. */
WAVE_STATIC_ASSERT(sizeof(struct wave_a2k_commit) == WAVE_MSG_SIZE, "commit size");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_a2k_commit, txn_id) ==
                       WAVE_OFFSETOF(struct wave_a2k_cmd, txn_id),
                   "commit.txn_id");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_a2k_commit, task_id) ==
                       WAVE_OFFSETOF(struct wave_a2k_cmd, object_id),
                   "commit.task_id");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_a2k_commit, seq) ==
                       WAVE_OFFSETOF(struct wave_a2k_cmd, seq),
                   "commit.seq");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_a2k_commit, slice_ns) == 32, "commit.slice_ns");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_a2k_commit, cpu) == 40, "commit.cpu");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_a2k_commit, flags) == 44, "commit.flags");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_a2k_commit, group) == 48, "commit.group");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_a2k_commit, group_size) == 52, "commit.group_size");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_a2k_commit, reserved) == 56, "commit.reserved");

#endif /* LIBWAVE_ABI_WAVE_SCHED_H_ */
