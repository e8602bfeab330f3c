// Shared by the experiments: command-line options, running one configuration of `wave sim`
// (an agent policy on the host or on the IPU, or the kernel baseline), and the saturation point.
#ifndef LIBWAVE_BENCH_EXPERIMENTS_COMMON_H_
#define LIBWAVE_BENCH_EXPERIMENTS_COMMON_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/experiments/report.h"
#include "host/sim/sim.h"

namespace wave::experiments {

struct Options {
  std::string out = "docs/experiments";  // CSV and SVG go here
  double seconds = 1.0;                  // virtual time per point
  bool quick = false;                    // fewer points (for tests)
};
// --out=DIR --seconds=S --quick over `defaults`; anything else is an error naming the flag.
absl::StatusOr<Options> ParseOptions(int argc, char** argv, const Options& defaults = {});

// One line of an experiment: a policy and where its agent runs.
struct Setup {
  std::string label;   // e.g. "shinjuku, ipu, prestage"
  std::string policy;  // a registered policy, or "kernel" (no agent)
  Placement placement = Placement::kIpu;
  uint32_t prestage_depth = 0;
  int cpus = 0;  // 0: the base config's
  // The IPU's link, one way; none: the base config's.
  std::optional<uint64_t> link_latency_ns = std::nullopt;
};

// Runs `base` with the setup applied. A policy that is not registered (yet) is NotFound.
absl::StatusOr<SimResult> RunSetup(const Setup& setup, SimConfig base);
bool PolicyAvailable(const std::string& policy);

// Host cpus spent on policy work: a dedicated, spinning agent core when the agent is on the
// host; none when it is on the IPU (or for the kernel baseline, whose in-kernel scheduling cost
// the simulator does not charge separately).
double HostCpusForPolicy(const Setup& setup);

// Runs every available setup at every load on `base` (setups whose policy is not built are
// skipped with a note on stderr), with a progress bar titled `title`. Results by setup label,
// in load order; the setups that ran, in order.
struct Sweep {
  std::vector<Setup> setups;
  std::vector<double> loads;
  std::vector<std::vector<SimResult>> results;  // [setup][load]
};
absl::StatusOr<Sweep> RunSweep(const std::string& title, const std::vector<Setup>& setups,
                               const std::vector<double>& loads, const SimConfig& base);

// The rows every experiment writes to its CSV: one per (setup, load).
Table PointsTable(const Sweep& sweep);
// A latency percentile (50 or 99; us) against load (k req/s), one line per setup.
Chart LatencyChart(const Sweep& sweep, const std::string& title, int percentile, bool log_y,
                   double reference_us);
// Writes name.csv (points), name_summary.csv and name.svg into `dir`.
absl::Status WriteOutputs(const std::string& dir, const std::string& name, const Table& points,
                          const Table& summary, const Chart& chart);

}  // namespace wave::experiments

#endif  // LIBWAVE_BENCH_EXPERIMENTS_COMMON_H_
