// SPDX-License-Identifier: GPL-2.0
/* trace.bpf.c - the kernel half of the `trace` mechanism (host/trace): real task events from stock
 * Linux, no custom scheduling class.
 *
 * Emits, into the `events` BPF ring buffer, one ABI message (abi/wave_abi.h) per scheduling
 * event of a *managed* task (its thread group is in `managed_tgids`, or it is in the cgroup v2
 * subtree `managed_cgroup_id`; children of managed processes join it when they are created):
 *   sched_wakeup_new    -> TASK_NEW (runnable)
 *   sched_wakeup        -> TASK_WAKEUP, only for a task that had blocked (see below)
 *   sched_switch        -> prev: TASK_BLOCKED, TASK_YIELD (switched away inside sched_yield(),
 *                          when the call is seen: see the end of the file) or TASK_PREEMPTED;
 *                          next: TASK_ON_CPU;
 *                          CPU_IDLE when a managed cpu goes from managed work to other work
 *   sched_process_exit  -> TASK_DEAD
 *   sched_migrate_task  -> TASK_AFFINITY when the allowed cpus changed (else only counted)
 * Any event of a task not seen before is preceded by its TASK_NEW, and any event of a task whose
 * allowed cpus changed is preceded by TASK_AFFINITY. Every task event carries the task's
 * sequence number after it; the `tasks` map holds the current one, which user space reads to
 * validate commits. Consumes nothing: commits are enacted by user space with syscalls.
 *
 * A transition the programs did not see is inferred from the next one that implies it, and
 * emitted then with WAVE_TASK_F_INFERRED (counted in `inferred`): a task that reaches a cpu gets
 * the WAKEUP it missed, one that leaves a cpu the ON_CPU. Runs are missed for real: the kernel
 * skips tracing programs in some contexts, and one sandbox kernel we run on (this project's CI
 * machine) runs none while its init's threads are current and fires no sched_switch when a cpu
 * switches away from them, so a wakeup from an interrupt there, or the switch to a managed task,
 * is never seen. Without inference the agent would believe a running task blocked.
 *
 * Unmanaged tasks produce nothing but a hash lookup (and with a managed cgroup, a few reads). When the ring buffer is full an event is
 * dropped and counted (the agent sees a gap in the task's sequence, which it tolerates); the
 * kernel's own scheduling is never affected.
 */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "bpf/trace_maps.h"
#include "abi/wave_abi.h"

#include "bpf/wave_cpus.bpf.h" /* after the ABI and the kernel types */
#include "bpf/wave_emit.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define PF_EXITING 0x00000004
#define TASK_RUNNING 0x0000
#define TASK_DEAD 0x00000080

/* The managed cpus and the size of the kernel's cpu masks: bpf/wave_cpus.bpf.h. */

/* Per-cpu counters (struct wave_trace_counters), summed by user space. */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct wave_trace_counters);
} counters SEC(".maps");

/* Tid of the managed task each cpu runs, 0 for none: the host's view of a busy cpu. One entry
 * per possible cpu (the loader sizes it), mapped by user space. */
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(map_flags, BPF_F_MMAPABLE);
  __uint(max_entries, 1); /* resized by the loader */
  __type(key, __u32);
  __type(value, __u32);
} cpu_current SEC(".maps");
/* Set by user space (TraceProgram::ManageCgroup): every task in the cgroup v2 subtree whose root
 * has this kernfs id, at this depth below the hierarchy's root, is managed too. 0: none. */
__u64 managed_cgroup_id;
__u32 managed_cgroup_level;
/* Tests: a thread group in whose context no program does anything, as if the kernel ran none
 * while one of its threads is current (see the top of the file). 0: none. */
__u32 blind_tgid;

static __always_inline bool blind(void) {
  return blind_tgid != 0 && (__u32)(bpf_get_current_pid_tgid() >> 32) == blind_tgid;
}

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 1 << 21); /* resized by the loader */
} events SEC(".maps");

