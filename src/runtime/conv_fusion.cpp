// Matching float conv groups and choosing their activations' layout (see conv_fusion.h). Every
// condition is checked before anything is built; a conv that does not match runs node by node.
#include "runtime/conv_fusion.h"

#include <cmath>
#include <limits>
#include <optional>
#include <unordered_map>

#include "runtime/fusion_util.h"
#include "runtime/kernels/conv.h"

namespace effdl::runtime {
namespace {

using fusion::soleReader;

struct Match {
  const ir::Node* conv = nullptr;
  const ir::Node* bn = nullptr;
  const ir::Node* add = nullptr;
  const ir::Node* act = nullptr;
  const ir::Value* residual = nullptr;
  const ir::Value* out = nullptr;  // the group's output
  ConvFusion fusion;
};

class Matcher {
 public:
  Matcher(const ir::Model& model, int threads, const ConstantMap& computed,
          const std::unordered_set<const ir::Node*>& taken)
      : model_(model), threads_(threads), computed_(computed), taken_(taken) {}

  std::optional<Match> match(const ir::Node* conv) const {
    if (!isOp(conv, "Conv") || conv->numInputs() < 2 || conv->numOutputs() != 1) return std::nullopt;
    const ir::Value* x = conv->input(0);
    const ir::Tensor* w = constant(conv->input(1));
    const ir::Tensor* b = conv->numInputs() > 2 && conv->input(2) ? constant(conv->input(2)) : nullptr;
    if (!x || !isFloat4d(x) || !w || w->dtype() != ir::DataType::kFloat || w->dims().size() != 4) return std::nullopt;
    const int64_t M = w->dims()[0];
    if (conv->numInputs() > 2 && conv->input(2) && (!b || !isFloatVector(*b, M))) return std::nullopt;
    Match m;
    m.conv = conv;
    const ir::Value* cur = conv->output(0);
    if (!cur || !isFloat4d(cur)) return std::nullopt;
    if (const ir::Node* n = soleReader(cur); n && foldBatchNorm(*n, *w, b, m.fusion)) {
      m.bn = n;
      cur = n->output(0);
    }
    if (const ir::Node* n = soleReader(cur); n && isOp(n, "Add") && n->numInputs() == 2 && n->output(0)) {
      const ir::Value* other = n->input(0) == cur ? n->input(1) : n->input(0);
      if (other && other != cur && !constant(other) && isFloat4d(other) && isFloat4d(n->output(0)) &&
          sameShape(other, cur) && sameShape(n->output(0), cur)) {
        m.add = n;
        m.residual = other;
        m.fusion.residual = true;
        cur = n->output(0);
      }
    }
    if (const ir::Node* n = soleReader(cur); n && matchClamp(*n, m.fusion)) {
      m.act = n;
      cur = n->output(0);
    }
    m.out = cur;
    return m;
  }

  FusedGroup build(Match& m) const {
    FusedGroup g;
    for (const ir::Node* n : {m.conv, m.bn, m.add, m.act})
      if (n) g.nodes.push_back(n), g.last = n;
    g.anchor = m.conv;
    const bool folded = m.fusion.weights.has_value();
    const ir::Value* wIn = folded ? nullptr : m.conv->input(1);
    const ir::Value* bIn = folded || m.conv->numInputs() < 3 ? nullptr : m.conv->input(2);
    g.inputs = {m.conv->input(0), wIn, bIn, m.residual};
    g.outputs = {m.out};
    KernelBuildContext ctx{*m.conv, opset(*m.conv), threads_, &model_, {}};
    for (size_t i = 0; i < m.conv->numInputs(); ++i) ctx.constInputs.push_back(i == 0 ? nullptr : constant(m.conv->input(i)));
    g.description = ctx.describe();
    std::string with;
    for (const ir::Node* n : {m.bn, m.add, m.act})
      if (n) with += (with.empty() ? "" : " + ") + n->opType();
    if (!with.empty()) g.description.insert(g.description.size() - 1, ", fused with " + with);
    g.kernel = makeFusedConv(ctx, std::move(m.fusion));
    return g;
  }

 private:
  int64_t opset(const ir::Node& n) const { return fusion::opsetOf(model_, n); }
  bool isOp(const ir::Node* n, const char* op) const { return fusion::isDefaultOp(n, op) && !taken_.count(n); }
  const ir::Tensor* constant(const ir::Value* v) const { return fusion::constantOf(v, computed_); }
  static bool isFloat4d(const ir::Value* v) {
    const auto& t = v->type();
    return t.elemType == ir::DataType::kFloat && t.shape && t.shape->size() == 4;
  }
  static bool isFloatVector(const ir::Tensor& t, int64_t n) {
    return t.dtype() == ir::DataType::kFloat && t.dims().size() == 1 && t.dims()[0] == n;
  }
  // Equal declared shapes: every dim known and equal, or the same symbol.
  static bool sameShape(const ir::Value* a, const ir::Value* b) {
    const auto& sa = *a->type().shape;
    const auto& sb = *b->type().shape;
    if (sa.size() != sb.size()) return false;
    for (size_t i = 0; i < sa.size(); ++i) {
      if (sa[i].value && sb[i].value && *sa[i].value == *sb[i].value) continue;
      if (!sa[i].value && !sb[i].value && !sa[i].param.empty() && sa[i].param == sb[i].param) continue;
      return false;
    }
    return true;
  }

