// Matching QDQ groups (see qdq_fusion.h). Each matcher checks every condition before it builds
// anything; a group that does not match is left to the node-by-node kernels (always correct).
#include "runtime/qdq_fusion.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "runtime/fusion_util.h"
#include "runtime/kernel_registry.h"
#include "runtime/kernels/conv_geometry.h"
#include "runtime/kernels/qdq_kernels.h"
#include "runtime/kernels/quant_common.h"

namespace effdl::runtime {
namespace {

// A DequantizeLinear feeding the group: its quantized input and constant parameters.
struct Dq {
  const ir::Node* node = nullptr;
  const ir::Value* q = nullptr;
  ir::DataType type = ir::DataType::kUndefined;
  std::vector<float> scale;
  std::vector<int32_t> zp;
  int64_t axis = 1;  // normalized when per axis
  bool absorb = false;  // its output has no other reader: the group replaces it
};

// The QuantizeLinear ending a group (per tensor).
struct Q {
  ir::DataType type = ir::DataType::kUint8;
  float scale = 1.f;
  int32_t zp = 0;
};

class Matcher {
 public:
  Matcher(const ir::Model& model, const ir::Graph& graph, int threads, const ConstantMap& computed)
      : model_(model), graph_(graph), threads_(threads), computed_(computed) {}

  std::vector<FusedGroup> run() {
    std::vector<FusedGroup> groups;
    auto take = [&](std::optional<FusedGroup> g) {
      if (!g) return;
      for (const ir::Node* m : g->nodes) taken_.insert(m);
      groups.push_back(std::move(*g));
    };
    const auto nodes = graph_.nodes();
    for (const ir::Node* n : nodes)
      if (isOp(n, "QuantizeLinear")) take(matchGroup(n));
    // Then Conv/MatMul/Gemm with a float output (no QuantizeLinear after: a model's last layer).
    for (const ir::Node* n : nodes) {
      if (!isOp(n, "Conv") && !isOp(n, "MatMul") && !isOp(n, "Gemm")) continue;
      std::optional<Act> act;
      const ir::Value* out = n->output(0);
      if (out && out->uses().size() == 1 && soleUse(out, out->uses()[0].node)) act = matchAct(out->uses()[0].node);
      take(matchLinear(n, act, nullptr, std::nullopt));
    }
    dropOrphanDequantizes(nodes, groups);
    makeKernels(groups);
    return groups;
  }

  // Quantized values that only fused groups pass between them stay channels-last: a value of rank
  // 3 to 5 that a conv or Add group quantizes, when every reader is a conv group (its x) or an Add
  // group (elementwise over equal shapes; an input in the other layout is converted first, so an
  // NCHW value entering the chain, e.g. from a MaxPool, costs one conversion, not all of them).
  // Then the conv and Add groups' kernels are made for their layouts.
  void makeKernels(std::vector<FusedGroup>& groups) {
    std::unordered_map<const ir::Node*, const FusedGroup*> groupOf;
    for (const FusedGroup& g : groups)
      for (const ir::Node* n : g.nodes) groupOf[n] = &g;
    auto isConv = [&](const FusedGroup& g) { return pendingConv_.count(g.anchor) > 0; };
    auto isAdd = [&](const FusedGroup& g) { return pendingAdd_.count(g.anchor) > 0; };
    std::unordered_set<const ir::Value*> channelsLast;
    for (const FusedGroup& g : groups) {
      const ir::Value* v = g.outputs[0];
      if (!(isConv(g) || isAdd(g)) || g.last->opType() != "QuantizeLinear" || !v || v->isGraphOutput() ||
          !v->hasUses() || !v->type().shape || v->type().shape->size() < 3 || v->type().shape->size() > 5)
        continue;
      const bool onlyGroups = std::all_of(v->uses().begin(), v->uses().end(), [&](const ir::Use& u) {
        auto it = groupOf.find(u.node);
        if (u.index == ir::Use::kImplicit || it == groupOf.end()) return false;
        const FusedGroup& r = *it->second;
        return (isConv(r) && r.inputs[0] == v) || (isAdd(r) && (r.inputs[0] == v || r.inputs[1] == v));
      });
      if (onlyGroups) channelsLast.insert(v);
    }
    auto last = [&](const ir::Value* v) { return channelsLast.count(v) > 0; };
    for (FusedGroup& g : groups) {
      if (auto it = pendingConv_.find(g.anchor); it != pendingConv_.end()) {
        Int8ConvParams& p = it->second.params;
        p.srcChannelsLast = last(g.inputs[0]);
        p.dstChannelsLast = last(g.outputs[0]);
        g.kernel = makeQdqConvKernel(std::move(p), g.description, it->second.xShape, threads_);
      } else if (auto ad = pendingAdd_.find(g.anchor); ad != pendingAdd_.end()) {
        QdqAddParams& p = ad->second;
        p.aChannelsLast = last(g.inputs[0]);
        p.bChannelsLast = last(g.inputs[1]);
        p.yChannelsLast = last(g.outputs[0]);
        g.kernel = makeQdqAddKernel(p);
      }
    }
  }

