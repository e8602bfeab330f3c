#include "policies/registry.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "policies/sched/fair.h"
#include "policies/sched/fifo.h"
#include "policies/sched/fifo_percpu.h"
#include "policies/sched/shinjuku.h"

namespace wave {

std::vector<std::string> PolicyNames() { return {"fifo", "fifo-percpu", "shinjuku", "fair"}; }

absl::StatusOr<std::unique_ptr<Policy>> MakePolicy(const std::string& name) {
  if (name == "fifo") return std::make_unique<FifoPolicy>();
  if (name == "fifo-percpu") return std::make_unique<PerCpuFifoPolicy>();
  if (name == "shinjuku") return std::make_unique<ShinjukuPolicy>();
  if (name == "fair") return std::make_unique<FairPolicy>();
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown policy '", name, "' (known: ", absl::StrJoin(PolicyNames(), ", "), ")"));
}

}  // namespace wave
