// What `effdl inspect` prints: a model's interface, ops, parameters, cost and memory, as an
// aligned text report or JSON (schema: docs/inspect.schema.json).
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "analysis/model_stats.h"
#include "runtime/kernel_coverage.h"

namespace effdl::report {

struct InspectReport {
  std::string path;
  uint64_t fileBytes = 0;  // the .onnx file
  analysis::ModelStats stats;
  std::vector<std::pair<std::string, int64_t>> boundDims;  // symbolic dims given values for the counts
  size_t perNodeLimit = 20;  // the text report lists the costliest nodes only; JSON lists all
  std::vector<runtime::MissingKernel> missingKernels;  // ops effdl's runtime cannot run
};

inline constexpr int kInspectSchemaVersion = 1;

// `color`: ops the runtime lacks in red, full coverage in green.
void renderInspectText(const InspectReport& r, std::ostream& os, bool color = false);
void renderInspectJson(const InspectReport& r, std::ostream& os);

}  // namespace effdl::report
