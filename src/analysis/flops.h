// Compute cost per node: multiply-accumulates (MACs) and floating-point operations (FLOPs), from
// the static shapes shape inference left on the graph.
//
// Conventions (so numbers compare with torchvision's "GFLOPS", fvcore and thop, which all count
// MACs):
//  * MACs count only the multiply-accumulates of Conv, ConvTranspose, Gemm, MatMul, their integer
//    and QLinear forms, and RNN/GRU/LSTM. Every other op has 0 MACs.
//  * FLOPs = 2 × MACs for those ops, plus their bias/scale additions (1 per output element added
//    to; RNN/GRU/LSTM gate activations and biases are not counted). Other ops cost a fixed number
//    of FLOPs per element (see flops.cpp's table):
//      1/elt   Add, Sub, Mul, Div, Relu, Neg, Exp, Sqrt, Erf, Tanh, comparisons, Where, ...
//      2/elt   LeakyRelu, PRelu, Clip, DequantizeLinear; BatchNormalization (inference: one
//              scale, one shift per element once its constants are folded)
//      3/elt   Softmax / LogSoftmax (exp, sum, divide), HardSigmoid, Softplus, Elu, Selu,
//              QuantizeLinear, LpNormalization
//      4/elt   Sigmoid (neg, exp, add, divide), HardSwish
//      5/elt   Gelu and Mish (erf/tanh plus surrounding arithmetic); LayerNormalization,
//              InstanceNormalization, GroupNormalization, MeanVarianceNormalization (mean,
//              variance, normalise, scale, shift)
//    Variadic Sum/Max/Min: (inputs − 1) per output element; Mean: inputs.
//    Pooling: prod(kernel_shape) per output element; global pooling and reductions
//    (Reduce*, ArgMax/ArgMin): 1 per input element; DynamicQuantizeLinear 5 per input element;
//    LRN 2 × size + 3 per element.
//    Resize/Upsample: nearest 0, linear 4, cubic 12 per output element (rough).
//    Data movement (Reshape, Transpose, Concat, Slice, Gather, Pad, Cast, Dropout, ...): 0.
//  * An op outside the table (custom domains, Einsum, TopK, ...) is "unmodeled": 0, counted.
//  * A node whose needed shapes are not all static (symbolic dims left unbound, failed
//    inference) is "unknown": 0, counted — bind dims (--dim batch=1) for a full total.
//  * Subgraphs: every node of every subgraph is costed once. A Loop/Scan body therefore counts
//    one iteration (a lower bound) and both branches of an If are counted (an upper bound);
//    FlopsSummary::subgraphNodes says how many nodes this concerns.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "ir/graph.h"

namespace effdl::analysis {

enum class CostStatus {
  kKnown,
  kUnknownShape,  // a shape needed for the count is not static
  kUnmodeled,     // the op has no cost rule
};
const char* costStatusName(CostStatus s);  // "known", "unknown_shape", "unmodeled"

struct NodeCost {
  CostStatus status = CostStatus::kKnown;
  int64_t macs = 0;
  int64_t flops = 0;
};

// The cost of one node on its own (its subgraphs' nodes are costed separately).
NodeCost nodeCost(const ir::Node& node);

struct NodeCostEntry {
  const ir::Node* node = nullptr;  // valid while the model lives
  std::string name;                // node name (may be empty)
  std::string opType;              // opLabel(): "Conv" or "domain:Op"
  int subgraphDepth = 0;           // 0: main graph
  NodeCost cost;
};

struct OpCost {
  std::string opType;
  int64_t nodes = 0;
  int64_t macs = 0;
  int64_t flops = 0;
  int64_t unknownNodes = 0;  // unknown shape or unmodeled
};

struct FlopsSummary {
  int64_t totalMacs = 0;   // over known nodes
  int64_t totalFlops = 0;  // over known nodes
  int64_t knownNodes = 0;
  int64_t unknownShapeNodes = 0;  // totals are a lower bound when > 0
  int64_t unmodeledNodes = 0;
  int64_t subgraphNodes = 0;  // nodes inside If/Loop/Scan bodies, each counted once
  // Saturated at INT64_MAX (a hostile model's shapes can overflow a product).
  bool overflow = false;

  // Main graph in order; a node's subgraph nodes follow it.
  std::vector<NodeCostEntry> nodes;
  std::vector<OpCost> byOpType;  // flops desc, then name
  // Ops without a cost rule, with how many nodes each (name asc).
  std::vector<std::pair<std::string, int64_t>> unmodeledOps;
};

FlopsSummary computeFlops(const ir::Model& model);

}  // namespace effdl::analysis
