// SPDX-License-Identifier: GPL-2.0
/* scx_wave.bpf.c - the kernel half of the `scx` mechanism (host/scx): Wave's custom scheduling
 * class as a sched_ext (Linux 6.12+) struct_ops scheduler. The agent decides which managed
 * thread runs where; this program reports what happens to those threads and enacts the agent's
 * decisions after checking them against the kernel's current state.
 *
 * Managed tasks are the ones that opt in (SCX_OPS_SWITCH_PARTIAL: threads whose policy is
 * SCHED_EXT); every other task stays with the fair class. Layout of the maps: bpf/scx_maps.h.
 *
 * Emits, into the `events` BPF ring buffer, one ABI message (abi/wave_abi.h) per change of a
 * managed task, each with the task's sequence number after it:
 *   enable         -> TASK_NEW (blocked)        disable      -> TASK_DEAD (exiting) or DEPARTED
 *   runnable       -> TASK_WAKEUP               quiescent    -> TASK_BLOCKED (a sleep)
 *   running        -> TASK_ON_CPU               stopping     -> TASK_PREEMPTED / TASK_YIELD
 *   set_cpumask    -> TASK_AFFINITY             dispatch     -> CPU_IDLE (a managed cpu found
 *                                                               no work), COMMIT_RESULT
 * A task preempted by a higher scheduling class keeps its cpu (the kernel puts it back at the
 * head of the cpu's local queue with its slice left): no event, it is still that cpu's task.
 *
 * Consumes decisions from shared memory: per cpu, a ring of prestaged decisions and a ring of
 * commits (the `queues` map, written by user space). `dispatch` on a cpu takes its staged
 * decisions first (a stale one is aborted and the next tried), then its commits; each is checked
 * like host/mech's ValidateCommit (well-formed, known task, cpu allowed, sequence current, not
 * on a cpu, runnable, cpu free) and, if valid, the task moves from the pending DSQ to this cpu's
 * local DSQ. Every decision is answered with a COMMIT_RESULT (flagged STAGED for staged ones),
 * except decisions of another epoch (made by an agent since replaced), dropped unanswered.
 *
 * Runnable tasks wait in one shared DSQ (WAVE_SCX_PENDING_DSQ), the in-kernel FIFO. When the
 * agent's heartbeat (`ctl`, written by user space) is stale, cpus take tasks from it in order:
 * the system keeps running and nothing is lost. A task that has waited longer than
 * max_wait_ns is run in FIFO order even with a live agent, so a stuck or hostile agent never
 * lets the kernel's watchdog eject the scheduler. A timer kicks idle cpus while tasks wait.
 */
#include "vmlinux.h"

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "bpf/scx_maps.h"
#include "abi/wave_abi.h"

#include "bpf/wave_cpus.bpf.h" /* after the ABI and the kernel types */
#include "bpf/wave_emit.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define PF_EXITING 0x00000004

/* sched_ext kfuncs as Linux 6.12 names them (6.13 renamed dispatch to dsq_insert). */
void scx_bpf_dispatch(struct task_struct* p, u64 dsq_id, u64 slice, u64 enq_flags) __ksym;
bool scx_bpf_consume(u64 dsq_id) __ksym;
s32 scx_bpf_create_dsq(u64 dsq_id, s32 node) __ksym;
s32 scx_bpf_dsq_nr_queued(u64 dsq_id) __ksym;
void scx_bpf_kick_cpu(s32 cpu, u64 flags) __ksym;
s32 scx_bpf_task_cpu(const struct task_struct* p) __ksym;
s32 scx_bpf_pick_idle_cpu(const struct cpumask* cpus_allowed, u64 flags) __ksym;
bool scx_bpf_dispatch_from_dsq(struct bpf_iter_scx_dsq* it, struct task_struct* p, u64 dsq_id,
                               u64 enq_flags) __ksym;
void scx_bpf_dispatch_from_dsq_set_slice(struct bpf_iter_scx_dsq* it, u64 slice) __ksym;
int bpf_iter_scx_dsq_new(struct bpf_iter_scx_dsq* it, u64 dsq_id, u64 flags) __ksym;
struct task_struct* bpf_iter_scx_dsq_next(struct bpf_iter_scx_dsq* it) __ksym;
void bpf_iter_scx_dsq_destroy(struct bpf_iter_scx_dsq* it) __ksym;
bool bpf_cpumask_test_cpu(u32 cpu, const struct cpumask* cpumask) __ksym;

