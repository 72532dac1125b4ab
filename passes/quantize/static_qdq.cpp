// --quantize static: QDQ format with calibrated activation ranges, in the layout ONNX Runtime
// runs fastest on x86 (NOTES: 0.33x fp32 for resnet18):
//   Before:  y = Conv(x, W, b)   r = Relu(y)
//   After:   xd = DequantizeLinear(QuantizeLinear(x, sx, zx), sx, zx)             u8 asymmetric
//            y  = Conv(xd, DequantizeLinear <axis=0> (Wq, sw, 0), DequantizeLinear <axis=0> (bq, sx*sw))
//            r' = DequantizeLinear(QuantizeLinear(y, sr, zr), sr, zr)             Relu folded: [lo, hi] of r
//   Wq = round(W / sw[o]) s8 symmetric per output channel; bq = round(b / (sx * sw[o])) int32.
// Quantized: the activations read by Conv/ConvTranspose/Gemm/MatMul and their outputs, and the
// ops that stay int8 between them (Add, Mul, Concat, pooling, Reshape/Transpose/Flatten/
// Squeeze/Unsqueeze) when all their float inputs are quantized. Relu (and Clip with min <= 0 <=
// max, u8 only) right after a quantized op is removed: the u8 range of its output does the
// clamping. Data-movement ops and MaxPool keep their input's scale (ORT drops such Q/DQ pairs).
// Graph outputs stay float. Each consumer gets its own DequantizeLinear (ORT's node units).
#include <algorithm>
#include <map>
#include <set>

#include "core/error.h"
#include "core/log.h"
#include "eval/sample_set.h"
#include "passes/common/activation_tap.h"
#include "passes/quantize/quant_math.h"
#include "passes/quantize/quantize_modes.h"
#include "passes/quantize/range_observer.h"
#include "passes/quantize/weight_rewrite.h"

namespace effdl::passes::quant {
namespace {

bool isCore(const std::string& op) { return op == "Conv" || op == "ConvTranspose" || op == "Gemm" || op == "MatMul"; }
bool keepsScale(const std::string& op) {
  return op == "Reshape" || op == "Transpose" || op == "Flatten" || op == "Squeeze" || op == "Unsqueeze" ||
         op == "MaxPool";
}
bool isBetween(const std::string& op) {
  return keepsScale(op) || op == "Add" || op == "Mul" || op == "Concat" || op == "AveragePool" ||
         op == "GlobalAveragePool";
}

bool isFloatActivation(const ir::Value* v) {
  if (!v || v->isConstant()) return false;
  return v->type().elemType == ir::DataType::kFloat;
}

// A scalar constant input or attribute of Clip (opset < 11: attributes).
std::optional<float> clipBound(const ir::Node& n, size_t input, const char* attr, float def) {
  if (n.attr(attr)) return n.attrFloat(attr, def);
  if (!n.input(input)) return def;
  const ir::Tensor* t = floatConstant(n.input(input));
  if (!t || t->numel() != 1) return std::nullopt;
  return t->values<float>()[0];
}

// The Relu/Clip that can be folded into the range of `y`, or null.
ir::Node* foldableActivation(const ir::Value* y, bool u8) {
  if (!u8 || !y || y->isGraphOutput() || y->uses().size() != 1) return nullptr;
  const ir::Use& u = y->uses()[0];
  if (u.index != 0 || !isDefaultDomain(*u.node) || !u.node->output(0)) return nullptr;
  if (u.node->opType() == "Relu") return u.node;
  if (u.node->opType() == "Clip") {
    auto lo = clipBound(*u.node, 1, "min", -3.4e38f), hi = clipBound(*u.node, 2, "max", 3.4e38f);
    if (lo && hi && *lo <= 0.0f && *hi >= 0.0f) return u.node;
  }
  return nullptr;
}

struct Plan {
  std::vector<ir::Value*> tensors;  // to quantize, in graph order
  std::set<const ir::Value*> member;
  std::map<const ir::Value*, ir::Node*> folds;               // y -> Relu/Clip folded into y's range
  std::map<const ir::Value*, const ir::Value*> alias;         // folded activation output -> y
  std::map<const ir::Value*, const ir::Value*> sameScaleAs;  // data-movement output -> its input
  std::vector<ir::Node*> cores;
  std::set<const ir::Node*> marked;

