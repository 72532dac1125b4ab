#include "report/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace effdl::report {
namespace {

std::string num(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f", v);
  return b;
}

std::string shortNumber(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.3g", v);
  return b;
}

constexpr const char* kBeforeColour = "#9aa5b1";
constexpr const char* kAfterColour = "#2f80ed";

}  // namespace

std::string escapeXml(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string svgBarPairs(const std::string& title, const std::vector<BarPair>& items) {
  const double labelW = 150, barMax = 380, rowH = 44, top = 34;
  const double height = top + rowH * static_cast<double>(items.size()) + 28;
  double maxV = 0;
  for (const auto& it : items) maxV = std::max({maxV, it.before, it.after});
  if (maxV <= 0) maxV = 1;
  std::ostringstream os;
  os << "<svg class=\"chart bars\" xmlns=\"http://www.w3.org/2000/svg\" width=\"640\" height=\"" << num(height)
     << "\" role=\"img\" aria-label=\"" << escapeXml(title) << "\">\n";
  os << "<text x=\"0\" y=\"18\" class=\"title\">" << escapeXml(title) << "</text>\n";
  double y = top;
  for (const auto& it : items) {
    double wb = barMax * it.before / maxV, wa = barMax * it.after / maxV;
    os << "<text x=\"0\" y=\"" << num(y + 22) << "\">" << escapeXml(it.label) << "</text>\n";
    os << "<rect class=\"bar before\" x=\"" << labelW << "\" y=\"" << num(y) << "\" width=\"" << num(std::max(wb, 1.0))
       << "\" height=\"16\" fill=\"" << kBeforeColour << "\"/>\n";
    os << "<text x=\"" << num(labelW + std::max(wb, 1.0) + 6) << "\" y=\"" << num(y + 13) << "\" class=\"value\">"
       << escapeXml(it.beforeText) << "</text>\n";
    os << "<rect class=\"bar after\" x=\"" << labelW << "\" y=\"" << num(y + 18) << "\" width=\"" << num(std::max(wa, 1.0))
       << "\" height=\"16\" fill=\"" << kAfterColour << "\"/>\n";
    os << "<text x=\"" << num(labelW + std::max(wa, 1.0) + 6) << "\" y=\"" << num(y + 31) << "\" class=\"value\">"
       << escapeXml(it.afterText) << "</text>\n";
    y += rowH;
  }
  os << "<rect x=\"" << labelW << "\" y=\"" << num(y + 6) << "\" width=\"12\" height=\"10\" fill=\"" << kBeforeColour
     << "\"/><text x=\"" << labelW + 16 << "\" y=\"" << num(y + 15) << "\">before</text>\n";
  os << "<rect x=\"" << labelW + 80 << "\" y=\"" << num(y + 6) << "\" width=\"12\" height=\"10\" fill=\"" << kAfterColour
     << "\"/><text x=\"" << labelW + 96 << "\" y=\"" << num(y + 15) << "\">after</text>\n";
  os << "</svg>\n";
  return os.str();
}

std::string svgHorizontalBars(const std::string& title, const std::vector<BarItem>& items, size_t maxRows) {
  const size_t rows = std::min(items.size(), maxRows);
  const double labelW = 220, barMax = 330, rowH = 20, top = 30;
  const double height = top + rowH * static_cast<double>(rows) + (items.size() > rows ? 24 : 8);
  double maxV = 0;
  for (size_t i = 0; i < rows; ++i) maxV = std::max(maxV, std::fabs(items[i].value));
  if (maxV <= 0) maxV = 1;
  std::ostringstream os;
  os << "<svg class=\"chart hbars\" xmlns=\"http://www.w3.org/2000/svg\" width=\"640\" height=\"" << num(height)
     << "\" role=\"img\" aria-label=\"" << escapeXml(title) << "\">\n";
  os << "<text x=\"0\" y=\"18\" class=\"title\">" << escapeXml(title) << "</text>\n";
  for (size_t i = 0; i < rows; ++i) {
    double y = top + rowH * static_cast<double>(i);
    double w = std::max(1.0, barMax * std::fabs(items[i].value) / maxV);
    std::string label = items[i].label.size() > 34 ? items[i].label.substr(0, 31) + "..." : items[i].label;
    os << "<text x=\"0\" y=\"" << num(y + 13) << "\">" << escapeXml(label) << "</text>\n";
    os << "<rect class=\"bar\" x=\"" << labelW << "\" y=\"" << num(y + 2) << "\" width=\"" << num(w)
       << "\" height=\"14\" fill=\"" << kAfterColour << "\"/>\n";
    os << "<text x=\"" << num(labelW + w + 6) << "\" y=\"" << num(y + 13) << "\" class=\"value\">"
       << escapeXml(items[i].text.empty() ? shortNumber(items[i].value) : items[i].text) << "</text>\n";
  }
  if (items.size() > rows)
    os << "<text x=\"0\" y=\"" << num(height - 6) << "\">… " << items.size() - rows << " more in the JSON report</text>\n";
  os << "</svg>\n";
  return os.str();
}

std::string svgScatter(const std::string& title, const std::string& xLabel, const std::string& yLabel,
                       const std::vector<ScatterPoint>& points) {
  const double left = 70, right = 610, top = 36, bottom = 300, width = 640, height = 340;
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (const auto& p : points) {
    x0 = std::min(x0, p.x), x1 = std::max(x1, p.x);
    y0 = std::min(y0, p.y), y1 = std::max(y1, p.y);
  }
  if (points.empty()) x0 = y0 = 0, x1 = y1 = 1;
  // A margin so that points do not sit on the axes; a flat range gets a unit span.
  double dx = x1 > x0 ? (x1 - x0) * 0.08 : std::max(1e-9, std::fabs(x0) * 0.1 + 1e-9);
  double dy = y1 > y0 ? (y1 - y0) * 0.08 : std::max(1e-9, std::fabs(y0) * 0.01 + 1e-9);
  x0 -= dx, x1 += dx, y0 -= dy, y1 += dy;
  auto sx = [&](double x) { return left + (x - x0) / (x1 - x0) * (right - left); };
  auto sy = [&](double y) { return bottom - (y - y0) / (y1 - y0) * (bottom - top); };
  std::ostringstream os;
  os << "<svg class=\"chart scatter\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\""
     << height << "\" role=\"img\" aria-label=\"" << escapeXml(title) << "\">\n";
  os << "<text x=\"0\" y=\"18\" class=\"title\">" << escapeXml(title) << "</text>\n";
  os << "<line x1=\"" << left << "\" y1=\"" << bottom << "\" x2=\"" << right << "\" y2=\"" << bottom
     << "\" stroke=\"#333\"/>\n<line x1=\"" << left << "\" y1=\"" << top << "\" x2=\"" << left << "\" y2=\"" << bottom
     << "\" stroke=\"#333\"/>\n";
  for (int t = 0; t <= 4; ++t) {
    double xv = x0 + (x1 - x0) * t / 4, yv = y0 + (y1 - y0) * t / 4;
    os << "<text x=\"" << num(sx(xv)) << "\" y=\"" << bottom + 16 << "\" text-anchor=\"middle\" class=\"tick\">"
       << shortNumber(xv) << "</text>\n";
    os << "<text x=\"" << left - 6 << "\" y=\"" << num(sy(yv) + 4) << "\" text-anchor=\"end\" class=\"tick\">"
       << shortNumber(yv) << "</text>\n";
  }
  os << "<text x=\"" << (left + right) / 2 << "\" y=\"" << height - 6 << "\" text-anchor=\"middle\">"
     << escapeXml(xLabel) << " (lower is better)</text>\n";
  os << "<text x=\"14\" y=\"" << (top + bottom) / 2 << "\" transform=\"rotate(-90 14 " << (top + bottom) / 2
     << ")\" text-anchor=\"middle\">" << escapeXml(yLabel) << "</text>\n";
  std::vector<ScatterPoint> front;
  for (const auto& p : points)
    if (p.frontier) front.push_back(p);
  std::sort(front.begin(), front.end(), [](const auto& a, const auto& b) { return a.x < b.x; });
  if (front.size() > 1) {
    os << "<polyline class=\"frontier\" fill=\"none\" stroke=\"#eb5757\" stroke-dasharray=\"4 3\" points=\"";
    for (const auto& p : front) os << num(sx(p.x)) << "," << num(sy(p.y)) << " ";
    os << "\"/>\n";
  }
  for (const auto& p : points) {
    os << "<circle class=\"point" << (p.frontier ? " frontier" : "") << (p.selected ? " selected" : "") << "\" cx=\""
       << num(sx(p.x)) << "\" cy=\"" << num(sy(p.y)) << "\" r=\"" << (p.selected ? 8 : 6) << "\" fill=\""
       << (p.frontier ? "#eb5757" : "#fff") << "\" stroke=\"" << (p.selected ? "#111" : "#eb5757")
       << "\" stroke-width=\"2\"/>\n";
    os << "<text x=\"" << num(sx(p.x) + 9) << "\" y=\"" << num(sy(p.y) - 8) << "\" class=\"value\">"
       << escapeXml(p.label) << "</text>\n";
  }
  os << "</svg>\n";
  return os.str();
}

}  // namespace effdl::report