#define READ_ONCE_U32(x) (*(volatile __u32*)&(x))
#define READ_ONCE_U64(x) (*(volatile __u64*)&(x))

/* Set by the loader before load. */
const volatile __u64 managed_cpus = ~0ull;           /* cpus the agent may place tasks on */
const volatile __u32 nr_cpus = 1;                    /* possible cpus (<= WAVE_MAX_CPUS) */
const volatile __u64 heartbeat_timeout_ns = 100000000; /* agent presumed dead after this */
const volatile __u64 default_slice_ns = 20000000;   /* a decision's slice when it says 0 */
const volatile __u64 max_wait_ns = 2000000000;      /* FIFO for tasks waiting longer than this */
const volatile __u64 tick_ns = 10000000;            /* the timer's period */

struct wave_scx_exit exit_info;

/* Each cpu's own state (its rings' heads, what it reported) and counters. */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct wave_scx_cpu_state);
} cpu_state SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct wave_scx_counters);
} counters SEC(".maps");

/* Tid of the managed task each cpu runs, 0 for none: user space reads it for CPU_BUSY. One
 * entry per possible cpu (the loader sizes it), mapped by user space. */
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(map_flags, BPF_F_MMAPABLE);
  __uint(max_entries, 1); /* resized by the loader */
  __type(key, __u32);
  __type(value, __u32);
} cpu_current SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 1 << 22); /* resized by the loader */
} events SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, WAVE_SCX_MAX_TASKS);
  __type(key, __u32);
  __type(value, struct wave_scx_task);
} tasks SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(map_flags, BPF_F_MMAPABLE);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct wave_scx_ctl);
} ctl SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(map_flags, BPF_F_MMAPABLE);
  __uint(max_entries, 1); /* resized by the loader: one per possible cpu */
  __type(key, __u32);
  __type(value, struct wave_scx_cpu_queues);
} queues SEC(".maps");

struct wave_timer {
  struct bpf_timer timer;
};
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct wave_timer);
} timers SEC(".maps");

/* This cpu's counters; there always are (a per-cpu array of one entry). */
static __always_inline struct wave_scx_counters* my_counters(void) {
  __u32 zero = 0;
  return bpf_map_lookup_elem(&counters, &zero);
}

/* Adds one to a counter of this cpu. */
#define COUNT(field)                                  \
  do {                                                \
    struct wave_scx_counters* c_ = my_counters();     \
    if (c_) __sync_fetch_and_add(&c_->field, 1);      \
  } while (0)

/* The state of `cpu` (any cpu: the timer looks at all of them). */
static __always_inline struct wave_scx_cpu_state* state_of(s32 cpu) {
  __u32 zero = 0;
  return bpf_map_lookup_percpu_elem(&cpu_state, &zero, (__u32)cpu);
}

static __always_inline void set_current(s32 cpu, __u32 tid) {
  __u32 key = cpu;
  __u32* current = bpf_map_lookup_elem(&cpu_current, &key);
  if (current) *current = tid;
}

static __always_inline bool cpu_managed(s32 cpu) { return wave_cpu_managed(cpu); }

static __always_inline bool agent_alive(__u64 now) {
  __u32 zero = 0;
  struct wave_scx_ctl* c = bpf_map_lookup_elem(&ctl, &zero);
  if (!c) return false;
  __u64 beat = READ_ONCE_U64(c->beat_ns);
  /* A beat from the future (user space read its clock after we read ours) is alive. */
  return beat != 0 && (s64)(now - beat) < (s64)heartbeat_timeout_ns;
}

static __always_inline __u64 current_epoch(void) {
  __u32 zero = 0;
  struct wave_scx_ctl* c = bpf_map_lookup_elem(&ctl, &zero);
  return c ? (__u32)READ_ONCE_U64(c->epoch) & WAVE_TXN_EPOCH_MASK : 0;
}