  // A DequantizeLinear whose readers all went into groups (which read its quantized input
  // themselves) has nothing left to compute for: it joins the group of its first reader.
  void dropOrphanDequantizes(const std::vector<ir::Node*>& nodes, std::vector<FusedGroup>& groups) {
    std::unordered_set<const ir::Value*> groupInputs;
    std::unordered_map<const ir::Node*, size_t> groupOf;
    for (size_t i = 0; i < groups.size(); ++i) {
      groupInputs.insert(groups[i].inputs.begin(), groups[i].inputs.end());
      for (const ir::Node* n : groups[i].nodes) groupOf[n] = i;
    }
    for (const ir::Node* n : nodes) {
      if (!isOp(n, "DequantizeLinear")) continue;
      const ir::Value* v = n->output(0);
      if (!v || v->isGraphOutput() || !v->hasUses() || groupInputs.count(v)) continue;
      const bool orphan = std::all_of(v->uses().begin(), v->uses().end(), [&](const ir::Use& u) {
        return u.index != ir::Use::kImplicit && groupOf.count(u.node);
      });
      if (!orphan) continue;
      groups[groupOf[v->uses()[0].node]].nodes.push_back(n);
      taken_.insert(n);
    }
  }

 private:
  int64_t opset(const ir::Node& n) const { return fusion::opsetOf(model_, n); }
  bool isOp(const ir::Node* n, const char* op) const { return fusion::isDefaultOp(n, op) && !taken_.count(n); }
  // v is read by `user` alone (once), is not a graph output, and is not read by a subgraph.
  static bool soleUse(const ir::Value* v, const ir::Node* user) { return user && fusion::soleReader(v) == user; }
  const ir::Tensor* constant(const ir::Value* v) const { return fusion::constantOf(v, computed_); }

  std::string describe(const ir::Node& n) const {
    std::string s = "node '" + n.name() + "' (";
    if (!n.domain().empty()) s += n.domain() + ".";
    return s + n.opType() + ", opset " + std::to_string(opset(n)) + ")";
  }

  static bool goodScales(const std::vector<float>& s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](float v) { return std::isfinite(v) && v > 0.f; });
  }

  std::optional<Q> matchQ(const ir::Node& q) const {
    const int64_t o = opset(q);
    if (o < 10 || o > 18 || q.numInputs() < 2) return std::nullopt;
    const ir::Tensor* s = constant(q.input(1));
    const ir::Tensor* z = q.numInputs() > 2 ? constant(q.input(2)) : nullptr;
    if (!s || s->dtype() != ir::DataType::kFloat || s->numel() != 1) return std::nullopt;
    if (q.numInputs() > 2 && q.input(2) && (!z || z->numel() != 1 || !isInt8Type(z->dtype()))) return std::nullopt;
    Q r;
    r.scale = reinterpret_cast<const float*>(s->data())[0];
    if (!goodScales({r.scale})) return std::nullopt;
    if (z) {
      r.type = z->dtype();
      r.zp = readZeroPoints("", viewOf(*z), "zero point")[0];
    }
    return r;
  }

