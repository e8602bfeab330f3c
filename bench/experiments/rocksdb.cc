// Experiment 1 (issue 6): the ghOSt/Wave RocksDB setup on `wave sim`.
//
// 8 cpus, 99.5% GETs of 10 us and 0.5% range scans of 5 ms, open-loop Poisson arrivals. Sweeps
// the load and reports, for each setup, the throughput at saturation: the highest load served
// with p99 below 1 ms. Setups: the kernel's own round robin (the CFS-like baseline: no agent);
// FIFO and Shinjuku with the agent on a host cpu (7 cpus left for the workload); the same on the
// IPU over a 1 us link, with and without prestaging. Also: host cpus spent on policy work
// (experiment 4).
//
//   bazel run -c opt //bench/experiments:rocksdb -- --out=$PWD/docs/experiments
// Prints the saturation table, writes rocksdb.csv (every point) and rocksdb.svg (p99 vs load).
#include <cmath>
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
  };
  std::vector<double> loads;
  for (double l = 20'000; l <= 300'000; l += opt->quick ? 70'000 : 10'000) loads.push_back(l);

  std::vector<Setup> runnable;
  for (const Setup& s : setups) {
    if (PolicyAvailable(s.policy)) {
      runnable.push_back(s);
    } else {
      std::fprintf(stderr, "rocksdb: skipping '%s': policy %s is not built\n", s.label.c_str(),
                   s.policy.c_str());
    }
  }
  Table points({"setup", "load req/s", "throughput req/s", "p50 us", "p99 us", "p99.9 us",
                "workload cpus", "host cpus for policy", "lost"});
  Chart chart{"RocksDB: p99 latency vs load (8 cpus, 0.5% 5 ms scans)",
              "offered load (k req/s)",
              "p99 latency (us)",
              true,
              kSaturationUs,
              "saturation: p99 = 1 ms",
              {}};
  struct Sat {
    double throughput = 0;
    double load = 0;
  };
  std::map<std::string, Sat> sat;
  Progress progress("rocksdb", runnable.size() * loads.size());
  for (const Setup& s : runnable) {
    Series line{s.label, {}, {}};
    for (double load : loads) {
      progress.Step(s.label + " @ " + Num(load / 1000, 0) + "k");
      SimConfig c;
      c.duration_ns = static_cast<uint64_t>(opt->seconds * 1e9);
      c.workload.load_rps = load;
      absl::StatusOr<SimResult> r = RunSetup(s, c);
      if (!r.ok()) {
        progress.Done();
        std::fprintf(stderr, "rocksdb: %s: %s\n", s.label.c_str(),
                     std::string(r.status().message()).c_str());
        return 1;
      }
      points.Add({s.label, Num(load, 0), Num(r->throughput_rps, 0), Num(r->latency_p50_us, 1),
                  Num(r->latency_p99_us, 1), Num(r->latency_p999_us, 1),
                  std::to_string(r->workload_cpus), Num(HostCpusForPolicy(s), 0),
                  std::to_string(r->lost_tasks)});
      line.x.push_back(load / 1000);
      line.y.push_back(r->latency_p99_us);
      if (r->latency_p99_us < kSaturationUs && r->throughput_rps > sat[s.label].throughput) {
        sat[s.label] = {r->throughput_rps, load};
      }
    }
    chart.series.push_back(std::move(line));
  }
  progress.Done();

  const double kernel = sat.count("kernel (CFS-like)") ? sat["kernel (CFS-like)"].throughput : 0;
  Table summary({"setup", "throughput at p99 < 1 ms (req/s)", "vs kernel",
                 "vs same policy on a host cpu", "host cpus for policy"});
  for (const Setup& s : runnable) {
    const double t = sat[s.label].throughput;
    std::string vs_host = "-";
    if (s.placement == Placement::kIpu && s.policy != "kernel") {
      const std::string host_label = s.policy + ", host cpu";
      if (sat.count(host_label) && sat[host_label].throughput > 0) {
        vs_host = Num(100.0 * (t / sat[host_label].throughput - 1.0), 1) + "%";
      }
    }
    summary.Add({s.label, Num(t, 0), kernel > 0 ? Num(t / kernel, 2) + "x" : "-", vs_host,
                 Num(HostCpusForPolicy(s), 0)});
  }
  std::printf(
      "RocksDB (8 cpus; %g s of virtual time per point; saturation = the highest load "
      "served with p99 < 1 ms)\n\n%s\n",
      opt->seconds, summary.Markdown().c_str());
  for (const auto& [name, text] :
       std::vector<std::pair<std::string, std::string>>{{"rocksdb.csv", points.Csv()},
                                                        {"rocksdb_summary.csv", summary.Csv()},
                                                        {"rocksdb.svg", Svg(chart)}}) {
    if (absl::Status s = WriteFile(opt->out, name, text); !s.ok()) {
      std::fprintf(stderr, "rocksdb: %s\n", std::string(s.message()).c_str());
      return 1;
    }
  }
  std::printf("wrote %s/rocksdb.csv, rocksdb_summary.csv, rocksdb.svg\n", opt->out.c_str());
  return 0;
}

}  // namespace
}  // namespace wave::experiments

int main(int argc, char** argv) { return wave::experiments::Main(argc, argv); }
