// The prestaging experiment (issue 5): does prestaging hide the link?
//
// `wave sim`, rocksdb (99.5% GETs of 10 us, 0.5% scans of 5 ms), 8 cpus, centralized FIFO, at a
// fixed load near saturation (200k req/s), with the agent on the IPU behind a link of 0.25, 1, 2
// and 5 us, prestaging off and on (depth 2). References: a free link (0 us: what the policy does
// when the link costs nothing), and the agent on a host cpu (which then serves one cpu fewer; at
// this load that placement is saturated, which is Wave's point about host cpus). For each run:
// p50 and p99 latency, the cpu time left idle while a runnable task waited for a decision, and
// how often decisions failed (stale or rejected commits, aborted staged decisions).
//
//   bazel run -c opt //bench/experiments:prestage -- --out=$PWD/docs/experiments
// Prints the table of every run (2 s of virtual time each unless --seconds), writes it as
// prestage.csv, prestage_summary.csv (without and with prestaging side by side, per link
// latency) and prestage.svg (p50 and p99 vs link latency).
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "bench/experiments/common.h"
#include "bench/experiments/report.h"

namespace wave::experiments {
namespace {

constexpr double kLoadRps = 200'000;
constexpr uint32_t kDepth = 2;

// Stale or rejected commits and aborted staged decisions, of all decisions sent.
double FailedDecisionsPct(const SimResult& r) {
  const AgentStats& a = r.agent;
  const double decisions = static_cast<double>(a.commits_sent + a.staged_sent);
  const double failed = static_cast<double>(a.commits_stale() + a.commits_rejected());
  return decisions > 0 ? 100.0 * failed / decisions : 0.0;
}

std::string Pct(double fraction) { return Num(100.0 * fraction, 2) + "%"; }

int Main(int argc, char** argv) {
  absl::StatusOr<Options> opt = ParseOptions(argc, argv, {.seconds = 2.0});
  if (!opt.ok()) {
    std::fprintf(stderr, "prestage: %s\n", std::string(opt.status().message()).c_str());
    return 2;
  }
  SimConfig base;
  base.duration_ns = static_cast<uint64_t>(opt->seconds * 1e9);
  std::vector<uint64_t> links_ns = {0, 250, 1'000, 2'000, 5'000};  // the IPU's, one way
  if (opt->quick) links_ns = {0, 5'000};
  // Without and with prestaging, next to each other: on a host cpu, then on the IPU per link.
  std::vector<Setup> setups = {
      {"fifo, host cpu", "fifo", Placement::kHost, 0},
      {"fifo, host cpu, prestage", "fifo", Placement::kHost, kDepth},
  };
  for (uint64_t link : links_ns) {
    for (uint32_t depth : {0u, kDepth}) {
      const std::string label =
          absl::StrFormat("fifo, ipu, %g us link%s", link / 1e3, depth > 0 ? ", prestage" : "");
      setups.push_back({label, "fifo", Placement::kIpu, depth, 0, link});
    }
  }
  absl::StatusOr<Sweep> sweep = RunSweep("prestage", setups, {kLoadRps}, base);
  if (!sweep.ok()) {
    std::fprintf(stderr, "prestage: %s\n", std::string(sweep.status().message()).c_str());
    return 1;
  }

  Table points({"agent", "link us", "prestage", "p50 us", "p99 us", "idle cpu with work waiting",
                "staged hits", "staged aborts", "failed decisions", "lost"});
  Table summary({"link us", "p50 us, off", "p50 us, on", "p99 us, off", "p99 us, on",
                 "idle cpu with work waiting, off", "idle cpu with work waiting, on",
                 "failed decisions, on"});
  Chart chart{absl::StrFormat("Prestaging: FIFO latency vs link (rocksdb, %.0fk req/s, 8 cpus)",
                              kLoadRps / 1000),
              "one-way link latency (us)",
              "latency (us)",
              true,
              0,
              "",
              {{"p50, no prestaging", {}, {}},
               {"p50, prestage", {}, {}},
               {"p99, no prestaging", {}, {}},
               {"p99, prestage", {}, {}}}};
  const SimResult* off = nullptr;  // the run without prestaging next to the one at hand
  for (size_t i = 0; i < sweep->setups.size(); ++i) {
    const Setup& s = sweep->setups[i];
    const SimResult& r = sweep->results[i][0];
    const bool host = s.placement == Placement::kHost;
    const double link_us =
        static_cast<double>(host ? base.host_link_latency_ns
                                 : s.link_latency_ns.value_or(base.link_latency_ns)) /
        1e3;
    points.Add({host ? "host cpu" : "ipu", absl::StrFormat("%g", link_us),
                s.prestage_depth > 0 ? "on" : "off", Num(r.latency_p50_us, 1),
                Num(r.latency_p99_us, 1), Pct(r.idle_with_work_fraction),
                std::to_string(r.staged_hits), std::to_string(r.staged_aborts),
                Num(FailedDecisionsPct(r), 2) + "%", std::to_string(r.lost_tasks)});
    if (s.prestage_depth == 0) {
      off = &r;
      continue;
    }
    if (host || off == nullptr) continue;  // the charts and the summary are of the link
    summary.Add({absl::StrFormat("%g", link_us), Num(off->latency_p50_us, 1),
                 Num(r.latency_p50_us, 1), Num(off->latency_p99_us, 1), Num(r.latency_p99_us, 1),
                 Pct(off->idle_with_work_fraction), Pct(r.idle_with_work_fraction),
                 Num(FailedDecisionsPct(r), 2) + "%"});
    const double y[] = {off->latency_p50_us, r.latency_p50_us, off->latency_p99_us,
                        r.latency_p99_us};
    for (size_t k = 0; k < chart.series.size(); ++k) {
      chart.series[k].x.push_back(link_us);
      chart.series[k].y.push_back(y[k]);
    }
  }
  std::printf(
      "rocksdb, %.0f req/s, %g s, centralized FIFO; host cpu: 7 workload cpus + the agent's, "
      "ipu: 8 workload cpus\n\n%s\n",
      kLoadRps, opt->seconds, points.Markdown().c_str());
  if (absl::Status st = WriteOutputs(opt->out, "prestage", points, summary, chart); !st.ok()) {
    std::fprintf(stderr, "prestage: %s\n", std::string(st.message()).c_str());
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace wave::experiments

int main(int argc, char** argv) { return wave::experiments::Main(argc, argv); }
