// Policies by name, for the command line and the experiments.
#ifndef LIBWAVE_POLICIES_REGISTRY_H_
#define LIBWAVE_POLICIES_REGISTRY_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/sched/policy.h"

namespace wave {

struct PolicyInfo {
  std::string name;     // "fifo"
  std::string summary;  // what it does, in a few words, for --help
};

// Every policy, in the order the help lists them.
const std::vector<PolicyInfo>& Policies();
std::vector<std::string> PolicyNames();

// A new policy with its default knobs; an unknown name is an InvalidArgument error listing the
// known ones.
absl::StatusOr<std::unique_ptr<Policy>> MakePolicy(const std::string& name);

}  // namespace wave

#endif  // LIBWAVE_POLICIES_REGISTRY_H_
