// What every experiment prints and writes: a markdown table on stdout, the same rows as CSV, a
// line chart as SVG, and a progress bar on stderr while it sweeps. Dependency-free (fmt only),
// so the experiments run on a fresh machine with nothing but tools/setup.
#ifndef LIBWAVE_BENCH_EXPERIMENTS_REPORT_H_
#define LIBWAVE_BENCH_EXPERIMENTS_REPORT_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace wave::experiments {

// Rows of cells with a header: printed as markdown, written as CSV.
class Table {
 public:
  explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
  void Add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  std::string Markdown() const;
  std::string Csv() const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

struct Series {
  std::string name;
  std::vector<double> x;
  std::vector<double> y;  // same length as x; non-finite or <= 0 (on a log axis) are skipped
};

struct Chart {
  std::string title;
  std::string x_label;
  std::string y_label;
  bool log_y = false;
  // A horizontal reference line (e.g. the 1 ms saturation threshold), drawn when > 0.
  double y_reference = 0;
  std::string y_reference_label;
  std::vector<Series> series;
};

// A self-contained SVG line chart (axes, ticks, one coloured line with markers per series, a
// legend), 800x500.
std::string Svg(const Chart& chart);

// Writes `text` to `dir/name`, creating `dir`. Errors name the path.
absl::Status WriteFile(const std::string& dir, const std::string& name, const std::string& text);

// "[#########-----------]  9/20  what" on stderr, redrawn in place; Done() ends the line.
class Progress {
 public:
  Progress(std::string title, size_t total) : title_(std::move(title)), total_(total) {}
  void Step(const std::string& what);
  void Done();

 private:
  std::string title_;
  size_t total_;
  size_t done_ = 0;
};

// Formats for table cells.
std::string Num(double v, int decimals);

}  // namespace wave::experiments

#endif  // LIBWAVE_BENCH_EXPERIMENTS_REPORT_H_
