// The prestaging experiment (issue 5): does prestaging hide the link?
//
// `wave sim`, rocksdb (99.5% GETs of 10 us, 0.5% scans of 5 ms), 8 cpus, centralized FIFO, at a
// fixed load near saturation, with the agent on the IPU behind a link of 0.25, 1, 2 and 5 us,
// prestaging off and on (depth 2). References: a free link (0 us: what the policy does when the
// link costs nothing), and the agent on a host cpu (which then serves one cpu fewer; at this
// load that placement is saturated, which is Wave's point about host cpus). For each run: p50 and
// p99 latency, the cpu time left idle while a runnable task waited for a decision, and how
// often decisions failed (stale or rejected commits, aborted staged decisions).
//
//   bazel run -c opt //bench:prestage_experiment [-- --load=200000 --seconds=2 --depth=2]
//
// Virtual time: deterministic, and the whole sweep takes a few seconds.
#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "host/sim/sim.h"
#include "policies/sched/fifo.h"

namespace wave {
namespace {

struct Row {
  std::string agent;
  double link_us;
  uint32_t depth;
  SimResult r;
};

double FailurePct(const SimResult& r) {
  const AgentStats& a = r.agent;
  const double decisions = static_cast<double>(a.commits_sent + a.staged_sent);
  const double failed = static_cast<double>(a.commits_stale() + a.commits_rejected());
  return decisions > 0 ? 100.0 * failed / decisions : 0.0;
}

int Main(int argc, char** argv) {
  double load = 200'000;
  double seconds = 2;
  uint32_t depth = 2;
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    if (std::strncmp(a, "--load=", 7) == 0) {
      load = std::atof(a + 7);
    } else if (std::strncmp(a, "--seconds=", 10) == 0) {
      seconds = std::atof(a + 10);
    } else if (std::strncmp(a, "--depth=", 8) == 0) {
      depth = static_cast<uint32_t>(std::atoi(a + 8));
    } else {
      std::fprintf(stderr, "prestage_experiment: unknown argument %s\n", a);
      return 2;
    }
  }
  if (!(load > 0) || !(seconds > 0) || depth < 2) {
    std::fprintf(stderr, "prestage_experiment: --load and --seconds must be > 0, --depth >= 2\n");
    return 2;
  }
  std::vector<Row> rows;
  auto run = [&](const std::string& agent, Placement placement, double link_us, uint32_t d) {
    SimConfig c;
    c.placement = placement;
    c.workload.load_rps = load;
    c.duration_ns = static_cast<uint64_t>(seconds * 1e9);
    c.link_latency_ns = static_cast<uint64_t>(link_us * 1e3);
    c.prestage_depth = d;
    FifoPolicy fifo;
    absl::StatusOr<SimResult> r = RunSim(c, fifo);
    if (!r.ok()) {
      std::fprintf(stderr, "prestage_experiment: %s\n", r.status().ToString().c_str());
      std::exit(1);
    }
    rows.push_back({agent, placement == Placement::kHost ? 0.1 : link_us, d, *r});
    std::fprintf(stderr, ".");
  };
  run("host cpu", Placement::kHost, 0.1, 0);
  run("host cpu", Placement::kHost, 0.1, depth);
  for (double link : {0.0, 0.25, 1.0, 2.0, 5.0}) {
    for (uint32_t d : {0u, depth}) run("ipu", Placement::kIpu, link, d);
  }
  std::fprintf(stderr, "\n");

  std::printf(
      "rocksdb, %.0f req/s, %g s, centralized FIFO; host cpu: 7 workload cpus + the "
      "agent's, ipu: 8 workload cpus\n\n",
      load, seconds);
  std::printf(
      "| agent | link us | prestage | p50 us | p99 us | idle cpu with work waiting | "
      "staged hits | staged aborts | failed decisions | lost |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|\n");
  for (const Row& row : rows) {
    const SimResult& r = row.r;
    std::printf("%s",
                fmt::format("| {} | {:g} | {} | {:.1f} | {:.1f} | {:.2f}% | {} | {} | "
                            "{:.2f}% | {} |\n",
                            row.agent, row.link_us, row.depth == 0 ? "off" : "on", r.latency_p50_us,
                            r.latency_p99_us, 100.0 * r.idle_with_work_fraction, r.staged_hits,
                            r.staged_aborts, FailurePct(r), r.lost_tasks)
                    .c_str());
  }
  return 0;
}

}  // namespace
}  // namespace wave

int main(int argc, char** argv) { return wave::Main(argc, argv); }
