// --quantize dynamic: MatMul/Gemm with constant weights run as int8 with activations quantized at
// run time, using only standard ONNX ops (what ONNX Runtime's quantize_dynamic emits):
//   Before:  y = MatMul(x, W)                     W [K, N] (Gemm: alpha, beta, transB, C)
//   After:   xq, xs, xz = DynamicQuantizeLinear(x)                       (u8, per tensor)
//            y = Mul(Cast<to=float>(MatMulInteger(xq, Wq, xz)), Mul(xs, alpha * sw))   [+ beta * C]
//   Wq = round(W / sw[n]) s8 symmetric per output column, sw[n] = max_k |W[k, n]| / 127.
// Embedding tables become int8 rows dequantized after the Gather. Conv stays float (ConvInteger
// is slow or missing in common runtimes) and the notes say so. x is quantized once for all the
// MatMuls that read it (Q/K/V projections). With --quantize-latency-guard, MatMul/Gemm layers whose
// int8 form is not faster in effdl's runtime stay float (latency_guard.h).
#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "core/error.h"
#include "eval/sample_set.h"
#include "passes/common/activation_tap.h"
#include "passes/quantize/quantize_modes.h"
#include "passes/quantize/weight_rewrite.h"

namespace effdl::passes::quant {
namespace {

// Why `n` cannot be rewritten, or "" when it can.
std::string check(const ir::Node& n) {
  const ir::Tensor* w = floatConstant(n.input(1));
  if (!n.input(0) || !w) return "weight not a float constant";
  if (w->rank() != 2) return "weight not rank 2";
  if (n.opType() == "Gemm") {
    if (n.attrInt("transA", 0) != 0) return "Gemm transA";
    if (n.input(2) && n.attrFloat("beta", 1.0f) != 1.0f && !floatConstant(n.input(2)))
      return "Gemm beta != 1 with a computed C";
  }
  if (n.output(0) && n.output(0)->type().elemType != ir::DataType::kFloat &&
      n.output(0)->type().elemType != ir::DataType::kUndefined)
    return "output not float";
  return "";
}

// --quantize-latency-guard for dynamic mode: times each MatMul/Gemm of `layers` against its
// MatMulInteger form in one-layer models, with the input shapes of one run of the model (the
// calibration set when given, else one seeded random sample); returns the layers to keep float.
std::set<const ir::Node*> latencyGuard(ir::Model& model, const std::vector<ir::Node*>& layers,
                                       const QuantizeOptions& o, PassContext& ctx, PassResult& r) {
  std::vector<GuardLayer> gl;
  std::vector<std::string> taps;
  for (const ir::Node* n : layers) {
    gl.push_back({n->name().empty() ? n->output(0)->name() : n->name(), n, nullptr});
    // Every computed input: a Gemm's C may be computed too (beta 1).
    for (const ir::Value* v : n->inputs())
      if (v && !v->isConstant() && std::find(taps.begin(), taps.end(), v->name()) == taps.end())
        taps.push_back(v->name());
  }
  std::map<std::string, std::vector<int64_t>> shapes;
  if (o.guardDecisions.empty() && !taps.empty()) {
    std::optional<eval::SampleSet> one;
    if (!ctx.calib) one.emplace(eval::SampleSet::open("random:1", ctx.limits.maxTensorBytes, ctx.seed));
    TapOptions topt;
    topt.threads = ctx.threads;
    forEachActivation(model, taps, ctx.calib ? *ctx.calib : *one, topt,
                      [&](size_t, const std::vector<const ir::Tensor*>& ts) {
                        for (size_t i = 0; i < ts.size(); ++i) shapes[taps[i]] = ts[i]->dims();
                      });
  }
  QuantizeOptions lo = o;
  lo.keepIoFloat = false;
  lo.excludeNodes.clear();
  lo.excludeOpTypes.clear();
  lo.latencyGuard = false;
  lo.guardDecisions.clear();
  auto quantizeLayer = [&](ir::Model& m) {
    PassContext none;
    PassResult q = quantizeDynamic(m, lo, NodeFilter(lo), none);
    if (q.counter("MatMul -> MatMulInteger") + q.counter("Gemm -> MatMulInteger") != 1)
      throwInternal("latency guard: one-layer model of '" + m.graph->name() + "' not quantized");
  };
  const std::vector<bool> keepFloat = guardLayers(model, gl, shapes, quantizeLayer, guardOptions(o, ctx), r);
  std::set<const ir::Node*> out;
  for (size_t i = 0; i < layers.size(); ++i)
    if (keepFloat[i]) out.insert(layers[i]);
  return out;
}

}  // namespace

PassResult quantizeDynamic(ir::Model& model, const QuantizeOptions& o, const NodeFilter& f, PassContext& ctx) {
  PassResult r;
  ir::Graph& g = *model.graph;
  // Which MatMul/Gemm to rewrite, decided before any edit (the guard runs the unchanged model).
  std::vector<ir::Node*> layers;
  for (ir::Node* n : g.nodes()) {
    if (!isDefaultDomain(*n) || (n->opType() != "MatMul" && n->opType() != "Gemm")) continue;
    std::string why = check(*n);
    if (!why.empty()) {
      r.decline(n->opType() + ": " + why);
      continue;
    }
    if (f.eligible(*n, r)) layers.push_back(n);
  }
  std::set<const ir::Node*> keepFloat;
  if (o.latencyGuard || !o.guardDecisions.empty()) keepFloat = latencyGuard(model, layers, o, ctx, r);
  const std::set<const ir::Node*> chosen(layers.begin(), layers.end());
  WeightRewriter w(g, {o.perChannel, o.reduceRange, 0}, r);
  std::map<const ir::Value*, ir::Node*> quantizedInputs;  // x -> its DynamicQuantizeLinear
  int64_t convs = 0;
  for (ir::Node* n : g.nodes()) {
    if (!isDefaultDomain(*n)) continue;
    const std::string op = n->opType();  // a copy: n is erased below
    if (op == "Gather") {
      if (f.eligible(*n, r) && floatConstant(n->input(0))) w.quantizeGather(*n);
      continue;
    }
    if (op == "Conv" || op == "ConvTranspose") ++convs;
    if (!chosen.count(n)) continue;
    if (keepFloat.count(n)) {
      r.count("layers kept float (--quantize-latency-guard)");
      continue;
    }
    const bool gemm = op == "Gemm";
    auto wq = w.int8Weight(n->input(1), gemm && n->attrInt("transB", 0) != 0);
    const float alpha = gemm ? n->attrFloat("alpha", 1.0f) : 1.0f;
    std::vector<float> scales = wq.scales;
    for (float& s : scales) s *= alpha;

    ir::Value* x = n->input(0);
    ir::Node*& dql = quantizedInputs[x];
    if (!dql) {
      // Right after x's producer (or first in the graph for a graph input), so every reader sees it.
      dql =
          createNamed(g, "DynamicQuantizeLinear", {x}, {x->name() + "_q", x->name() + "_scale", x->name() + "_zp"}, n);
      r.count("activations quantized at run time");
    }
    const std::string base = n->output(0)->name();
    ir::Node* mmi = createNamed(g, "MatMulInteger", {dql->output(0), wq.q, dql->output(2)}, {base + "_i32"}, n);
    ir::Node* cast = createNamed(g, "Cast", {mmi->output(0)}, {base + "_f"}, n);
    cast->setAttr(ir::Attribute::makeInt("to", static_cast<int64_t>(ir::DataType::kFloat)));
    ir::Value* sw = w.constant(
        base + "_wscale", scales.size() == 1 ? ir::Tensor::fromVector(ir::DataType::kFloat, {}, scales)
                                             : ir::Tensor::fromVector(ir::DataType::kFloat,
                                                                      {static_cast<int64_t>(scales.size())}, scales));
    ir::Node* s = createNamed(g, "Mul", {dql->output(1), sw}, {base + "_scale"}, n);
    ir::Node* y = createNamed(g, "Mul", {cast->output(0), s->output(0)}, {base + "_deq"}, n);
    ir::Value* out = y->output(0);
    if (gemm && n->input(2)) {
      ir::Value* c = n->input(2);
      const float beta = n->attrFloat("beta", 1.0f);
      if (beta != 1.0f) {
        auto cv = floatConstant(c)->values<float>();
        std::vector<float> scaled(cv.begin(), cv.end());
        for (float& v : scaled) v *= beta;
        c = w.constant(base + "_c",
                       ir::Tensor::fromVector(ir::DataType::kFloat, floatConstant(n->input(2))->dims(), scaled));
      }
      out = createNamed(g, "Add", {out, c}, {base + "_bias"}, n)->output(0);
    }
    g.replaceAllUsesWith(n->output(0), out);
    g.eraseNode(n);
    r.count(op + " -> MatMulInteger");
  }
  g.collectGarbage();
  r.changed = !r.counters.empty();
  if (convs > 0)
    r.notes.push_back("dynamic: " + std::to_string(convs) +
                      " Conv/ConvTranspose kept float (ConvInteger is slow or missing in common runtimes; use "
                      "--quantize static for int8 convolutions)");
  return r;
}

}  // namespace effdl::passes::quant
