#include "report/gates.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "core/error.h"
#include "report/table.h"

namespace effdl::report {
namespace {

// The units each metric accepts; the first is the one used when the clause gives none.
const std::map<std::string, std::vector<std::string>>& metricUnits() {
  static const std::map<std::string, std::vector<std::string>> units = {
      {"size", {"x", "B", "K", "M", "G"}},
      {"params", {"x", ""}},
      {"macs", {"x", ""}},
      {"latency", {"x", "ms"}},
      {"max-abs-error", {""}},
      {"cosine", {""}},
      {"top1-agreement", {"%"}},
      {"accuracy", {"%"}},
      {"accuracy-drop", {"pt"}},
  };
  return units;
}

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

[[noreturn]] void badClause(const std::string& clause, const std::string& why) {
  std::string metrics;
  for (const auto& [m, u] : metricUnits()) metrics += (metrics.empty() ? "" : ", ") + m;
  throwUsage("--fail-if '" + clause + "': " + why + " (metrics: " + metrics +
             "; e.g. \"size>0.3x, latency>0.8x, top1-agreement<99%, accuracy-drop>1pt\")");
}

std::string formatValue(double v, const std::string& unit) {
  char b[48];
  if (unit == "x") std::snprintf(b, sizeof b, "%.3gx", v);
  else if (unit == "%") std::snprintf(b, sizeof b, "%.2f%%", v * 100.0);
  else if (unit == "pt") std::snprintf(b, sizeof b, "%.2f pt", v);
  else if (unit == "ms") std::snprintf(b, sizeof b, "%.3g ms", v);
  else if (unit == "B") return formatBytes(static_cast<uint64_t>(v));
  else std::snprintf(b, sizeof b, "%.4g", v);
  return b;
}

double ratio(double after, double before) { return before > 0 ? after / before : (after > 0 ? INFINITY : 1.0); }

}  // namespace

std::vector<Gate> parseGates(const std::string& expression) {
  std::vector<Gate> gates;
  size_t start = 0;
  while (start <= expression.size()) {
    size_t end = expression.find(',', start);
    if (end == std::string::npos) end = expression.size();
    std::string clause = trim(expression.substr(start, end - start));
    start = end + 1;
    if (clause.empty()) {
      if (end == expression.size()) break;
      badClause(clause, "empty clause");
    }
    Gate g;
    g.text = clause;
    size_t opPos = clause.find_first_of("<>");
    if (opPos == std::string::npos || opPos == 0) badClause(clause, "expected METRIC>VALUE or METRIC<VALUE");
    g.metric = trim(clause.substr(0, opPos));
    g.op = clause[opPos];
    size_t valuePos = opPos + 1;
    if (valuePos < clause.size() && clause[valuePos] == '=') {
      g.inclusive = true;
      ++valuePos;
    }
    auto it = metricUnits().find(g.metric);
    if (it == metricUnits().end()) badClause(clause, "unknown metric '" + g.metric + "'");
    std::string value = trim(clause.substr(valuePos));
    size_t used = 0;
    try {
      g.threshold = std::stod(value, &used);
    } catch (...) {
      badClause(clause, "'" + value + "' is not a number");
    }
    g.unit = trim(value.substr(used));
    if (g.unit == "KiB") g.unit = "K";
    if (g.unit == "MiB") g.unit = "M";
    if (g.unit == "GiB") g.unit = "G";
    const auto& allowed = it->second;
    if (g.unit.empty() && !allowed.empty()) g.unit = allowed.front();
    if (std::find(allowed.begin(), allowed.end(), g.unit) == allowed.end()) {
      std::string list;
      for (const auto& u : allowed) list += (list.empty() ? "" : ", ") + (u.empty() ? std::string("(none)") : u);
      badClause(clause, "unit '" + g.unit + "' does not fit " + g.metric + " (use " + list + ")");
    }
    // Sizes are compared in bytes, percentages as fractions.
    if (g.unit == "K") g.threshold *= 1024.0, g.unit = "B";
    if (g.unit == "M") g.threshold *= 1024.0 * 1024, g.unit = "B";
    if (g.unit == "G") g.threshold *= 1024.0 * 1024 * 1024, g.unit = "B";
    if (g.unit == "%") g.threshold /= 100.0;
    gates.push_back(g);
  }
  if (gates.empty()) throwUsage("--fail-if: no gate given");
  return gates;
}

std::vector<GateResult> evaluateGates(const std::vector<Gate>& gates, const OptimizeReport& r) {
  std::vector<GateResult> results;
  const Measurements& m = r.measured;
  for (const Gate& g : gates) {
    GateResult res{g, std::nullopt, false, ""};
    std::string detail;
    auto d = [](auto v) { return static_cast<double>(v); };
    if (g.metric == "size") {
      res.value = g.unit == "x" ? ratio(d(r.after.fileBytes), d(r.before.fileBytes)) : d(r.after.fileBytes);
      detail = formatBytes(r.before.fileBytes) + " -> " + formatBytes(r.after.fileBytes);
    } else if (g.metric == "params") {
      res.value = g.unit == "x" ? ratio(d(r.after.parameters), d(r.before.parameters)) : d(r.after.parameters);
      detail = formatCount(d(r.before.parameters)) + " -> " + formatCount(d(r.after.parameters));
    } else if (g.metric == "macs") {
      res.value = g.unit == "x" ? ratio(d(r.after.macs), d(r.before.macs)) : d(r.after.macs);
      detail = formatCount(d(r.before.macs)) + " -> " + formatCount(d(r.after.macs));
    } else if (g.metric == "latency") {
      if (m.before && m.after) {
        res.value = g.unit == "x" ? ratio(m.after->p50Ms, m.before->p50Ms) : m.after->p50Ms;
        detail = "p50 " + formatValue(m.before->p50Ms, "ms") + " -> " + formatValue(m.after->p50Ms, "ms");
      }
    } else if (g.metric == "max-abs-error") {
      if (m.agreement) res.value = m.agreement->maxAbsError();
    } else if (g.metric == "cosine") {
      if (m.agreement) res.value = m.agreement->worstCosine();
    } else if (g.metric == "top1-agreement") {
      if (m.agreement) res.value = m.agreement->top1Agreement();
    } else if (g.metric == "accuracy") {
      res.value = m.accuracyAfter;
    } else if (g.metric == "accuracy-drop") {
      if (m.accuracyBefore && m.accuracyAfter) res.value = (*m.accuracyBefore - *m.accuracyAfter) * 100.0;
      if (res.value) detail = formatValue(*m.accuracyBefore, "%") + " -> " + formatValue(*m.accuracyAfter, "%");
    }
    const std::string shown = g.metric + (g.inclusive ? std::string(1, g.op) + "=" : std::string(1, g.op)) +
                              formatValue(g.threshold, g.unit);
    if (!res.value) {
      res.failed = true;
      res.reason = g.metric + " was not measured, so gate '" + g.text + "' cannot pass";
    } else {
      double v = *res.value;
      bool holds = g.op == '>' ? (g.inclusive ? v >= g.threshold : v > g.threshold)
                               : (g.inclusive ? v <= g.threshold : v < g.threshold);
      res.failed = holds;
      res.reason = g.metric + " " + formatValue(v, g.unit) + (holds ? " meets " : " is within ") + "fail-if " + shown +
                   (detail.empty() ? "" : " (" + detail + ")");
    }
    results.push_back(res);
  }
  return results;
}

}  // namespace effdl::report
