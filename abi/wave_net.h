/* wave_net.h - the network control plane's messages (WAVE_SUBSYS_NET, types 0x0300-0x03ff).
 * Conventions: wave_link.h. This version defines what the NIC tells the agent on its own side
 * of the link; the steering commands (bucket -> worker at a table epoch) and their results will
 * take the rest of the range.
 */
#ifndef LIBWAVE_ABI_WAVE_NET_H_
#define LIBWAVE_ABI_WAVE_NET_H_

#include "abi/wave_link.h"

/* X(KIND, NAME, VALUE): see WAVE_LINK_MSGS. */
#define WAVE_NET_MSGS(X) \
  X(EV, NET_RPC, 0x0301u) /* an RPC arrived at the NIC for a thread that will handle it */

/* An RPC arrived for `task_id`, the thread that will handle it (the flow's handler). On an IPU
 * the NIC is next to the agent: the arrival is known there before the host's network stack wakes
 * the handler. Delivered on the agent's side (Runtime::DeliverLocal), to every subsystem that
 * subscribes to it (the scheduling policy `rpc` does). */
struct wave_k2a_net_rpc {
  struct wave_msg_hdr hdr; /* type: WAVE_EV_NET_RPC */
  __u64 rpc_id;
  __u64 flow_id;
  __u64 task_id; /* the expected handler thread */
  __u64 time_ns; /* when the NIC saw it, on the NIC's clock */
  __u32 bytes;   /* payload size */
  __u32 reserved0;
  __u64 reserved[2];
};

WAVE_STATIC_ASSERT(sizeof(struct wave_k2a_net_rpc) == WAVE_MSG_SIZE, "net_rpc size");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_net_rpc, rpc_id) == 8, "net_rpc.rpc_id");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_net_rpc, flow_id) == 16, "net_rpc.flow_id");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_net_rpc, task_id) == 24, "net_rpc.task_id");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_net_rpc, time_ns) == 32, "net_rpc.time_ns");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_net_rpc, bytes) == 40, "net_rpc.bytes");
WAVE_STATIC_ASSERT(WAVE_OFFSETOF(struct wave_k2a_net_rpc, reserved) == 48, "net_rpc.reserved");

#endif /* LIBWAVE_ABI_WAVE_NET_H_ */