  const ir::Value* resolve(const ir::Value* v) const {
    auto it = alias.find(v);
    return it == alias.end() ? v : it->second;
  }
  bool has(const ir::Value* v) const { return member.count(resolve(v)) != 0; }
  void add(ir::Value* v) {
    if (!v || v->isGraphOutput() || member.count(v)) return;
    member.insert(v);
    tensors.push_back(v);
  }
  // Marks `n`'s output as quantized, folding a following Relu/Clip.
  void addOutput(ir::Node* n, bool u8) {
    ir::Value* y = n->output(0);
    if (ir::Node* act = foldableActivation(y, u8)) {
      if (act->output(0)->isGraphOutput()) return;  // its range would end up on a graph output
      folds[y] = act;
      alias[act->output(0)] = y;
    }
    add(y);
  }
};

Plan makePlan(ir::Graph& g, const QuantizeOptions& o, const NodeFilter& f, PassResult& r) {
  Plan p;
  for (ir::Node* n : g.nodes()) {
    if (!isDefaultDomain(*n) || !isCore(n->opType())) continue;
    const std::string& op = n->opType();
    const ir::Tensor* w = floatConstant(n->input(1));
    bool ok = isFloatActivation(n->input(0));
    if (w) ok = ok && weightLayout(*n, *w).has_value();
    else ok = ok && op == "MatMul" && isFloatActivation(n->input(1));
    if (op == "Gemm" && n->input(2) && !floatConstant(n->input(2))) ok = false;
    if (!ok) {
      r.decline(op + ": input/weight layout not quantizable");
      continue;
    }
    if (!f.eligible(*n, r)) continue;
    p.cores.push_back(n);
    p.marked.insert(n);
    // Inputs resolve through folds of earlier (topologically preceding) producers.
    p.add(const_cast<ir::Value*>(p.resolve(n->input(0))));
    if (!w) p.add(const_cast<ir::Value*>(p.resolve(n->input(1))));
    p.addOutput(n, o.activationU8);
  }
  // Int8-between ops, to a fixed point (capped: each round marks at least one node or stops).
  for (int round = 0; round < 8; ++round) {
    bool grew = false;
    for (ir::Node* n : g.nodes()) {
      if (p.marked.count(n) || !isDefaultDomain(*n) || !isBetween(n->opType()) || !n->output(0)) continue;
      if (n->output(0)->type().elemType != ir::DataType::kFloat) continue;
      bool all = true, any = false;
      for (const ir::Value* in : n->inputs()) {
        if (!in) continue;
        if (in->isConstant()) {
          if (in->initializer().dtype() == ir::DataType::kFloat) all = false;  // float constant operand
          continue;
        }
        if (p.has(in)) any = true;
        else if (in->type().elemType != ir::DataType::kInt64) all = false;
      }
      if (!all || !any) continue;
      if (!NodeFilter(o).eligible(*n, r)) {
        p.marked.insert(n);
        continue;
      }
      p.marked.insert(n);
      for (ir::Value* in : n->inputs())
        if (in && !in->isConstant() && p.has(in)) p.add(const_cast<ir::Value*>(p.resolve(in)));
      if (keepsScale(n->opType()) && !n->output(0)->isGraphOutput()) {
        p.sameScaleAs[n->output(0)] = p.resolve(n->input(0));
        p.add(n->output(0));
      } else {
        p.addOutput(n, o.activationU8);
      }
      grew = true;
      r.count(n->opType() + " kept int8");
    }
    if (!grew) break;
  }
  return p;
}

}  // namespace

PassResult quantizeStatic(ir::Model& model, const QuantizeOptions& o, const NodeFilter& f, PassContext& ctx) {
  if (!ctx.calib)
    throwUsage("quantize static needs calibration data: give --calib DIR (or --calib random:N for seeded random "
               "inputs)");
  PassResult r;
  ir::Graph& g = *model.graph;
  Plan plan = makePlan(g, o, f, r);

  // --- calibrate: one observer per quantized tensor that has a range of its own ---
  std::vector<std::string> taps;
  std::vector<const ir::Value*> tapOf;
  for (const ir::Value* v : plan.tensors) {
    if (plan.sameScaleAs.count(v)) continue;
    auto fold = plan.folds.find(v);
    taps.push_back(fold != plan.folds.end() ? fold->second->output(0)->name() : v->name());
    tapOf.push_back(v);
  }
  std::vector<RangeObserver> observers(taps.size(), RangeObserver(o.calibMethod != CalibMethod::kMinMax));
  if (!taps.empty()) {
    TapOptions topt;
    topt.threads = ctx.threads;
    forEachActivation(model, taps, *ctx.calib, topt, [&](size_t, const std::vector<const ir::Tensor*>& ts) {
      for (size_t i = 0; i < ts.size(); ++i)
        if (ts[i]->dtype() == ir::DataType::kFloat) observers[i].observe(ts[i]->values<float>());
    });
  }
  std::map<const ir::Value*, ActParams> params;
  for (size_t i = 0; i < tapOf.size(); ++i) {
    auto [lo, hi] = observers[i].range(o.calibMethod, o.percentile);
    params[tapOf[i]] = activationParams(lo, hi, o.activationU8);
    if (logLevel() == LogLevel::kDebug)
      logDebug("quantize: '" + taps[i] + "' range [" + std::to_string(lo) + ", " + std::to_string(hi) + "] scale " +
               std::to_string(params[tapOf[i]].scale) + " zero point " + std::to_string(params[tapOf[i]].zeroPoint));
  }
  // Same-scale outputs follow their input (chains resolve in graph order).
  for (const ir::Value* v : plan.tensors) {
    auto it = plan.sameScaleAs.find(v);
    if (it != plan.sameScaleAs.end()) params[v] = params[it->second];
  }

  // --- rewrite: folds, Q/DQ, weights, biases, tables ---
  for (auto& [y, act] : plan.folds) {
    (void)y;
    r.count(act->opType() + " folded into the quantized range");
  }
  for (ir::Node* n : g.nodes()) {
    for (auto& [y, act] : plan.folds) {
      if (act != n) continue;
      g.replaceAllUsesWith(act->output(0), n->input(0));
      g.eraseNode(act);
      break;
    }
  }
  const ir::DataType qType = o.activationU8 ? ir::DataType::kUint8 : ir::DataType::kInt8;
  WeightRewriter w(g, {o.perChannel, o.reduceRange, 0}, r);
  for (ir::Value* v : plan.tensors) {
    const ActParams& ap = params[v];
    std::vector<ir::Use> uses;
    for (const ir::Use& u : v->uses())
      if (u.index != ir::Use::kImplicit) uses.push_back(u);
    if (uses.empty()) continue;
    ir::Node* first = uses[0].node;
    for (ir::Node* n : g.nodes())
      if (std::any_of(uses.begin(), uses.end(), [n](const ir::Use& u) { return u.node == n; })) {
        first = n;
        break;
      }
    ir::Value* s = w.constant(v->name() + "_scale", ir::Tensor::fromVector(ir::DataType::kFloat, {}, std::vector<float>{ap.scale}));
    ir::Value* z = o.activationU8
                       ? w.constant(v->name() + "_zp", ir::Tensor::fromVector(ir::DataType::kUint8, {},
                                                                             std::vector<uint8_t>{static_cast<uint8_t>(ap.zeroPoint)}))
                       : w.constant(v->name() + "_zp", ir::Tensor::fromVector(ir::DataType::kInt8, {},
                                                                             std::vector<int8_t>{static_cast<int8_t>(ap.zeroPoint)}));
    ir::Node* q = g.createNode("QuantizeLinear", {v, s, z}, {v->name() + "_q"}, first);
    ir::ValueType qt = v->type();
    qt.kind = ir::ValueType::Kind::kTensor;
    qt.elemType = qType;
    q->output(0)->setType(qt);
    for (const ir::Use& u : uses) {
      ir::Node* dq = g.createNode("DequantizeLinear", {q->output(0), s, z}, {v->name() + "_dq"}, u.node);
      dq->output(0)->setType(v->type());
      u.node->setInput(static_cast<size_t>(u.index), dq->output(0));
    }
    r.count("activations quantized (QDQ)");
  }
  for (ir::Node* n : plan.cores) {
    const ir::Tensor* wt = floatConstant(n->input(1));
    if (!wt) {
      r.count("MatMul of two activations int8");
      continue;
    }
    auto layout = weightLayout(*n, *wt);
    std::vector<float> sw = w.dequantizeWeight(*n, *layout);
    // Bias as int32 with scale sx * sw: needs the input's scale and one weight scale per channel.
    const ir::Value* x = n->input(0);
    const ir::Node* xq = x && x->producer() && x->producer()->opType() == "DequantizeLinear" ? x->producer() : nullptr;
    const ir::Tensor* b = floatConstant(n->input(2));
    if (!b || !xq) continue;
    const ir::Tensor* sx = floatConstant(xq->input(1));
    const bool gemmBetaOk = n->opType() != "Gemm" || (n->attrFloat("beta", 1.0f) == 1.0f && n->attrFloat("alpha", 1.0f) == 1.0f);
    const int64_t nb = b->numel();
    if (sx && gemmBetaOk && b->rank() == 1 && (sw.size() == 1 || static_cast<int64_t>(sw.size()) == nb))
      w.dequantizeBias(*n, sx->values<float>()[0], sw);
    else
      r.decline(n->opType() + ": bias kept float");
  }
  for (ir::Node* n : g.nodes())
    if (n->opType() == "Gather" && isDefaultDomain(*n) && floatConstant(n->input(0)) && f.eligible(*n, r))
      w.quantizeGather(*n);
  g.collectGarbage();
  r.changed = !r.counters.empty();
  r.notes.push_back("static: calibrated on " + ctx.calib->describe() + " (" +
                    (o.calibMethod == CalibMethod::kMinMax ? "minmax" :
                     o.calibMethod == CalibMethod::kEntropy ? "entropy" : "percentile") + ")");
  if (ctx.calib->isRandom())
    r.notes.push_back("static: calibrated on random inputs; ranges may not match real data");
  return r;
}

}  // namespace effdl::passes::quant
