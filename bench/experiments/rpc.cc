// Experiment 2 (issue 6): an RPC service (Stubby-like) on `wave sim`.
//
// 8 cpus, one flow per worker thread, requests of exponential service time (10 us mean) that
// arrive at the NIC; the host's network stack wakes the flow's handler 5 us later. The IPU,
// where the NIC is, hears of each RPC at once (NET_RPC). Setups: the kernel's round robin;
// FIFO and the network-aware policy (rpc: stages the handler on an idle cpu for its expected
// wakeup) with the agent on a host cpu and on the IPU (1 us link, prestaging on). Reports p50
// and p99 at each load, and host cpus used by the scheduler (experiment 4).
//
//   bazel run -c opt //bench/experiments:rpc -- --out=$PWD/docs/experiments
#include <cstdio>
#include <string>
#include <vector>

#include "bench/experiments/common.h"
#include "bench/experiments/report.h"

namespace wave::experiments {
namespace {

int Main(int argc, char** argv) {
  absl::StatusOr<Options> opt = ParseOptions(argc, argv);
  if (!opt.ok()) {
    std::fprintf(stderr, "rpc: %s\n", std::string(opt.status().message()).c_str());
    return 2;
  }
  const std::vector<Setup> setups = {
      {"kernel (CFS-like)", "kernel", Placement::kIpu, 0},
      {"fifo, host cpu", "fifo", Placement::kHost, 2},
      {"rpc, host cpu", "rpc", Placement::kHost, 2},
      {"fifo, ipu", "fifo", Placement::kIpu, 2},
      {"rpc, ipu", "rpc", Placement::kIpu, 2},
  };
  std::vector<double> loads;
  for (double l = 100'000; l <= 650'000; l += opt->quick ? 250'000 : 50'000) loads.push_back(l);
  SimConfig base;
  base.duration_ns = static_cast<uint64_t>(opt->seconds * 1e9);
  base.workload.kind = WorkloadKind::kRpc;
  absl::StatusOr<Sweep> sweep = RunSweep("rpc", setups, loads, base);
  if (!sweep.ok()) {
    std::fprintf(stderr, "rpc: %s\n", std::string(sweep.status().message()).c_str());
    return 1;
  }
  // The summary: each setup at a moderate and a high load.
  const std::vector<size_t> at = {loads.size() / 4, loads.size() * 3 / 4};
  std::vector<std::string> header = {"setup"};
  for (size_t j : at) {
    header.push_back("p50 us @ " + Num(loads[j] / 1000, 0) + "k");
    header.push_back("p99 us @ " + Num(loads[j] / 1000, 0) + "k");
  }
  header.push_back("host cpus for the scheduler");
  header.push_back("staged hits @ " + Num(loads[at[1]] / 1000, 0) + "k");
  Table summary(header);
  for (size_t i = 0; i < sweep->setups.size(); ++i) {
    std::vector<std::string> row = {sweep->setups[i].label};
    for (size_t j : at) {
      row.push_back(Num(sweep->results[i][j].latency_p50_us, 1));
      row.push_back(Num(sweep->results[i][j].latency_p99_us, 1));
    }
    row.push_back(Num(HostCpusForPolicy(sweep->setups[i]), 0));
    row.push_back(std::to_string(sweep->results[i][at[1]].staged_hits));
    summary.Add(row);
  }
  std::printf(
      "RPC service (8 cpus; %g s of virtual time per point; 10 us mean service, 5 us "
      "host network stack)\n\n%s\n",
      opt->seconds, summary.Markdown().c_str());
  if (absl::Status s = WriteOutputs(
          opt->out, "rpc", PointsTable(*sweep), summary,
          LatencyChart(*sweep, "RPC service: median latency vs load (8 cpus)", 50, false, 0));
      !s.ok()) {
    std::fprintf(stderr, "rpc: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace wave::experiments

int main(int argc, char** argv) { return wave::experiments::Main(argc, argv); }