  // v = DequantizeLinear(q, scale, zp) with constant scale and zero point. `user` reads v.
  // int32Data: a bias (int32 data, zero point 0).
  std::optional<Dq> matchDq(const ir::Value* v, const ir::Node* user, bool constData, bool perTensor,
                            bool int32Data) const {
    if (!v || !isOp(v->producer(), "DequantizeLinear")) return std::nullopt;
    const ir::Node& n = *v->producer();
    const int64_t o = opset(n);
    if (o < 10 || o > 18 || n.numInputs() < 2) return std::nullopt;
    Dq d;
    d.node = &n;
    d.q = n.input(0);
    const ir::Tensor* data = constant(d.q);
    if (constData && !data) return std::nullopt;
    d.type = data ? data->dtype() : d.q->type().elemType;
    if (int32Data ? d.type != ir::DataType::kInt32 : !isInt8Type(d.type)) return std::nullopt;
    const ir::Tensor* s = constant(n.input(1));
    if (!s || s->dtype() != ir::DataType::kFloat || s->dims().size() > 1) return std::nullopt;
    d.scale.assign(reinterpret_cast<const float*>(s->data()), reinterpret_cast<const float*>(s->data()) + s->numel());
    if (!goodScales(d.scale)) return std::nullopt;
    if (n.numInputs() > 2 && n.input(2)) {
      const ir::Tensor* z = constant(n.input(2));
      if (!z || z->dtype() != d.type || z->dims() != s->dims()) return std::nullopt;
      d.zp = readZeroPoints("", viewOf(*z), "zero point");
      if (int32Data && std::any_of(d.zp.begin(), d.zp.end(), [](int32_t v) { return v != 0; })) return std::nullopt;
    } else {
      d.zp.assign(d.scale.size(), 0);
    }
    if (d.scale.size() > 1) {
      if (perTensor || !data || o < 13) return std::nullopt;
      const int64_t rank = static_cast<int64_t>(data->dims().size());
      d.axis = n.attrInt("axis", 1);
      if (d.axis < -rank || d.axis >= rank) return std::nullopt;
      if (d.axis < 0) d.axis += rank;
      if (data->dims()[static_cast<size_t>(d.axis)] != static_cast<int64_t>(d.scale.size())) return std::nullopt;
    }
    d.absorb = soleUse(v, user);
    return d;
  }

  // Relu or Clip between the op and the Q: bounds on y (real units).
  struct Act {
    const ir::Node* node = nullptr;
    float lo = -std::numeric_limits<float>::infinity(), hi = std::numeric_limits<float>::infinity();
  };
  std::optional<Act> matchAct(const ir::Node* n) const {
    Act a;
    a.node = n;
    if (isOp(n, "Relu")) {
      a.lo = 0.f;
      return a;
    }
    if (!isOp(n, "Clip")) return std::nullopt;
    if (opset(*n) < 11) {
      a.lo = n->attrFloat("min", -std::numeric_limits<float>::max());
      a.hi = n->attrFloat("max", std::numeric_limits<float>::max());
      return a;
    }
    for (size_t i = 1; i < 3 && i < n->numInputs(); ++i) {
      if (!n->input(i)) continue;
      const ir::Tensor* t = constant(n->input(i));
      if (!t || t->dtype() != ir::DataType::kFloat || t->numel() != 1) return std::nullopt;
      (i == 1 ? a.lo : a.hi) = reinterpret_cast<const float*>(t->data())[0];
    }
    return a;
  }

  static std::optional<Shape> staticShape(const ir::Value* v) {
    const auto& t = v->type();
    if (!t.shape) return std::nullopt;
    Shape s;
    for (const auto& d : *t.shape) {
      if (!d.value) return std::nullopt;
      s.push_back(*d.value);
    }
    return s;
  }

  // `last` runs the group and writes its output 0.
  FusedGroup group(const ir::Node* anchor, const ir::Node* last, std::vector<const ir::Node*> nodes) const {
    FusedGroup g;
    g.anchor = anchor;
    g.last = last;
    g.nodes = std::move(nodes);
    g.outputs = {last->output(0)};
    g.description = describe(*anchor);
    g.description.insert(g.description.size() - 1, ", fused QDQ int8");
    return g;
  }

