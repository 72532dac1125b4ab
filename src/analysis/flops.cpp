// Per-node MACs/FLOPs from static shapes (conventions in flops.h): a table of op → rule, and
// one function per rule that needs more than an element count.
#include "analysis/flops.h"

#include <algorithm>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <string_view>
#include <unordered_map>

#include "analysis/graph_walk.h"
#include "core/checked_math.h"

namespace effdl::analysis {
namespace {

using Shape = std::vector<int64_t>;
// nullopt: a shape the count needs is not static, or the count overflows int64.
using Count = std::optional<int64_t>;

enum class Rule {
  kZero,        // data movement and control flow
  kPerOutput,   // perElement × elements of output 0
  kPerInput,    // perElement × elements of input 0
  kVariadic,    // (inputs − 1) × output elements
  kMean,        // inputs × output elements
  kPool,        // prod(kernel_shape) × output elements
  kConv,        // weight at input 1, bias at input 2
  kConvInteger, // weight at input 1, no bias
  kQLinearConv, // weight at input 3, bias at input 8
  kConvTranspose,
  kGemm,
  kMatMul,        // A at input 0, B at input 1 (MatMul, MatMulInteger)
  kQLinearMatMul, // A at input 0, B at input 3
  kRnn,
  kResize,
  kLrn,
};

struct OpRule {
  std::string_view op;
  Rule rule;
  int64_t perElement;
};

// Default-domain ops only; anything else is unmodeled. Constants are rough on purpose: they
// rank ops and compare before/after, they do not predict time.
constexpr OpRule kRules[] = {
    // Data movement and control flow (subgraph nodes are costed on their own).
    {"Identity", Rule::kZero, 0}, {"Reshape", Rule::kZero, 0}, {"Flatten", Rule::kZero, 0},
    {"Squeeze", Rule::kZero, 0}, {"Unsqueeze", Rule::kZero, 0}, {"Transpose", Rule::kZero, 0},
    {"Concat", Rule::kZero, 0}, {"Split", Rule::kZero, 0}, {"Slice", Rule::kZero, 0},
    {"Gather", Rule::kZero, 0}, {"GatherElements", Rule::kZero, 0}, {"GatherND", Rule::kZero, 0},
    {"Scatter", Rule::kZero, 0}, {"ScatterElements", Rule::kZero, 0}, {"ScatterND", Rule::kZero, 0},
    {"Expand", Rule::kZero, 0}, {"Tile", Rule::kZero, 0}, {"Pad", Rule::kZero, 0},
    {"Shape", Rule::kZero, 0}, {"Size", Rule::kZero, 0}, {"Constant", Rule::kZero, 0},
    {"ConstantOfShape", Rule::kZero, 0}, {"Cast", Rule::kZero, 0}, {"CastLike", Rule::kZero, 0},
    {"Dropout", Rule::kZero, 0}, {"DepthToSpace", Rule::kZero, 0}, {"SpaceToDepth", Rule::kZero, 0},
    {"Range", Rule::kZero, 0}, {"EyeLike", Rule::kZero, 0}, {"Compress", Rule::kZero, 0},
    {"Trilu", Rule::kZero, 0}, {"ReverseSequence", Rule::kZero, 0}, {"OneHot", Rule::kZero, 0},
    {"NonZero", Rule::kZero, 0}, {"If", Rule::kZero, 0}, {"Loop", Rule::kZero, 0},
    {"Scan", Rule::kZero, 0}, {"SequenceConstruct", Rule::kZero, 0}, {"SequenceAt", Rule::kZero, 0},
    {"SequenceEmpty", Rule::kZero, 0}, {"SequenceInsert", Rule::kZero, 0},
    {"SequenceErase", Rule::kZero, 0}, {"SequenceLength", Rule::kZero, 0},
    {"SplitToSequence", Rule::kZero, 0}, {"ConcatFromSequence", Rule::kZero, 0},
    {"Optional", Rule::kZero, 0}, {"OptionalGetElement", Rule::kZero, 0},
    {"OptionalHasElement", Rule::kZero, 0},
    // Elementwise, 1 per output element.
    {"Add", Rule::kPerOutput, 1}, {"Sub", Rule::kPerOutput, 1}, {"Mul", Rule::kPerOutput, 1},
    {"Div", Rule::kPerOutput, 1}, {"Pow", Rule::kPerOutput, 1}, {"Mod", Rule::kPerOutput, 1},
    {"Neg", Rule::kPerOutput, 1}, {"Abs", Rule::kPerOutput, 1}, {"Relu", Rule::kPerOutput, 1},
    {"Sqrt", Rule::kPerOutput, 1}, {"Reciprocal", Rule::kPerOutput, 1}, {"Exp", Rule::kPerOutput, 1},
    {"Log", Rule::kPerOutput, 1}, {"Floor", Rule::kPerOutput, 1}, {"Ceil", Rule::kPerOutput, 1},
    {"Round", Rule::kPerOutput, 1}, {"Sign", Rule::kPerOutput, 1}, {"Sin", Rule::kPerOutput, 1},
    {"Cos", Rule::kPerOutput, 1}, {"Tan", Rule::kPerOutput, 1}, {"Asin", Rule::kPerOutput, 1},
    {"Acos", Rule::kPerOutput, 1}, {"Atan", Rule::kPerOutput, 1}, {"Sinh", Rule::kPerOutput, 1},
    {"Cosh", Rule::kPerOutput, 1}, {"Asinh", Rule::kPerOutput, 1}, {"Acosh", Rule::kPerOutput, 1},
    {"Atanh", Rule::kPerOutput, 1}, {"Erf", Rule::kPerOutput, 1}, {"Tanh", Rule::kPerOutput, 1},
    {"Equal", Rule::kPerOutput, 1}, {"Less", Rule::kPerOutput, 1}, {"LessOrEqual", Rule::kPerOutput, 1},
    {"Greater", Rule::kPerOutput, 1}, {"GreaterOrEqual", Rule::kPerOutput, 1}, {"And", Rule::kPerOutput, 1},
    {"Or", Rule::kPerOutput, 1}, {"Xor", Rule::kPerOutput, 1}, {"Not", Rule::kPerOutput, 1},
    {"Where", Rule::kPerOutput, 1}, {"IsNaN", Rule::kPerOutput, 1}, {"IsInf", Rule::kPerOutput, 1},
    {"BitShift", Rule::kPerOutput, 1}, {"BitwiseAnd", Rule::kPerOutput, 1}, {"BitwiseOr", Rule::kPerOutput, 1},
    {"BitwiseXor", Rule::kPerOutput, 1}, {"BitwiseNot", Rule::kPerOutput, 1},
    {"ThresholdedRelu", Rule::kPerOutput, 1}, {"Hardmax", Rule::kPerOutput, 1},
    // A compare and a multiply (or two compares).
    {"LeakyRelu", Rule::kPerOutput, 2}, {"PRelu", Rule::kPerOutput, 2}, {"Clip", Rule::kPerOutput, 2},
    {"Shrink", Rule::kPerOutput, 2}, {"DequantizeLinear", Rule::kPerOutput, 2},
    {"BatchNormalization", Rule::kPerOutput, 2},
    {"Softmax", Rule::kPerOutput, 3}, {"LogSoftmax", Rule::kPerOutput, 3}, {"HardSigmoid", Rule::kPerOutput, 3},
    {"Softplus", Rule::kPerOutput, 3}, {"Softsign", Rule::kPerOutput, 3}, {"Elu", Rule::kPerOutput, 3},
    {"Celu", Rule::kPerOutput, 3}, {"Selu", Rule::kPerOutput, 3}, {"QuantizeLinear", Rule::kPerOutput, 3},
    {"LpNormalization", Rule::kPerOutput, 3},
    {"Sigmoid", Rule::kPerOutput, 4}, {"HardSwish", Rule::kPerOutput, 4},
    {"Gelu", Rule::kPerOutput, 5}, {"Mish", Rule::kPerOutput, 5},
    {"LayerNormalization", Rule::kPerOutput, 5}, {"InstanceNormalization", Rule::kPerOutput, 5},
    {"GroupNormalization", Rule::kPerOutput, 5}, {"MeanVarianceNormalization", Rule::kPerOutput, 5},
    {"Sum", Rule::kVariadic, 1}, {"Max", Rule::kVariadic, 1}, {"Min", Rule::kVariadic, 1},
    {"Mean", Rule::kMean, 1},
    // Every input element is read and combined once; min, max and quantize for the dynamic one.
    {"GlobalAveragePool", Rule::kPerInput, 1}, {"GlobalMaxPool", Rule::kPerInput, 1},
    {"GlobalLpPool", Rule::kPerInput, 1}, {"ReduceSum", Rule::kPerInput, 1}, {"ReduceMean", Rule::kPerInput, 1},
    {"ReduceMax", Rule::kPerInput, 1}, {"ReduceMin", Rule::kPerInput, 1}, {"ReduceProd", Rule::kPerInput, 1},
    {"ReduceL1", Rule::kPerInput, 1}, {"ReduceL2", Rule::kPerInput, 1}, {"ReduceLogSum", Rule::kPerInput, 1},
    {"ReduceLogSumExp", Rule::kPerInput, 1}, {"ReduceSumSquare", Rule::kPerInput, 1},
    {"ArgMax", Rule::kPerInput, 1}, {"ArgMin", Rule::kPerInput, 1}, {"DynamicQuantizeLinear", Rule::kPerInput, 5},
    {"MaxPool", Rule::kPool, 1}, {"AveragePool", Rule::kPool, 1}, {"LpPool", Rule::kPool, 1},
    {"Conv", Rule::kConv, 0}, {"ConvInteger", Rule::kConvInteger, 0}, {"QLinearConv", Rule::kQLinearConv, 0},
    {"ConvTranspose", Rule::kConvTranspose, 0}, {"Gemm", Rule::kGemm, 0}, {"MatMul", Rule::kMatMul, 0},
    {"MatMulInteger", Rule::kMatMul, 0}, {"QLinearMatMul", Rule::kQLinearMatMul, 0},
    {"RNN", Rule::kRnn, 0}, {"GRU", Rule::kRnn, 0}, {"LSTM", Rule::kRnn, 0},
    {"Resize", Rule::kResize, 0}, {"Upsample", Rule::kResize, 0}, {"LRN", Rule::kLrn, 0},
};

const OpRule* findRule(const ir::Node& n) {
  static const std::unordered_map<std::string_view, const OpRule*> table = [] {
    std::unordered_map<std::string_view, const OpRule*> m;
    for (const OpRule& r : kRules) m.emplace(r.op, &r);
    return m;
  }();
  if (!isDefaultDomain(n.domain())) return nullptr;
  auto it = table.find(n.opType());
  return it == table.end() ? nullptr : it->second;
}

std::optional<Shape> shapeOf(const ir::Value* v) {
  if (!v) return std::nullopt;
  return v->type().staticShape();
}

Count mul(Count a, Count b) {
  if (!a || !b) return std::nullopt;
  return checkedMul(*a, *b);
}

Count add(Count a, Count b) {
  if (!a || !b) return std::nullopt;
  return checkedAdd(*a, *b);
}

Count elements(std::span<const int64_t> dims) { return checkedElementCount(dims); }

Count elementsOf(const ir::Value* v) {
  auto s = shapeOf(v);
  return s ? elements(*s) : std::nullopt;
}

std::optional<NodeCost> flopsOnly(Count flops) {
  if (!flops) return std::nullopt;
  return NodeCost{CostStatus::kKnown, 0, *flops};
}

// FLOPs = 2 × MACs + extra (bias and scale additions).
std::optional<NodeCost> macsAndExtra(Count macs, Count extra) {
  Count flops = add(mul(macs, 2), extra);
  if (!flops) return std::nullopt;
  return NodeCost{CostStatus::kKnown, *macs, *flops};
}

// Conv: each output element is a dot product over (C_in / group) × prod(kernel) inputs, and the
// weight's dim 1 is exactly C_in / group, so groups and dilations need no special case.
std::optional<NodeCost> convCost(const ir::Node& n, size_t weightIndex, std::optional<size_t> biasIndex) {
  auto w = shapeOf(n.input(weightIndex));
  auto y = shapeOf(n.output(0));
  if (!w || !y || w->size() < 2 || y->size() != w->size()) return std::nullopt;
  Count out = elements(*y);
  Count perOutput = elements(std::span(*w).subspan(1));
  Count bias = (biasIndex && n.input(*biasIndex)) ? out : Count(0);
  return macsAndExtra(mul(out, perOutput), bias);
}

// ConvTranspose scatters each input element into (C_out / group) × prod(kernel) outputs; the
// weight is [C_in, C_out / group, k...].
std::optional<NodeCost> convTransposeCost(const ir::Node& n) {
  auto x = shapeOf(n.input(0));
  auto w = shapeOf(n.input(1));
  if (!x || !w || w->size() < 2) return std::nullopt;
  Count macs = mul(elements(*x), elements(std::span(*w).subspan(1)));
  Count bias = n.input(2) ? elementsOf(n.output(0)) : Count(0);
  return macsAndExtra(macs, bias);
}

// Y = alpha · A' · B' + beta · C: M×N×K MACs; scaling by alpha, by beta and adding C cost one
// FLOP per output element each, when they are not no-ops.
std::optional<NodeCost> gemmCost(const ir::Node& n) {
  auto a = shapeOf(n.input(0));
  auto b = shapeOf(n.input(1));
  if (!a || !b || a->size() != 2 || b->size() != 2) return std::nullopt;
  bool transA = n.attrInt("transA", 0) != 0;
  bool transB = n.attrInt("transB", 0) != 0;
  int64_t m = transA ? (*a)[1] : (*a)[0];
  int64_t k = transA ? (*a)[0] : (*a)[1];
  int64_t cols = transB ? (*b)[0] : (*b)[1];
  Count out = mul(m, cols);
  float alpha = n.attrFloat("alpha", 1.0f);
  float beta = n.attrFloat("beta", 1.0f);
  int64_t extraPerOutput = 0;
  if (alpha != 1.0f) ++extraPerOutput;
  if (n.input(2) && beta != 0.0f) extraPerOutput += beta == 1.0f ? 1 : 2;
  return macsAndExtra(mul(out, k), mul(out, extraPerOutput));
}

// numpy matmul: a 1-D A is [1, K], a 1-D B is [K, 1] (the added dim is then dropped, which does
// not change the count); batch dims broadcast.
std::optional<NodeCost> matMulCost(const ir::Node& n, size_t aIndex, size_t bIndex) {
  auto a = shapeOf(n.input(aIndex));
  auto b = shapeOf(n.input(bIndex));
  if (!a || !b || a->empty() || b->empty()) return std::nullopt;
  int64_t k = a->back();
  int64_t m = a->size() >= 2 ? (*a)[a->size() - 2] : 1;
  int64_t cols = b->size() >= 2 ? b->back() : 1;
  std::span<const int64_t> batchA(a->data(), a->size() >= 2 ? a->size() - 2 : 0);
  std::span<const int64_t> batchB(b->data(), b->size() >= 2 ? b->size() - 2 : 0);
  Count batch = 1;
  size_t rank = std::max(batchA.size(), batchB.size());
  for (size_t i = 0; i < rank; ++i) {
    // Right-aligned; a missing dim is 1.
    int64_t da = i < batchA.size() ? batchA[batchA.size() - 1 - i] : 1;
    int64_t db = i < batchB.size() ? batchB[batchB.size() - 1 - i] : 1;
    batch = mul(batch, da == 1 ? db : da);
  }
  return macsAndExtra(mul(mul(mul(batch, m), cols), k), 0);
}

// Per step and direction, each of the gates × hidden outputs is a dot product over the input
// (W) and the previous hidden state (R). Gate nonlinearities and biases are not counted.
std::optional<NodeCost> rnnCost(const ir::Node& n) {
  auto x = shapeOf(n.input(0));
  auto w = shapeOf(n.input(1));  // [directions, gates × hidden, input]
  auto r = shapeOf(n.input(2));  // [directions, gates × hidden, hidden]
  if (!x || !w || !r || x->size() != 3 || w->size() != 3 || r->size() != 3) return std::nullopt;
  Count stepsTimesBatch = mul((*x)[0], (*x)[1]);  // [seq, batch] or [batch, seq]: same product
  Count macs = mul(mul(mul(stepsTimesBatch, (*w)[0]), (*w)[1]), add((*w)[2], (*r)[2]));
  return macsAndExtra(macs, 0);
}

std::optional<NodeCost> resizeCost(const ir::Node& n) {
  std::string mode = n.attrString("mode", "nearest");
  int64_t perOutput = mode == "linear" || mode == "bilinear" ? 4 : mode == "cubic" ? 12 : 0;
  if (perOutput == 0) return NodeCost{};
  return flopsOnly(mul(elementsOf(n.output(0)), perOutput));
}

std::optional<NodeCost> poolCost(const ir::Node& n) {
  std::vector<int64_t> kernel = n.attrInts("kernel_shape");
  if (kernel.empty()) return std::nullopt;
  return flopsOnly(mul(elementsOf(n.output(0)), elements(kernel)));
}

std::optional<NodeCost> ruleCost(const ir::Node& n, const OpRule& r) {
  switch (r.rule) {
    case Rule::kZero: return NodeCost{};
    case Rule::kPerOutput: return flopsOnly(mul(elementsOf(n.output(0)), r.perElement));
    case Rule::kPerInput: return flopsOnly(mul(elementsOf(n.input(0)), r.perElement));
    case Rule::kVariadic:
    case Rule::kMean: {
      auto inputs = static_cast<int64_t>(std::count_if(n.inputs().begin(), n.inputs().end(),
                                                       [](const ir::Value* v) { return v != nullptr; }));
      int64_t perOutput = r.rule == Rule::kMean ? inputs : std::max<int64_t>(inputs - 1, 0);
      return flopsOnly(mul(elementsOf(n.output(0)), perOutput));
    }
    case Rule::kPool: return poolCost(n);
    case Rule::kConv: return convCost(n, 1, 2);
    case Rule::kConvInteger: return convCost(n, 1, std::nullopt);
    case Rule::kQLinearConv: return convCost(n, 3, 8);
    case Rule::kConvTranspose: return convTransposeCost(n);
    case Rule::kGemm: return gemmCost(n);
    case Rule::kMatMul: return matMulCost(n, 0, 1);
    case Rule::kQLinearMatMul: return matMulCost(n, 0, 3);
    case Rule::kRnn: return rnnCost(n);
    case Rule::kResize: return resizeCost(n);
    case Rule::kLrn: {
      // Square and sum over `size` channels, then scale, power and divide.
      int64_t size = n.attrInt("size", 1);
      return flopsOnly(mul(elementsOf(n.output(0)), add(mul(size, 2), 3)));
    }
  }
  return std::nullopt;
}

void addSaturating(int64_t& acc, int64_t v, bool& overflow) {
  if (auto s = checkedAdd(acc, v)) {
    acc = *s;
  } else {
    acc = std::numeric_limits<int64_t>::max();
    overflow = true;
  }
}

struct Collector {
  FlopsSummary& summary;
  std::map<std::string, OpCost> byOp;
  std::map<std::string, int64_t> unmodeled;

