// What `effdl optimize` prints: the model before and after, what each pass did, and where the
// output went — as an aligned table for people or JSON (schema: docs/report.schema.json).
#pragma once

#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "report/model_summary.h"

namespace effdl::report {

struct PassRecord {
  std::string name;
  double seconds = 0;
  int64_t nodesBefore = 0, nodesAfter = 0;
  std::vector<std::pair<std::string, int64_t>> counters;
  std::map<std::string, int64_t> declined;
  std::vector<std::string> notes;
};

struct OptimizeReport {
  std::string input, output;
  std::string pipeline;  // canonical spec
  ModelSummary before, after;
  std::vector<PassRecord> passes;
};

inline constexpr int kReportSchemaVersion = 1;

void renderOptimizeTable(const OptimizeReport& r, std::ostream& os);
void renderOptimizeJson(const OptimizeReport& r, std::ostream& os);

}  // namespace effdl::report
