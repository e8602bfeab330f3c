/* wave_abi.h - what crosses the link between the host (mechanisms) and the agent (policies).
 *
 * One C11 header, shared by BPF C and C++. Every message is one 64-byte slot. Structs are named
 * by direction: wave_k2a_* travel host (kernel) -> agent, wave_a2k_* travel agent -> host.
 * Every field is fixed-width; nothing is a pointer; every size and offset is asserted below,
 * so a change that moves a field fails to compile instead of confusing the other side.
 *
 * Bump WAVE_ABI_VERSION on any incompatible change; the handshake compares it.
 */
#ifndef LIBWAVE_LIB_ABI_WAVE_ABI_H_
#define LIBWAVE_LIB_ABI_WAVE_ABI_H_

#ifndef __VMLINUX_H__ /* a BPF program that includes vmlinux.h already has the kernel's types */
#include <linux/types.h>
#endif

#ifdef __cplusplus
#define WAVE_STATIC_ASSERT(cond, msg) static_assert(cond, msg)
#else
#define WAVE_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)
#endif
#define WAVE_OFFSETOF(type, field) __builtin_offsetof(type, field)

#define WAVE_ABI_MAGIC 0x45564157u /* "WAVE" little-endian */
#define WAVE_ABI_VERSION 2u        /* 2: group commits, staged results, resync */
#define WAVE_MSG_SIZE 64u
#define WAVE_MAX_CPUS 64u /* cpu masks are one 64-bit word in this version */

/* Message types. Values are part of the ABI: never renumber, only append. */
enum wave_msg_type {
  WAVE_MSG_NONE = 0,

  /* Task events, host -> agent. Each carries the task's sequence number after the event. */
  WAVE_EV_TASK_NEW = 1,       /* task joined the policy; blocked or runnable (see flags) */
  WAVE_EV_TASK_WAKEUP = 2,    /* blocked -> runnable */
  WAVE_EV_TASK_BLOCKED = 3,   /* on cpu -> blocked; the cpu is free */
  WAVE_EV_TASK_PREEMPTED = 4, /* on cpu -> runnable (slice end or preempted) */
  WAVE_EV_TASK_YIELD = 5,     /* on cpu -> runnable, voluntarily */
  WAVE_EV_TASK_DEAD = 6,      /* task exited; its id may not be used again */
  WAVE_EV_TASK_DEPARTED = 7,  /* task left the policy (still alive elsewhere) */
  WAVE_EV_TASK_AFFINITY = 8,  /* allowed cpu mask changed */
  WAVE_EV_TASK_PRIORITY = 9,  /* nice value changed */
  WAVE_EV_TASK_ON_CPU = 10,   /* a commit was enacted: the task now runs on cpu */

  /* Network, NIC -> agent (wave_k2a_net_rpc). On an IPU the NIC is next to the agent: an RPC's
   * arrival is known there before the host's network stack wakes its handler. */
  WAVE_EV_NET_RPC = 16,

  /* CPU events, host -> agent. */
  WAVE_EV_CPU_IDLE = 32, /* the cpu has nothing to run */
  WAVE_EV_CPU_TICK = 33, /* periodic tick while a managed task runs */
  WAVE_EV_CPU_AVAILABLE = 34,
  WAVE_EV_CPU_BUSY = 35, /* taken by something outside the policy */

  /* Transaction results, host -> agent. */
  WAVE_EV_COMMIT_RESULT = 48,

  /* Resynchronisation, host -> agent (a wave_k2a_cpu with cpu = -1; flags: WAVE_RESYNC_*).
   * BEGIN: forget every task, cpu state and commit in flight (staged ones included); the host
   * replays its state next: TASK_NEW for every live task (flags RUNNABLE, or ON_CPU with its
   * cpu), then CPU_IDLE or CPU_BUSY for every cpu, then END. Sent when an agent (re)starts and
   * after the event ring overflowed. */
  WAVE_EV_RESYNC_BEGIN = 49, /* task_id: the new epoch (see txn_id below) */
  WAVE_EV_RESYNC_END = 50,

  /* Agent -> host. */
  WAVE_CMD_COMMIT = 64,

  WAVE_MSG_TYPE_MAX = 127 /* every valid type is below this */
};

/* Every slot starts with this header. `stamp` belongs to the ring: the producer writes it last
 * (release) and the consumer reads it first (acquire); it tells the consumer the slot is whole
 * without trusting any index written by the producer. It is 0 where a ring does not stamp
 * (the BPF ring buffer carries its own record header). */
struct wave_msg_hdr {
  __u32 stamp;
  __u16 type; /* enum wave_msg_type */
  __u16 len;  /* bytes of the message that are meaningful, header included: WAVE_MSG_SIZE */
};

