// Human- and machine-readable renderings of a simulation result, for `wave sim` and the
// experiments. Both are pure functions of the SimResult: the same result gives the same bytes.
#ifndef LIBWAVE_HOST_SIM_REPORT_H_
#define LIBWAVE_HOST_SIM_REPORT_H_

#include <string>

#include "host/sim/sim.h"

namespace wave {

// A summary table: one header line naming the run (workload, cpus, policy, placement, link
// latency, load, duration, seed), then labelled rows for requests, latency, commits, cpus, the
// link and correctness counters. Ends with a newline.
std::string FormatTable(const SimResult& r);

// One JSON object with a fixed key order and fixed number formatting (counters as integers,
// latencies in microseconds with 3 decimals, fractions with 6, configuration values in their
// shortest round-trip form; a non-finite number is null). Ends with a newline.
std::string FormatJson(const SimResult& r);

}  // namespace wave

#endif  // LIBWAVE_HOST_SIM_REPORT_H_