/* Thread groups whose tasks are managed. Written by user space (and by wakeup_new, for children
 * of managed processes); an entry goes away at the last switch of its group's last thread. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, WAVE_TRACE_MAX_TGIDS);
  __type(key, __u32);
  __type(value, __u32);
} managed_tgids SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, WAVE_TRACE_MAX_TASKS);
  __type(key, __u32);
  __type(value, struct wave_trace_task);
} tasks SEC(".maps");

/* This cpu's counters; there always are (a per-cpu array of one entry). */
static __always_inline struct wave_trace_counters* my_counters(void) {
  __u32 zero = 0;
  return bpf_map_lookup_elem(&counters, &zero);
}

/* Adds one to a counter of this cpu. */
#define COUNT(field)                                      \
  do {                                                    \
    struct wave_trace_counters* c_ = my_counters();       \
    if (c_) __sync_fetch_and_add(&c_->field, 1);          \
  } while (0)

static __always_inline bool tgid_managed(__u32 tgid) {
  return bpf_map_lookup_elem(&managed_tgids, &tgid) != NULL;
}

/* Whether `p` is in the managed cgroup's subtree: its default-hierarchy cgroup's ancestor at the
 * managed cgroup's level is that cgroup. A few reads, no map: cheap enough for every event of
 * every task. Read with probe reads (the ancestor is at a variable index). */
static __always_inline bool cgroup_managed(struct task_struct* p) {
  __u64 id = managed_cgroup_id;
  if (id == 0) return false;
  struct cgroup* cgrp = BPF_CORE_READ(p, cgroups, dfl_cgrp);
  if (!cgrp) return false;
  __u32 level = managed_cgroup_level;
  if (level > 4096 || BPF_CORE_READ(cgrp, level) < (int)level) return false;
  struct cgroup* anc = NULL;
  __u64 at = (__u64)cgrp + bpf_core_field_offset(struct cgroup, ancestors) + level * sizeof(anc);
  if (bpf_probe_read_kernel(&anc, sizeof(anc), (const void*)at) != 0 || !anc) return false;
  return BPF_CORE_READ(anc, kn, id) == id;
}

static __always_inline __u64 allowed_mask(struct task_struct* p) {
  return wave_allowed_cpus(p->cpus_ptr);
}

static __always_inline void emit(const union wave_msg* m) {
  struct wave_trace_counters* c = my_counters();
  if (c) wave_send(&events, m, &c->emitted, &c->dropped);
}

/* Bumps the task's sequence and emits one task event for it. */
static __always_inline void emit_task(__u16 type, struct task_struct* p, struct wave_trace_task* t,
                                      __s32 cpu, __u32 flags) {
  union wave_msg m;
  wave_fill_task(&m, type, p, &t->seq, t->cpu_mask, cpu, flags);
  emit(&m);
}

static __always_inline void emit_cpu(__u16 type, __s32 cpu) {
  union wave_msg m;
  wave_fill_cpu(&m, type, cpu);
  emit(&m);
}

/* The state of managed task `p`, created (and its TASK_NEW emitted) if it is new: running on
 * `cpu` if that is >= 0, else runnable. Null when `p` is not managed, is exiting before it was
 * ever seen, or the table is full. Management is checked first: an unmanaged task costs one
 * hash lookup (and, with a managed cgroup, a few reads). */
static __always_inline struct wave_trace_task* task_get(struct task_struct* p, __u32 creator,
                                                        __s32 cpu) {
  __u32 tgid = p->tgid;
  if (!tgid_managed(tgid) && !cgroup_managed(p)) return NULL;
  __u32 tid = p->pid;
  struct wave_trace_task* t = bpf_map_lookup_elem(&tasks, &tid);
  if (t) return t;
  if (tid == 0) return NULL;
  if (p->flags & PF_EXITING) return NULL; /* too late to join */
  struct wave_trace_task init = {
      .seq = 0,
      .cpu_mask = allowed_mask(p),
      .state = cpu >= 0 ? WAVE_TRACE_ON_CPU : WAVE_TRACE_RUNNABLE,
      .cpu = cpu,
      .tgid = tgid,
      .creator = creator,
  };
  /* Two cpus may race to create it: only the one whose insert wins emits TASK_NEW. */
  if (bpf_map_update_elem(&tasks, &tid, &init, BPF_NOEXIST) != 0) {
    t = bpf_map_lookup_elem(&tasks, &tid);
    if (!t) COUNT(task_table_full);
    return t;
  }
  t = bpf_map_lookup_elem(&tasks, &tid);
  if (t) {
    emit_task(WAVE_EV_TASK_NEW, p, t, cpu, cpu >= 0 ? WAVE_TASK_F_ON_CPU : WAVE_TASK_F_RUNNABLE);
  }
  return t;
}