  std::optional<FusedGroup> matchGroup(const ir::Node* qNode) {
    auto q = matchQ(*qNode);
    if (!q) return std::nullopt;
    const ir::Value* v = qNode->input(0);
    const ir::Node* op = v ? v->producer() : nullptr;
    if (!op || !soleUse(v, qNode)) return std::nullopt;
    std::optional<Act> act;
    if ((act = matchAct(op))) {
      const ir::Value* in = op->input(0);
      if (!in || !soleUse(in, op)) return std::nullopt;
      op = in->producer();
      if (!op) return std::nullopt;
    }
    if (isOp(op, "Conv") || isOp(op, "MatMul") || isOp(op, "Gemm")) return matchLinear(op, act, qNode, *q);
    if (isOp(op, "Add")) return matchAdd(op, act, qNode, *q);
    if (!act) return matchMove(op, qNode, *q);
    return std::nullopt;
  }

  // Conv / MatMul / Gemm with a constant quantized weight.
  // qNode null: the float output of the op (or of its Relu/Clip).
  std::optional<FusedGroup> matchLinear(const ir::Node* op, const std::optional<Act>& act, const ir::Node* qNode,
                                        const std::optional<Q>& q) {
    const bool conv = op->opType() == "Conv", gemm = op->opType() == "Gemm";
    if (op->numInputs() < 2) return std::nullopt;
    auto x = matchDq(op->input(0), op, false, true, false);
    auto w = x ? matchDq(op->input(1), op, true, false, false) : std::nullopt;
    if (!w) return std::nullopt;
    const ir::Tensor& wq = *constant(w->q);
    const Shape& wd = wq.dims();
    bool transB = false;
    int64_t M = 0;
    if (conv) {
      if (wd.size() < 3 || (w->scale.size() > 1 && w->axis != 0)) return std::nullopt;
      M = wd[0];
    } else {
      if (wd.size() != 2 || (gemm && op->attrInt("transA", 0) != 0)) return std::nullopt;
      transB = gemm && op->attrInt("transB", 0) != 0;
      M = transB ? wd[0] : wd[1];
      if (w->scale.size() > 1 && w->axis != (transB ? 0 : 1)) return std::nullopt;
    }
    const float alpha = gemm ? op->attrFloat("alpha", 1.f) : 1.f, beta = gemm ? op->attrFloat("beta", 1.f) : 1.f;
    if (!(alpha > 0.f) || !std::isfinite(alpha) || !std::isfinite(beta)) return std::nullopt;
    // Bias in real units per output channel: a float constant or DQ(int32 constant).
    std::vector<float> bias;
    std::vector<int32_t> biasInt;  // an int32 bias whose scale is x_scale · w_scale: exact accumulator units
    std::optional<Dq> biasDq;
    if (op->numInputs() > 2 && op->input(2)) {
      const ir::Value* bv = op->input(2);
      if (const ir::Tensor* bt = constant(bv)) {
        if (bt->dtype() != ir::DataType::kFloat) return std::nullopt;
        const bool shapeOk = bt->numel() == M && (bt->dims().size() == 1 || (gemm && bt->dims() == Shape{1, M}));
        if (!shapeOk) return std::nullopt;
        const auto* b = reinterpret_cast<const float*>(bt->data());
        bias.assign(b, b + M);
      } else {
        biasDq = matchDq(bv, op, true, false, true);
        if (!biasDq) return std::nullopt;
        const ir::Tensor& bq = *constant(biasDq->q);
        if (bq.dims() != Shape{M}) return std::nullopt;
        const std::vector<int32_t> raw = readZeroPoints("", viewOf(bq), "bias");
        bool exact = beta == 1.f && alpha == 1.f;
        for (int64_t m = 0; m < M; ++m) {
          const size_t c = biasDq->scale.size() == 1 ? 0 : static_cast<size_t>(m);
          const float ws = w->scale.size() == 1 ? w->scale[0] : w->scale[static_cast<size_t>(m)];
          exact = exact && biasDq->scale[c] == x->scale[0] * ws && std::abs(raw[static_cast<size_t>(m)]) < (1 << 24);
          bias.push_back(dequantizeValue(raw[static_cast<size_t>(m)], biasDq->zp[c], biasDq->scale[c]));
        }
        // As ONNX Runtime does, add such a bias to the int32 accumulator as it is.
        if (exact) biasInt = raw;
      }
      for (float& b : bias) b *= beta;
    }
    Int8Epilogue out;
    const float yScale = q ? q->scale : 1.f;  // a float output: y = (acc + bias) · xs · ws · alpha
    out.yType = q ? q->type : ir::DataType::kFloat;
    out.yZeroPoint = q ? q->zp : 0;
    const float xs = x->scale[0];
    for (int64_t m = 0; m < M; ++m) {
      const float ws = w->scale.size() == 1 ? w->scale[0] : w->scale[static_cast<size_t>(m)];
      if (w->scale.size() > 1 || m == 0) out.scale.push_back(xs * ws * alpha / yScale);
      if (!biasInt.empty()) out.bias.push_back(static_cast<float>(biasInt[static_cast<size_t>(m)]));
      else if (!bias.empty()) out.bias.push_back(bias[static_cast<size_t>(m)] / (xs * ws * alpha));
    }
    if (act) {
      out.lo = act->lo / yScale;
      out.hi = act->hi / yScale;
    }
    // Weights minus their zero point, per output channel.
    std::vector<int32_t> raw = readZeroPoints("", viewOf(wq), "weight");
    const int64_t total = static_cast<int64_t>(raw.size());
    auto channelOf = [&](int64_t i) -> size_t {
      if (w->zp.size() == 1) return 0;
      if (conv) return static_cast<size_t>(i / (total / M));
      return static_cast<size_t>(transB ? i / wd[1] : i % wd[1]);
    };
    for (int64_t i = 0; i < total; ++i) raw[static_cast<size_t>(i)] -= w->zp[channelOf(i)];

    std::vector<const ir::Node*> nodes;
    for (const auto* d : {&*x, &*w}) if (d->absorb) nodes.push_back(d->node);
    if (biasDq && biasDq->absorb) nodes.push_back(biasDq->node);
    nodes.push_back(op);
    if (act) nodes.push_back(act->node);
    if (qNode) nodes.push_back(qNode);
    const ir::Node* last = nodes.back();
    FusedGroup g = group(op, last, std::move(nodes));
    g.inputs = {x->q};
    const std::optional<Shape> xShape = staticShape(x->q);
    if (conv) {
      KernelBuildContext ctx{*op, opset(*op), threads_, &model_, {}};
      Int8ConvParams p;
      p.attrs = parseConvAttrs(ctx, false);
      p.xType = x->type;
      p.xZeroPoint = x->zp[0];
      p.wDims = wd;
      p.w = std::move(raw);
      p.out = std::move(out);
      pendingConv_[op] = PendingConv{std::move(p), xShape};  // made once layouts are known
    } else {
      Int8MatMulParams p;
      p.aType = x->type;
      p.aZeroPoint = x->zp[0];
      p.K = transB ? wd[1] : wd[0];
      p.N = M;
      if (transB) {  // [N, K] → [K, N]
        p.b.resize(raw.size());
        for (int64_t n = 0; n < p.N; ++n)
          for (int64_t k = 0; k < p.K; ++k) p.b[static_cast<size_t>(k * p.N + n)] = raw[static_cast<size_t>(n * p.K + k)];
      } else {
        p.b = std::move(raw);
      }
      p.out = std::move(out);
      std::optional<int64_t> rows;
      if (xShape && !xShape->empty()) {
        rows = 1;
        for (size_t d = 0; d + 1 < xShape->size(); ++d) *rows *= (*xShape)[d];
      }
      g.kernel = makeQdqMatMulKernel(std::move(p), g.description, gemm, rows, threads_);
    }
    return g;
  }