/* wave_k2a_task.flags */
#define WAVE_TASK_F_RUNNABLE (1u << 0) /* TASK_NEW: the task starts runnable */
#define WAVE_TASK_F_ON_CPU (1u << 1)   /* TASK_NEW: the task runs on `cpu` (replay, first seen) */
/* The host did not see this transition happen (a tracing mechanism missed the kernel's event) and
 * infers it from a later one: the task was, say, found running although its wakeup never came.
 * The event is as good as a seen one for the task's state; its time_ns is when it was inferred. */
#define WAVE_TASK_F_INFERRED (1u << 2)

/* wave_k2a_cpu.flags of RESYNC_BEGIN: why. */
#define WAVE_RESYNC_AGENT_START (1u << 0) /* a new agent attached */
#define WAVE_RESYNC_OVERFLOW (1u << 1)    /* the event ring was full and events were dropped */

/* A task event, host -> agent. */
struct wave_k2a_task {
  struct wave_msg_hdr hdr; /* type: WAVE_EV_TASK_* */
  __u64 task_id;           /* host's id for the task (a tid on Linux) */
  __u64 seq;               /* task sequence number after this event */
  __u64 time_ns;           /* host clock when the event happened */
  __u64 runtime_ns;        /* total cpu time of the task so far */
  __u64 cpu_mask;          /* allowed cpus (NEW, AFFINITY); bit i = cpu i */
  __s32 cpu;               /* cpu where it happened; -1 when none */
  __s32 nice;              /* NEW, PRIORITY: -20..19 */
  __u32 flags;             /* WAVE_TASK_F_* */
  union {
    __u32 gang;     /* NEW: tasks that must run together (a VM's vCPUs) share it; 0 = none */
    __u32 reserved; /* the name of this field before it carried the gang */
  };
};

/* A cpu event, host -> agent. */
struct wave_k2a_cpu {
  struct wave_msg_hdr hdr; /* type: WAVE_EV_CPU_* */
  __u64 time_ns;
  __u64 task_id; /* TICK: the task running; RESYNC_BEGIN: the new epoch; otherwise 0 */
  __s32 cpu;
  __u32 flags;
  __u64 reserved[4];
};

/* An RPC arrived for `task_id`, the thread that will handle it (the flow's handler). */
struct wave_k2a_net_rpc {
  struct wave_msg_hdr hdr; /* type: WAVE_EV_NET_RPC */
  __u64 rpc_id;
  __u64 flow_id;
  __u64 task_id; /* the expected handler thread */
  __u64 time_ns; /* when the NIC saw it */
  __u32 bytes;   /* payload size */
  __u32 reserved0;
  __u64 reserved[2];
};

/* Why a commit failed; WAVE_COMMIT_OK when it did not. Values are ABI. */
enum wave_commit_status {
  WAVE_COMMIT_OK = 0,
  WAVE_COMMIT_STALE = 1,           /* the task's sequence moved on: requeue with the new one */
  WAVE_COMMIT_NOT_RUNNABLE = 2,    /* the task is blocked or dead */
  WAVE_COMMIT_ON_CPU = 3,          /* the task is already running */
  WAVE_COMMIT_CPU_NOT_ALLOWED = 4, /* outside the task's mask, or no such cpu */
  WAVE_COMMIT_CPU_BUSY = 5,        /* the cpu runs something and the commit did not preempt */
  WAVE_COMMIT_UNKNOWN_TASK = 6,
  WAVE_COMMIT_MALFORMED = 7,     /* wrong type, length, flags, group fields or reserved bits */
  WAVE_COMMIT_GROUP_ABORTED = 8, /* valid itself, but another commit of its group failed */
  WAVE_COMMIT_STATUS_COUNT = 9
};

/* A transaction result, host -> agent. */
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

/* "Run task_id on cpu, valid only if its sequence is still seq", agent -> host. */
struct wave_a2k_commit {
  struct wave_msg_hdr hdr; /* type: WAVE_CMD_COMMIT */
  __u64 task_id;
  __u64 seq;
  __u64 slice_ns; /* 0: run until it blocks or yields */
  __u64 txn_id;   /* agent's id, echoed; top 16 bits: the epoch of the last RESYNC_BEGIN the
                   * agent saw (0 before any). The host drops, unanswered, decisions of another
                   * epoch: they were made on state the agent has since forgotten. */
  __s32 cpu;
  __u32 flags;      /* WAVE_COMMIT_F_* */
  __u32 group;      /* all-or-nothing group id; 0 = none */
  __u32 group_size; /* commits in the group, 1..WAVE_MAX_CPUS; 0 when group is 0 */
  __u64 reserved;
};
/* Group commits (gang scheduling): the members of a group are consecutive in the commit ring,
 * share `group` and `group_size`, and name distinct tasks and distinct cpus. The host applies
 * all of them or none: when any fails, it answers that one with its reason and the others with
 * WAVE_COMMIT_GROUP_ABORTED. A group that is not well-formed is MALFORMED as a whole.
 *
 * Prestaged decisions: the same message, written by the agent into the per-cpu staging ring of
 * `cpu` (transport/link.h). The host takes them in order when that cpu would otherwise idle,
 * validates each like a commit (a stale one is aborted, and the next one tried) and answers each
 * with a COMMIT_RESULT flagged WAVE_RESULT_F_STAGED. Staged commits carry no group. */

