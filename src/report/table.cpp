// Text table and number formatting shared by the renderers.
#include "report/table.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace effdl::report {

Table::Table(std::vector<std::string> header, std::vector<bool> rightAlign)
    : header_(std::move(header)), right_(std::move(rightAlign)) {
  right_.resize(header_.size(), false);
}

std::string paint(const std::string& text, Tone tone, bool color) {
  if (!color || tone == Tone::kPlain || text.empty()) return text;
  return (tone == Tone::kGood ? "\x1b[32m" : "\x1b[31m") + text + "\x1b[0m";
}

Tone lowerIsBetter(double after, double before) {
  if (!(before > 0) || !(after >= 0)) return Tone::kPlain;
  const double ratio = std::round(after / before * 100.0) / 100.0;  // as formatRatio prints it
  return ratio < 1.0 ? Tone::kGood : ratio > 1.0 ? Tone::kBad : Tone::kPlain;
}

void Table::addRow(std::vector<std::string> cells, std::vector<Tone> tones) {
  cells.resize(header_.size());
  tones.resize(header_.size(), Tone::kPlain);
  rows_.push_back(std::move(cells));
  tones_.push_back(std::move(tones));
}

void Table::print(std::ostream& os, const std::string& indent, bool color) const {
  std::vector<size_t> w(header_.size(), 0);
  for (size_t c = 0; c < header_.size(); ++c) {
    w[c] = header_[c].size();
    for (const auto& r : rows_) w[c] = std::max(w[c], r[c].size());
  }
  auto line = [&](const std::vector<std::string>& cells, const std::vector<Tone>* tones) {
    // Trailing blanks are trimmed before painting, so a line never ends in spaces.
    size_t last = cells.size();
    while (last > 0 && cells[last - 1].empty()) --last;
    std::string s = indent;
    for (size_t c = 0; c < last; ++c) {
      std::string pad(w[c] - cells[c].size(), ' ');
      std::string cell = paint(cells[c], tones ? (*tones)[c] : Tone::kPlain, color);
      s += right_[c] ? pad + cell : cell + (c + 1 < last ? pad : "");
      if (c + 1 < last) s += "  ";
    }
    while (!s.empty() && s.back() == ' ') s.pop_back();
    os << s << "\n";
  };
  line(header_, nullptr);
  std::vector<std::string> rule;
  for (size_t c = 0; c < header_.size(); ++c) rule.push_back(std::string(w[c], '-'));
  line(rule, nullptr);
  for (size_t r = 0; r < rows_.size(); ++r) line(rows_[r], &tones_[r]);
}

std::string formatBytes(uint64_t b) {
  char buf[32];
  if (b < 1024) std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(b));
  else if (b < (uint64_t{1} << 20)) std::snprintf(buf, sizeof buf, "%.1f KiB", static_cast<double>(b) / 1024.0);
  else if (b < (uint64_t{1} << 30)) std::snprintf(buf, sizeof buf, "%.2f MiB", static_cast<double>(b) / 1048576.0);
  else std::snprintf(buf, sizeof buf, "%.2f GiB", static_cast<double>(b) / 1073741824.0);
  return buf;
}

std::string formatCount(double n) {
  char buf[32];
  if (n < 1e3) std::snprintf(buf, sizeof buf, "%.0f", n);
  else if (n < 1e6) std::snprintf(buf, sizeof buf, "%.2fK", n / 1e3);
  else if (n < 1e9) std::snprintf(buf, sizeof buf, "%.2fM", n / 1e6);
  else std::snprintf(buf, sizeof buf, "%.2fG", n / 1e9);
  return buf;
}

std::string formatRatio(double after, double before) {
  if (before <= 0) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2fx", after / before);
  return buf;
}

std::string formatMs(double v) {
  char b[32];
  if (v < 1.0) std::snprintf(b, sizeof b, "%.1f us", v * 1000.0);
  else std::snprintf(b, sizeof b, "%.2f ms", v);
  return b;
}

std::string formatSci(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.3g", v);
  return b;
}

std::string formatPercent(double fraction) {
  char b[32];
  std::snprintf(b, sizeof b, "%.2f%%", fraction * 100.0);
  return b;
}

}  // namespace effdl::report
