#include "bench/experiments/common.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_format.h"
#include "bench/experiments/report.h"
#include "policies/registry.h"

namespace wave::experiments {

absl::StatusOr<Options> ParseOptions(int argc, char** argv, const Options& defaults) {
  Options o = defaults;
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
  if (setup.cpus > 0) base.cpus = setup.cpus;
  if (setup.link_latency_ns.has_value()) base.link_latency_ns = *setup.link_latency_ns;
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

absl::StatusOr<Sweep> RunSweep(const std::string& title, const std::vector<Setup>& setups,
                               const std::vector<double>& loads, const SimConfig& base) {
  Sweep sweep;
  sweep.loads = loads;
  for (const Setup& s : setups) {
    if (PolicyAvailable(s.policy)) {
      sweep.setups.push_back(s);
    } else {
      std::fprintf(stderr, "%s: skipping '%s': policy %s is not built\n", title.c_str(),
                   s.label.c_str(), s.policy.c_str());
    }
  }
  Progress progress(title, sweep.setups.size() * loads.size());
  for (const Setup& s : sweep.setups) {
    sweep.results.emplace_back();
    for (double load : loads) {
      progress.Step(s.label + " @ " + Num(load / 1000, 0) + "k");
      SimConfig c = base;
      c.workload.load_rps = load;
      absl::StatusOr<SimResult> r = RunSetup(s, c);
      if (!r.ok()) {
        progress.Done();
        return absl::Status(r.status().code(), s.label + ": " + std::string(r.status().message()));
      }
      sweep.results.back().push_back(*std::move(r));
    }
  }
  progress.Done();
  return sweep;
}

Table PointsTable(const Sweep& sweep) {
  Table t({"setup", "load req/s", "throughput req/s", "p50 us", "p99 us", "p99.9 us",
           "workload cpus", "host cpus for policy", "agent busy", "lost"});
  for (size_t i = 0; i < sweep.setups.size(); ++i) {
    for (size_t j = 0; j < sweep.loads.size(); ++j) {
      const SimResult& r = sweep.results[i][j];
      t.Add({sweep.setups[i].label, Num(sweep.loads[j], 0), Num(r.throughput_rps, 0),
             Num(r.latency_p50_us, 1), Num(r.latency_p99_us, 1), Num(r.latency_p999_us, 1),
             std::to_string(r.workload_cpus), Num(HostCpusForPolicy(sweep.setups[i]), 0),
             Num(r.agent_busy_fraction, 3), std::to_string(r.lost_tasks)});
    }
  }
  return t;
}

Chart LatencyChart(const Sweep& sweep, const std::string& title, int percentile, bool log_y,
                   double reference_us) {
  const std::string p = "p" + std::to_string(percentile);
  Chart c{title,
          "offered load (k req/s)",
          p + " latency (us)",
          log_y,
          reference_us,
          reference_us > 0 ? p + " = " + Num(reference_us / 1000, 0) + " ms" : "",
          {}};
  for (size_t i = 0; i < sweep.setups.size(); ++i) {
    Series s{sweep.setups[i].label, {}, {}};
    for (size_t j = 0; j < sweep.loads.size(); ++j) {
      const SimResult& r = sweep.results[i][j];
      s.x.push_back(sweep.loads[j] / 1000);
      s.y.push_back(percentile == 50 ? r.latency_p50_us : r.latency_p99_us);
    }
    c.series.push_back(std::move(s));
  }
  return c;
}

absl::Status WriteOutputs(const std::string& dir, const std::string& name, const Table& points,
                          const Table& summary, const Chart& chart) {
  if (absl::Status s = WriteFile(dir, name + ".csv", points.Csv()); !s.ok()) return s;
  if (absl::Status s = WriteFile(dir, name + "_summary.csv", summary.Csv()); !s.ok()) return s;
  if (absl::Status s = WriteFile(dir, name + ".svg", Svg(chart)); !s.ok()) return s;
  std::printf("wrote %s/%s.csv, %s_summary.csv, %s.svg\n", dir.c_str(), name.c_str(), name.c_str(),
              name.c_str());
  return absl::OkStatus();
}

}  // namespace wave::experiments
