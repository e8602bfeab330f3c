#include "bench/experiments/common.h"

#include <cstdlib>
#include <cstring>

#include "absl/strings/str_format.h"
#include "policies/registry.h"

namespace wave::experiments {

absl::StatusOr<Options> ParseOptions(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--out=", 0) == 0) {
      o.out = a.substr(6);
      if (o.out.empty()) return absl::InvalidArgumentError("--out: expected a directory");
    } else if (a.rfind("--seconds=", 0) == 0) {
      char* end = nullptr;
      o.seconds = std::strtod(a.c_str() + 10, &end);
      if (end == a.c_str() + 10 || *end != '\0' || !(o.seconds > 0) || o.seconds > 60) {
        return absl::InvalidArgumentError(
            absl::StrFormat("--seconds: expected a number in (0, 60], got '%s'", a.substr(10)));
      }
    } else if (a == "--quick") {
      o.quick = true;
    } else {
      return absl::InvalidArgumentError(
          absl::StrFormat("unknown argument '%s' (known: --out=DIR --seconds=S --quick)", a));
    }
  }
  return o;
}

bool PolicyAvailable(const std::string& policy) {
  if (policy == "kernel") return true;
  for (const std::string& name : PolicyNames()) {
    if (name == policy) return true;
  }
  return false;
}

absl::StatusOr<SimResult> RunSetup(const Setup& setup, SimConfig base) {
  base.placement = setup.placement;
  base.prestage_depth = setup.prestage_depth;
  if (setup.policy == "kernel") return RunSimKernel(base);
  if (!PolicyAvailable(setup.policy)) {
    return absl::NotFoundError(absl::StrFormat("policy %s is not built", setup.policy));
  }
  const std::string name = setup.policy;
  return RunSim(base, [name]() -> std::unique_ptr<Policy> {
    absl::StatusOr<std::unique_ptr<Policy>> p = MakePolicy(name);
    return p.ok() ? *std::move(p) : nullptr;
  });
}

double HostCpusForPolicy(const Setup& setup) {
  return setup.policy != "kernel" && setup.placement == Placement::kHost ? 1.0 : 0.0;
}

}  // namespace wave::experiments