static __always_inline void emit(const union wave_msg* m) {
  struct wave_scx_counters* c = my_counters();
  if (c) wave_send(&events, m, &c->emitted, &c->dropped);
}

/* Bumps the task's sequence and emits one task event for it. */
static __always_inline void emit_task(__u16 type, struct task_struct* p, struct wave_scx_task* t,
                                      s32 cpu, __u32 flags) {
  union wave_msg m;
  wave_fill_task(&m, type, p, &t->seq, t->cpu_mask, cpu, flags);
  emit(&m);
}

static __always_inline void emit_cpu(__u16 type, s32 cpu) {
  union wave_msg m;
  wave_fill_cpu(&m, type, cpu);
  emit(&m);
}

static __always_inline struct wave_scx_task* task_of(struct task_struct* p) {
  __u32 tid = p->pid;
  return bpf_map_lookup_elem(&tasks, &tid);
}

static __always_inline __u64 allowed_mask(const struct cpumask* mask) {
  return wave_allowed_cpus(mask);
}

/* ---- decisions ---- */

/* host/mech's CommitWellFormed, for the kernel side: type, length, known flags, reserved bits
 * zero, and no group (the kernel side enacts no all-or-nothing groups; user space answers them). */
static __always_inline bool commit_well_formed(const struct wave_a2k_commit* c) {
  return c->hdr.type == WAVE_CMD_COMMIT && c->hdr.len == WAVE_MSG_SIZE &&
         (c->flags & ~WAVE_COMMIT_F_ALL) == 0 && c->reserved == 0 && c->group == 0 &&
         c->group_size == 0;
}

/* Moves task `tid` from the pending DSQ to `cpu`'s local DSQ with `slice`: WAVE_COMMIT_OK, or
 * NOT_RUNNABLE when it is not in the pending DSQ (any more: the kernel's own custody decides, not
 * our bookkeeping), or CPU_NOT_ALLOWED when its own cpumask (authoritative, of any size) does
 * not have `cpu`. */
static __noinline __u32 move_to_cpu(__u32 tid, s32 cpu, __u64 slice) {
  struct bpf_iter_scx_dsq it;
  struct task_struct* p;
  __u32 status = WAVE_COMMIT_NOT_RUNNABLE;
  bpf_iter_scx_dsq_new(&it, WAVE_SCX_PENDING_DSQ, 0);
  while ((p = bpf_iter_scx_dsq_next(&it))) {
    if ((__u32)p->pid != tid) continue;
    if (!bpf_cpumask_test_cpu((u32)cpu, p->cpus_ptr)) {
      status = WAVE_COMMIT_CPU_NOT_ALLOWED;
      break;
    }
    scx_bpf_dispatch_from_dsq_set_slice(&it, slice);
    if (scx_bpf_dispatch_from_dsq(&it, p, SCX_DSQ_LOCAL_ON | (u64)cpu, 0)) status = WAVE_COMMIT_OK;
    break;
  }
  bpf_iter_scx_dsq_destroy(&it);
  return status;
}

/* Checks one decision taken from `cpu`'s rings, enacts it if valid and nothing was placed on
 * the cpu yet, and answers it. Returns true when it put a task on the cpu. */
