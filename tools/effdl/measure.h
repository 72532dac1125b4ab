// The runtime measurements `effdl optimize` adds to its report: latency of both models, their
// agreement on the same inputs, and accuracy on labeled data.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "ir/graph.h"
#include "report/optimize_report.h"

namespace effdl::cli {

struct MeasureOptions {
  int threads = 0;     // 0: all cores
  int iterations = 20;  // timed runs per model; 0: no latency
  int fidelitySamples = 8;  // 0: no agreement
  uint64_t seed = 0;
  std::map<std::string, int64_t> dims;
  uint64_t maxTensorBytes = 0;
  std::string progressLabel;  // prefix of the progress steps ("int8: bench original")
  // Labeled data for accuracy (loadEvalData), absent: no accuracy.
  std::optional<ir::Tensor> evalX, evalY;
};

// Reads --eval-data/--eval-labels and checks them against each other (one array each, N rows and N
// integer labels) before any work starts; kUsage otherwise.
void loadEvalData(const std::string& dataPath, const std::string& labelsPath, MeasureOptions& options);

// Fills what it can; a part that cannot run (an op without a kernel, a model too big, eval data
// that does not fit the model) is recorded in `notMeasured` with the reason instead of failing
// the command, whose output is already written.
report::Measurements measureModels(const ir::Model& before, const ir::Model& after, const MeasureOptions& options);

}  // namespace effdl::cli