/* Emits a transition the programs did not see (see the top of the file). */
static __always_inline void emit_inferred(__u16 type, struct task_struct* p,
                                          struct wave_trace_task* t, __s32 cpu) {
  COUNT(inferred);
  emit_task(type, p, t, cpu, WAVE_TASK_F_INFERRED);
}

/* `p` is about to run: if the agent last heard it blocked, its wakeup was missed; if it last
 * heard it running (here or elsewhere), its switch away was. */
static __always_inline void catch_up_runnable(struct task_struct* p, struct wave_trace_task* t) {
  if (t->state == WAVE_TRACE_DEAD) return;
  if (t->state == WAVE_TRACE_BLOCKED) {
    emit_inferred(WAVE_EV_TASK_WAKEUP, p, t, -1);
  } else if (t->state == WAVE_TRACE_ON_CPU) {
    emit_inferred(WAVE_EV_TASK_PREEMPTED, p, t, t->cpu);
  }
  t->state = WAVE_TRACE_RUNNABLE;
}

/* `p` is leaving `cpu`: if the agent did not hear it arrive there, that switch was missed. */
static __always_inline void catch_up_running(struct task_struct* p, struct wave_trace_task* t,
                                             __s32 cpu) {
  if (t->state == WAVE_TRACE_DEAD || (t->state == WAVE_TRACE_ON_CPU && t->cpu == cpu)) return;
  catch_up_runnable(p, t);
  t->state = WAVE_TRACE_ON_CPU;
  t->cpu = cpu;
  emit_inferred(WAVE_EV_TASK_ON_CPU, p, t, cpu);
}

/* A blocked task the fair class keeps queued until its lag is spent (EEVDF's delayed dequeue).
 * Kernels without the field never keep one. */
static __always_inline bool task_sleeping_on_rq(struct task_struct* p) {
  if (!bpf_core_field_exists(p->se.sched_delayed)) return false;
  return p->se.sched_delayed;
}

