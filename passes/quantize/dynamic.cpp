// --quantize dynamic: MatMul/Gemm with constant weights run as int8 with activations quantized at
// run time, using only standard ONNX ops (what ONNX Runtime's quantize_dynamic emits):
//   Before:  y = MatMul(x, W)                     W [K, N] (Gemm: alpha, beta, transB, C)
//   After:   xq, xs, xz = DynamicQuantizeLinear(x)                       (u8, per tensor)
//            y = Mul(Cast<to=float>(MatMulInteger(xq, Wq, xz)), Mul(xs, alpha * sw))   [+ beta * C]
//   Wq = round(W / sw[n]) s8 symmetric per output column, sw[n] = max_k |W[k, n]| / 127.
// Embedding tables become int8 rows dequantized after the Gather. Conv stays float (ConvInteger
// is slow or missing in common runtimes) and the notes say so. x is quantized once for all the
// MatMuls that read it (Q/K/V projections).
#include <map>

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

}  // namespace

PassResult quantizeDynamic(ir::Model& model, const QuantizeOptions& o, const NodeFilter& f) {
  PassResult r;
  ir::Graph& g = *model.graph;
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
    if (op != "MatMul" && op != "Gemm") continue;
    std::string why = check(*n);
    if (!why.empty()) {
      r.decline(op + ": " + why);
      continue;
    }
    if (!f.eligible(*n, r)) continue;
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
