#include "policies/registry.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "policies/sched/fifo.h"
#include "policies/sched/gang.h"
#include "policies/sched/pin.h"
#include "policies/sched/rpc.h"

namespace wave {

std::vector<std::string> PolicyNames() { return {"fifo", "gang", "pin", "rpc"}; }

absl::StatusOr<std::unique_ptr<Policy>> MakePolicy(const std::string& name) {
  if (name == "fifo") return std::make_unique<FifoPolicy>();
  if (name == "gang") return std::make_unique<GangPolicy>();
  if (name == "pin") return std::make_unique<PinPolicy>();
  if (name == "rpc") return std::make_unique<RpcPolicy>();
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown policy '", name, "' (known: ", absl::StrJoin(PolicyNames(), ", "), ")"));
}

}  // namespace wave
