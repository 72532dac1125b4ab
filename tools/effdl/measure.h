// The runtime measurements `effdl optimize` adds to its report: latency of both models, their
// agreement on the same inputs, and accuracy on labeled data.
#pragma once

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
  std::string evalData, evalLabels;  // .npy files; empty: no accuracy
  uint64_t maxTensorBytes = 0;
};

// Fills what it can; a part that cannot run (an op without a kernel, a model too big) is recorded
// in `notMeasured` with the reason instead of failing the command. Usage errors (bad --eval-data)
// are thrown.
report::Measurements measureModels(const ir::Model& before, const ir::Model& after, const MeasureOptions& options);

}  // namespace effdl::cli
