#include "host/sim/report.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdint>
#include <iterator>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lib/sched/events.h"
#include "lib/sched/nice.h"

namespace wave {
namespace {

double NsToUs(uint64_t ns) { return static_cast<double>(ns) / 1e3; }
double NsToS(uint64_t ns) { return static_cast<double>(ns) / 1e9; }

// The link the agent actually talks over: a PCIe-like link on the IPU, a cache-line transfer on
// a host cpu.
uint64_t EffectiveLinkNs(const SimConfig& c) {
  return c.placement == Placement::kIpu ? c.link_latency_ns : c.host_link_latency_ns;
}

// Cpu time by nice value (when the run gave nice values, or is cpubound): the workers of each
// value, and their mean cpu time.
struct NiceShare {
  int nice = 0;
  uint64_t tasks = 0;
  double cpu_ms_mean = 0;
};

std::vector<NiceShare> ByNice(const SimResult& r) {
  const WorkloadConfig& w = r.config.workload;
  if (w.nice.empty() && w.kind != WorkloadKind::kCpuBound) return {};
  std::map<int, NiceShare> by;
  for (size_t i = 0; i < r.task_runtime_ns.size(); ++i) {
    const int nice = w.nice.empty() ? 0 : w.nice[i % w.nice.size()];
    NiceShare& s = by[nice];
    s.nice = nice;
    ++s.tasks;
    s.cpu_ms_mean += static_cast<double>(r.task_runtime_ns[i]) / 1e6;
  }
  std::vector<NiceShare> out;
  for (auto& [nice, s] : by) {
    s.cpu_ms_mean /= static_cast<double>(s.tasks);
    out.push_back(s);
  }
  return out;
}

// ---- table ----------------------------------------------------------------------------------

std::string Fixed(double v, int decimals) {
  if (!std::isfinite(v)) return "-";
  return fmt::format("{:.{}f}", v, decimals);
}

std::string Percent(double fraction) { return Fixed(fraction * 100.0, 2); }

class Table {
 public:
  void Row(std::string_view group, std::string_view label, std::string_view value,
           std::string_view unit = "") {
    // The group is printed once, on its first row.
    std::string_view shown = group == last_group_ ? std::string_view() : group;
    last_group_ = std::string(group);
    std::string line = fmt::format("  {:<10}{:<22}{:>14}", shown, label, value);
    if (!unit.empty()) line += fmt::format(" {}", unit);
    out_ += line;
    out_ += '\n';
  }
  void Row(std::string_view group, std::string_view label, uint64_t value,
           std::string_view unit = "") {
    Row(group, label, fmt::format("{}", value), unit);
  }
  std::string& out() { return out_; }

 private:
  std::string out_;
  std::string last_group_;
};

// ---- JSON -----------------------------------------------------------------------------------

// A tiny writer for one pretty-printed object; keys come out in the order they are written.
class JsonWriter {
 public:
  JsonWriter() {
    out_ = "{";
    first_.push_back(true);
  }

  void Str(std::string_view key, std::string_view v) {
    Key(key);
    Quote(v);
  }
  void Int(std::string_view key, uint64_t v) {
    Key(key);
    fmt::format_to(std::back_inserter(out_), "{}", v);
  }
  void Int(std::string_view key, int64_t v) {
    Key(key);
    fmt::format_to(std::back_inserter(out_), "{}", v);
  }
  // A measured value, with a fixed number of decimals.
  void Fixed(std::string_view key, double v, int decimals) {
    Key(key);
    if (!std::isfinite(v)) {
      out_ += "null";
      return;
    }
    fmt::format_to(std::back_inserter(out_), "{:.{}f}", v, decimals);
  }
  // A configured value, in its shortest round-trip form (100000, 0.25, 1e+20).
  void Shortest(std::string_view key, double v) {
    Key(key);
    if (!std::isfinite(v)) {
      out_ += "null";
      return;
    }
    fmt::format_to(std::back_inserter(out_), "{}", v);
  }
  void Open(std::string_view key) {
    Key(key);
    out_ += '{';
    first_.push_back(true);
  }
  void Close() {
    const bool empty = first_.back();
    first_.pop_back();
    if (!empty) {
      out_ += '\n';
      Indent();
    }
    out_ += '}';
  }
  std::string Finish() {
    while (!first_.empty()) Close();
    out_ += '\n';
    return std::move(out_);
  }

 private:
  void Indent() { out_.append(2 * first_.size(), ' '); }
  void Key(std::string_view key) {
    out_ += first_.back() ? "\n" : ",\n";
    first_.back() = false;
    Indent();
    Quote(key);
    out_ += ": ";
  }
  void Quote(std::string_view s) {
    out_ += '"';
    for (char ch : s) {
      const auto c = static_cast<unsigned char>(ch);
      if (c == '"' || c == '\\') {
        out_ += '\\';
        out_ += ch;
      } else if (c == '\n') {
        out_ += "\\n";
      } else if (c == '\t') {
        out_ += "\\t";
      } else if (c < 0x20 || c == 0x7f) {
        fmt::format_to(std::back_inserter(out_), "\\u{:04x}", static_cast<unsigned>(c));
      } else {
        out_ += ch;
      }
    }
    out_ += '"';
  }

