// Experiment 3 (issue 6): VMs with antagonists on `wave sim`.
//
// 8 cpus; 2-4 VMs of 2 or 4 vCPU threads (bursts of 2 ms mean, halts of 100 us mean) and 4
// always-busy antagonist threads. A VM does useful work only while its running vCPUs are all
// its active ones (a vCPU without its siblings spins, at 30% useful speed). Compares the
// VM-aware gang policy (group commits; vCPUs kept off the antagonists' cpus) with fair share and
// with the kernel's round robin: useful vCPU throughput (cpus' worth of useful work) and what
// the antagonists got. Host cpus spent on policy work too (experiment 4).
//
//   bazel run -c opt //bench/experiments:vms -- --out=$PWD/docs/experiments
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
    std::fprintf(stderr, "vms: %s\n", std::string(opt.status().message()).c_str());
    return 2;
  }
  const std::vector<Setup> setups = {
      {"kernel (CFS-like)", "kernel", Placement::kIpu, 0},
      {"fair, ipu", "fair", Placement::kIpu, 0},
      {"gang, host cpu", "gang", Placement::kHost, 0},
      {"gang, ipu", "gang", Placement::kIpu, 0},
  };
  struct Shape {
    int vms;
    int vcpus;
  };
  std::vector<Shape> shapes = {{2, 2}, {3, 2}, {4, 2}, {2, 4}};
  if (opt->quick) shapes = {{2, 2}, {2, 4}};
  std::vector<Setup> runnable;
  for (const Setup& s : setups) {
    if (PolicyAvailable(s.policy)) {
      runnable.push_back(s);
    } else {
      std::fprintf(stderr, "vms: skipping '%s': policy %s is not built\n", s.label.c_str(),
                   s.policy.c_str());
    }
  }
  Table points({"setup", "vms", "vcpus per vm", "useful vcpu work (cpus)", "vcpus on cpu (cpus)",
                "antagonists on cpu (cpus)", "workload cpus", "host cpus for policy",
                "invariant violations"});
  // results[setup][shape]
  std::vector<std::vector<SimResult>> results(runnable.size());
  Progress progress("vms", runnable.size() * shapes.size());
  for (size_t i = 0; i < runnable.size(); ++i) {
    for (const Shape& shape : shapes) {
      progress.Step(runnable[i].label + " " + std::to_string(shape.vms) + "x" +
                    std::to_string(shape.vcpus));
      SimConfig c;
      c.duration_ns = static_cast<uint64_t>(opt->seconds * 1e9);
      c.workload.kind = WorkloadKind::kVms;
      c.workload.vms = shape.vms;
      c.workload.vcpus_per_vm = shape.vcpus;
      absl::StatusOr<SimResult> r = RunSetup(runnable[i], c);
      if (!r.ok()) {
        progress.Done();
        std::fprintf(stderr, "vms: %s: %s\n", runnable[i].label.c_str(),
                     std::string(r.status().message()).c_str());
        return 1;
      }
      points.Add({runnable[i].label, std::to_string(shape.vms), std::to_string(shape.vcpus),
                  Num(r->vm_useful_cpus, 3), Num(r->vm_oncpu_cpus, 3), Num(r->antagonist_cpus, 3),
                  std::to_string(r->workload_cpus), Num(HostCpusForPolicy(runnable[i]), 0),
                  std::to_string(r->invariant_violations)});
      results[i].push_back(*std::move(r));
    }
  }
  progress.Done();

  // Summary: useful vCPU work per shape, and gang on the IPU against fair share and the kernel.
  std::vector<std::string> header = {"setup"};
  for (const Shape& s : shapes) {
    header.push_back(std::to_string(s.vms) + " VMs x " + std::to_string(s.vcpus) + " vCPUs");
  }
  header.push_back("host cpus for policy");
  Table summary(header);
  int fair = -1, kernel = -1, gang = -1;
  for (size_t i = 0; i < runnable.size(); ++i) {
    if (runnable[i].label == "fair, ipu") fair = static_cast<int>(i);
    if (runnable[i].label == "kernel (CFS-like)") kernel = static_cast<int>(i);
    if (runnable[i].label == "gang, ipu") gang = static_cast<int>(i);
    std::vector<std::string> row = {runnable[i].label};
    for (const SimResult& r : results[i]) {
      row.push_back(Num(r.vm_useful_cpus, 2) + " (antagonists " + Num(r.antagonist_cpus, 2) + ")");
    }
    row.push_back(Num(HostCpusForPolicy(runnable[i]), 0));
    summary.Add(row);
  }
  auto gain = [&](int base, const std::string& label) {
    if (gang < 0 || base < 0) return;
    std::vector<std::string> row = {"gang, ipu vs " + label};
    for (size_t k = 0; k < shapes.size(); ++k) {
      const double b = results[static_cast<size_t>(base)][k].vm_useful_cpus;
      const double g = results[static_cast<size_t>(gang)][k].vm_useful_cpus;
      const double pct = 100.0 * (g / b - 1.0);
      row.push_back(b > 0 ? (pct >= 0 ? "+" : "") + Num(pct, 1) + "%" : "-");
    }
    row.push_back("");
    summary.Add(row);
  };
  gain(fair, "fair");
  gain(kernel, "kernel");
  std::printf(
      "VMs with 4 antagonists (8 cpus; %g s of virtual time per run). Cells: useful vCPU work "
      "in cpus' worth (antagonists' cpu time)\n\n%s\n",
      opt->seconds, summary.Markdown().c_str());

  // Plot: useful vCPU work against the number of 2-vCPU VMs, one line per setup.
  Chart chart{"VMs + 4 antagonists: useful vCPU work (8 cpus, 2-vCPU VMs)",
              "VMs (2 vCPUs each)",
              "useful vCPU work (cpus)",
              false,
              0,
              "",
              {}};
  for (size_t i = 0; i < runnable.size(); ++i) {
    Series line{runnable[i].label, {}, {}};
    for (size_t k = 0; k < shapes.size(); ++k) {
      if (shapes[k].vcpus != 2) continue;
      line.x.push_back(shapes[k].vms);
      line.y.push_back(results[i][k].vm_useful_cpus);
    }
    chart.series.push_back(std::move(line));
  }
  if (absl::Status s = WriteOutputs(opt->out, "vms", points, summary, chart); !s.ok()) {
    std::fprintf(stderr, "vms: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace wave::experiments

int main(int argc, char** argv) { return wave::experiments::Main(argc, argv); }
