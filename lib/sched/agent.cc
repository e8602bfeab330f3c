#include "lib/sched/agent.h"

#include <utility>

namespace wave {

Agent::Agent(AgentEnd link, Policy& policy, const AgentOptions& options)
    : sched_(policy, SchedOptions{.num_cpus = options.num_cpus, .features = options.features}),
      runtime_(RuntimeOptions{.max_burst = options.max_burst}) {
  // The only subsystem of a fresh runtime: attaching cannot fail.
  absl::Status attached = runtime_.Attach(sched_, std::move(link));
  (void)attached;
}

}  // namespace wave
