// An aligned text table: columns sized to their widest cell, numbers right-aligned.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace effdl::report {

class Table {
 public:
  explicit Table(std::vector<std::string> header, std::vector<bool> rightAlign = {});
  void addRow(std::vector<std::string> cells);
  void print(std::ostream& os, const std::string& indent = "") const;

 private:
  std::vector<std::string> header_;
  std::vector<bool> right_;
  std::vector<std::vector<std::string>> rows_;
};

std::string formatBytes(uint64_t bytes);   // "1.23 MiB"
std::string formatCount(double n);         // "11.69M", "1.82G"
std::string formatRatio(double after, double before);  // "0.27x", "-" when undefined
std::string formatMs(double ms);            // "34.9 us", "1.23 ms"
std::string formatSci(double v);            // "7.15e-06", "0.999"
std::string formatPercent(double fraction);  // 0.9972 → "99.72%"

}  // namespace effdl::report
