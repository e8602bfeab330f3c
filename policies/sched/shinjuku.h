// Shinjuku-style preemptive centralized scheduling (Kaffes et al., NSDI '19): one global queue,
// oldest first, as in the centralized FIFO (fifo.h), but every decision carries a time slice. When
// a slice ends the host preempts the task (TASK_PREEMPTED) and it goes to the back of the queue,
// so a long request (a 5 ms range scan) takes turns with the short ones instead of holding a cpu
// while they wait: short requests' tail latency stays near their service time under a
// heavy-tailed mix, at the price of a context switch (and, without prestaging, a decision round
// trip) per slice of the long ones. Prestaging, stealing and restaging work as in the FIFO, and
// staged decisions carry the slice too.
//
// Knobs (ShinjukuOptions):
//  - slice_ns (default 30 us): the time slice the host enforces; 0 leaves slicing to the agent.
//  - preempt_after_ns (default 0: off): when work waits and no cpu is available, the oldest
//    waiting task displaces (a PREEMPT commit) the task that has been on its cpu longest, if
//    longer than this. With slice_ns = 0 this is Shinjuku's own mechanism (the dispatcher
//    preempts), for hosts that cannot end slices; with host slices it is a safety net for tasks
//    placed without one (a replay after a resync), and should exceed the slice.
//  - restage_after_ns: as in the FIFO.
#ifndef LIBWAVE_POLICIES_SCHED_SHINJUKU_H_
#define LIBWAVE_POLICIES_SCHED_SHINJUKU_H_

#include <cstdint>
#include <string>

#include "policies/sched/fifo.h"

namespace wave {

struct ShinjukuOptions {
  uint64_t slice_ns = 30'000;
  uint64_t preempt_after_ns = 0;
  uint64_t restage_after_ns = FifoOptions{}.restage_after_ns;
};

class ShinjukuPolicy : public FifoPolicy {
 public:
  explicit ShinjukuPolicy(const ShinjukuOptions& o = {})
      : FifoPolicy(FifoOptions{.restage_after_ns = o.restage_after_ns,
                               .slice_ns = o.slice_ns,
                               .preempt_after_ns = o.preempt_after_ns}) {}
  std::string name() const override { return "shinjuku"; }
};

}  // namespace wave

#endif  // LIBWAVE_POLICIES_SCHED_SHINJUKU_H_