  void visit(const ir::Graph& g, int depth) {
    for (const ir::Node* n : g.nodes()) {
      NodeCostEntry e;
      e.node = n;
      e.name = n->name();
      e.opType = opLabel(*n);
      e.subgraphDepth = depth;
      e.cost = nodeCost(*n);
      OpCost& op = byOp[e.opType];
      op.opType = e.opType;
      ++op.nodes;
      if (depth > 0) ++summary.subgraphNodes;
      switch (e.cost.status) {
        case CostStatus::kKnown:
          ++summary.knownNodes;
          addSaturating(summary.totalMacs, e.cost.macs, summary.overflow);
          addSaturating(summary.totalFlops, e.cost.flops, summary.overflow);
          addSaturating(op.macs, e.cost.macs, summary.overflow);
          addSaturating(op.flops, e.cost.flops, summary.overflow);
          break;
        case CostStatus::kUnknownShape:
          ++summary.unknownShapeNodes;
          ++op.unknownNodes;
          break;
        case CostStatus::kUnmodeled:
          ++summary.unmodeledNodes;
          ++op.unknownNodes;
          ++unmodeled[e.opType];
          break;
      }
      summary.nodes.push_back(std::move(e));
      forEachSubgraph(*n, [&](const ir::Graph& sg) { visit(sg, depth + 1); });
    }
  }
};

}  // namespace

const char* costStatusName(CostStatus s) {
  switch (s) {
    case CostStatus::kKnown: return "known";
    case CostStatus::kUnknownShape: return "unknown_shape";
    case CostStatus::kUnmodeled: return "unmodeled";
  }
  return "known";
}

NodeCost nodeCost(const ir::Node& node) {
  const OpRule* rule = findRule(node);
  if (!rule) return NodeCost{CostStatus::kUnmodeled, 0, 0};
  if (auto c = ruleCost(node, *rule)) return *c;
  return NodeCost{CostStatus::kUnknownShape, 0, 0};
}

FlopsSummary computeFlops(const ir::Model& model) {
  FlopsSummary summary;
  if (!model.graph) return summary;
  Collector c{summary, {}, {}};
  c.visit(*model.graph, 0);
  for (auto& [_, op] : c.byOp) summary.byOpType.push_back(op);
  std::sort(summary.byOpType.begin(), summary.byOpType.end(), [](const OpCost& a, const OpCost& b) {
    if (a.flops != b.flops) return a.flops > b.flops;
    return a.opType < b.opType;
  });
  summary.unmodeledOps.assign(c.unmodeled.begin(), c.unmodeled.end());
  return summary;
}

}  // namespace effdl::analysis
