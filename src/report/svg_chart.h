// Small self-contained SVG charts for the HTML report (no script, no network): paired bars
// (before/after), horizontal bars (per-layer values) and a scatter plot with the Pareto frontier.
#pragma once

#include <string>
#include <vector>

namespace effdl::report {

// Escapes text for HTML/SVG content and attributes.
std::string escapeXml(const std::string& s);

struct BarPair {
  std::string label;
  double before = 0, after = 0;
  std::string beforeText, afterText;  // printed at the bar ends
};
// Before/after bars, one group per item, scaled to the largest value.
std::string svgBarPairs(const std::string& title, const std::vector<BarPair>& items);

struct BarItem {
  std::string label;
  double value = 0;
  std::string text;
};
// One horizontal bar per item (at most `maxRows`, then "… N more").
std::string svgHorizontalBars(const std::string& title, const std::vector<BarItem>& items, size_t maxRows = 40);

struct ScatterPoint {
  std::string label;
  double x = 0, y = 0;
  bool frontier = false, selected = false;
};
// x: cost (lower is better), y: quality (higher is better); frontier points are filled and joined.
std::string svgScatter(const std::string& title, const std::string& xLabel, const std::string& yLabel,
                       const std::vector<ScatterPoint>& points);

}  // namespace effdl::report
