// ModelSummary from the analyses (parameters, FLOPs, activation memory) and the file on disk.
#include "report/model_summary.h"

#include "analysis/flops.h"
#include "analysis/memory.h"
#include "analysis/parameters.h"

namespace effdl::report {

ModelSummary summarize(const ir::Model& model, const std::filesystem::path& modelFile) {
  ModelSummary s;
  auto params = analysis::computeParameterStats(model);
  auto flops = analysis::computeFlops(model);
  auto memory = analysis::estimateActivationMemory(model);
  std::error_code ec;
  uint64_t onDisk = std::filesystem::file_size(modelFile, ec);
  s.externalBytes = static_cast<uint64_t>(params.externalBytes);
  s.fileBytes = (ec ? 0 : onDisk) + s.externalBytes;
  s.parameters = params.totalParams;
  s.weightBytes = params.totalBytes;
  ir::forEachNodeRecursive(static_cast<const ir::Graph&>(*model.graph), [&](const ir::Node&) { ++s.nodes; });
  s.macs = flops.totalMacs;
  s.flops = flops.totalFlops;
  s.unknownCostNodes = flops.unknownShapeNodes + flops.unmodeledNodes;
  s.peakActivationBytes = memory.peakBytes;
  s.unknownActivationValues = memory.unknownValues;
  return s;
}

}  // namespace effdl::report
