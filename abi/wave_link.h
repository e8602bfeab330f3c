/* wave_link.h - what crosses between the two system images whatever the subsystem: the slot
 * header, the ring header and credit line, versions and feature bits, the txn-id epoch, the
 * resync messages every channel carries, and the generic command and result headers.
 *
 * Conventions of every header in abi/ (wave_link.h, wave_sched.h, wave_mem.h, wave_net.h, and
 * wave_abi.h, which joins them):
 *  - C11, shared by BPF C, C and C++. The only include is <linux/types.h>, skipped under
 *    __VMLINUX_H__ (a BPF program that includes vmlinux.h already has the kernel's types).
 *  - Byte order: little-endian on both sides (x86-64, aarch64, and BPF on either); asserted
 *    below. A big-endian peer is not supported.
 *  - Alignment: every field is naturally aligned, every struct is a multiple of 8 bytes (a
 *    message is exactly WAVE_MSG_SIZE), and the sizes, offsets and alignments are asserted, so a
 *    change that moves a field fails to compile instead of confusing the other side.
 *  - Memory ordering: a slot is published by a release store of its stamp after its body and is
 *    read only after an acquire load of the stamp saw it (in BPF, which has no acquire load on
 *    the kernels we support, after a fully ordered atomic read-modify-write of it). A credit line
 *    is stored with release and loaded with acquire. No side relies on x86's ordering (TSO).
 *  - Nothing is a pointer; every offset is from the start of the region it describes; every
 *    index, length and offset read from the other side is bounds-checked before use.
 *  - Names by direction: wave_k2a_* travel host (kernel) -> agent, wave_a2k_* agent -> host.
 *  - Versions: WAVE_ABI_MAJOR changes when a layout or a meaning changes incompatibly, and both
 *    sides must agree on it. WAVE_ABI_MINOR grows when something an older peer may ignore is
 *    added: a feature bit (negotiated in the handshake: a side uses a feature only when both
 *    offer it) or a message type (a side that does not know a type skips it and counts it).
 */
#ifndef LIBWAVE_ABI_WAVE_LINK_H_
#define LIBWAVE_ABI_WAVE_LINK_H_

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#ifdef __cplusplus
#define WAVE_STATIC_ASSERT(cond, msg) static_assert(cond, msg)
#define WAVE_ALIGNOF(type) alignof(type)
#else
#define WAVE_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)
#define WAVE_ALIGNOF(type) _Alignof(type)
#endif
#define WAVE_OFFSETOF(type, field) __builtin_offsetof(type, field)

