// BatchNormalization folding into Conv / ConvTranspose / Gemm; see the header.
#include "passes/cleanup/fold_batchnorm.h"

#include <cmath>
#include <functional>

namespace effdl::passes {
namespace {

bool isDefaultDomain(const std::string& d) { return d.empty() || d == "ai.onnx"; }

// The initializer behind `v` (following subgraph captures outwards), if it is a constant.
const ir::Tensor* constantTensor(const ir::Value* v) {
  while (v && v->outer()) v = v->outer();
  return v && v->isConstant() ? &v->initializer() : nullptr;
}

bool isFloat(const ir::Tensor& t) {
  return t.dtype() == ir::DataType::kFloat && t.nbytes() == static_cast<size_t>(t.numel()) * sizeof(float);
}

// Everything a fold needs, computed before the graph is touched.
struct Fold {
  std::string why;  // non-empty: declined
  ir::Node* producer = nullptr;
  std::vector<float> weights;
  std::vector<int64_t> weightDims;
  std::vector<float> bias;
  std::vector<int64_t> biasDims;
};

Fold declined(std::string why) {
  Fold f;
  f.why = std::move(why);
  return f;
}

Fold match(const ir::Node& bn, int64_t opset) {
  // --- BN itself: inference form ---
  if (opset >= 14 && bn.attrInt("training_mode", 0) != 0) return declined("training mode");
  if (opset < 7 && bn.attrInt("is_test", 0) == 0) return declined("training mode");
  for (size_t i = 1; i < bn.numOutputs(); ++i) {
    const ir::Value* o = bn.output(i);
    if (!o) continue;
    if (o->hasUses() || o->isGraphOutput()) return declined("BN extra outputs used");
    // Opset 7–13 have no flag: the optional outputs are what makes a BN a training one.
    if (opset >= 7 && opset < 14) return declined("training mode");
  }
  if (opset < 9 && bn.attrInt("spatial", 1) == 0) return declined("non-spatial BN");
  if (!bn.output(0)) return declined("BN without output");

  // --- its parameters ---
  const ir::Tensor* params[4];
  for (size_t i = 0; i < 4; ++i) {
    params[i] = constantTensor(bn.input(i + 1));
    if (!params[i]) return declined("BN params not constant");
  }
  for (const ir::Tensor* t : params)
    if (!isFloat(*t)) return declined("BN params not float32");
  const int64_t channels = params[0]->numel();
  for (const ir::Tensor* t : params)
    if (t->rank() != 1 || t->numel() != channels) return declined("BN params shape mismatch");

  // --- the producer ---
  ir::Value* x = bn.input(0);
  ir::Node* p = x ? x->producer() : nullptr;
  if (!p || p->graph() != bn.graph() || !isDefaultDomain(p->domain()) ||
      (p->opType() != "Conv" && p->opType() != "ConvTranspose" && p->opType() != "Gemm"))
    return declined("producer is not Conv/ConvTranspose/Gemm");
  if (x->uses().size() != 1 || x->isGraphOutput()) return declined("BN input has other users");
  const ir::Tensor* w = constantTensor(p->input(1));
  if (!w) return declined("weights not constant");
  if (!isFloat(*w)) return declined("weights not float32");
  const ir::Tensor* b = nullptr;
  if (p->input(2)) {
    b = constantTensor(p->input(2));
    if (!b) return declined("bias not constant");
    if (!isFloat(*b)) return declined("bias not float32");
  }
  if (!bn.graph()->canReplaceAllUses(bn.output(0), x)) return declined("BN output cannot be redirected");

  const std::string& op = p->opType();
  const auto& wd = w->dims();
  int64_t per = 1;  // elements per (rank-2) weight slice: the kernel
  for (size_t i = 2; i < wd.size(); ++i) per *= wd[i];
  // channelOf(e): the output channel weight element e scales with.
  std::function<int64_t(int64_t)> channelOf;
  std::vector<int64_t> biasDims{channels};
  if (op == "Conv") {
    if (w->rank() < 3 || wd[0] != channels) return declined("channel count mismatch");
    channelOf = [per, inner = wd[1]](int64_t e) { return e / (inner * per); };
  } else if (op == "ConvTranspose") {
    const int64_t group = p->attrInt("group", 1);
    if (w->rank() < 3 || group < 1 || wd[0] % group != 0 || wd[1] * group != channels)
      return declined("channel count mismatch");
    const int64_t outPerGroup = wd[1], inPerGroup = wd[0] / group;
    channelOf = [=](int64_t e) {
      int64_t i = e / (outPerGroup * per), j = (e / per) % outPerGroup;
      return (i / inPerGroup) * outPerGroup + j;
    };
  } else {  // Gemm
    if (p->attrFloat("alpha", 1.0f) != 1.0f || p->attrFloat("beta", 1.0f) != 1.0f)
      return declined("Gemm alpha/beta not 1");
    const bool transB = p->attrInt("transB", 0) != 0;
    if (w->rank() != 2 || (transB ? wd[0] : wd[1]) != channels) return declined("channel count mismatch");
    if (b) {
      const auto& cd = b->dims();
      bool ok = (cd.size() == 1 && cd[0] == channels) || (cd.size() == 2 && cd[0] == 1 && cd[1] == channels);
      if (!ok) return declined("Gemm C not [N] or [1,N]");
      biasDims = cd;
    }
    const int64_t n = channels, k = transB ? wd[1] : wd[0];
    if (transB) channelOf = [k](int64_t e) { return e / k; };
    else channelOf = [n](int64_t e) { return e % n; };
  }
  if (op != "Gemm" && b && (b->rank() != 1 || b->numel() != channels)) return declined("channel count mismatch");

  const float eps = bn.attrFloat("epsilon", 1e-5f);
  auto scale = params[0]->values<float>(), beta = params[1]->values<float>();
  auto mean = params[2]->values<float>(), var = params[3]->values<float>();
  std::vector<double> s(static_cast<size_t>(channels));
  for (size_t c = 0; c < s.size(); ++c) {
    double d = static_cast<double>(var[c]) + static_cast<double>(eps);
    if (!(d > 0)) return declined("BN variance + epsilon not positive");
    s[c] = static_cast<double>(scale[c]) / std::sqrt(d);
  }

  Fold f;
  f.producer = p;
  auto wv = w->values<float>();
  f.weights.resize(wv.size());
  for (size_t e = 0; e < wv.size(); ++e)
    f.weights[e] = static_cast<float>(wv[e] * s[static_cast<size_t>(channelOf(static_cast<int64_t>(e)))]);
  f.weightDims = wd;
  f.bias.resize(s.size());
  for (size_t c = 0; c < s.size(); ++c) {
    double bc = b ? static_cast<double>(b->values<float>()[c]) : 0.0;
    f.bias[c] = static_cast<float>((bc - mean[c]) * s[c] + beta[c]);
  }
  f.biasDims = std::move(biasDims);
  return f;
}

std::string baseName(const ir::Value* v) {
  while (v->outer()) v = v->outer();
  return v->name();
}

void fold(ir::Graph& g, int64_t opset, PassResult& r) {
  bool changed = false;
  for (ir::Node* n : g.nodes()) {
    for (auto& a : n->attributes()) {
      if (a.g) fold(*a.g, opset, r);
      for (auto& sg : a.graphs) fold(*sg, opset, r);
    }
    if (n->opType() != "BatchNormalization" || !isDefaultDomain(n->domain())) continue;
    Fold f = match(*n, opset);
    if (!f.why.empty()) {
      r.decline(f.why);
      continue;
    }
    ir::Node* p = f.producer;
    const std::string wName = baseName(p->input(1));
    const std::string bName = p->input(2) ? baseName(p->input(2)) : wName + "_bias";
    ir::Value* w = g.addInitializer(
        wName + "_bn", ir::Tensor::fromVector(ir::DataType::kFloat, std::move(f.weightDims), f.weights), true);
    ir::Value* b =
        g.addInitializer(bName + "_bn", ir::Tensor::fromVector(ir::DataType::kFloat, std::move(f.biasDims), f.bias), true);
    p->setInput(1, w);
    p->setInput(2, b);
    g.replaceAllUsesWith(n->output(0), p->output(0));
    g.eraseNode(n);
    r.count("BatchNormalization folded into " + p->opType());
    changed = true;
  }
  if (changed) {
    g.collectGarbage();
    r.changed = true;
  }
}

}  // namespace

PassResult FoldBatchnorm::run(ir::Model& model, PassContext&) {
  PassResult r;
  fold(*model.graph, model.opsetFor("").value_or(1), r);
  return r;
}

PassInfo foldBatchnormInfo() {
  return PassInfo{"fold-batchnorm",
                  "fold inference BatchNormalization into the Conv, ConvTranspose or Gemm that feeds it",
                  {},
                  [](const PassOptions&) { return std::make_unique<FoldBatchnorm>(); }};
}

}  // namespace effdl::passes
