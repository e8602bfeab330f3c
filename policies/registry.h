// Policies by name, for the command line and the experiments.
#ifndef LIBWAVE_POLICIES_REGISTRY_H_
#define LIBWAVE_POLICIES_REGISTRY_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/policy.h"

namespace wave {

// "fifo", ...; an unknown name is an InvalidArgument error listing the known ones.
absl::StatusOr<std::unique_ptr<Policy>> MakePolicy(const std::string& name);
std::vector<std::string> PolicyNames();

}  // namespace wave

#endif  // LIBWAVE_POLICIES_REGISTRY_H_
