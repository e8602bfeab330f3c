/* wave_abi.h - everything that crosses between the host and the agent, in one include: the link
 * (wave_link.h) and each subsystem's messages (wave_sched.h, wave_mem.h, wave_net.h), joined
 * into one list of message types and one union of messages. Conventions: wave_link.h.
 */
#ifndef LIBWAVE_ABI_WAVE_ABI_H_
#define LIBWAVE_ABI_WAVE_ABI_H_

#include "abi/wave_link.h"
#include "abi/wave_mem.h"
#include "abi/wave_net.h"
#include "abi/wave_sched.h"

/* Every message type of this version, one list: X(KIND, NAME, VALUE). */
#define WAVE_MSG_TYPES(X) WAVE_LINK_MSGS(X) WAVE_SCHED_MSGS(X) WAVE_MEM_MSGS(X) WAVE_NET_MSGS(X)

#define WAVE_MSG_ENUM_ENTRY(kind, name, value) WAVE_##kind##_##name = value,
enum wave_msg_type { WAVE_MSG_TYPES(WAVE_MSG_ENUM_ENTRY) };
#undef WAVE_MSG_ENUM_ENTRY

/* A dense index of the known types, 0..WAVE_MSG_TYPE_COUNT-1 in the list's order: for arrays of
 * counters by type. */
#define WAVE_MSG_INDEX_ENTRY(kind, name, value) WAVE_MSG_INDEX_##name,
enum wave_msg_index { WAVE_MSG_TYPES(WAVE_MSG_INDEX_ENTRY) WAVE_MSG_TYPE_COUNT };
#undef WAVE_MSG_INDEX_ENTRY

/* The index of `type`, or -1 for a type this version does not know. An unknown type is not
 * malformed: a newer peer (a higher minor version) may send it; the receiver skips it and counts
 * it as unknown. */
#define WAVE_MSG_INDEX_CASE(kind, name, value) \
  case value:                                  \
    return WAVE_MSG_INDEX_##name;
static inline int wave_msg_type_index(__u16 type) {
  switch (type) {
    WAVE_MSG_TYPES(WAVE_MSG_INDEX_CASE)
    default:
      return -1;
  }
}
#undef WAVE_MSG_INDEX_CASE

static inline int wave_msg_type_known(__u16 type) { return wave_msg_type_index(type) >= 0; }

/* True for a command (agent -> host, a WAVE_CMD_*), false for an event or a type not known. */
#define WAVE_MSG_IS_CMD_EV 0
#define WAVE_MSG_IS_CMD_CMD 1
#define WAVE_MSG_IS_CMD_CASE(kind, name, value) \
  case value:                                   \
    return WAVE_MSG_IS_CMD_##kind;
static inline int wave_msg_is_command(__u16 type) {
  switch (type) {
    WAVE_MSG_TYPES(WAVE_MSG_IS_CMD_CASE)
    default:
      return 0;
  }
}
#undef WAVE_MSG_IS_CMD_CASE

/* "TASK_NEW", "COMMIT", ...; "UNKNOWN" for a type this version does not know. */
#define WAVE_MSG_NAME_CASE(kind, name, value) \
  case value:                                 \
    return #name;
static inline const char* wave_msg_type_name(__u16 type) {
  switch (type) {
    WAVE_MSG_TYPES(WAVE_MSG_NAME_CASE)
    default:
      return "UNKNOWN";
  }
}
#undef WAVE_MSG_NAME_CASE

/* Any message. */
union wave_msg {
  struct wave_msg_hdr hdr;
  struct wave_a2k_cmd cmd;
  struct wave_k2a_result result_hdr;
  struct wave_k2a_resync resync;
  struct wave_k2a_task task;
  struct wave_k2a_task_cpus task_cpus;
  struct wave_k2a_cpu cpu;
  struct wave_k2a_commit_result result;
  struct wave_a2k_commit commit;
  struct wave_k2a_net_rpc net_rpc;
  __u8 raw[WAVE_MSG_SIZE];
};

/* Starts every message a side produces: zeroed (so reserved fields are 0, which the receiver
 * checks), with its type and length set. */
static inline void wave_msg_init(union wave_msg* m, __u16 type) {
  __builtin_memset(m, 0, sizeof(*m));
  m->hdr.type = type;
  m->hdr.len = WAVE_MSG_SIZE;
}

WAVE_STATIC_ASSERT(sizeof(union wave_msg) == WAVE_MSG_SIZE, "msg size");
WAVE_STATIC_ASSERT(WAVE_ALIGNOF(union wave_msg) == 8, "msg align");

#endif /* LIBWAVE_ABI_WAVE_ABI_H_ */