WAVE_STATIC_ASSERT(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the wave ABI is little-endian");
WAVE_STATIC_ASSERT(sizeof(__u64) == 8 && WAVE_ALIGNOF(__u64) == 8,
                   "the wave ABI needs 8-byte aligned 64-bit words");

#define WAVE_ABI_MAGIC 0x45564157u /* "WAVE" little-endian */
#define WAVE_ABI_MAJOR 3u          /* 3: subsystems and channels, cpu sets, negotiated features */
#define WAVE_ABI_MINOR 0u
#define WAVE_MSG_SIZE 64u
/* Cpu ids are 0..WAVE_MAX_CPUS-1: Linux's own limit (NR_CPUS at most 8192, CONFIG_MAXSMP). No
 * message carries a fixed-width mask of every cpu: sets of cpus travel as ranges or in chunks
 * (wave_sched.h). */
#define WAVE_MAX_CPUS 8192u

/* Feature bits, offered by the host in its hello and by the agent in its answer; a side uses a
 * feature only when both offered it. Bits an older peer does not know are ignored by it. */
#define WAVE_FEAT_PRESTAGE (1ull << 0) /* staged decisions in per-cpu lanes (wave_sched.h) */
#define WAVE_FEAT_GROUPS (1ull << 1)   /* all-or-nothing group commits (wave_sched.h) */
#define WAVE_FEATURES (WAVE_FEAT_PRESTAGE | WAVE_FEAT_GROUPS) /* what this version knows */

/* Subsystems. A message type's high byte names the subsystem that owns it; its low byte the
 * message within it. The link's own messages (subsystem 0) may travel on any channel. */
#define WAVE_SUBSYS_LINK 0u
#define WAVE_SUBSYS_SCHED 1u
#define WAVE_SUBSYS_MEM 2u
#define WAVE_SUBSYS_NET 3u
#define WAVE_SUBSYS_COUNT 4u
#define WAVE_MSG_SUBSYS(type) ((__u16)(type) >> 8)

/* The link's messages: X(KIND, NAME, VALUE) gives WAVE_<KIND>_<NAME> = VALUE. Every header in
 * abi/ lists its messages this way; wave_abi.h joins the lists (WAVE_MSG_TYPES), which give the
 * enum, the names (MsgTypeName) and the check of a type (wave_msg_type_known). Values are ABI:
 * never renumber, only append. */
#define WAVE_LINK_MSGS(X)      \
  X(EV, RESYNC_BEGIN, 0x0001u) \
  X(EV, RESYNC_END, 0x0002u)

#define WAVE_MSG_NONE 0u /* an unwritten slot; never a message */

/* Every slot starts with this header. `stamp` belongs to the ring: the producer writes it last
 * (release) and the consumer reads it first (acquire); it tells the consumer the slot is whole
 * without trusting any index written by the producer. It is 0 where a ring does not stamp (the
 * BPF ring buffer carries its own record header). */
struct wave_msg_hdr {
  __u32 stamp;
  __u16 type; /* WAVE_EV_* / WAVE_CMD_* */
  __u16 len;  /* bytes of the message that are meaningful, header included: WAVE_MSG_SIZE */
};

/* ---- rings ---------------------------------------------------------------------------------
 * A single-producer/single-consumer ring of `capacity` (a power of two) 64-byte slots lives in
 * its consumer's memory: [wave_ring_hdr][visible_at: capacity x __u64, padded to 64 bytes]
 * [slots: capacity x WAVE_MSG_SIZE]. Indices are free-running 32-bit counters masked by
 * capacity - 1. The stamp of the slot of index i is i + 1 once written; an unwritten slot holds
 * the stamp of the previous lap (i + 1 - capacity). visible_at[i & mask] is when the slot may
 * be read under an emulated link latency (0 on a real link). Its credit line, the consumer's
 * head, lives in the producer's memory: written lazily by the consumer (release), read by the
 * producer (acquire) only when it believes the ring full, and checked before it is believed. */
#define WAVE_RING_MAGIC 0x474e4952u /* "RING" */
#define WAVE_RING_MIN_CAPACITY 2u
#define WAVE_RING_MAX_CAPACITY (1u << 24)

struct wave_ring_hdr {
  __u32 magic; /* WAVE_RING_MAGIC */
  __u16 abi_major;
  __u16 abi_minor;
  __u32 slot_size; /* WAVE_MSG_SIZE */
  __u32 capacity;
  __u8 reserved[48];
};

struct wave_ring_credit {
  __u32 head;
  __u8 reserved[60];
};

/* Bytes of the visible_at array of a ring, and of the whole ring (header, array, slots). */
static inline __u64 wave_ring_visible_at_bytes(__u32 capacity) {
  return ((__u64)capacity * 8u + 63u) & ~(__u64)63u;
}
static inline __u64 wave_ring_bytes(__u32 capacity) {
  return sizeof(struct wave_ring_hdr) + wave_ring_visible_at_bytes(capacity) +
         (__u64)capacity * WAVE_MSG_SIZE;
}

/* ---- transactions --------------------------------------------------------------------------
 * Every command carries a txn id the agent chooses and the host echoes in its result. The top
 * 16 bits are the epoch of the last RESYNC_BEGIN the agent saw on that channel (0 before any):
 * the host drops, unanswered, commands of another epoch, since they were made on state the
 * agent has since forgotten. Epochs run 1..65535 and wrap back to 1. */
#define WAVE_TXN_EPOCH_SHIFT 48u
#define WAVE_TXN_EPOCH_MASK 0xffffu

static inline __u32 wave_txn_epoch(__u64 txn_id) {
  return (__u32)(txn_id >> WAVE_TXN_EPOCH_SHIFT) & WAVE_TXN_EPOCH_MASK;
}
/* The first txn id of `epoch`; ids count up from it (48 bits: they never reach the epoch). */
static inline __u64 wave_txn_first(__u32 epoch) {
  return ((__u64)(epoch & WAVE_TXN_EPOCH_MASK) << WAVE_TXN_EPOCH_SHIFT) | 1u;
}
/* The epoch a host announces after `epoch`. */
static inline __u32 wave_epoch_next(__u32 epoch) {
  const __u32 next = (epoch + 1u) & WAVE_TXN_EPOCH_MASK;
  return next == 0 ? 1u : next;
}

/* Every command, agent -> host, starts like this; its subsystem's header gives the rest. */
struct wave_a2k_cmd {
  struct wave_msg_hdr hdr; /* type: a WAVE_CMD_* */
  __u64 txn_id;            /* the agent's id, echoed; top bits: the epoch (above) */
  __u64 object_id;         /* what it acts on: a task, a region, a bucket */
  __u64 seq;               /* valid only while the object's sequence (or table epoch) is this */
  __u8 body[32];
};

/* Every result, host -> agent, starts like this: the answer to one command. */
struct wave_k2a_result {
  struct wave_msg_hdr hdr; /* type: the subsystem's result message */
  __u64 txn_id;            /* echoed from the command */
  __u64 object_id;         /* echoed from the command */
  __u64 seq;               /* the object's sequence at the host when validated (0 if unknown) */
  __u64 time_ns;           /* the host's clock */
  __u32 detail;            /* the subsystem's (scheduling: the cpu, echoed) */
  __u32 status;            /* the subsystem's status: WAVE_RESULT_OK, WAVE_RESULT_STALE, ... */
  __u32 flags;             /* the subsystem's */
  __u32 reserved0;
  __u64 reserved1;
};
#define WAVE_RESULT_OK 0u    /* done */
#define WAVE_RESULT_STALE 1u /* the object moved on: decide again with what the host said */

/* ---- resynchronisation ---------------------------------------------------------------------
 * RESYNC_BEGIN on a channel: the agent forgets every object of the channel's subsystem and
 * every command of it in flight, adopts `epoch`, and rebuilds from the replay that follows: one
 * record per live object (the subsystem's header says which), streamed in as many batches as
 * the ring takes, then RESYNC_END with the same epoch and the number of records between the
 * two. Live events wait at the host until the replay is out. Sent when an agent attaches, and
 * after the channel's ring overflowed (events were dropped). */
#define WAVE_RESYNC_AGENT_START (1u << 0) /* a new agent attached */
#define WAVE_RESYNC_OVERFLOW (1u << 1)    /* the event ring was full and events were dropped */

struct wave_k2a_resync {
  struct wave_msg_hdr hdr; /* type: WAVE_EV_RESYNC_BEGIN or WAVE_EV_RESYNC_END */
  __u64 time_ns;           /* the host's clock */
  __u32 epoch;             /* of every command from now on (1..65535) */
  __u32 reason;            /* BEGIN: WAVE_RESYNC_*; END: 0 */
  __u32 subsystem;         /* WAVE_SUBSYS_* whose state is replayed */
  __u32 reserved0;
  __u64 records; /* END: records of the replay (between BEGIN and END); BEGIN: 0 */
  __u64 reserved[3];
};

/* ---- the link: channels --------------------------------------------------------------------
 * A link is one region: [wave_link_hdr][channel table] [host half] [agent half], each half
 * page-aligned (WAVE_LINK_PAGE) so that it can be bound to its reader's NUMA node or live in its
 * reader's image: the host half is read by the host and written by the agent (on an IPU, host
 * memory the IPU writes by DMA), the agent half the reverse (IPU memory the host writes across
 * PCIe). A channel is one subsystem's traffic with its own rings, credits and capacities, so a
 * burst of one subsystem never delays another's:
 *   MAIN  events to the agent (a ring in the agent half, its credit line in the host half) and
 *         commands to the host (a ring in the host half, its credit line in the agent half);
 *   LANE  one cpu's prestaged decisions (scheduling, WAVE_FEAT_PRESTAGE): a ring to the host only.
 * A subsystem has at most one MAIN channel and, for scheduling, one LANE per cpu it stages on.
 * Every offset is from the start of the link and is checked to lie in the half it belongs to. */
#define WAVE_LINK_MAGIC 0x4b4e494cu /* "LINK" */
#define WAVE_LINK_PAGE 4096u
#define WAVE_CHAN_MAIN 1u
#define WAVE_CHAN_LANE 2u
#define WAVE_MAX_CHANNELS (WAVE_SUBSYS_COUNT + WAVE_MAX_CPUS) /* a MAIN each, a LANE per cpu */

struct wave_link_hdr {
  __u32 magic; /* WAVE_LINK_MAGIC */
  __u16 abi_major;
  __u16 abi_minor;
  __u32 slot_size; /* WAVE_MSG_SIZE */
  __u32 channel_count;
  __u64 table_offset; /* the channel table: channel_count x wave_channel_desc */
  __u64 host_offset;  /* the host half */
  __u64 host_bytes;
  __u64 agent_offset; /* the agent half */
  __u64 agent_bytes;
  __u64 total_bytes;
};

struct wave_channel_desc {
  __u16 subsystem;         /* WAVE_SUBSYS_* */
  __u16 kind;              /* WAVE_CHAN_* */
  __u32 index;             /* LANE: the cpu it serves; MAIN: 0 */
  __u32 to_agent_capacity; /* slots of the ring to the agent; 0: none (a LANE) */
  __u32 to_host_capacity;  /* slots of the ring to the host */
  __u64 to_agent_ring;     /* in the agent half */
  __u64 to_agent_credit;   /* in the host half */
  __u64 to_host_ring;      /* in the host half */
  __u64 to_host_credit;    /* in the agent half */
  __u64 reserved[2];
};

/* ---- the session: one control block, then the link ------------------------------------------
 * A session is a region [wave_session_ctl, one page][link]. The host publishes its hello (what
 * it offers), the agent answers (what it serves), whoever finds a mismatch writes the reason
 * into the verdict and both sides report that same sentence. Each line is written by one side
 * only, except the verdict's state, which moves forward under the protocol (host: HELLO,
 * ACCEPTED, REJECTED, CLOSED; agent: JOINED, REJECTED) and is stored (release) after the fields
 * it publishes and loaded (acquire) before them.
 * Heartbeats are counters, not times: the two images share no clock. Each side bumps its own
 * beat line as it runs; the other side notes, on its own clock, when it last saw the count move,
 * and presumes the peer dead once it has not moved for its timeout. */
#define WAVE_SESSION_MAGIC 0x53455357u /* "WSES" */
#define WAVE_SESSION_REASON_BYTES 120u
#define WAVE_TAKE_HOSTS 0xffffffffu /* an answer's "whatever the host says" */

enum wave_session_state {
  WAVE_SESSION_EMPTY = 0,
  WAVE_SESSION_HELLO = 1,    /* the host published its hello */
  WAVE_SESSION_JOINED = 2,   /* an agent answered and found no mismatch */
  WAVE_SESSION_ACCEPTED = 3, /* the host checked the answer: running */
  WAVE_SESSION_REJECTED = 4, /* either side found a mismatch; the verdict's reason says why */
  WAVE_SESSION_CLOSED = 5,   /* the host ended the session normally */
};

/* What the host offers of one subsystem (index: WAVE_SUBSYS_*); all 0: not offered. */
struct wave_session_offer {
  __u32 to_agent_capacity; /* its MAIN channel's rings */
  __u32 to_host_capacity;
  __u32 lanes; /* LANE channels (cpus 0..lanes-1) */
  __u32 lane_depth;
};

struct wave_session_hello { /* the host's */
  __u32 magic;              /* WAVE_SESSION_MAGIC */
  __u16 abi_major;
  __u16 abi_minor;
  __u32 slot_size;
  __u32 host_pid;
  __u64 features;        /* WAVE_FEAT_* the host's mechanism offers */
  __u32 num_cpus;        /* cpus the host manages (ids 0..num_cpus-1) */
  __u32 link_latency_ns; /* emulated one-way latency of both directions; 0 on a real link */
  __u32 link_clock;      /* the emulated link's time base (transport/clock.h) */
  __s32 host_node;       /* NUMA node of the host half, -1 if not bound */
  __u64 link_offset;     /* the link, from the start of the session region */
  __u64 link_bytes;
  struct wave_session_offer offer[WAVE_SUBSYS_COUNT];
  __u64 reserved;
};

struct wave_session_answer { /* the agent's */
  __u32 magic;
  __u16 abi_major;
  __u16 abi_minor;
  __u32 slot_size;
  __u32 agent_pid;
  __u64 features;        /* WAVE_FEAT_* the agent can use */
  __u32 num_cpus;        /* the cpus it was configured for; 0: the host's */
  __u32 link_latency_ns; /* WAVE_TAKE_HOSTS: the host's */
  __u32 link_clock;
  __s32 agent_node; /* NUMA node of the agent half, -1 if not bound */
  __u32 serves;     /* bit s: the agent serves subsystem s */
  __u32 reserved0;
  /* The ring sizes it was configured for, per subsystem; 0: the host's. */
  __u32 to_agent_capacity[WAVE_SUBSYS_COUNT];
  __u32 to_host_capacity[WAVE_SUBSYS_COUNT];
  __u64 reserved[6];
};

struct wave_session_verdict {
  __u32 state;                            /* enum wave_session_state */
  char reason[WAVE_SESSION_REASON_BYTES]; /* a one-line sentence, NUL-terminated */
  __u32 reserved;
};

struct wave_session_beat {
  __u64 count; /* bumped by its side as it runs (relaxed: a sign of life, not a publish) */
  __u64 reserved[7];
};

struct wave_session_ctl {
  struct wave_session_hello hello;     /* host */
  struct wave_session_answer answer;   /* agent */
  struct wave_session_verdict verdict; /* whoever decides */
  struct wave_session_beat host_beat;  /* host */
  struct wave_session_beat agent_beat; /* agent */
  __u32 generation;                    /* host: bumped each time it accepts an agent */
  __u32 reserved[15];
};

WAVE_STATIC_ASSERT(sizeof(struct wave_msg_hdr) == 8, "hdr size");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_msg_hdr, stamp) == 0, "hdr.stamp");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_msg_hdr, type) == 4, "hdr.type");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_msg_hdr, len) == 6, "hdr.len");