/* Any message. */
union wave_msg {
  struct wave_msg_hdr hdr;
  struct wave_k2a_task task;
  struct wave_k2a_cpu cpu;
  struct wave_k2a_commit_result result;
  struct wave_k2a_net_rpc net_rpc;
  struct wave_a2k_commit commit;
  __u8 raw[WAVE_MSG_SIZE];
};

/* Starts every message a side produces: zeroed (so reserved fields are 0, which the host checks),
 * with its type and length set. */
static inline void wave_msg_init(union wave_msg* m, __u16 type) {
  __builtin_memset(m, 0, sizeof(*m));
  m->hdr.type = type;
  m->hdr.len = WAVE_MSG_SIZE;
}

WAVE_STATIC_ASSERT(sizeof(struct wave_msg_hdr) == 8, "hdr size");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_msg_hdr, stamp) == 0, "hdr.stamp");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_msg_hdr, type) == 4, "hdr.type");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_msg_hdr, len) == 6, "hdr.len");

WAVE_STATIC_ASSERT(sizeof(struct wave_k2a_task) == WAVE_MSG_SIZE, "task size");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_task, task_id) == 8, "task.task_id");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_task, seq) == 16, "task.seq");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_task, time_ns) == 24, "task.time_ns");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_task, runtime_ns) == 32, "task.runtime_ns");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_task, cpu_mask) == 40, "task.cpu_mask");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_task, cpu) == 48, "task.cpu");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_task, nice) == 52, "task.nice");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_task, flags) == 56, "task.flags");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_task, gang) == 60, "task.gang");

WAVE_STATIC_ASSERT(sizeof(struct wave_k2a_cpu) == WAVE_MSG_SIZE, "cpu size");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_cpu, time_ns) == 8, "cpu.time_ns");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_cpu, task_id) == 16, "cpu.task_id");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_cpu, cpu) == 24, "cpu.cpu");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_cpu, flags) == 28, "cpu.flags");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_cpu, reserved) == 32, "cpu.reserved");

WAVE_STATIC_ASSERT(sizeof(struct wave_k2a_net_rpc) == WAVE_MSG_SIZE, "net_rpc size");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_net_rpc, rpc_id) == 8, "net_rpc.rpc_id");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_net_rpc, flow_id) == 16, "net_rpc.flow_id");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_net_rpc, task_id) == 24, "net_rpc.task_id");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_net_rpc, time_ns) == 32, "net_rpc.time_ns");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_net_rpc, bytes) == 40, "net_rpc.bytes");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_net_rpc, reserved) == 48, "net_rpc.reserved");

WAVE_STATIC_ASSERT(sizeof(struct wave_k2a_commit_result) == WAVE_MSG_SIZE, "result size");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_commit_result, txn_id) == 8, "result.txn_id");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_commit_result, task_id) == 16, "result.task_id");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_commit_result, seq) == 24, "result.seq");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_commit_result, time_ns) == 32, "result.time_ns");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_commit_result, cpu) == 40, "result.cpu");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_commit_result, status) == 44, "result.status");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_commit_result, flags) == 48, "result.flags");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_commit_result, reserved0) == 52,
                   "result.reserved0");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_commit_result, reserved1) == 56,
                   "result.reserved1");

WAVE_STATIC_ASSERT(sizeof(struct wave_a2k_commit) == WAVE_MSG_SIZE, "commit size");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_a2k_commit, task_id) == 8, "commit.task_id");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_a2k_commit, seq) == 16, "commit.seq");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_a2k_commit, slice_ns) == 24, "commit.slice_ns");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_a2k_commit, txn_id) == 32, "commit.txn_id");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_a2k_commit, cpu) == 40, "commit.cpu");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_a2k_commit, flags) == 44, "commit.flags");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_a2k_commit, group) == 48, "commit.group");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_a2k_commit, group_size) == 52, "commit.group_size");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_a2k_commit, reserved) == 56, "commit.reserved");

WAVE_STATIC_ASSERT(sizeof(union wave_msg) == WAVE_MSG_SIZE, "msg size");

#endif /* LIBWAVE_LIB_ABI_WAVE_ABI_H_ */
