#include "policies/registry.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "policies/sched/fair.h"
#include "policies/sched/fifo.h"
#include "policies/sched/fifo_percpu.h"
#include "policies/sched/gang.h"
#include "policies/sched/pin.h"
#include "policies/sched/rpc.h"
#include "policies/sched/shinjuku.h"

namespace wave {

const std::vector<PolicyInfo>& Policies() {
  static const std::vector<PolicyInfo>* const kPolicies = new std::vector<PolicyInfo>{
      {"fifo", "one global queue, oldest first, run until blocked"},
      {"fifo-percpu", "a queue per cpu, tasks back to their last cpu, idle cpus steal"},
      {"shinjuku", "one global queue with 30us slices, sliced tasks to the back"},
      {"fair", "cpu time by nice weight, smallest virtual runtime first, 1ms slices"},
      {"rpc", "fifo that stages an RPC's handler on an idle cpu before its wakeup (NET_RPC)"},
      {"gang", "a VM's vCPUs together (group commits), kept off the antagonists' cpus"},
      {"pin", "each thread on a home cpu (task id modulo the allowed cpus), 3ms slices"},
  };
  return *kPolicies;
}

std::vector<std::string> PolicyNames() {
  std::vector<std::string> names;
  for (const PolicyInfo& p : Policies()) names.push_back(p.name);
  return names;
}

absl::StatusOr<std::unique_ptr<Policy>> MakePolicy(const std::string& name) {
  if (name == "fifo") return std::make_unique<FifoPolicy>();
  if (name == "fifo-percpu") return std::make_unique<PerCpuFifoPolicy>();
  if (name == "shinjuku") return std::make_unique<ShinjukuPolicy>();
  if (name == "fair") return std::make_unique<FairPolicy>();
  if (name == "rpc") return std::make_unique<RpcPolicy>();
  if (name == "gang") return std::make_unique<GangPolicy>();
  if (name == "pin") return std::make_unique<PinPolicy>();
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown policy '", name, "' (known: ", absl::StrJoin(PolicyNames(), ", "), ")"));
}

}  // namespace wave