static __noinline bool take_decision(union wave_msg* m, s32 cpu, bool staged, bool placed) {
  struct wave_a2k_commit* c = &m->commit;
  if (wave_txn_epoch(c->txn_id) != current_epoch()) {
    COUNT(stale_epoch);
    return false;
  }
  __u32 status = WAVE_COMMIT_OK;
  __u64 seq = 0;
  struct wave_scx_task* t = NULL;
  if (!commit_well_formed(c) || c->cpu != cpu) {
    status = WAVE_COMMIT_MALFORMED;
  } else {
    __u32 tid = (__u32)c->task_id;
    if (c->task_id != 0 && c->task_id <= 0xffffffffull) t = bpf_map_lookup_elem(&tasks, &tid);
    if (!t) {
      status = WAVE_COMMIT_UNKNOWN_TASK;
    } else {
      seq = t->seq;
      /* The kept mask is exact on a machine of at most 64 cpus; beyond, the task's own mask is
       * checked where it is found (move_to_cpu). */
      if (!cpu_managed(cpu) || (wave_cpu_words == 1 && !((t->cpu_mask >> (cpu & 63)) & 1))) {
        status = WAVE_COMMIT_CPU_NOT_ALLOWED;
      } else if (c->seq != seq) {
        status = WAVE_COMMIT_STALE;
      } else if (t->state == WAVE_SCX_ON_CPU) {
        status = WAVE_COMMIT_ON_CPU;
      } else if (t->state != WAVE_SCX_RUNNABLE || !(t->flags & WAVE_SCX_TASK_F_PENDING)) {
        status = WAVE_COMMIT_NOT_RUNNABLE;
      } else if (placed) {
        status = WAVE_COMMIT_CPU_BUSY;
      } else {
        __u64 slice = c->slice_ns ? c->slice_ns : default_slice_ns;
        if (slice < 50000) slice = 50000; /* a slice the tick can still enforce */
        status = move_to_cpu(tid, cpu, slice);
        if (status == WAVE_COMMIT_OK) {
          t->flags &= ~WAVE_SCX_TASK_F_PENDING;
          COUNT(dispatched);
        }
      }
    }
  }
  union wave_msg r;
  wave_msg_init(&r, WAVE_EV_COMMIT_RESULT);
  r.result.txn_id = c->txn_id;
  r.result.task_id = c->task_id;
  r.result.seq = seq;
  r.result.time_ns = bpf_ktime_get_ns();
  r.result.cpu = c->cpu;
  r.result.status = status;
  r.result.flags = staged ? WAVE_RESULT_F_STAGED : 0;
  emit(&r);
  return status == WAVE_COMMIT_OK;
}

/* Takes the next whole slot of a ring (stamp == index + 1), copies it to `out` and releases
 * it: the consumer head moves on and is published in the credit line.
 * Ordering (abi/wave_link.h), on any architecture: the stamp is read with a fully ordered atomic
 * read-modify-write (BPF on these kernels has no load-acquire; an atomic with BPF_FETCH is a full
 * barrier in every JIT), so the slot's loads come after it; the credit is published with an
 * atomic exchange, also fully ordered, so it comes after the copy's loads: the producer never
 * reuses a slot still being read. */
static __always_inline bool ring_take(union wave_msg* slots, __u32 depth, __u32* head,
                                      __u32* credit, union wave_msg* out) {
  __u32 h = *head;
  union wave_msg* slot = &slots[h & (depth - 1)];
  if (__sync_fetch_and_add(&slot->hdr.stamp, 0) != h + 1) return false; /* acquire (and more) */
  __builtin_memcpy(out, slot, sizeof(*out));
  *head = h + 1;
  __sync_lock_test_and_set(credit, h + 1); /* release (and more) */
  return true;
}

static __always_inline bool take_queued(s32 cpu, struct wave_scx_cpu_state* cs) {
  __u32 key = cpu;
  struct wave_scx_cpu_queues* q = bpf_map_lookup_elem(&queues, &key);
  union wave_msg m;
  bool placed = false;
  if (!q) return false;
  /* Staged decisions only while the cpu is free: the first valid one runs next. */
  for (int i = 0; i < WAVE_SCX_STAGE_DEPTH && !placed; i++) {
    if (!ring_take(q->stage, WAVE_SCX_STAGE_DEPTH, &cs->stage_head, &q->credit.stage_head, &m))
      break;
    COUNT(staged);
    placed = take_decision(&m, cpu, true, placed);
  }
  /* Every queued commit is answered now; once the cpu has its task, the rest are CPU_BUSY. */
  for (int i = 0; i < WAVE_SCX_COMMIT_DEPTH; i++) {
    if (!ring_take(q->commit, WAVE_SCX_COMMIT_DEPTH, &cs->commit_head, &q->credit.commit_head,
                   &m))
      break;
    COUNT(committed);
    if (take_decision(&m, cpu, false, placed)) placed = true;
  }
  return placed;
}

