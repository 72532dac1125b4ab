// --quantize fp16: weights stored and ops computed in float16, with Casts where an fp16 region
// meets fp32 (graph inputs and outputs keep their float32 types, so callers see no change).
//   Before:  y = MatMul(x, W)              z = Softmax(y)
//   After:   xh = Cast<to=10>(x)  yh = MatMul(xh, W16)  z = Softmax(Cast<to=1>(yh))
// Ops known to overflow or lose too much precision in fp16 stay fp32 (kKeepFp32: Softmax/Exp
// chains, reductions, Pow, normalisations, Resize, Range...), as do ops outside kFp16Ops and
// nodes whose constant float inputs exceed fp16's range (65504), so no new Inf appears from
// weights. With --calib, activations are checked too: a node whose fp32 output reaches beyond
// half of fp16's range on the calibration data stays fp32.
#include <cmath>
#include <map>
#include <set>

#include "eval/sample_set.h"
#include "passes/common/activation_tap.h"
#include "passes/quantize/quantize_modes.h"
#include "passes/quantize/weight_rewrite.h"
#include "runtime/kernels/half.h"

namespace effdl::passes::quant {
namespace {

constexpr float kFp16Max = 65504.0f;

// Ops whose fp16 form is safe and exists in common runtimes; everything else stays fp32.
const std::set<std::string>& fp16Ops() {
  static const std::set<std::string> ops = {
      "Conv", "ConvTranspose", "MatMul", "Gemm", "Add", "Sub", "Mul", "Relu", "LeakyRelu", "Clip", "Sigmoid",
      "Tanh", "HardSigmoid", "HardSwish", "Erf", "Neg", "Abs", "MaxPool", "AveragePool", "GlobalAveragePool",
      "BatchNormalization", "Concat", "Reshape", "Transpose", "Flatten", "Squeeze", "Unsqueeze", "Gather", "Slice",
      "Split", "Identity", "Expand", "Pad", "Where", "Tile", "Min", "Max", "PRelu", "Dropout"};
  return ops;
}
// Listed for the report: ops kept fp32 on purpose (precision or overflow), not for lack of support.
const std::set<std::string>& keepFp32() {
  static const std::set<std::string> ops = {
      "Softmax", "LogSoftmax", "Exp", "Log", "Pow", "Sqrt", "Reciprocal", "Div", "ReduceSum", "ReduceMean",
      "ReduceProd", "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare", "CumSum",
      "LayerNormalization", "InstanceNormalization", "GroupNormalization", "Resize", "Range", "Einsum"};
  return ops;
}

bool isFloat32(const ir::Value* v) {
  if (!v) return false;
  if (v->isInitializer()) return v->initializer().dtype() == ir::DataType::kFloat;
  return v->type().elemType == ir::DataType::kFloat;
}

ir::Tensor toHalf(const ir::Tensor& t) {
  auto f = t.values<float>();
  std::vector<uint16_t> h(f.size());
  for (size_t i = 0; i < f.size(); ++i) h[i] = runtime::floatToHalf(f[i]);
  return ir::Tensor::fromVector(ir::DataType::kFloat16, t.dims(), h);
}

// Why `n` stays fp32 ("" when it converts).
std::string keepReason(const ir::Node& n, const std::set<const ir::Node*>& hot) {
  if (!isDefaultDomain(n) || n.hasSubgraphs()) return "other domain or subgraphs";
  if (keepFp32().count(n.opType())) return n.opType() + " kept fp32 (precision)";
  if (!fp16Ops().count(n.opType())) return "";  // not a float op we touch; not counted
  if (hot.count(&n)) return "output beyond fp16 range on calibration data";
  for (const ir::Value* v : n.inputs()) {
    if (!v || !v->isConstant() || v->initializer().dtype() != ir::DataType::kFloat) continue;
    for (float x : v->initializer().values<float>())
      if (std::fabs(x) > kFp16Max) return "constant beyond fp16 range";
  }
  return "";
}

}  // namespace

PassResult quantizeFp16(ir::Model& model, const QuantizeOptions&, const NodeFilter& f, PassContext& ctx) {
  PassResult r;
  ir::Graph& g = *model.graph;

  // Activations that overflow fp16 on the calibration data keep their producer fp32.
  std::set<const ir::Node*> hot;
  if (ctx.calib) {
    std::vector<std::string> taps;
    std::vector<const ir::Node*> producers;
    for (ir::Node* n : g.nodes())
      if (fp16Ops().count(n->opType()) && n->output(0) && isFloat32(n->output(0))) {
        taps.push_back(n->output(0)->name());
        producers.push_back(n);
      }
    std::vector<float> peak(taps.size(), 0.0f);
    TapOptions topt = tapOptions(ctx, "fp16 activation ranges");
    if (!taps.empty())
      forEachActivation(model, taps, *ctx.calib, topt, [&](size_t, const std::vector<const ir::Tensor*>& ts) {
        for (size_t i = 0; i < ts.size(); ++i)
          if (ts[i]->dtype() == ir::DataType::kFloat)
            for (float x : ts[i]->values<float>()) peak[i] = std::max(peak[i], std::isfinite(x) ? std::fabs(x) : 0.0f);
      });
    for (size_t i = 0; i < taps.size(); ++i)
      if (peak[i] > kFp16Max / 2) hot.insert(producers[i]);
  }

  std::set<const ir::Value*> half;                // values now float16
  std::map<const ir::Value*, ir::Value*> to16, to32;  // cast caches
  std::map<const ir::Value*, ir::Value*> const16;
  auto cast = [&](ir::Value* v, ir::DataType to, ir::Node* before) {
    auto& cache = to == ir::DataType::kFloat16 ? to16 : to32;
    ir::Value*& c = cache[v];
    if (!c) {
      const std::string hint = v->name() + (to == ir::DataType::kFloat16 ? "_fp16" : "_fp32");
      ir::Node* n = createNamed(g, "Cast", {v}, {hint}, before);
      n->setAttr(ir::Attribute::makeInt("to", static_cast<int64_t>(to)));
      ir::ValueType t = v->type();
      t.elemType = to;
      n->output(0)->setType(t);
      c = n->output(0);
      r.count("casts inserted");
    }
    return c;
  };

  for (ir::Node* n : g.nodes()) {
    bool convert = fp16Ops().count(n->opType()) != 0;
    std::string why = keepReason(*n, hot);
    if (!why.empty()) convert = false;
    bool hasFloat = false;
    for (const ir::Value* v : n->inputs()) hasFloat = hasFloat || isFloat32(v) || half.count(v);
    if (convert && hasFloat && !f.eligible(*n, r)) convert = false;
    if (!why.empty() && hasFloat) r.decline(why);
    if (convert && hasFloat) {
      for (size_t i = 0; i < n->numInputs(); ++i) {
        ir::Value* v = n->input(i);
        if (!v || half.count(v) || !isFloat32(v)) continue;
        if (v->isConstant()) {
          ir::Value*& c = const16[v];
          if (!c) {
            c = g.addInitializer(v->name() + "_fp16", toHalf(v->initializer()), true);
            r.count("weights stored as fp16");
          }
          n->setInput(i, c);
        } else {
          n->setInput(i, cast(v, ir::DataType::kFloat16, n));
        }
      }
      for (ir::Value* o : n->outputs()) {
        if (!o || o->type().elemType != ir::DataType::kFloat) continue;
        ir::ValueType t = o->type();
        t.elemType = ir::DataType::kFloat16;
        o->setType(t);
        half.insert(o);
      }
      r.count("nodes computed in fp16");
    } else {
      for (size_t i = 0; i < n->numInputs(); ++i) {
        ir::Value* v = n->input(i);
        if (v && half.count(v)) n->setInput(i, cast(v, ir::DataType::kFloat, n));
      }
    }
  }
  // Graph outputs keep float32 and their names: the Cast takes over the name.
  for (size_t i = 0; i < g.outputs().size(); ++i) {
    ir::Value* v = g.outputs()[i];
    if (!half.count(v)) continue;
    std::vector<ir::Use> uses = v->uses();
    ir::Node* c = createNamed(g, "Cast", {v}, {v->name() + "_fp32"});
    c->setAttr(ir::Attribute::makeInt("to", static_cast<int64_t>(ir::DataType::kFloat)));
    ir::ValueType t32 = v->type();
    t32.elemType = ir::DataType::kFloat;
    g.replaceAllUsesWith(v, c->output(0));
    c->setInput(0, v);
    for (const ir::Use& u : uses)
      if (u.index != ir::Use::kImplicit) u.node->setInput(static_cast<size_t>(u.index), v);
    c->output(0)->setType(t32);
    r.count("casts inserted");
  }
  g.collectGarbage();
  r.changed = r.counter("nodes computed in fp16") > 0;
  r.notes.push_back("fp16: effdl's runtime computes float16 models in fp32 (no fp16 conv/matmul on this CPU)");
  return r;
}

}  // namespace effdl::passes::quant
