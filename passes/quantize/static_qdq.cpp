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
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <set>

#include "core/error.h"
#include "core/log.h"
#include "eval/sample_set.h"
#include "ir/onnx_export.h"
#include "ir/onnx_import.h"
#include "passes/common/activation_tap.h"
#include "passes/quantize/latency_guard.h"
#include "passes/quantize/quant_math.h"
#include "passes/quantize/quantize_modes.h"
#include "passes/quantize/range_observer.h"
#include "passes/quantize/weight_rewrite.h"
#include "runtime/session.h"

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
  std::map<const ir::Value*, const ir::Value*> alias;        // folded activation output -> y
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

// `forceFloat`: output names of layers kept float -> the option that says so (auto-exclude, latency guard).
Plan makePlan(ir::Graph& g, const QuantizeOptions& o, const NodeFilter& f, PassResult& r,
              const std::map<std::string, std::string>& forceFloat) {
  Plan p;
  for (ir::Node* n : g.nodes()) {
    if (!isDefaultDomain(*n) || !isCore(n->opType())) continue;
    const std::string& op = n->opType();
    const ir::Tensor* w = floatConstant(n->input(1));
    bool ok = isFloatActivation(n->input(0));
    if (w)
      ok = ok && weightLayout(*n, *w).has_value();
    else
      ok = ok && op == "MatMul" && isFloatActivation(n->input(1));
    if (op == "Gemm" && n->input(2) && !floatConstant(n->input(2))) ok = false;
    if (!ok) {
      r.decline(op + ": input/weight layout not quantizable");
      continue;
    }
    if (!f.eligible(*n, r)) continue;
    if (n->output(0) && forceFloat.count(n->output(0)->name())) {
      r.count("layers kept float (" + forceFloat.at(n->output(0)->name()) + ")");
      continue;
    }
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
        if (p.has(in))
          any = true;
        else if (in->type().elemType != ir::DataType::kInt64)
          all = false;
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

using ParamMap = std::map<std::string, ActParams>;  // by the quantized tensor's name

// `shapes` (when given): the shape of every planned tensor on the last sample, for the latency
// guard's one-layer models; tensors that only keep another's scale are tapped for it too.
ParamMap calibrate(ir::Model& model, const Plan& plan, const QuantizeOptions& o, PassContext& ctx,
                   std::map<std::string, std::vector<int64_t>>* shapes) {
  std::vector<std::string> taps, keys;
  for (const ir::Value* v : plan.tensors) {
    if (plan.sameScaleAs.count(v)) continue;
    auto fold = plan.folds.find(v);
    taps.push_back(fold != plan.folds.end() ? fold->second->output(0)->name() : v->name());
    keys.push_back(v->name());
  }
  const size_t observed = taps.size();
  if (shapes)
    for (const ir::Value* v : plan.tensors)
      if (plan.sameScaleAs.count(v)) {
        taps.push_back(v->name());
        keys.push_back(v->name());
      }
  std::vector<RangeObserver> observers(observed, RangeObserver(o.calibMethod != CalibMethod::kMinMax));
  if (!taps.empty()) {
    TapOptions topt = tapOptions(ctx, "quantize calibration");
    forEachActivation(model, taps, *ctx.calib, topt, [&](size_t, const std::vector<const ir::Tensor*>& ts) {
      for (size_t i = 0; i < observed; ++i)
        if (ts[i]->dtype() == ir::DataType::kFloat) observers[i].observe(ts[i]->values<float>());
      if (shapes)
        for (size_t i = 0; i < ts.size(); ++i) (*shapes)[taps[i]] = (*shapes)[keys[i]] = ts[i]->dims();
    });
  }
  ParamMap params;
  for (size_t i = 0; i < observed; ++i) {
    auto [lo, hi] = observers[i].range(o.calibMethod, o.percentile);
    ActParams ap = activationParams(lo, hi, o.activationU8);
    params[keys[i]] = ap;
    if (logLevel() == LogLevel::kDebug)
      logDebug("quantize: '" + taps[i] + "' range [" + std::to_string(lo) + ", " + std::to_string(hi) + "] scale " +
               std::to_string(ap.scale) + " zero point " + std::to_string(ap.zeroPoint));
  }
  return params;
}

// The parameters of every tensor `plan` quantizes, by name: data-movement outputs take their
// source's, and a folded Relu/Clip's output its producer's (the names a one-layer model sees).
ParamMap resolvedParams(const Plan& plan, const ParamMap& byName) {
  ParamMap out;
  for (const ir::Value* v : plan.tensors) {
    auto it = plan.sameScaleAs.find(v);
    const ir::Value* src = it != plan.sameScaleAs.end() ? it->second : v;
    // Chains (MaxPool -> Flatten) resolve in order: the source was assigned before.
    if (out.count(src->name()))
      out[v->name()] = out.at(src->name());
    else if (byName.count(src->name()))
      out[v->name()] = byName.at(src->name());
    else
      out[v->name()] = ActParams{};
  }
  for (const auto& [y, act] : plan.folds)
    if (out.count(y->name())) out[act->output(0)->name()] = out.at(y->name());
  return out;
}

// Fake quantization in float ops, for the simulated model: (Clip(Round(x / s) + z, lo, hi) - z) * s.
ir::Value* fakeQuant(ir::Graph& g, ir::Value* v, const ActParams& ap, bool u8, ir::Node* before, WeightRewriter& w) {
  auto scalar = [&](const std::string& hint, float x) {
    return w.constant(v->name() + hint, ir::Tensor::fromVector(ir::DataType::kFloat, {}, std::vector<float>{x}));
  };
  ir::Value* s = scalar("_s", ap.scale);
  ir::Value* z = scalar("_z", static_cast<float>(ap.zeroPoint));
  ir::Value* d = createNamed(g, "Div", {v, s}, {v->name() + "_div"}, before)->output(0);
  ir::Value* rd = createNamed(g, "Round", {d}, {v->name() + "_round"}, before)->output(0);
  ir::Value* a = createNamed(g, "Add", {rd, z}, {v->name() + "_shift"}, before)->output(0);
  ir::Value* c = createNamed(g, "Clip", {a, scalar("_lo", u8 ? 0.0f : -128.0f), scalar("_hi", u8 ? 255.0f : 127.0f)},
                             {v->name() + "_clip"}, before)
                     ->output(0);
  ir::Value* sb = createNamed(g, "Sub", {c, z}, {v->name() + "_unshift"}, before)->output(0);
  return createNamed(g, "Mul", {sb, s}, {v->name() + "_fq"}, before)->output(0);
}

// Edits `g` as `plan` says: folds, Q/DQ (or fake quantization when simulating), weights, biases,
// embedding tables.
void rewrite(ir::Graph& g, const Plan& plan, const ParamMap& byName, const QuantizeOptions& o, const NodeFilter& f,
             PassResult& r, bool simulate) {
  std::map<const ir::Value*, ActParams> params;
  const ParamMap resolved = resolvedParams(plan, byName);
  for (const ir::Value* v : plan.tensors) params[v] = resolved.at(v->name());
  // The scale of each core op's quantized input, read before the edits below.
  std::map<const ir::Node*, float> inputScale;
  for (ir::Node* n : plan.cores) {
    const ir::Value* x = plan.resolve(n->input(0));
    if (plan.member.count(x)) inputScale[n] = params[x].scale;
  }
  for (const auto& [y, act] : plan.folds) {
    (void)y;
    r.count(act->opType() + " folded into the quantized range");
  }
  for (ir::Node* n : g.nodes()) {
    for (const auto& [y, act] : plan.folds) {
      if (act != n) continue;
      g.replaceAllUsesWith(act->output(0), n->input(0));
      g.eraseNode(act);
      break;
    }
  }
  const ir::DataType qType = o.activationU8 ? ir::DataType::kUint8 : ir::DataType::kInt8;
  WeightRewriter w(g, {o.perChannel, o.reduceRange, 0, simulate}, r);
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
    if (simulate) {
      ir::Value* fq = fakeQuant(g, v, ap, o.activationU8, first, w);
      for (const ir::Use& u : uses) u.node->setInput(static_cast<size_t>(u.index), fq);
      continue;
    }
    ir::Value* s = w.constant(v->name() + "_scale",
                              ir::Tensor::fromVector(ir::DataType::kFloat, {}, std::vector<float>{ap.scale}));
    ir::Value* z = o.activationU8
                       ? w.constant(v->name() + "_zp",
                                    ir::Tensor::fromVector(ir::DataType::kUint8, {},
                                                           std::vector<uint8_t>{static_cast<uint8_t>(ap.zeroPoint)}))
                       : w.constant(v->name() + "_zp",
                                    ir::Tensor::fromVector(ir::DataType::kInt8, {},
                                                           std::vector<int8_t>{static_cast<int8_t>(ap.zeroPoint)}));
    ir::Node* q = createNamed(g, "QuantizeLinear", {v, s, z}, {v->name() + "_q"}, first);
    ir::ValueType qt = v->type();
    qt.kind = ir::ValueType::Kind::kTensor;
    qt.elemType = qType;
    q->output(0)->setType(qt);
    for (const ir::Use& u : uses) {
      ir::Node* dq = createNamed(g, "DequantizeLinear", {q->output(0), s, z}, {v->name() + "_dq"}, u.node);
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
    const ir::Tensor* b = floatConstant(n->input(2));
    if (!b) continue;
    auto sx = inputScale.find(n);
    const bool gemmOk =
        n->opType() != "Gemm" || (n->attrFloat("beta", 1.0f) == 1.0f && n->attrFloat("alpha", 1.0f) == 1.0f);
    const int64_t nb = b->numel();
    if (sx != inputScale.end() && gemmOk && b->rank() == 1 && (sw.size() == 1 || static_cast<int64_t>(sw.size()) == nb))
      w.dequantizeBias(*n, sx->second, sw);
    else
      r.decline(n->opType() + ": bias kept float");
  }
  for (ir::Node* n : g.nodes())
    if (n->opType() == "Gather" && isDefaultDomain(*n) && floatConstant(n->input(0)) && f.eligible(*n, r))
      w.quantizeGather(*n);
  g.collectGarbage();
}

struct LayerError {
  std::string layer;   // node name (or its output's name when unnamed)
  std::string output;  // the output compared
  double sqnrDb = 0;
};

// SQNR of every quantized layer's output in a simulated quantized copy (fake quantization in float
// ops, dequantized weights) against the float model, on the first kSensitivitySamples calibration
// samples; both copies run in effdl's runtime side by side, one sample at a time.
constexpr size_t kSensitivitySamples = 8;

std::vector<LayerError> layerErrors(const ir::Model& model, const QuantizeOptions& o, const NodeFilter& f,
                                    const ParamMap& params, PassContext& ctx, PassResult& r) {
  if (model.graph->numNodes() == 0) return {};
  // Two in-memory copies go through one protobuf message (2 GiB limit) and cost twice the weights.
  uint64_t weightBytes = 0;
  for (const ir::Value* v : model.graph->initializers()) weightBytes += v->initializer().nbytes();
  if (weightBytes > (uint64_t{1} << 30)) {
    r.notes.push_back("static: per-layer SQNR skipped: weights above 1 GiB");
    if (o.autoExclude > 0)
      throwUnsupported(
          "quantize: --quantize-auto-exclude needs the per-layer SQNR, skipped for models with more than 1 GiB of "
          "weights");
    return {};
  }
  const std::string bytes = ir::serializeModel(model);
  auto ref = ir::loadModelFromBytes(bytes.data(), bytes.size(), ".", "float copy");
  auto sim = ir::loadModelFromBytes(bytes.data(), bytes.size(), ".", "simulated copy");
  PassResult scratch;
  Plan simPlan = makePlan(*sim->graph, o, f, scratch, {});
  std::vector<LayerError> out;
  for (ir::Node* n : simPlan.cores)
    out.push_back({n->name().empty() ? n->output(0)->name() : n->name(), n->output(0)->name(), 0.0});
  rewrite(*sim->graph, simPlan, params, o, f, scratch, /*simulate=*/true);
  std::vector<size_t> refIdx, simIdx;
  std::vector<LayerError> kept;
  for (const LayerError& e : out) {
    ir::Value* a = ref->graph->findValue(e.output);
    ir::Value* b = sim->graph->findValue(e.output);
    if (!a || !b) continue;
    auto index = [](ir::Graph& g, ir::Value* v) {
      const auto& outs = g.outputs();
      auto it = std::find(outs.begin(), outs.end(), v);
      if (it != outs.end()) return static_cast<size_t>(it - outs.begin());
      g.addOutput(v);
      return g.outputs().size() - 1;
    };
    refIdx.push_back(index(*ref->graph, a));
    simIdx.push_back(index(*sim->graph, b));
    kept.push_back(e);
  }
  if (kept.empty()) return {};
  runtime::Session refSession(*ref, runtime::SessionOptions{ctx.threads});
  runtime::Session simSession(*sim, runtime::SessionOptions{ctx.threads});
  std::vector<double> signal(kept.size(), 0.0), noise(kept.size(), 0.0);
  const size_t n = std::min(kSensitivitySamples, ctx.calib->size());
  for (size_t s = 0; s < n; ++s) {
    eval::NamedInputs inputs = ctx.calib->sample(s, model);
    std::vector<runtime::NamedInput> named;
    for (const auto& [name, t] : inputs) named.push_back({name, &t});
    std::vector<ir::Tensor> a = refSession.run(named);
    std::vector<ir::Tensor> b = simSession.run(named);
    for (size_t i = 0; i < kept.size(); ++i) {
      const ir::Tensor& x = a[refIdx[i]];
      const ir::Tensor& y = b[simIdx[i]];
      if (x.dtype() != ir::DataType::kFloat || y.dtype() != ir::DataType::kFloat || x.nbytes() != y.nbytes()) continue;
      auto xv = x.values<float>(), yv = y.values<float>();
      for (size_t k = 0; k < xv.size(); ++k) {
        const double d = static_cast<double>(xv[k]) - yv[k];
        signal[i] += static_cast<double>(xv[k]) * xv[k];
        noise[i] += d * d;
      }
    }
  }
  for (size_t i = 0; i < kept.size(); ++i)
    kept[i].sqnrDb = noise[i] <= 0    ? 200.0
                     : signal[i] <= 0 ? -200.0
                                      : std::min(200.0, 10.0 * std::log10(signal[i] / noise[i]));
  r.notes.push_back("static: per-layer SQNR measured on " + std::to_string(n) + " calibration sample(s)");
  return kept;
}


std::string layerName(const ir::Node& n) { return n.name().empty() ? n.output(0)->name() : n.name(); }

// --quantize-latency-guard: whether each planned core layer stays int8 (latency_guard.h); returns
// the output names of the layers to keep float.
std::set<std::string> latencyGuard(ir::Model& model, const Plan& plan, const ParamMap& params,
                                   const std::map<std::string, std::vector<int64_t>>& shapes,
                                   const QuantizeOptions& o, PassContext& ctx, PassResult& r) {
  std::vector<GuardLayer> layers;
  for (const ir::Node* n : plan.cores) {
    auto fold = plan.folds.find(n->output(0));
    layers.push_back({layerName(*n), n, fold != plan.folds.end() ? fold->second : nullptr});
  }
  // The int8 twin of a one-layer model is quantized as the whole model is, with its ranges.
  const ParamMap resolved = resolvedParams(plan, params);
  QuantizeOptions lo = o;
  lo.keepIoFloat = false;
  lo.excludeNodes.clear();
  lo.excludeOpTypes.clear();
  auto quantizeLayer = [&](ir::Model& m) {
    NodeFilter lf(lo);
    PassResult scratch;
    Plan lp = makePlan(*m.graph, lo, lf, scratch, {});
    if (lp.cores.size() != 1) throwInternal("latency guard: one-layer model of '" + m.graph->name() + "' not quantized");
    rewrite(*m.graph, lp, resolved, lo, lf, scratch, /*simulate=*/false);
  };
  const std::vector<bool> keepFloat = guardLayers(model, layers, shapes, quantizeLayer, guardOptions(o, ctx), r);
  std::set<std::string> revert;
  for (size_t i = 0; i < layers.size(); ++i)
    if (keepFloat[i]) revert.insert(layers[i].core->output(0)->name());
  return revert;
}

}  // namespace

PassResult quantizeStatic(ir::Model& model, const QuantizeOptions& o, const NodeFilter& f, PassContext& ctx) {
  if (!ctx.calib)
    throwUsage(
        "quantize static needs calibration data: give --calib DIR (or --calib random:N for seeded random "
        "inputs)");
  PassResult r;
  ir::Graph& g = *model.graph;
  PassResult planNotes;
  Plan plan = makePlan(g, o, f, planNotes, {});
  const bool guard = o.latencyGuard || !o.guardDecisions.empty();
  std::map<std::string, std::vector<int64_t>> shapes;
  const ParamMap params = calibrate(model, plan, o, ctx, guard && o.guardDecisions.empty() ? &shapes : nullptr);
  // A plan that keeps layers float may quantize a Relu's output that this plan folded: by name.
  const ParamMap allParams = resolvedParams(plan, params);

  // Per-layer error of the quantized model against the float one (a simulated copy, in float ops).
  std::map<std::string, std::string> worst;  // output name -> why kept float
  std::vector<LayerError> errors = layerErrors(model, o, f, params, ctx, r);
  if (!errors.empty()) {
    r.layerColumns = {"sqnr_db"};
    for (const LayerError& e : errors) r.layers.push_back({e.layer, {e.sqnrDb}});
    std::vector<LayerError> sorted = errors;
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const LayerError& a, const LayerError& b) { return a.sqnrDb < b.sqnrDb; });
    std::string list;
    for (size_t i = 0; i < sorted.size() && i < 10; ++i) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.1f", sorted[i].sqnrDb);
      list += (i ? ", " : "") + sorted[i].layer + " " + buf + " dB";
    }
    r.notes.push_back("static: least accurate layers (SQNR vs float): " + list);
    for (size_t i = 0; i < sorted.size() && i < static_cast<size_t>(o.autoExclude); ++i)
      worst[sorted[i].output] = "--quantize-auto-exclude";
  }
  PassResult planResult;
  if (!worst.empty())
    plan = makePlan(g, o, f, planResult, worst);
  else
    planResult = planNotes;
  if (guard) {
    std::set<std::string> reverted = latencyGuard(model, plan, params, shapes, o, ctx, r);
    if (!reverted.empty()) {
      for (const std::string& y : reverted) worst[y] = "--quantize-latency-guard";
      planResult = PassResult{};
      plan = makePlan(g, o, f, planResult, worst);
    }
  }
  r.merge(planResult);
  rewrite(g, plan, allParams, o, f, r, /*simulate=*/false);
  r.changed = !r.counters.empty();
  r.notes.push_back("static: calibrated on " + ctx.calib->describe() + " (" +
                    (o.calibMethod == CalibMethod::kMinMax    ? "minmax"
                     : o.calibMethod == CalibMethod::kEntropy ? "entropy"
                                                              : "percentile") +
                    ")");
  if (ctx.calib->isRandom()) r.notes.push_back("static: calibrated on random inputs; ranges may not match real data");
  return r;
}

}  // namespace effdl::passes::quant