/* True when the oldest task in the pending DSQ has waited longer than max_wait_ns. */
static __noinline bool oldest_starving(__u64 now) {
  struct bpf_iter_scx_dsq it;
  struct task_struct* p;
  bool starving = false;
  bpf_iter_scx_dsq_new(&it, WAVE_SCX_PENDING_DSQ, 0);
  p = bpf_iter_scx_dsq_next(&it);
  if (p) {
    struct wave_scx_task* t = task_of(p);
    starving = !t || (s64)(now - t->enq_ns) > (s64)max_wait_ns;
  }
  bpf_iter_scx_dsq_destroy(&it);
  return starving;
}

/* ---- the scheduler's callbacks ---- */

SEC("struct_ops/wave_select_cpu")
s32 BPF_PROG(wave_select_cpu, struct task_struct* p, s32 prev_cpu, u64 wake_flags) {
  /* Where the task waits makes no difference (the pending DSQ is shared); never a direct
   * dispatch, which would bypass the agent. */
  return prev_cpu;
}

SEC("struct_ops/wave_enqueue")
void BPF_PROG(wave_enqueue, struct task_struct* p, u64 enq_flags) {
  __u64 now = bpf_ktime_get_ns();
  struct wave_scx_task* t = task_of(p);
  if (t) {
    t->enq_ns = now;
    t->flags |= WAVE_SCX_TASK_F_PENDING;
  }
  scx_bpf_dispatch(p, WAVE_SCX_PENDING_DSQ, default_slice_ns, enq_flags);
  if (!agent_alive(now)) {
    /* No agent: any idle cpu that may run it takes it in FIFO order. */
    s32 cpu = scx_bpf_pick_idle_cpu(p->cpus_ptr, 0);
    if (cpu >= 0) scx_bpf_kick_cpu(cpu, SCX_KICK_IDLE);
  }
}

SEC("struct_ops/wave_dispatch")
void BPF_PROG(wave_dispatch, s32 cpu, struct task_struct* prev) {
  __u32 zero = 0;
  struct wave_scx_cpu_state* cs = bpf_map_lookup_elem(&cpu_state, &zero); /* this cpu's */
  if (!cs || cpu < 0) return;
  __u64 now = bpf_ktime_get_ns();
  if (!agent_alive(now)) {
    if (scx_bpf_consume(WAVE_SCX_PENDING_DSQ)) COUNT(fallback);
    return;
  }
  if (cpu_managed(cpu) && take_queued(cpu, cs)) return;
  if (scx_bpf_dsq_nr_queued(WAVE_SCX_PENDING_DSQ) > 0 && oldest_starving(now)) {
    if (scx_bpf_consume(WAVE_SCX_PENDING_DSQ)) {
      COUNT(starved);
      return;
    }
  }
  /* Nothing for this cpu, and no managed task goes on here: tell the agent once. */
  bool prev_stays = prev && (prev->scx.flags & SCX_TASK_QUEUED) && task_of(prev);
  if (cpu_managed(cpu) && !prev_stays && !cs->idle_reported) {
    cs->idle_reported = 1;
    COUNT(idle);
    emit_cpu(WAVE_EV_CPU_IDLE, cpu);
  }
}

SEC("struct_ops/wave_runnable")
void BPF_PROG(wave_runnable, struct task_struct* p, u64 enq_flags) {
  struct wave_scx_task* t = task_of(p);
  if (!t || t->state != WAVE_SCX_BLOCKED) return; /* a requeue after a property change */
  t->state = WAVE_SCX_RUNNABLE;
  emit_task(WAVE_EV_TASK_WAKEUP, p, t, -1, 0);
}

SEC("struct_ops/wave_running")
void BPF_PROG(wave_running, struct task_struct* p) {
  s32 cpu = scx_bpf_task_cpu(p);
  struct wave_scx_task* t = task_of(p);
  if (!t) return;
  t->state = WAVE_SCX_ON_CPU;
  t->flags &= ~(WAVE_SCX_TASK_F_PENDING | WAVE_SCX_TASK_F_YIELDING);
  t->cpu = cpu;
  struct wave_scx_cpu_state* cs = cpu >= 0 ? state_of(cpu) : NULL;
  if (cs) {
    cs->current = p->pid;
    cs->idle_reported = 0;
  }
  if (cpu >= 0) set_current(cpu, p->pid);
  emit_task(WAVE_EV_TASK_ON_CPU, p, t, cpu, 0);
}

