#include "bench/experiments/report.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>

namespace wave::experiments {
namespace {

std::string CsvCell(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string Escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// Colour-blind-safe palette (Okabe-Ito), then dashes for more series than colours.
constexpr const char* kColours[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                    "#E69F00", "#56B4E9", "#000000", "#F0E442"};
constexpr const char* kDashes[] = {"", "6,3", "2,3"};

// Round tick values covering [lo, hi].
std::vector<double> LinearTicks(double lo, double hi) {
  const double span = hi - lo;
  if (!(span > 0)) return {lo};
  const double raw = span / 5;
  const double mag = std::pow(10, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    step = m * mag;
    if (span / step <= 6) break;
  }
  // Small whole-number ranges (counts of things) get whole-number ticks.
  if (step < 1 && span <= 10 && lo == std::floor(lo) && hi == std::floor(hi)) step = 1;
  std::vector<double> ticks;
  for (double v = std::ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push_back(v);
  return ticks;
}

std::string Label(double v) {
  if (v != 0 && (std::fabs(v) >= 1e6 || std::fabs(v) < 1e-2)) return fmt::format("{:.0e}", v);
  if (std::fabs(v - std::round(v)) < 1e-9) return fmt::format("{:.0f}", v);
  return fmt::format("{:g}", v);
}

}  // namespace

std::string Table::Markdown() const {
  std::string out = "|";
  for (const std::string& h : header_) out += " " + h + " |";
  out += "\n|";
  for (size_t i = 0; i < header_.size(); ++i) out += "---|";
  out += "\n";
  for (const auto& row : rows_) {
    out += "|";
    for (const std::string& c : row) out += " " + c + " |";
    out += "\n";
  }
  return out;
}

std::string Table::Csv() const {
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    for (size_t i = 0; i < cells.size(); ++i) out += (i ? "," : "") + CsvCell(cells[i]);
    out += "\n";
  };
  line(header_);
  for (const auto& row : rows_) line(row);
  return out;
}

std::string Svg(const Chart& c) {
  constexpr double kW = 800, kH = 500, kLeft = 80, kRight = 230, kTop = 50, kBottom = 60;
  const double pw = kW - kLeft - kRight, ph = kH - kTop - kBottom;
  auto usable = [&](double y) { return std::isfinite(y) && (!c.log_y || y > 0); };
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (const Series& s : c.series) {
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!usable(s.y[i]) || !std::isfinite(s.x[i])) continue;
      x0 = std::min(x0, s.x[i]);
      x1 = std::max(x1, s.x[i]);
      y0 = std::min(y0, s.y[i]);
      y1 = std::max(y1, s.y[i]);
    }
  }
  if (c.y_reference > 0) {
    y0 = std::min(y0, c.y_reference);
    y1 = std::max(y1, c.y_reference);
  }
  if (!(x1 >= x0)) x0 = 0, x1 = 1;
  if (!(y1 >= y0)) y0 = 1, y1 = 10;
  if (x1 == x0) x1 = x0 + 1;
  std::vector<double> yticks;
  if (c.log_y) {
    y0 = std::pow(10, std::floor(std::log10(y0)));
    y1 = std::pow(10, std::ceil(std::log10(y1)));
    if (y1 <= y0) y1 = y0 * 10;
    for (double v = y0; v <= y1 * 1.0001; v *= 10) yticks.push_back(v);
  } else {
    y0 = std::min(0.0, y0);
    yticks = LinearTicks(y0, y1 * 1.05);
    y1 = std::max(y1 * 1.05, yticks.back());
  }
  const std::vector<double> xticks = LinearTicks(x0, x1);
  auto px = [&](double x) { return kLeft + (x - x0) / (x1 - x0) * pw; };
  auto py = [&](double y) {
    const double f = c.log_y ? (std::log10(y) - std::log10(y0)) / (std::log10(y1) - std::log10(y0))
                             : (y - y0) / (y1 - y0);
    return kTop + ph - f * ph;
  };