/* Emits TASK_AFFINITY first if the task's allowed cpus changed since they were last reported. */
static __always_inline void check_affinity(struct task_struct* p, struct wave_trace_task* t) {
  __u64 mask = allowed_mask(p);
  if (mask == t->cpu_mask) return;
  t->cpu_mask = mask;
  emit_task(WAVE_EV_TASK_AFFINITY, p, t, -1, 0);
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(wave_wakeup_new, struct task_struct* p) {
  if (blind()) return 0;
  __u64 id = bpf_get_current_pid_tgid(); /* the creator: wake_up_new_task runs in clone */
  __u32 tgid = p->tgid;
  if (!tgid_managed(tgid) && !cgroup_managed(p)) {
    /* A new process whose creator is managed joins the policy, as its threads would. */
    __u32 creator_tgid = id >> 32;
    __u32 yes = 1;
    if (!tgid_managed(creator_tgid) ||
        bpf_map_update_elem(&managed_tgids, &tgid, &yes, BPF_NOEXIST) != 0) {
      return 0;
    }
    COUNT(children);
  }
  task_get(p, (__u32)id, -1); /* emits TASK_NEW */
  return 0;
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(wave_wakeup, struct task_struct* p) {
  if (blind()) return 0;
  struct wave_trace_task* t = task_get(p, 0, -1);
  if (!t) return 0;
  check_affinity(p, t);
  /* A task woken before it managed to switch out never blocked (the kernel's ttwu_runnable):
   * to the agent nothing happened. Counting only real wakeups keeps WAKEUP and BLOCKED paired. */
  if (t->state != WAVE_TRACE_BLOCKED) {
    if (t->state != WAVE_TRACE_DEAD) COUNT(wakeups_running);
    return 0;
  }
  t->state = WAVE_TRACE_RUNNABLE;
  emit_task(WAVE_EV_TASK_WAKEUP, p, t, -1, 0);
  return 0;
}

/* The switch away from managed task `p`, not its last (see wave_switch). */
static __always_inline void switch_out(struct task_struct* p, struct wave_trace_task* t, __s32 cpu,
                                       bool preempt, unsigned int prev_state) {
  if (t->state == WAVE_TRACE_DEAD) {
    /* TASK_DEAD went out at exit, and the rest of the exit path is not the policy's business.
     * It may still block (closing files, say): counted, so the kernel's count of voluntary
     * switches can be matched, not reported. */
    if (!preempt && prev_state != TASK_RUNNING) {
      COUNT(exit_blocks);
    }
    return;
  }
  check_affinity(p, t);
  catch_up_running(p, t, cpu);
  /* Blocked only if it left voluntarily in a sleeping state; a task preempted while it was
   * about to sleep, or whose sleep a signal cut short, is still runnable. */
  bool blocked = !preempt && prev_state != TASK_RUNNING;
  bool yielded = !preempt && !blocked && t->yielding;
  /* One yield per call: schedule() goes round again if the task is asked to reschedule as soon
   * as it is back, and that next switch is a preemption. */
  if (yielded) t->yielding = 0;
  t->state = blocked ? WAVE_TRACE_BLOCKED : WAVE_TRACE_RUNNABLE;
  t->cpu = cpu;
  emit_task(blocked   ? WAVE_EV_TASK_BLOCKED
            : yielded ? WAVE_EV_TASK_YIELD
                      : WAVE_EV_TASK_PREEMPTED,
            p, t, cpu, 0);
  /* Its wakeup came before this switch (while the kernel had let go of the run queue's lock
   * and the task was still queued, so the wakeup found it "running" and was not reported):
   * it blocked, as the kernel counts it, and is already runnable again. Report both. */
  if (blocked && p->on_rq && !task_sleeping_on_rq(p)) {
    t->state = WAVE_TRACE_RUNNABLE;
    emit_task(WAVE_EV_TASK_WAKEUP, p, t, -1, 0);
  }
}

SEC("tp_btf/sched_switch")
int BPF_PROG(wave_switch, bool preempt, struct task_struct* prev, struct task_struct* next,
             unsigned int prev_state) {
  if (blind()) return 0;
  __s32 cpu = bpf_get_smp_processor_id();
  struct wave_trace_task* t = NULL;
  bool prev_managed = false;
  if (prev_state == TASK_DEAD) {
    /* Its last switch. The entry goes, whether or not the task is managed still (it may have
     * left the managed cgroup), with the TASK_DEAD inferred if its exit was not seen; and the
     * group's last thread takes the group's id along: it may be reused by an unrelated process.
     * A lookup, not task_get: a task is never created at its last switch. */
    __u32 prev_tid = prev->pid;
    __u32 tgid = prev->tgid;
    t = bpf_map_lookup_elem(&tasks, &prev_tid);
    prev_managed = t != NULL;
    if (t) {
      if (t->state != WAVE_TRACE_DEAD) {
        catch_up_running(prev, t, cpu);
        t->state = WAVE_TRACE_DEAD;
        emit_inferred(WAVE_EV_TASK_DEAD, prev, t, cpu);
      }
      bpf_map_delete_elem(&tasks, &prev_tid);
    }
    if (prev->signal->live.counter == 0 && (prev_managed || tgid_managed(tgid))) {
      bpf_map_delete_elem(&managed_tgids, &tgid);
    }
  } else {
    t = task_get(prev, 0, cpu); /* a task first seen here runs here */
    prev_managed = t != NULL;
    if (t) switch_out(prev, t, cpu, preempt, prev_state);
  }

  struct wave_trace_task* n = task_get(next, 0, -1);
  if (n && n->state == WAVE_TRACE_DEAD) n = NULL; /* back on its exit path: not the policy's */
  if (n) {
    check_affinity(next, n);
    catch_up_runnable(next, n);
    n->state = WAVE_TRACE_ON_CPU;
    n->cpu = cpu;
    emit_task(WAVE_EV_TASK_ON_CPU, next, n, cpu, 0);
  }
  __u32 key = cpu;
  __u32* current = bpf_map_lookup_elem(&cpu_current, &key);
  if (current) *current = n ? (__u32)next->pid : 0;
  if (prev_managed && !n && wave_cpu_managed(cpu)) emit_cpu(WAVE_EV_CPU_IDLE, cpu);
  return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(wave_exit, struct task_struct* p, bool group_dead) {
  if (blind()) return 0;
  /* The entry (and with the last thread, the group) goes at the task's last switch. */
  __u32 tid = p->pid;
  __u32 tgid = p->tgid;
  __s32 cpu = bpf_get_smp_processor_id();
  struct wave_trace_task* t = bpf_map_lookup_elem(&tasks, &tid);
  if (!t && (tgid_managed(tgid) || cgroup_managed(p))) {
    /* Never seen (PF_EXITING is set by now, so task_get would refuse): report its life whole. */
    struct wave_trace_task init = {.cpu_mask = allowed_mask(p), .cpu = cpu, .tgid = tgid};
    init.state = WAVE_TRACE_ON_CPU;
    if (bpf_map_update_elem(&tasks, &tid, &init, BPF_NOEXIST) == 0) {
      t = bpf_map_lookup_elem(&tasks, &tid);
      if (t) emit_task(WAVE_EV_TASK_NEW, p, t, cpu, WAVE_TASK_F_ON_CPU);
    }
  }
  if (t && t->state != WAVE_TRACE_DEAD) {
    catch_up_running(p, t, cpu); /* it exits on a cpu */
    t->state = WAVE_TRACE_DEAD;
    emit_task(WAVE_EV_TASK_DEAD, p, t, cpu, 0);
  }
  return 0;
}

SEC("tp_btf/sched_migrate_task")
int BPF_PROG(wave_migrate, struct task_struct* p, int dest_cpu) {
  if (blind()) return 0;
  __u32 tid = p->pid;
  struct wave_trace_task* t = bpf_map_lookup_elem(&tasks, &tid);
  if (!t || t->state == WAVE_TRACE_DEAD) return 0;
  /* A move between run queues is the kernel's business (the ABI has no event for it), unless the
   * allowed cpus changed, which is what forced most moves. */
  COUNT(migrations);
  check_affinity(p, t);
  return 0;
}

/* sched_yield(): the switch it makes (if another task is runnable there) is a TASK_YIELD, not a
 * preemption, which the switch tracepoint alone cannot tell apart. The flag covers the call and
 * is cleared when it returns, whether or not it switched. Two ways to see the call, attached by
 * the loader (host/trace/loader.h, YieldEvents):
 *  - kprobes on do_sched_yield: cost nothing but on yields. Not every kernel has them (this
 *    project's CI machine's has no kprobes, and refuses fentry/fexit programs);
 *  - the raw syscall tracepoints: on any kernel, but once attached every system call of every
 *    task takes the kernel's traced path and runs the program (a compare, for other calls).
 * Without either a yield reads as TASK_PREEMPTED. */
static __always_inline void mark_yielding(__u32 on) {
  if (blind()) return;
  __u32 tid = (__u32)bpf_get_current_pid_tgid();
  struct wave_trace_task* t = bpf_map_lookup_elem(&tasks, &tid);
  if (t) t->yielding = on;
}

#define NR_SCHED_YIELD 24 /* x86-64 */

SEC("tp_btf/sys_enter")
int BPF_PROG(wave_sys_enter, struct pt_regs* regs, long id) {
  if (id == NR_SCHED_YIELD) mark_yielding(1);
  return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(wave_sys_exit, struct pt_regs* regs, long ret) {
  if (regs->orig_ax == NR_SCHED_YIELD) mark_yielding(0);
  return 0;
}

SEC("kprobe/do_sched_yield")
int BPF_KPROBE(wave_yield_enter) {
  mark_yielding(1);
  return 0;
}

SEC("kretprobe/do_sched_yield")
int BPF_KRETPROBE(wave_yield_exit) {
  mark_yielding(0);
  return 0;
}