  // DQ(a) + DQ(b) → [Relu] → Q over equal static shapes.
  std::optional<FusedGroup> matchAdd(const ir::Node* op, const std::optional<Act>& act, const ir::Node* qNode, const Q& q) {
    if (op->numInputs() != 2 || opset(*op) < 7) return std::nullopt;
    if (act && (act->lo != 0.f || !std::isinf(act->hi))) return std::nullopt;
    auto a = matchDq(op->input(0), op, false, true, false);
    auto b = a ? matchDq(op->input(1), op, false, true, false) : std::nullopt;
    if (!b) return std::nullopt;
    auto as = staticShape(a->q), bs = staticShape(b->q);
    if (!as || !bs || *as != *bs) return std::nullopt;
    QdqAddParams p;
    p.aType = a->type;
    p.bType = b->type;
    p.yType = q.type;
    p.aScale = a->scale[0];
    p.bScale = b->scale[0];
    p.yScale = q.scale;
    p.aZeroPoint = a->zp[0];
    p.bZeroPoint = b->zp[0];
    p.yZeroPoint = q.zp;
    p.relu = act.has_value();
    std::vector<const ir::Node*> nodes;
    if (a->absorb) nodes.push_back(a->node);
    if (b->absorb && b->node != a->node) nodes.push_back(b->node);
    nodes.push_back(op);
    if (act) nodes.push_back(act->node);
    nodes.push_back(qNode);
    FusedGroup g = group(op, qNode, std::move(nodes));
    g.inputs = {a->q, b->q};
    pendingAdd_[op] = p;  // made once layouts are known
    return g;
  }

