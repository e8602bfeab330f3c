/* wave_mem.h - the memory subsystem's messages (WAVE_SUBSYS_MEM, types 0x0200-0x02ff).
 * Conventions: wave_link.h. Reserved in this version: the range is the memory subsystem's
 * (statistics of targets and regions host -> agent, reclaim / cool / promote commands agent ->
 * host, each valid only while the region's sequence is the one the agent saw, and their
 * results); no message is defined yet, so a peer that sends one is skipped and counted as
 * unknown.
 */
#ifndef LIBWAVE_ABI_WAVE_MEM_H_
#define LIBWAVE_ABI_WAVE_MEM_H_

#include "abi/wave_link.h"

/* X(KIND, NAME, VALUE): see WAVE_LINK_MSGS. None yet. */
#define WAVE_MEM_MSGS(X)

#endif /* LIBWAVE_ABI_WAVE_MEM_H_ */