SEC("struct_ops/wave_stopping")
void BPF_PROG(wave_stopping, struct task_struct* p, bool runnable) {
  s32 cpu = scx_bpf_task_cpu(p);
  struct wave_scx_task* t = task_of(p);
  if (!t) return;
  bool yielding = t->flags & WAVE_SCX_TASK_F_YIELDING;
  /* Preempted by a higher class with slice left: the kernel keeps it at the head of this cpu's
   * queue and it resumes here. To the agent it still holds the cpu. */
  if (runnable && p->scx.slice > 0 && !yielding) return;
  struct wave_scx_cpu_state* cs = cpu >= 0 ? state_of(cpu) : NULL;
  if (cs) cs->current = 0;
  if (cpu >= 0) set_current(cpu, 0);
  if (!runnable) return; /* going to sleep: quiescent reports it */
  t->state = WAVE_SCX_RUNNABLE;
  t->flags &= ~WAVE_SCX_TASK_F_YIELDING;
  emit_task(yielding ? WAVE_EV_TASK_YIELD : WAVE_EV_TASK_PREEMPTED, p, t, cpu, 0);
}

SEC("struct_ops/wave_quiescent")
void BPF_PROG(wave_quiescent, struct task_struct* p, u64 deq_flags) {
  struct wave_scx_task* t = task_of(p);
  if (!t) return;
  t->flags &= ~WAVE_SCX_TASK_F_PENDING;
  if (!(deq_flags & SCX_DEQ_SLEEP)) return; /* a property change: it comes right back */
  t->state = WAVE_SCX_BLOCKED;
  emit_task(WAVE_EV_TASK_BLOCKED, p, t, scx_bpf_task_cpu(p), 0);
}

SEC("struct_ops/wave_yield")
bool BPF_PROG(wave_yield, struct task_struct* from, struct task_struct* to) {
  struct wave_scx_task* t = task_of(from);
  if (t) t->flags |= WAVE_SCX_TASK_F_YIELDING;
  from->scx.slice = 0; /* what the kernel does for a scheduler without ops.yield */
  return false;
}

SEC("struct_ops/wave_set_cpumask")
void BPF_PROG(wave_set_cpumask, struct task_struct* p, const struct cpumask* mask) {
  struct wave_scx_task* t = task_of(p);
  if (!t) return;
  __u64 m = allowed_mask(mask);
  if (m == t->cpu_mask) return;
  t->cpu_mask = m;
  emit_task(WAVE_EV_TASK_AFFINITY, p, t, -1, 0);
}

SEC("struct_ops/wave_enable")
void BPF_PROG(wave_enable, struct task_struct* p) {
  __u32 tid = p->pid;
  struct wave_scx_task init = {
      .cpu_mask = allowed_mask(p->cpus_ptr),
      .state = WAVE_SCX_BLOCKED,
      .cpu = -1,
  };
  if (bpf_map_update_elem(&tasks, &tid, &init, BPF_ANY) != 0) {
    COUNT(task_table_full);
    return; /* still scheduled (pending DSQ, FIFO), only not reported */
  }
  struct wave_scx_task* t = bpf_map_lookup_elem(&tasks, &tid);
  if (t) emit_task(WAVE_EV_TASK_NEW, p, t, -1, 0);
}

SEC("struct_ops/wave_disable")
void BPF_PROG(wave_disable, struct task_struct* p) {
  __u32 tid = p->pid;
  struct wave_scx_task* t = bpf_map_lookup_elem(&tasks, &tid);
  if (!t) return;
  emit_task((p->flags & PF_EXITING) ? WAVE_EV_TASK_DEAD : WAVE_EV_TASK_DEPARTED, p, t, -1, 0);
  bpf_map_delete_elem(&tasks, &tid);
}

/* The timer: while tasks wait, idle cpus are kicked so their dispatch looks (at the agent's
 * decisions, or at the FIFO when the agent is gone or a task has waited too long); so are cpus
 * with decisions queued, should a kick from user space have been missed. */
