#include "policies/registry.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "policies/sched/fifo.h"
#include "policies/sched/fifo_percpu.h"
#include "policies/sched/shinjuku.h"

namespace wave {

std::vector<std::string> PolicyNames() { return {"fifo", "fifo-percpu", "shinjuku"}; }

absl::StatusOr<std::unique_ptr<Policy>> MakePolicy(const std::string& name) {
  if (name == "fifo") return std::make_unique<FifoPolicy>();
  if (name == "fifo-percpu") return std::make_unique<PerCpuFifoPolicy>();
  if (name == "shinjuku") return std::make_unique<ShinjukuPolicy>();
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown policy '", name, "' (known: ", absl::StrJoin(PolicyNames(), ", "), ")"));
}

}  // namespace wave
