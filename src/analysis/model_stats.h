// Everything `effdl inspect` and the optimize report show about one model: identity (producer,
// opsets), interface (inputs/outputs), node counts, and the parameter, FLOPs and memory
// analyses. Plain data: renderers (text, JSON, ...) read it and compute nothing.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "analysis/flops.h"
#include "analysis/memory.h"
#include "analysis/parameters.h"
#include "ir/graph.h"

namespace effdl::analysis {

struct TensorSignature {
  std::string name;
  std::string kind;                   // "tensor", "sparse_tensor", "other" (sequence, map, ...), "unknown"
  ir::DataType dtype = ir::DataType::kUndefined;
  bool rankKnown = false;
  // One entry per dim: "3" when known, the symbol ("batch") when symbolic, "?" when unknown.
  std::vector<std::string> dims;
  std::string shapeText() const;  // "[batch,3,224,224]", or "?" when the rank is unknown
};

struct OpCount {
  std::string opType;  // opLabel(): "Conv" or "domain:Op"
  int64_t count = 0;
};

struct ModelStats {
  int64_t irVersion = 0;
  std::string producerName;
  std::string producerVersion;
  std::vector<std::pair<std::string, std::string>> metadata;  // metadata_props, file order
  std::vector<ir::OpsetImport> opsets;  // file order

  // Initializers listed among the inputs (IR < 4 overridable defaults) are weights, not inputs:
  // they are left out here and counted in `parameters`.
  std::vector<TensorSignature> inputs;
  std::vector<TensorSignature> outputs;

  int64_t nodes = 0;           // main graph
  int64_t subgraphNodes = 0;   // inside If/Loop/Scan bodies, any depth
  std::vector<OpCount> opCounts;  // all scopes; count desc, then name

  ParameterStats parameters;
  FlopsSummary flops;
  MemoryEstimate memory;
};

struct ModelStatsOptions {
  ParameterOptions parameters;
};

TensorSignature tensorSignature(const ir::Value& v);
ModelStats computeModelStats(const ir::Model& model, const ModelStatsOptions& options = {});

}  // namespace effdl::analysis