/* One cpu of the timer's round: kicked if tasks wait, or if decisions wait in its rings. */
static long kick_if_needed(__u32 cpu, void* ctx) {
  bool kick = *(bool*)ctx;
  if (!kick && cpu_managed(cpu)) {
    __u32 k = cpu;
    struct wave_scx_cpu_queues* q = bpf_map_lookup_elem(&queues, &k);
    struct wave_scx_cpu_state* cs = state_of(cpu);
    kick = q && cs &&
           (READ_ONCE_U32(q->commit[cs->commit_head & (WAVE_SCX_COMMIT_DEPTH - 1)].hdr.stamp) ==
                cs->commit_head + 1 ||
            READ_ONCE_U32(q->stage[cs->stage_head & (WAVE_SCX_STAGE_DEPTH - 1)].hdr.stamp) ==
                cs->stage_head + 1);
  }
  if (kick) {
    scx_bpf_kick_cpu(cpu, SCX_KICK_IDLE);
    COUNT(kicks);
  }
  return 0;
}

static int wave_timerfn(void* map, int* key, struct bpf_timer* timer) {
  bool waiting = scx_bpf_dsq_nr_queued(WAVE_SCX_PENDING_DSQ) > 0;
  bpf_loop(nr_cpus, kick_if_needed, &waiting, 0); /* any number of cpus, one verified body */
  bpf_timer_start(timer, tick_ns, 0);
  return 0;
}

SEC("struct_ops.s/wave_init")
s32 BPF_PROG(wave_init) {
  s32 err = scx_bpf_create_dsq(WAVE_SCX_PENDING_DSQ, -1);
  if (err) return err;
  __u32 zero = 0;
  struct wave_timer* w = bpf_map_lookup_elem(&timers, &zero);
  if (!w) return -2; /* -ENOENT */
  bpf_timer_init(&w->timer, &timers, 1 /* CLOCK_MONOTONIC */);
  bpf_timer_set_callback(&w->timer, wave_timerfn);
  return bpf_timer_start(&w->timer, tick_ns, 0);
}

SEC("struct_ops/wave_exit")
void BPF_PROG(wave_exit, struct scx_exit_info* ei) {
  bpf_probe_read_kernel_str(exit_info.reason, sizeof(exit_info.reason), ei->reason);
  bpf_probe_read_kernel_str(exit_info.msg, sizeof(exit_info.msg), ei->msg);
  exit_info.exit_code = ei->exit_code;
  /* Last, fully ordered (an atomic exchange): user space reads kind first, with acquire. */
  __sync_lock_test_and_set(&exit_info.kind, ei->kind);
}

/* Run by user space (BPF_PROG_TEST_RUN) after it queued decisions: wakes their cpus, a batch of
 * at most WAVE_SCX_KICK_BATCH per run. */
SEC("syscall")
int wave_kick(struct wave_scx_kick_args* args) {
  __u32 count = args->count;
  for (__u32 i = 0; i < WAVE_SCX_KICK_BATCH; i++) {
    if (i >= count) break;
    s32 cpu = args->cpus[i];
    if (cpu < 0 || (__u32)cpu >= nr_cpus) continue;
    bool preempt = (args->preempt[i / 32] >> (i % 32)) & 1;
    scx_bpf_kick_cpu(cpu, preempt ? SCX_KICK_PREEMPT : SCX_KICK_IDLE);
    COUNT(kicks);
  }
  return 0;
}

SEC(".struct_ops.link")
struct sched_ext_ops wave_ops = {
    .select_cpu = (void*)wave_select_cpu,
    .enqueue = (void*)wave_enqueue,
    .dispatch = (void*)wave_dispatch,
    .runnable = (void*)wave_runnable,
    .running = (void*)wave_running,
    .stopping = (void*)wave_stopping,
    .quiescent = (void*)wave_quiescent,
    .yield = (void*)wave_yield,
    .set_cpumask = (void*)wave_set_cpumask,
    .enable = (void*)wave_enable,
    .disable = (void*)wave_disable,
    .init = (void*)wave_init,
    .exit = (void*)wave_exit,
    .flags = SCX_OPS_SWITCH_PARTIAL,
    .name = "wave",
};