  std::string o = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" "
      "font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">\n"
      "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      "<text x=\"{}\" y=\"28\" font-size=\"16\" font-weight=\"bold\">{}</text>\n",
      kW, kH, kLeft, Escape(c.title));
  // Grid and ticks.
  for (double v : yticks) {
    o += fmt::format(
        "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#ddd\"/>\n"
        "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n",
        kLeft, py(v), kLeft + pw, py(v), kLeft - 6, py(v) + 4, Label(v));
  }
  for (double v : xticks) {
    o += fmt::format(
        "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#eee\"/>\n"
        "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n",
        px(v), kTop, px(v), kTop + ph, px(v), kTop + ph + 18, Label(v));
  }
  o += fmt::format(
      "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#333\"/>\n"
      "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n"
      "<text x=\"18\" y=\"{:.1f}\" text-anchor=\"middle\" transform=\"rotate(-90 18 {:.1f})\">"
      "{}</text>\n",
      kLeft, kTop, pw, ph, kLeft + pw / 2, kH - 18, Escape(c.x_label), kTop + ph / 2, kTop + ph / 2,
      Escape(c.y_label + (c.log_y ? " (log scale)" : "")));
  if (c.y_reference > 0) {
    o += fmt::format(
        "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#999\" "
        "stroke-dasharray=\"8,4\"/>\n<text x=\"{:.1f}\" y=\"{:.1f}\" fill=\"#666\">{}</text>\n",
        kLeft, py(c.y_reference), kLeft + pw, py(c.y_reference), kLeft + 6, py(c.y_reference) - 5,
        Escape(c.y_reference_label));
  }
  // Series and legend.
  for (size_t k = 0; k < c.series.size(); ++k) {
    const Series& s = c.series[k];
    const char* colour = kColours[k % 8];
    const char* dash = kDashes[(k / 8) % 3];
    std::string points;
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!usable(s.y[i]) || !std::isfinite(s.x[i])) continue;
      points += fmt::format("{:.1f},{:.1f} ", px(s.x[i]), py(s.y[i]));
      o += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"2.5\" fill=\"{}\"/>\n", px(s.x[i]),
                       py(s.y[i]), colour);
    }
    o += fmt::format(
        "<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\" "
        "stroke-dasharray=\"{}\"/>\n",
        points, colour, dash);
    const double ly = kTop + 10 + 20 * static_cast<double>(k);
    o += fmt::format(
        "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"{}\" "
        "stroke-width=\"2\" stroke-dasharray=\"{}\"/>\n"
        "<text x=\"{:.1f}\" y=\"{:.1f}\">{}</text>\n",
        kLeft + pw + 15, ly, kLeft + pw + 40, ly, colour, dash, kLeft + pw + 46, ly + 4,
        Escape(s.name));
  }
  o += "</svg>\n";
  return o;
}

absl::Status WriteFile(const std::string& dir, const std::string& name, const std::string& text) {
  std::string path;
  for (size_t i = 0; i <= dir.size(); ++i) {  // mkdir -p
    if (i == dir.size() || dir[i] == '/') {
      const std::string part = dir.substr(0, i);
      if (!part.empty() && mkdir(part.c_str(), 0755) != 0 && errno != EEXIST) {
        return absl::InternalError(fmt::format("mkdir {}: {}", part, std::strerror(errno)));
      }
    }
  }
  path = dir + "/" + name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return absl::InternalError(fmt::format("cannot write {}", path));
  return absl::OkStatus();
}

void Progress::Step(const std::string& what) {
  ++done_;
  constexpr size_t kWidth = 30;
  const size_t filled = total_ == 0 ? kWidth : std::min(kWidth, done_ * kWidth / total_);
  std::fprintf(stderr, "\r%s [%s%s] %zu/%zu  %-40.40s", title_.c_str(),
               std::string(filled, '#').c_str(), std::string(kWidth - filled, '-').c_str(), done_,
               total_, what.c_str());
  std::fflush(stderr);
}

void Progress::Done() { std::fprintf(stderr, "\n"); }

std::string Num(double v, int decimals) {
  if (!std::isfinite(v)) return "-";
  return fmt::format("{:.{}f}", v, decimals);
}

}  // namespace wave::experiments
