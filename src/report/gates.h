// CI gates: `--fail-if "size>0.3x, latency>0.8x, top1-agreement<99%, accuracy-drop>1pt"`. Each
// clause names a metric of the optimize report, a comparison and a threshold with its unit; the
// command fails (exit code 5) when any clause holds, printing one line per failed gate. A gate
// whose metric was not measured fails too — a CI step must not pass by accident.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "report/optimize_report.h"

namespace effdl::report {

struct Gate {
  std::string text;    // the clause as written, trimmed
  std::string metric;  // size, params, macs, latency, max-abs-error, cosine, top1-agreement, accuracy, accuracy-drop
  char op = '>';       // '>' or '<' (">=" and "<=" are stored with inclusive = true)
  bool inclusive = false;
  double threshold = 0;  // in the metric's unit: a ratio for "x", a fraction for "%", points for "pt"
  std::string unit;      // "x", "%", "pt", "ms", "B", ""
};

struct GateResult {
  Gate gate;
  std::optional<double> value;  // in the gate's unit; absent: not measured
  bool failed = false;
  std::string reason;  // one line, e.g. "size 0.41x > 0.3x (152.0 KiB -> 62.3 KiB)"
};

// Parses the --fail-if expression; throws kUsage naming the bad clause and listing the metrics.
std::vector<Gate> parseGates(const std::string& expression);
// Evaluates every gate against the report.
std::vector<GateResult> evaluateGates(const std::vector<Gate>& gates, const OptimizeReport& report);

}  // namespace effdl::report
