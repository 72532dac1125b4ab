// An aligned text table: columns sized to their widest cell, numbers right-aligned; cells may
// carry a tone (better/worse) that is painted with ANSI colours only when the caller asks.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace effdl::report {

enum class Tone { kPlain, kGood, kBad };

// `text` wrapped in green (good) or red (bad) escape codes when `color`, else unchanged.
std::string paint(const std::string& text, Tone tone, bool color);
// The tone of an after/before ratio where smaller is better (size, latency): plain when it rounds
// to 1.00x, as printed.
Tone lowerIsBetter(double after, double before);

class Table {
 public:
  explicit Table(std::vector<std::string> header, std::vector<bool> rightAlign = {});
  void addRow(std::vector<std::string> cells, std::vector<Tone> tones = {});
  // Widths come from the text alone, so colour never changes the alignment.
  void print(std::ostream& os, const std::string& indent = "", bool color = false) const;

 private:
  std::vector<std::string> header_;
  std::vector<bool> right_;
  std::vector<std::vector<std::string>> rows_;
  std::vector<std::vector<Tone>> tones_;
};

std::string formatBytes(uint64_t bytes);   // "1.23 MiB"
std::string formatCount(double n);         // "11.69M", "1.82G"
std::string formatRatio(double after, double before);  // "0.27x", "-" when undefined
std::string formatMs(double ms);            // "34.9 us", "1.23 ms"
std::string formatSci(double v);            // "7.15e-06", "0.999"
std::string formatPercent(double fraction);  // 0.9972 → "99.72%"

}  // namespace effdl::report
