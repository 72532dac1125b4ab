// Graph edits shared by the quantization modes: int8 weights dequantized in front of the float
// op, int32 biases, and int8 embedding tables dequantized after the Gather.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "passes/pass.h"

namespace effdl::passes::quant {

// How a node's weight (input 1) splits into [outer, axis, inner] for per-channel scales (axis =
// the output channel) and into [outer, rows, inner] for per-block scales (rows = the reduction
// axis). Null when the op/shape is not one we quantize.
struct WeightLayout {
  int axis = 0;  // output-channel axis of the weight tensor (DequantizeLinear's `axis`)
  int64_t outer = 1, channels = 1, inner = 1;
  int64_t blockOuter = 1, rows = 1, blockInner = 1;
};
std::optional<WeightLayout> weightLayout(const ir::Node& n, const ir::Tensor& w);

// The float32 constant behind a node input, or null.
const ir::Tensor* floatConstant(const ir::Value* v);

struct WeightOptions {
  bool perChannel = true;
  bool reduceRange = false;
  int64_t blockSize = 0;  // > 0: per-block scales (Cast/Mul/Reshape: DequantizeLinear ≤ opset 17 has no blocks)
  // Float constants holding the dequantized values instead of int8 + DequantizeLinear: a model
  // any float runtime runs with the same rounding error (sensitivity analysis).
  bool simulate = false;
};

// Edits the model, remembering what it already made so a weight shared by several nodes is
// stored once.
class WeightRewriter {
 public:
  WeightRewriter(ir::Graph& g, WeightOptions o, PassResult& r) : g_(g), o_(o), r_(r) {}

  // Replaces input 1 of `n` (a float constant laid out as `layout`) with DequantizeLinear of an
  // int8 copy; returns the per-channel scales used (one per channel, or one for the tensor).
  std::vector<float> dequantizeWeight(ir::Node& n, const WeightLayout& layout);
  // int8 weight + scales for a consumer that takes them directly (MatMulInteger): the weight
  // transposed to [K, N] when `transpose`; scales per output column.
  struct Int8Weight {
    ir::Value* q = nullptr;
    std::vector<float> scales;
  };
  Int8Weight int8Weight(const ir::Value* w, bool transpose);
  // Replaces input 2 (a float constant bias) of `n` with DequantizeLinear(int32 bias, sx * sw).
  void dequantizeBias(ir::Node& n, float sx, const std::vector<float>& sw);
  // Rewrites Gather(table, ids) (axis 0, float table of rank 2) as int8 rows dequantized after the
  // gather: Mul(Cast(Gather(q, ids)), Gather(scales, ids)). Returns false (and a decline) if not.
  bool quantizeGather(ir::Node& gather);

  ir::Value* constant(const std::string& hint, ir::Tensor t) { return g_.addInitializer(hint, std::move(t), true); }

 private:
  ir::Graph& g_;
  WeightOptions o_;
  PassResult& r_;
  std::map<std::pair<const ir::Value*, int>, std::pair<ir::Value*, std::vector<float>>> done_;
  std::map<std::pair<const ir::Value*, bool>, Int8Weight> doneInt8_;
  std::map<const ir::Value*, std::pair<ir::Value*, ir::Value*>> doneGather_;  // table -> (rows, scales)
};

bool isDefaultDomain(const ir::Node& n);

// Graph::createNode, naming the node after its first output so errors and profiles can name it.
inline ir::Node* createNamed(ir::Graph& g, const std::string& op, const std::vector<ir::Value*>& inputs,
                             const std::vector<std::string>& outputHints, ir::Node* before = nullptr) {
  ir::Node* n = g.createNode(op, inputs, outputHints, before);
  if (n->output(0)) n->setName(n->output(0)->name());
  return n;
}

}  // namespace effdl::passes::quant
