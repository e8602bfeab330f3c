/* wave_emit.bpf.h - the ABI events both mechanisms' BPF programs build (bpf/trace.bpf.c,
 * bpf/scx_wave.bpf.c): one definition of what a task or cpu event carries. Each program sends
 * the message through its own ring buffer (wave_send). Include after vmlinux.h, bpf_helpers.h
 * and abi/wave_abi.h. */
#ifndef LIBWAVE_BPF_WAVE_EMIT_BPF_H_
#define LIBWAVE_BPF_WAVE_EMIT_BPF_H_

/* A task event for `p`: bumps the task's sequence (`seq`, the program's per-task counter). A NEW
 * or AFFINITY carries the allowed cpus `cpu_mask` (cpus 0..63: the programs' masks are one word)
 * as a WORD set; the other events carry none (ALL). */
static __always_inline void wave_fill_task(union wave_msg* m, __u16 type, struct task_struct* p,
                                           __u64* seq, __u64 cpu_mask, __s32 cpu, __u32 flags) {
  wave_msg_init(m, type);
  m->task.task_id = (__u32)p->pid;
  m->task.seq = __sync_add_and_fetch(seq, 1);
  m->task.time_ns = bpf_ktime_get_ns();
  m->task.runtime_ns = p->se.sum_exec_runtime;
  m->task.cpu = cpu;
  m->task.nice = (__s16)(p->static_prio - 120);
  m->task.flags = flags;
  if (type == WAVE_EV_TASK_NEW || type == WAVE_EV_TASK_AFFINITY) {
    m->task.cpus = cpu_mask;
    m->task.flags |= WAVE_TASK_CPUS_WORD;
  }
}

/* Sends `m` through `ringbuf` (the program's BPF_MAP_TYPE_RINGBUF map), counted in `emitted`, or
 * in `dropped` when the buffer is full. The reader is woken adaptively: only when it has caught
 * up with the buffer. */
static __always_inline void wave_send(void* ringbuf, const union wave_msg* m, __u64* emitted,
                                      __u64* dropped) {
  union wave_msg* slot = bpf_ringbuf_reserve(ringbuf, sizeof(*slot), 0);
  if (!slot) {
    __sync_fetch_and_add(dropped, 1);
    return;
  }
  __builtin_memcpy(slot, m, sizeof(*slot));
  bpf_ringbuf_submit(slot, 0);
  __sync_fetch_and_add(emitted, 1);
}

static __always_inline void wave_fill_cpu(union wave_msg* m, __u16 type, __s32 cpu) {
  wave_msg_init(m, type);
  m->cpu.time_ns = bpf_ktime_get_ns();
  m->cpu.cpu = cpu;
}

#endif /* LIBWAVE_BPF_WAVE_EMIT_BPF_H_ */