WAVE_STATIC_ASSERT(sizeof(struct wave_ring_hdr) == 64, "ring hdr size");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_ring_hdr, abi_major) == 4, "ring.abi_major");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_ring_hdr, abi_minor) == 6, "ring.abi_minor");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_ring_hdr, slot_size) == 8, "ring.slot_size");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_ring_hdr, capacity) == 12, "ring.capacity");
WAVE_STATIC_ASSERT(sizeof(struct wave_ring_credit) == 64, "credit size");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_ring_credit, head) == 0, "credit.head");

WAVE_STATIC_ASSERT(sizeof(struct wave_a2k_cmd) == WAVE_MSG_SIZE, "cmd size");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_a2k_cmd, txn_id) == 8, "cmd.txn_id");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_a2k_cmd, object_id) == 16, "cmd.object_id");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_a2k_cmd, seq) == 24, "cmd.seq");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_a2k_cmd, body) == 32, "cmd.body");

WAVE_STATIC_ASSERT(sizeof(struct wave_k2a_result) == WAVE_MSG_SIZE, "result size");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_result, txn_id) == 8, "result.txn_id");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_result, object_id) == 16, "result.object_id");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_result, seq) == 24, "result.seq");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_result, time_ns) == 32, "result.time_ns");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_result, detail) == 40, "result.detail");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_result, status) == 44, "result.status");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_result, flags) == 48, "result.flags");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_result, reserved0) == 52, "result.reserved0");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_result, reserved1) == 56, "result.reserved1");

