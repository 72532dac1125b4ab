// Gathers a model's identity, interface, op counts and the three analyses (see model_stats.h).
#include "analysis/model_stats.h"

#include <algorithm>
#include <map>

#include "analysis/graph_walk.h"

namespace effdl::analysis {
namespace {

const char* kindName(ir::ValueType::Kind k) {
  switch (k) {
    case ir::ValueType::Kind::kTensor: return "tensor";
    case ir::ValueType::Kind::kSparseTensor: return "sparse_tensor";
    case ir::ValueType::Kind::kOther: return "other";
    case ir::ValueType::Kind::kUnknown: return "unknown";
  }
  return "unknown";
}

}  // namespace

std::string TensorSignature::shapeText() const {
  if (!rankKnown) return "?";
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i > 0) s += ",";
    s += dims[i];
  }
  return s + "]";
}

TensorSignature tensorSignature(const ir::Value& v) {
  TensorSignature sig;
  const ir::ValueType& t = v.type();
  sig.name = v.name();
  sig.kind = kindName(t.kind);
  sig.dtype = t.elemType;
  sig.rankKnown = t.shape.has_value();
  if (t.shape)
    for (const ir::Dim& d : *t.shape)
      // A symbolic dim bound for counting (--dim) keeps its name: the model's interface is symbolic.
      sig.dims.push_back(!d.param.empty() ? d.param : d.value ? std::to_string(*d.value) : "?");
  return sig;
}

ModelStats computeModelStats(const ir::Model& model, const ModelStatsOptions& options) {
  ModelStats s;
  s.irVersion = model.irVersion;
  s.producerName = model.producerName;
  s.producerVersion = model.producerVersion;
  s.metadata = model.metadata;
  s.opsets = model.opsets;
  if (!model.graph) return s;
  const ir::Graph& g = *model.graph;

  for (const ir::Value* v : g.inputs())
    if (!v->isInitializer() && !v->isSparseInitializer()) s.inputs.push_back(tensorSignature(*v));
  for (const ir::Value* v : g.outputs()) s.outputs.push_back(tensorSignature(*v));

  std::map<std::string, int64_t> counts;
  forEachGraph(g, [&](const ir::Graph& sg, int depth) {
    for (const ir::Node* n : sg.nodes()) {
      ++counts[opLabel(*n)];
      ++(depth == 0 ? s.nodes : s.subgraphNodes);
    }
  });
  for (const auto& [op, count] : counts) s.opCounts.push_back({op, count});
  std::stable_sort(s.opCounts.begin(), s.opCounts.end(),
                   [](const OpCount& a, const OpCount& b) { return a.count > b.count; });

  s.parameters = computeParameterStats(model, options.parameters);
  s.flops = computeFlops(model);
  s.memory = estimateActivationMemory(model);
  return s;
}

}  // namespace effdl::analysis
