/* Every struct of the ABI and every field of it, for the layout test: compiled once as C11
 * (layout_c.c) and once as C++ (layout_test.cc), the two tables must agree. S(tag, name) is a
 * struct or union, F(tag, name, field) one of its fields. */
#ifndef LIBWAVE_TESTS_ABI_LAYOUT_LIST_H_
#define LIBWAVE_TESTS_ABI_LAYOUT_LIST_H_

#define WAVE_LAYOUT(S, F)                      \
  S(struct, wave_msg_hdr)                      \
  F(struct, wave_msg_hdr, stamp)               \
  F(struct, wave_msg_hdr, type)                \
  F(struct, wave_msg_hdr, len)                 \
  S(struct, wave_ring_hdr)                     \
  F(struct, wave_ring_hdr, magic)              \
  F(struct, wave_ring_hdr, abi_major)          \
  F(struct, wave_ring_hdr, abi_minor)          \
  F(struct, wave_ring_hdr, slot_size)          \
  F(struct, wave_ring_hdr, capacity)           \
  F(struct, wave_ring_hdr, reserved)           \
  S(struct, wave_ring_credit)                  \
  F(struct, wave_ring_credit, head)            \
  F(struct, wave_ring_credit, reserved)        \
  S(struct, wave_a2k_cmd)                      \
  F(struct, wave_a2k_cmd, hdr)                 \
  F(struct, wave_a2k_cmd, txn_id)              \
  F(struct, wave_a2k_cmd, object_id)           \
  F(struct, wave_a2k_cmd, seq)                 \
  F(struct, wave_a2k_cmd, body)                \
  S(struct, wave_k2a_result)                   \
  F(struct, wave_k2a_result, txn_id)           \
  F(struct, wave_k2a_result, object_id)        \
  F(struct, wave_k2a_result, seq)              \
  F(struct, wave_k2a_result, time_ns)          \
  F(struct, wave_k2a_result, detail)           \
  F(struct, wave_k2a_result, status)           \
  F(struct, wave_k2a_result, flags)            \
  F(struct, wave_k2a_result, reserved0)        \
  F(struct, wave_k2a_result, reserved1)        \
  S(struct, wave_k2a_resync)                   \
  F(struct, wave_k2a_resync, time_ns)          \
  F(struct, wave_k2a_resync, epoch)            \
  F(struct, wave_k2a_resync, reason)           \
  F(struct, wave_k2a_resync, subsystem)        \
  F(struct, wave_k2a_resync, reserved0)        \
  F(struct, wave_k2a_resync, records)          \
  F(struct, wave_k2a_resync, reserved)         \
  S(struct, wave_k2a_task)                     \
  F(struct, wave_k2a_task, task_id)            \
  F(struct, wave_k2a_task, seq)                \
  F(struct, wave_k2a_task, time_ns)            \
  F(struct, wave_k2a_task, runtime_ns)         \
  F(struct, wave_k2a_task, cpus)               \
  F(struct, wave_k2a_task, cpu)                \
  F(struct, wave_k2a_task, nice)               \
  F(struct, wave_k2a_task, cpus_word)          \
  F(struct, wave_k2a_task, flags)              \
  F(struct, wave_k2a_task, gang)               \
  S(struct, wave_k2a_task_cpus)                \
  F(struct, wave_k2a_task_cpus, task_id)       \
  F(struct, wave_k2a_task_cpus, first_word)    \
  F(struct, wave_k2a_task_cpus, words)         \
  F(struct, wave_k2a_task_cpus, reserved)      \
  F(struct, wave_k2a_task_cpus, bits)          \
  S(struct, wave_k2a_cpu)                      \
  F(struct, wave_k2a_cpu, time_ns)             \
  F(struct, wave_k2a_cpu, task_id)             \
  F(struct, wave_k2a_cpu, cpu)                 \
  F(struct, wave_k2a_cpu, flags)               \
  F(struct, wave_k2a_cpu, reserved)            \
  S(struct, wave_k2a_commit_result)            \
  F(struct, wave_k2a_commit_result, txn_id)    \
  F(struct, wave_k2a_commit_result, task_id)   \
  F(struct, wave_k2a_commit_result, seq)       \
  F(struct, wave_k2a_commit_result, time_ns)   \
  F(struct, wave_k2a_commit_result, cpu)       \
  F(struct, wave_k2a_commit_result, status)    \
  F(struct, wave_k2a_commit_result, flags)     \
  F(struct, wave_k2a_commit_result, reserved0) \
  F(struct, wave_k2a_commit_result, reserved1) \
  S(struct, wave_a2k_commit)                   \
  F(struct, wave_a2k_commit, txn_id)           \
  F(struct, wave_a2k_commit, task_id)          \
  F(struct, wave_a2k_commit, seq)              \
  F(struct, wave_a2k_commit, slice_ns)         \
  F(struct, wave_a2k_commit, cpu)              \
  F(struct, wave_a2k_commit, flags)            \
  F(struct, wave_a2k_commit, group)            \
  F(struct, wave_a2k_commit, group_size)       \
  F(struct, wave_a2k_commit, reserved)         \
  S(struct, wave_k2a_net_rpc)                  \
  F(struct, wave_k2a_net_rpc, rpc_id)          \
  F(struct, wave_k2a_net_rpc, flow_id)         \
  F(struct, wave_k2a_net_rpc, task_id)         \
  F(struct, wave_k2a_net_rpc, time_ns)         \
  F(struct, wave_k2a_net_rpc, bytes)           \
  F(struct, wave_k2a_net_rpc, reserved0)       \
  F(struct, wave_k2a_net_rpc, reserved)        \
  S(union, wave_msg)                           \
  F(union, wave_msg, hdr)                      \
  F(union, wave_msg, raw)

#endif /* LIBWAVE_TESTS_ABI_LAYOUT_LIST_H_ */