  std::string out_;
  std::vector<bool> first_;  // per open object: no key written yet
};

}  // namespace

std::string FormatTable(const SimResult& r) {
  const SimConfig& c = r.config;
  Table t;
  std::string link = fmt::format("link {} us", NsToUs(EffectiveLinkNs(c)));
  if (c.placement == Placement::kHost) link += " (agent on a host cpu)";
  t.out() = fmt::format(
      "wave sim: workload {}, {} cpus, policy {}, placement {}, {}, load {} req/s, duration {} s, "
      "seed {}\n",
      WorkloadName(c.workload.kind), c.cpus, r.policy, PlacementName(c.placement), link,
      c.workload.load_rps, NsToS(c.duration_ns), c.seed);

  t.Row("requests", "arrived", r.arrived);
  t.Row("requests", "completed", r.completed);
  t.Row("requests", "throughput", Fixed(r.throughput_rps, 1), "req/s");
  t.Row("latency", "p50", Fixed(r.latency_p50_us, 2), "us");
  t.Row("latency", "p99", Fixed(r.latency_p99_us, 2), "us");
  t.Row("latency", "p99.9", Fixed(r.latency_p999_us, 2), "us");
  t.Row("latency", "mean", Fixed(r.latency_mean_us, 2), "us");
  t.Row("latency", "max", Fixed(r.latency_max_us, 2), "us");
  t.Row("commits", "ok", r.commits_ok);
  t.Row("commits", "stale", r.commits_stale);
  t.Row("commits", "rejected", r.commits_rejected);
  t.Row("cpus", "workload cpus", static_cast<uint64_t>(r.workload_cpus > 0 ? r.workload_cpus : 0));
  t.Row("cpus", "cpu utilization", Percent(r.cpu_utilization), "%");
  t.Row("cpus", "agent busy", Percent(r.agent_busy_fraction), "%");
  t.Row("cpus", "idle with work", Percent(r.idle_with_work_fraction), "%");
  t.Row("link", "events sent", r.events_sent);
  t.Row("link", "event ring full", r.event_ring_full);
  t.Row("link", "resyncs", r.resyncs);
  if (c.prestage_depth > 0) {
    t.Row("prestage", "depth", uint64_t{c.prestage_depth});
    t.Row("prestage", "staged hits", r.staged_hits);
    t.Row("prestage", "staged aborts", r.staged_aborts);
    t.Row("prestage", "misses", r.staged_misses);
  }
  for (const NiceShare& s : ByNice(r)) {
    t.Row("by nice", fmt::format("nice {} x{}", s.nice, s.tasks), Fixed(s.cpu_ms_mean, 2),
          fmt::format("ms cpu each (weight {})", NiceToWeight(s.nice)));
  }
  t.Row("failure", "fallbacks", r.fallbacks);
  if (r.fallbacks > 0) {
    if (c.agent_fail_at_ns != 0) {
      t.Row("failure", "detected after", Fixed(static_cast<double>(r.fallback_detect_ns) / 1e6, 3),
            "ms");
    }
    t.Row("failure", "in fallback", Fixed(static_cast<double>(r.fallback_ns) / 1e6, 3), "ms");
    t.Row("failure", "agent restarts", r.agent_restarts);
    if (!r.last_agent_error.empty()) t.Row("failure", "last error", r.last_agent_error);
  }
  if (c.workload.kind == WorkloadKind::kVms) {
    t.Row("vms", "useful vcpu work", Fixed(r.vm_useful_cpus, 3), "cpus");
    t.Row("vms", "vcpus on cpu", Fixed(r.vm_oncpu_cpus, 3), "cpus");
    t.Row("vms", "antagonists on cpu", Fixed(r.antagonist_cpus, 3), "cpus");
  }
  t.Row("checks", "lost tasks", r.lost_tasks);
  t.Row("checks", "incomplete requests", r.incomplete_requests);
  t.Row("checks", "invariant violations", r.invariant_violations);
  return std::move(t.out());
}

std::string FormatJson(const SimResult& r) {
  const SimConfig& c = r.config;
  JsonWriter j;
  // The run.
  j.Str("workload", WorkloadName(c.workload.kind));
  j.Int("cpus", static_cast<int64_t>(c.cpus));
  j.Str("policy", r.policy);
  j.Str("placement", PlacementName(c.placement));
  j.Shortest("link_latency_us", NsToUs(c.link_latency_ns));
  j.Shortest("host_link_latency_us", NsToUs(c.host_link_latency_ns));
  j.Shortest("load_rps", c.workload.load_rps);
  j.Int("threads", static_cast<int64_t>(c.workload.threads));
  j.Shortest("duration_s", NsToS(c.duration_ns));
  j.Int("seed", c.seed);
  // Requests.
  j.Int("arrived", r.arrived);
  j.Int("completed", r.completed);
  j.Int("completed_in_window", r.completed_in_window);
  j.Fixed("throughput_rps", r.throughput_rps, 3);
  j.Open("latency_us");
  j.Fixed("p50", r.latency_p50_us, 3);
  j.Fixed("p99", r.latency_p99_us, 3);
  j.Fixed("p999", r.latency_p999_us, 3);
  j.Fixed("mean", r.latency_mean_us, 3);
  j.Fixed("max", r.latency_max_us, 3);
  j.Close();
  // Transactions.
  j.Open("commits");
  j.Int("ok", r.commits_ok);
  j.Int("stale", r.commits_stale);
  j.Int("rejected", r.commits_rejected);
  j.Close();
  // Cpus.
  j.Int("workload_cpus", static_cast<int64_t>(r.workload_cpus));
  j.Fixed("cpu_utilization", r.cpu_utilization, 6);
  j.Fixed("agent_busy_fraction", r.agent_busy_fraction, 6);
  j.Fixed("idle_with_work_fraction", r.idle_with_work_fraction, 6);
  // The link.
  j.Int("events_sent", r.events_sent);
  j.Int("event_ring_full", r.event_ring_full);
  j.Int("resyncs", r.resyncs);
  j.Int("commits_old_epoch", r.commits_old_epoch);
  // Prestaging.
  j.Open("prestage");
  j.Int("depth", uint64_t{c.prestage_depth});
  j.Int("hits", r.staged_hits);
  j.Int("aborts", r.staged_aborts);
  j.Int("misses", r.staged_misses);
  j.Close();
  // Cpu time by nice value, when there is anything to compare.
  if (const std::vector<NiceShare> by_nice = ByNice(r); !by_nice.empty()) {
    j.Open("by_nice");
    for (const NiceShare& s : by_nice) {
      j.Open(fmt::format("{}", s.nice));
      j.Int("tasks", s.tasks);
      j.Int("weight", uint64_t{NiceToWeight(s.nice)});
      j.Fixed("cpu_ms_mean", s.cpu_ms_mean, 3);
      j.Close();
    }
    j.Close();
  }
  // Failure handling.
  j.Open("failure");
  j.Int("fallbacks", r.fallbacks);
  j.Int("detect_ns", r.fallback_detect_ns);
  j.Int("fallback_ns", r.fallback_ns);
  j.Int("agent_restarts", r.agent_restarts);
  j.Int("agent_errors", r.agent_errors);
  j.Str("last_error", r.last_agent_error);
  j.Close();
  if (c.workload.kind == WorkloadKind::kVms) {
    j.Open("vms");
    j.Fixed("useful_cpus", r.vm_useful_cpus, 6);
    j.Fixed("vcpu_oncpu_cpus", r.vm_oncpu_cpus, 6);
    j.Fixed("antagonist_cpus", r.antagonist_cpus, 6);
    j.Close();
  }
  // Correctness.
  j.Int("lost_tasks", r.lost_tasks);
  j.Int("incomplete_requests", r.incomplete_requests);
  j.Int("invariant_violations", r.invariant_violations);
  j.Int("end_ns", r.end_ns);
  // The agent's own counters.
  const AgentStats& a = r.agent;
  j.Open("agent");
  j.Int("polls", a.polls);
  j.Int("events", a.events);
  j.Int("unknown_type", a.unknown_type);
  j.Int("malformed", a.malformed);
  j.Int("unknown_task", a.unknown_task);
  j.Int("stale_events", a.stale_events);
  j.Int("duplicate_new", a.duplicate_new);
  j.Int("commits_sent", a.commits_sent);
  j.Int("commit_ring_full", a.commit_ring_full);
  j.Int("staged_sent", a.staged_sent);
  j.Int("staged_ok", a.staged_ok);
  j.Int("staged_aborted", a.staged_aborted);
  j.Int("resyncs", a.resyncs);
  j.Open("events_by_type");  // only the types seen, in type order
  a.events_by_type.ForEach([&j](uint16_t type, uint64_t n) { j.Int(MsgTypeName(type), n); });
  if (a.events_by_type.unknown() != 0) j.Int("UNKNOWN", a.events_by_type.unknown());
  j.Close();
  j.Open("results");  // commit results by status
  for (uint32_t s = 0; s < a.results.size(); ++s) j.Int(CommitStatusName(s), a.results[s]);
  j.Close();
  j.Close();
  return j.Finish();
}

}  // namespace wave