  // BatchNormalization in inference mode with constant parameters, folded into W and B:
  // W' = W·a, B' = (B - mean)·a + beta with a = scale / sqrt(var + epsilon), per output channel.
  bool foldBatchNorm(const ir::Node& n, const ir::Tensor& w, const ir::Tensor* b, ConvFusion& f) const {
    if (!isOp(&n, "BatchNormalization") || opset(n) < 7 || n.numInputs() != 5 || !n.output(0)) return false;
    if (n.attrInt("training_mode", 0) != 0 || n.attrInt("spatial", 1) != 1) return false;
    for (size_t o = 1; o < n.numOutputs(); ++o)
      if (n.output(o) && (n.output(o)->hasUses() || n.output(o)->isGraphOutput())) return false;
    const int64_t M = w.dims()[0];
    const ir::Tensor* p[4];
    for (size_t i = 0; i < 4; ++i) {
      p[i] = constant(n.input(i + 1));
      if (!p[i] || !isFloatVector(*p[i], M)) return false;
    }
    const float eps = n.attrFloat("epsilon", 1e-5f);
    const float* scale = reinterpret_cast<const float*>(p[0]->data());
    const float* beta = reinterpret_cast<const float*>(p[1]->data());
    const float* mean = reinterpret_cast<const float*>(p[2]->data());
    const float* var = reinterpret_cast<const float*>(p[3]->data());
    const float* wp = reinterpret_cast<const float*>(w.data());
    const float* bp = b ? reinterpret_cast<const float*>(b->data()) : nullptr;
    const int64_t perChannel = w.numel() / M;
    std::vector<float> w2(static_cast<size_t>(w.numel())), b2(static_cast<size_t>(M));
    for (int64_t m = 0; m < M; ++m) {
      const float a = scale[m] / std::sqrt(var[m] + eps);
      for (int64_t k = 0; k < perChannel; ++k) w2[static_cast<size_t>(m * perChannel + k)] = wp[m * perChannel + k] * a;
      b2[static_cast<size_t>(m)] = ((bp ? bp[m] : 0.f) - mean[m]) * a + beta[m];
    }
    f.weights = ir::Tensor::adopt(ir::DataType::kFloat, w.dims(), std::move(w2));
    f.bias = ir::Tensor::adopt(ir::DataType::kFloat, {M}, std::move(b2));
    return true;
  }

  // Relu, or Clip with constant bounds (lo <= hi), as a clamp.
  bool matchClamp(const ir::Node& n, ConvFusion& f) const {
    float lo = -std::numeric_limits<float>::infinity(), hi = std::numeric_limits<float>::infinity();
    if (isOp(&n, "Relu")) {
      lo = 0.f;
    } else if (!isOp(&n, "Clip")) {
      return false;
    } else if (opset(n) < 11) {
      lo = n.attrFloat("min", -std::numeric_limits<float>::max());
      hi = n.attrFloat("max", std::numeric_limits<float>::max());
    } else {
      for (size_t i = 1; i < 3 && i < n.numInputs(); ++i) {
        if (!n.input(i)) continue;
        const ir::Tensor* t = constant(n.input(i));
        if (!t || t->dtype() != ir::DataType::kFloat || t->numel() != 1) return false;
        (i == 1 ? lo : hi) = reinterpret_cast<const float*>(t->data())[0];
      }
    }
    if (!n.output(0) || !(lo <= hi)) return false;
    f.clamp = true;
    f.lo = lo;
    f.hi = hi;
    return true;
  }

  const ir::Model& model_;
  int threads_;
  const ConstantMap& computed_;
  const std::unordered_set<const ir::Node*>& taken_;
};

}  // namespace

std::vector<FusedGroup> findConvGroups(const ir::Model& model, const ir::Graph& graph, int threads,
                                       const ConstantMap& computed, const std::unordered_set<const ir::Node*>& taken) {
  std::unordered_set<const ir::Node*> used = taken;  // a node joins one group at most
  Matcher matcher(model, threads, computed, used);
  std::vector<Match> matches;
  for (const ir::Node* n : graph.nodes()) {
    auto m = matcher.match(n);
    if (!m) continue;
    for (const ir::Node* g : {m->conv, m->bn, m->add, m->act})
      if (g) used.insert(g);
    matches.push_back(std::move(*m));
  }
  // A value stays channels-last when a group writes it and every reader is a group reading it as
  // its conv input or its residual.
  std::unordered_map<const ir::Node*, const Match*> convOf, addOf;
  for (const Match& m : matches) {
    convOf[m.conv] = &m;
    if (m.add) addOf[m.add] = &m;
  }
  std::unordered_set<const ir::Value*> channelsLast;
  for (const Match& m : matches) {
    const ir::Value* v = m.out;
    if (v->isGraphOutput() || !v->hasUses()) continue;
    bool onlyGroups = true;
    for (const ir::Use& u : v->uses()) {
      auto c = convOf.find(u.node);
      auto a = addOf.find(u.node);
      const bool asInput = c != convOf.end() && u.index == 0;
      const bool asResidual = a != addOf.end() && a->second->residual == v;
      onlyGroups = onlyGroups && u.index != ir::Use::kImplicit && (asInput || asResidual);
    }
    if (onlyGroups) channelsLast.insert(v);
  }
  std::vector<FusedGroup> groups;
  groups.reserve(matches.size());
  for (Match& m : matches) {
    m.fusion.srcChannelsLast = channelsLast.count(m.conv->input(0)) > 0;
    m.fusion.dstChannelsLast = channelsLast.count(m.out) > 0;
    m.fusion.residualChannelsLast = m.residual && channelsLast.count(m.residual) > 0;
    groups.push_back(matcher.build(m));
  }
  return groups;
}

}  // namespace effdl::runtime
