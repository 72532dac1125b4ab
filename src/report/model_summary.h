// The handful of numbers that describe a model's footprint, measured the same way before and
// after a pipeline so the optimize report can put them side by side.
#pragma once

#include <cstdint>
#include <filesystem>

#include "ir/graph.h"

namespace effdl::report {

struct ModelSummary {
  uint64_t fileBytes = 0;      // the .onnx file plus the external data it references
  uint64_t externalBytes = 0;  // of which in external data
  int64_t parameters = 0;
  int64_t weightBytes = 0;
  int64_t nodes = 0;  // main graph and subgraphs
  int64_t macs = 0;
  int64_t flops = 0;
  int64_t unknownCostNodes = 0;  // nodes whose cost is unknown (unbound dims) or unmodeled
  int64_t peakActivationBytes = 0;
  int64_t unknownActivationValues = 0;
};

// `modelFile`: the file the model was loaded from (its size is measured on disk).
ModelSummary summarize(const ir::Model& model, const std::filesystem::path& modelFile);

}  // namespace effdl::report
