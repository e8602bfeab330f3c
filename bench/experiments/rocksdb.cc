// Experiment 1 (issue 6): the ghOSt/Wave RocksDB setup on `wave sim`.
//
// 8 cpus, 99.5% GETs of 10 us and 0.5% range scans of 5 ms, open-loop Poisson arrivals. Sweeps
// the load and reports, for each setup, the throughput at saturation: the highest load served
// with p99 below 1 ms. Setups: the kernel's own round robin (the CFS-like baseline: no agent);
// FIFO and Shinjuku with the agent on a host cpu (7 cpus left for the workload); the same on the
// IPU over a 1 us link, with and without prestaging, on 8 cpus and (like for like with the host
// cpu rows) on 7. Also: host cpus spent on policy work
// (experiment 4).
//
//   bazel run -c opt //bench/experiments:rocksdb -- --out=$PWD/docs/experiments
// Prints the saturation table, writes rocksdb.csv (every point), rocksdb_summary.csv and
// rocksdb.svg (p99 vs load).
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "bench/experiments/common.h"
#include "bench/experiments/report.h"

namespace wave::experiments {
namespace {

constexpr double kSaturationUs = 1'000;  // p99 at or above this: saturated

int Main(int argc, char** argv) {
  absl::StatusOr<Options> opt = ParseOptions(argc, argv);
  if (!opt.ok()) {
    std::fprintf(stderr, "rocksdb: %s\n", std::string(opt.status().message()).c_str());
    return 2;
  }
  const std::vector<Setup> setups = {
      {"kernel (CFS-like)", "kernel", Placement::kIpu, 0},
      {"fifo, host cpu", "fifo", Placement::kHost, 0},
      {"shinjuku, host cpu", "shinjuku", Placement::kHost, 0},
      {"fifo, ipu", "fifo", Placement::kIpu, 0},
      {"fifo, ipu, prestage", "fifo", Placement::kIpu, 2},
      {"shinjuku, ipu", "shinjuku", Placement::kIpu, 0},
      {"shinjuku, ipu, prestage", "shinjuku", Placement::kIpu, 2},
      // Like for like with the host-cpu rows: the same 7 workload cpus, the agent offloaded.
      {"shinjuku, ipu, 7 cpus", "shinjuku", Placement::kIpu, 0, 7},
      {"shinjuku, ipu, prestage, 7 cpus", "shinjuku", Placement::kIpu, 2, 7},
  };
  std::vector<double> loads;
  for (double l = 20'000; l <= 300'000; l += opt->quick ? 70'000 : 10'000) loads.push_back(l);
  SimConfig base;
  base.duration_ns = static_cast<uint64_t>(opt->seconds * 1e9);
  absl::StatusOr<Sweep> sweep = RunSweep("rocksdb", setups, loads, base);
  if (!sweep.ok()) {
    std::fprintf(stderr, "rocksdb: %s\n", std::string(sweep.status().message()).c_str());
    return 1;
  }
  // Saturation: the best throughput among the loads served with p99 under the threshold.
  std::map<std::string, double> sat;
  for (size_t i = 0; i < sweep->setups.size(); ++i) {
    double& best = sat[sweep->setups[i].label];
    for (const SimResult& r : sweep->results[i]) {
      if (r.latency_p99_us < kSaturationUs && r.throughput_rps > best) best = r.throughput_rps;
    }
  }
  const double kernel = sat.count("kernel (CFS-like)") ? sat["kernel (CFS-like)"] : 0;
  Table summary({"setup", "throughput at p99 < 1 ms (req/s)", "vs kernel",
                 "vs same policy on a host cpu", "host cpus for policy"});
  for (const Setup& s : sweep->setups) {
    const double t = sat[s.label];
    std::string vs_host = "-";
    const std::string host_label = s.policy + ", host cpu";  // 7 workload cpus
    if (s.placement == Placement::kIpu && sat.count(host_label) && sat[host_label] > 0) {
      vs_host = Num(100.0 * (t / sat[host_label] - 1.0), 1) + "%";
    }
    summary.Add({s.label, Num(t, 0), kernel > 0 ? Num(t / kernel, 2) + "x" : "-", vs_host,
                 Num(HostCpusForPolicy(s), 0)});
  }
  std::printf(
      "RocksDB (8 cpus; %g s of virtual time per point; saturation = the highest load served "
      "with p99 < 1 ms)\n\n%s\n",
      opt->seconds, summary.Markdown().c_str());
  const Chart chart = LatencyChart(*sweep, "RocksDB: p99 latency vs load (8 cpus, 0.5% 5 ms scans)",
                                   99, true, kSaturationUs);
  if (absl::Status s = WriteOutputs(opt->out, "rocksdb", PointsTable(*sweep), summary, chart);
      !s.ok()) {
    std::fprintf(stderr, "rocksdb: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace wave::experiments

int main(int argc, char** argv) { return wave::experiments::Main(argc, argv); }