  // DQ(x) → data movement or max → Q with x's own scale and zero point: the op on the integers.
  // Concat: every input a DQ with those parameters.
  std::optional<FusedGroup> matchMove(const ir::Node* op, const ir::Node* qNode, const Q& q) {
    static const char* const kOps[] = {"MaxPool", "Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze", "Concat"};
    if (std::none_of(std::begin(kOps), std::end(kOps), [&](const char* o) { return isOp(op, o); })) return std::nullopt;
    for (size_t i = 1; i < op->numOutputs(); ++i)
      if (op->output(i) && (op->output(i)->hasUses() || op->output(i)->isGraphOutput())) return std::nullopt;
    const size_t quantized = op->opType() == "Concat" ? op->numInputs() : 1;
    if (quantized == 0) return std::nullopt;
    std::vector<Dq> dqs;
    for (size_t i = 0; i < quantized; ++i) {
      auto x = matchDq(op->input(i), op, false, true, false);
      if (!x || x->type != q.type || x->scale[0] != q.scale || x->zp[0] != q.zp) return std::nullopt;
      dqs.push_back(*x);
    }
    const KernelEntry* e = kernelRegistry().find(op->domain(), op->opType(), opset(*op));
    if (!e) return std::nullopt;
    KernelBuildContext ctx{*op, opset(*op), threads_, &model_, {}};
    for (const ir::Value* in : op->inputs()) ctx.constInputs.push_back(constant(in));
    std::unique_ptr<Kernel> kernel;
    try {
      kernel = e->factory(ctx);
    } catch (const Error&) {
      return std::nullopt;  // left to the unfused kernels, which report it
    }
    std::vector<const ir::Node*> nodes;
    for (const Dq& d : dqs)
      if (d.absorb && std::find(nodes.begin(), nodes.end(), d.node) == nodes.end()) nodes.push_back(d.node);
    nodes.push_back(op);
    nodes.push_back(qNode);
    FusedGroup g = group(op, qNode, std::move(nodes));
    g.inputs.assign(op->inputs().begin(), op->inputs().end());
    for (size_t i = 0; i < quantized; ++i) g.inputs[i] = dqs[i].q;
    g.kernel = std::move(kernel);
    return g;
  }

  const ir::Model& model_;
  const ir::Graph& graph_;
  int threads_;
  const ConstantMap& computed_;
  std::unordered_set<const ir::Node*> taken_;
  struct PendingConv {
    Int8ConvParams params;
    std::optional<Shape> xShape;
  };
  std::unordered_map<const ir::Node*, PendingConv> pendingConv_;  // conv groups, by anchor
  std::unordered_map<const ir::Node*, QdqAddParams> pendingAdd_;   // Add groups, by anchor
};

}  // namespace

std::vector<FusedGroup> findQdqGroups(const ir::Model& model, const ir::Graph& graph, int threads,
                                      const ConstantMap& computed) {
  return Matcher(model, graph, threads, computed).run();
}

}  // namespace effdl::runtime