WAVE_STATIC_ASSERT(sizeof(struct wave_k2a_resync) == WAVE_MSG_SIZE, "resync size");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_resync, time_ns) == 8, "resync.time_ns");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_resync, epoch) == 16, "resync.epoch");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_resync, reason) == 20, "resync.reason");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_resync, subsystem) == 24, "resync.subsystem");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_resync, records) == 32, "resync.records");

WAVE_STATIC_ASSERT(sizeof(struct wave_link_hdr) == 64, "link hdr size");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_link_hdr, channel_count) == 12, "link.channel_count");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_link_hdr, table_offset) == 16, "link.table_offset");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_link_hdr, host_offset) == 24, "link.host_offset");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_link_hdr, agent_offset) == 40, "link.agent_offset");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_link_hdr, total_bytes) == 56, "link.total_bytes");
WAVE_STATIC_ASSERT(sizeof(struct wave_channel_desc) == 64, "channel desc size");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_channel_desc, index) == 4, "channel.index");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_channel_desc, to_agent_capacity) == 8,
                   "channel.to_agent_capacity");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_channel_desc, to_agent_ring) == 16,
                   "channel.to_agent_ring");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_channel_desc, to_host_credit) == 40,
                   "channel.to_host_credit");

WAVE_STATIC_ASSERT(sizeof(struct wave_session_offer) == 16, "offer size");
WAVE_STATIC_ASSERT(sizeof(struct wave_session_hello) == 128, "hello size");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_session_hello, features) == 16, "hello.features");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_session_hello, num_cpus) == 24, "hello.num_cpus");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_session_hello, link_offset) == 40, "hello.link");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_session_hello, offer) == 56, "hello.offer");
WAVE_STATIC_ASSERT(sizeof(struct wave_session_answer) == 128, "answer size");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_session_answer, features) == 16, "answer.features");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_session_answer, serves) == 40, "answer.serves");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_session_answer, to_agent_capacity) == 48,
                   "answer.to_agent_capacity");
WAVE_STATIC_ASSERT(sizeof(struct wave_session_verdict) == 128, "verdict size");
WAVE_STATIC_ASSERT(sizeof(struct wave_session_beat) == 64, "beat size");
/* Each line of the control block is a whole number of cache lines: the two sides' beats, written
 * as often as they loop, share no line. */
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_session_ctl, answer) == 128, "ctl.answer");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_session_ctl, verdict) == 256, "ctl.verdict");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_session_ctl, host_beat) == 384, "ctl.host_beat");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_session_ctl, agent_beat) == 448, "ctl.agent_beat");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_session_ctl, generation) == 512, "ctl.generation");
WAVE_STATIC_ASSERT(sizeof(struct wave_session_ctl) <= WAVE_LINK_PAGE, "ctl fits a page");

#endif /* LIBWAVE_ABI_WAVE_LINK_H_ */
