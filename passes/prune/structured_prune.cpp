// Structured channel pruning by channel-dependency analysis.
//   Before:  h = Conv(x, W1[O,I,k,k], b1)   r = Relu(h)   y = Conv(r, W2[P,O,k,k])
//   After:   h = Conv(x, W1[S,I,k,k], b1[S]) r = Relu(h)  y = Conv(r, W2[P,S,k,k])   S ⊂ O kept
// A "channel space" is a set of tensors that must keep the same channels: a producer's output
// (Conv group 1, Gemm, MatMul with a constant weight), everything it flows into through
// channel-wise ops (BatchNormalization, activations, pooling, elementwise ops with a constant
// that broadcasts per channel or not at all, depthwise Conv), joined across residual Add/Sub/Mul
// of two spaces (union-find). A space's consumers shrink their input channels: Conv (group 1)
// weight axis 1, Gemm/MatMul reduction rows, and Flatten (or Reshape to [0 or N, -1]) → Gemm/MatMul
// blocks of H·W rows. A Concat on the channel axis read only by such Convs joins spaces (and
// whole tensors) at offsets: each Conv keeps, per input, that input's kept channels shifted by
// its offset. A space that reaches anything else (graph output, another Reshape, an op we do not
// know, an excluded or shared weight, a Concat read by anything but group-1 Convs) is left whole. Channels are scored by the sum over the space's
// producers of the L1/L2 norm of their weight rows (+ bias); the lowest `fraction` are removed.
#include "passes/prune/structured_prune.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <set>

#include "core/error.h"

namespace effdl::passes::prune {
namespace {

bool isDefaultDomain(const std::string& d) { return d.empty() || d == "ai.onnx"; }

const std::set<std::string>& unaryOps() {
  static const std::set<std::string> ops = {"Relu", "LeakyRelu", "Sigmoid", "Tanh", "Clip", "HardSigmoid", "HardSwish",
                                            "Elu", "Selu", "Softplus", "Identity", "Dropout", "MaxPool", "AveragePool",
                                            "GlobalAveragePool", "GlobalMaxPool", "Neg", "Abs", "Exp", "Sqrt", "Erf", "Gelu"};
  return ops;
}
const std::set<std::string>& binaryOps() {
  static const std::set<std::string> ops = {"Add", "Sub", "Mul", "Div", "Max", "Min", "Pow", "PRelu"};
  return ops;
}

// -1 when the rank is unknown.
int64_t rankOf(const ir::Value* v) { return v->type().shape ? static_cast<int64_t>(v->type().shape->size()) : -1; }

std::optional<int64_t> dimOf(const ir::Value* v, int64_t axis) {
  if (axis < 0 || axis >= rankOf(v)) return std::nullopt;
  return (*v->type().shape)[static_cast<size_t>(axis)].value;
}

bool isFloatConst(const ir::Value* v) {
  return v && v->isConstant() && v->initializer().dtype() == ir::DataType::kFloat &&
         v->initializer().nbytes() == static_cast<size_t>(v->initializer().numel()) * sizeof(float);
}

struct ValueInfo {
  int space = -1;
  int64_t axis = 1;   // channel axis of this tensor
  int64_t block = 1;  // after Flatten: channel c is elements [c·block, (c+1)·block) of the axis
};

// One edit, recorded during analysis and applied once the kept channels are known.
struct Edit {
  enum Kind { kProducer, kConsumer, kChannelParam, kDepthwise } kind;
  ir::Node* node;
  int input = 1;      // which input to slice (kChannelParam: the constant)
  int64_t axis = 0;   // tensor axis of that input carrying the channels
  int64_t block = 1;  // consumer rows per channel (Flatten)
};

class Analysis {
 public:
  Analysis(ir::Graph& g, const TargetFilter& f) : g_(g), f_(f) {}

  std::vector<int> parent_;
  std::vector<bool> blocked_;
  std::vector<int64_t> channels_;
  std::map<const ir::Value*, ValueInfo> info_;
  std::vector<std::pair<int, Edit>> edits_;  // space (pre-union id), edit
  std::vector<std::pair<int, ir::Node*>> producers_;
  // A channel-axis Concat: its inputs' spaces (-1: a tensor kept whole) and widths, in order, and
  // the Convs reading it, whose weights' axis 1 keeps each segment's channels at its offset.
  struct ConcatUse {
    ir::Node* concat;
    std::vector<std::pair<int, int64_t>> segments;
    std::vector<ir::Node*> consumers;
  };
  std::vector<ConcatUse> concats_;

  int find(int s) {
    while (parent_[static_cast<size_t>(s)] != s) s = parent_[static_cast<size_t>(s)] = parent_[static_cast<size_t>(parent_[static_cast<size_t>(s)])];
    return s;
  }
  void block(int s) { blocked_[static_cast<size_t>(find(s))] = true; }
  int unite(int a, int b) {
    a = find(a), b = find(b);
    if (a == b) return a;
    parent_[static_cast<size_t>(b)] = a;
    blocked_[static_cast<size_t>(a)] = blocked_[static_cast<size_t>(a)] || blocked_[static_cast<size_t>(b)] ||
                                       channels_[static_cast<size_t>(a)] != channels_[static_cast<size_t>(b)];
    return a;
  }

  void run() {
    for (ir::Node* n : g_.nodes()) visit(n);
    for (const ir::Value* o : g_.outputs()) {
      auto it = info_.find(o);
      if (it != info_.end()) block(it->second.space);
    }
  }

 private:
  int newSpace(int64_t channels) {
    parent_.push_back(static_cast<int>(parent_.size()));
    blocked_.push_back(false);
    channels_.push_back(channels);
    return parent_.back();
  }

  bool excluded(const ir::Node* n) const {
    const auto& ex = f_.excludeNodes;
    const std::string name = n->name().empty() && n->input(1) ? n->input(1)->name() : n->name();
    return std::find(ex.begin(), ex.end(), name) != ex.end();
  }
  bool allowedOp(const ir::Node* n) const {
    return std::find(f_.opTypes.begin(), f_.opTypes.end(), n->opType()) != f_.opTypes.end();
  }

  // Rows of the weight of a producer, or 0 if `n` cannot produce a channel space.
  int64_t producerChannels(const ir::Node* n) const {
    if (!allowedOp(n) || excluded(n) || !isFloatConst(n->input(1)) || n->input(1)->uses().size() != 1) return 0;
    const auto& d = n->input(1)->initializer().dims();
    if (n->input(1)->initializer().numel() < f_.minSize) return 0;
    if (n->opType() == "Conv") return n->attrInt("group", 1) == 1 && d.size() >= 3 ? d[0] : 0;
    if (d.size() != 2) return 0;
    if (n->opType() == "Gemm") {
      if (n->attrInt("transA", 0) != 0) return 0;
      const int64_t c = n->attrInt("transB", 0) ? d[0] : d[1];
      if (n->input(2) && !(isFloatConst(n->input(2)) && n->input(2)->initializer().numel() == c)) return 0;
      return c;
    }
    return n->opType() == "MatMul" ? d[1] : 0;
  }

  void visit(ir::Node* n) {
    // Every input that carries a space: this node must handle it or block it.
    std::vector<int> in;
    for (size_t i = 0; i < n->numInputs(); ++i) {
      auto it = n->input(i) ? info_.find(n->input(i)) : info_.end();
      in.push_back(it == info_.end() ? -1 : static_cast<int>(i));
    }
    const bool any = std::any_of(in.begin(), in.end(), [](int i) { return i >= 0; });
    const std::string& op = n->opType();
    bool handled = !any;
    if (any && isDefaultDomain(n->domain()) && !n->hasSubgraphs()) handled = consume(n, in);
    if (!handled)
      for (int i : in)
        if (i >= 0) block(info_[n->input(static_cast<size_t>(i))].space);
    // A new space at a producer's output.
    if (isDefaultDomain(n->domain()) && n->output(0) && (op == "Conv" || op == "Gemm" || op == "MatMul")) {
      const int64_t c = producerChannels(n);
      if (c > 0 && !(op == "MatMul" && rankOf(n->output(0)) < 2)) {
        const int s = newSpace(c);
        info_[n->output(0)] = ValueInfo{s, op == "MatMul" ? rankOf(n->output(0)) - 1 : 1, 1};
        edits_.push_back({s, Edit{Edit::kProducer, n, 1, 0, 1}});
        producers_.push_back({s, n});
      }
    }
  }

  // Handles a node reading space tensors; false to block them.
  bool consume(ir::Node* n, const std::vector<int>& in) {
    const std::string& op = n->opType();
    auto spaceInput = [&](size_t i) -> const ValueInfo* {
      return i < in.size() && in[i] >= 0 ? &info_[n->input(i)] : nullptr;
    };
    if (op == "Concat") return concat(n, in);
    const ValueInfo* x = spaceInput(0);
    for (size_t i = 1; i < in.size(); ++i)
      if (in[i] >= 0 && !binaryOps().count(op)) return false;  // spaces only as data input
    if (!x && !binaryOps().count(op)) return false;
    if (op == "Conv") {
      if (x->axis != 1 || x->block != 1 || n->input(1) == nullptr || !isFloatConst(n->input(1))) return false;
      const auto& d = n->input(1)->initializer().dims();
      const int64_t group = n->attrInt("group", 1);
      if (group == 1) {
        if (excluded(n) || n->input(1)->uses().size() != 1) return false;
        edits_.push_back({x->space, Edit{Edit::kConsumer, n, 1, 1, 1}});
        return true;
      }
      // Depthwise (one filter per channel) passes the space through.
      if (group == channels_[static_cast<size_t>(find(x->space))] && d[0] == group && d[1] == 1 && !excluded(n) &&
          n->input(1)->uses().size() == 1 && (!n->input(2) || isFloatConst(n->input(2)))) {
        edits_.push_back({x->space, Edit{Edit::kDepthwise, n, 1, 0, 1}});
        info_[n->output(0)] = *x;
        return true;
      }
      return false;
    }
    if (op == "Gemm" || op == "MatMul") {
      if (op == "Gemm" && n->attrInt("transA", 0) != 0) return false;
      if (!isFloatConst(n->input(1)) || excluded(n) || n->input(1)->uses().size() != 1) return false;
      if (x->axis != rankOf(n->input(0)) - 1 || n->input(1)->initializer().rank() != 2) return false;
      const int64_t axis = op == "Gemm" && n->attrInt("transB", 0) ? 1 : 0;
      edits_.push_back({x->space, Edit{Edit::kConsumer, n, 1, axis, x->block}});
      return true;
    }
    if (op == "Flatten" || op == "Reshape") {
      if (x->axis != 1 || x->block != 1) return false;
      if (op == "Flatten" && n->attrInt("axis", 1) != 1) return false;
      // Reshape to [0 or N, -1] flattens as Flatten does; an explicit width would go stale.
      if (op == "Reshape") {
        const ir::Value* sv = n->input(1);
        if (!sv || !sv->isConstant() || sv->initializer().dtype() != ir::DataType::kInt64) return false;
        auto sh = sv->initializer().values<int64_t>();
        if (sh.size() != 2 || sh[1] != -1) return false;
        auto n0 = dimOf(n->input(0), 0);
        const bool keepsBatch = (sh[0] == 0 && n->attrInt("allowzero", 0) == 0) || (n0 && sh[0] == *n0);
        if (!keepsBatch) return false;
      }
      int64_t block = 1;
      for (int64_t a = 2; a < rankOf(n->input(0)); ++a) {
        auto d = dimOf(n->input(0), a);
        if (!d) return false;
        block *= *d;
      }
      // Only straight into Gemm/MatMul, which then slice row blocks.
      for (const ir::Use& u : n->output(0)->uses())
        if (u.node->opType() != "Gemm" && u.node->opType() != "MatMul") return false;
      info_[n->output(0)] = ValueInfo{x->space, 1, block};
      return true;
    }
    if (op == "BatchNormalization" || op == "InstanceNormalization") {
      if (x->axis != 1 || x->block != 1) return false;
      const size_t params = op == "BatchNormalization" ? 5 : 3;
      for (size_t i = 1; i < params; ++i)
        if (!isFloatConst(n->input(i)) || n->input(i)->initializer().rank() != 1) return false;
      for (size_t i = 1; i < n->numOutputs(); ++i)
        if (n->output(i)) return false;
      for (size_t i = 1; i < params; ++i) edits_.push_back({x->space, Edit{Edit::kChannelParam, n, static_cast<int>(i), 0, 1}});
      info_[n->output(0)] = *x;
      return true;
    }
    if (unaryOps().count(op)) {
      if (x->block != 1 || (op != "Dropout" && n->numOutputs() > 1)) return false;
      if (op == "Clip")
        for (size_t i = 1; i < n->numInputs(); ++i)
          if (n->input(i) && n->input(i)->initializer().numel() != 1) return false;
      if (op == "Dropout" && n->output(1) && n->output(1)->hasUses()) return false;
      info_[n->output(0)] = *x;
      return true;
    }
    if (binaryOps().count(op) && n->numInputs() == 2) {
      const ValueInfo* a = spaceInput(0);
      const ValueInfo* b = spaceInput(1);
      const ir::Value* out = n->output(0);
      if (a && b) {  // residual: both sides keep the same channels
        if (a->axis != b->axis || a->block != 1 || b->block != 1 || rankOf(n->input(0)) != rankOf(n->input(1)))
          return false;
        info_[out] = ValueInfo{unite(a->space, b->space), a->axis, 1};
        return true;
      }
      const ValueInfo* s = a ? a : b;
      const size_t ci = a ? 1 : 0;
      const ir::Value* c = n->input(ci);
      if (!c || !c->isConstant() || s->block != 1) return false;
      const int64_t cAxis = s->axis - (rankOf(n->input(a ? 0 : 1)) - c->initializer().rank());
      const int64_t C = channels_[static_cast<size_t>(find(s->space))];
      if (cAxis >= 0 && cAxis < c->initializer().rank()) {
        const int64_t d = c->initializer().dims()[static_cast<size_t>(cAxis)];
        if (d == C) {
          if (!isFloatConst(c)) return false;
          edits_.push_back({s->space, Edit{Edit::kChannelParam, n, static_cast<int>(ci), cAxis, 1}});
        } else if (d != 1) {
          return false;
        }
      }
      if (rankOf(out) != rankOf(n->input(a ? 0 : 1))) return false;  // broadcast grew the rank
      info_[out] = *s;
      return true;
    }
    return false;
  }

  bool concat(ir::Node* n, const std::vector<int>& in) {
    const ir::Value* out = n->output(0);
    const int64_t rank = rankOf(out);
    const int64_t axis = n->attrInt("axis", 0);
    if (rank < 2 || out->isGraphOutput() || (axis < 0 ? axis + rank : axis) != 1) return false;
    ConcatUse c{n, {}, {}};
    for (size_t i = 0; i < n->numInputs(); ++i) {
      auto w = n->input(i) ? dimOf(n->input(i), 1) : std::nullopt;
      if (!w) return false;
      int space = -1;
      if (in[i] >= 0) {
        const ValueInfo& v = info_[n->input(i)];
        if (v.axis != 1 || v.block != 1) return false;
        space = v.space;
      }
      c.segments.push_back({space, *w});
    }
    for (const ir::Use& u : out->uses()) {
      ir::Node* k = u.node;
      if (k->opType() != "Conv" || u.index != 0 || k->attrInt("group", 1) != 1 || excluded(k) || !isFloatConst(k->input(1)) ||
          k->input(1)->uses().size() != 1)
        return false;
      if (std::find(c.consumers.begin(), c.consumers.end(), k) == c.consumers.end()) c.consumers.push_back(k);
    }
    concats_.push_back(std::move(c));
    return true;
  }

  ir::Graph& g_;
  const TargetFilter& f_;
};

// Keeps `keep` (sorted) indices along `axis` of t, in blocks of `block`.
ir::Tensor sliceAxis(const ir::Tensor& t, int64_t axis, const std::vector<int64_t>& keep, int64_t block) {
  const auto& d = t.dims();
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < axis; ++i) outer *= d[static_cast<size_t>(i)];
  for (size_t i = static_cast<size_t>(axis) + 1; i < d.size(); ++i) inner *= d[i];
  const int64_t n = d[static_cast<size_t>(axis)];
  auto v = t.values<float>();
  std::vector<float> out;
  out.reserve(static_cast<size_t>(outer * static_cast<int64_t>(keep.size()) * block * inner));
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t k : keep)
      for (int64_t b = 0; b < block; ++b) {
        const float* p = v.data() + (o * n + k * block + b) * inner;
        out.insert(out.end(), p, p + inner);
      }
  std::vector<int64_t> nd = d;
  nd[static_cast<size_t>(axis)] = static_cast<int64_t>(keep.size()) * block;
  return ir::Tensor::fromVector(ir::DataType::kFloat, nd, out);
}

}  // namespace

PassResult pruneChannels(ir::Model& model, double fraction, bool l1, const TargetFilter& filter) {
  PassResult r;
  ir::Graph& g = *model.graph;
  Analysis a(g, filter);
  a.run();
  if (filter.keepFirstLast && !a.producers_.empty()) {
    a.block(a.producers_.front().first);
    a.block(a.producers_.back().first);
  }
  // Kept channels per space root.
  std::map<int, std::vector<int64_t>> kept;
  std::map<int, std::vector<double>> score;
  for (auto& [s, n] : a.producers_) {
    const int root = a.find(s);
    if (a.blocked_[static_cast<size_t>(root)]) continue;
    const ir::Tensor& w = n->input(1)->initializer();
    const int64_t c = a.channels_[static_cast<size_t>(root)];
    auto& sc = score[root];
    sc.resize(static_cast<size_t>(c), 0.0);
    const bool rowsFirst = n->opType() == "Conv" || (n->opType() == "Gemm" && n->attrInt("transB", 0));
    const int64_t per = w.numel() / c;
    auto v = w.values<float>();
    for (int64_t e = 0; e < w.numel(); ++e) {
      const int64_t ch = rowsFirst ? e / per : e % c;
      const double x = v[static_cast<size_t>(e)];
      sc[static_cast<size_t>(ch)] += l1 ? std::fabs(x) : x * x;
    }
  }
  int64_t removedChannels = 0;
  for (auto& entry : score) {
    // Named references, not structured bindings: clang 14 cannot capture those in a lambda.
    const auto& root = entry.first;
    auto& sc = entry.second;
    const auto c = static_cast<int64_t>(sc.size());
    const int64_t drop = std::min<int64_t>(c - 1, std::llround(fraction * static_cast<double>(c)));
    std::vector<int64_t> idx(static_cast<size_t>(c));
    std::iota(idx.begin(), idx.end(), 0);
    std::stable_sort(idx.begin(), idx.end(), [&](int64_t x, int64_t y) { return sc[static_cast<size_t>(x)] < sc[static_cast<size_t>(y)]; });
    std::vector<int64_t> keep(idx.begin() + drop, idx.end());
    std::sort(keep.begin(), keep.end());
    kept[root] = std::move(keep);
    removedChannels += drop;
  }
  int64_t spacesBlocked = 0;
  for (size_t s = 0; s < a.parent_.size(); ++s)
    if (a.find(static_cast<int>(s)) == static_cast<int>(s) && a.blocked_[s]) ++spacesBlocked;
  if (spacesBlocked) r.decline("channel groups left whole (reach an output, an unknown op or an excluded layer)", spacesBlocked);
  if (kept.empty()) {
    r.notes.push_back("prune: no channel group to prune");
    return r;
  }
  // Apply the edits: new initializers (the old ones may be shared; eliminate-dead removes them).
  auto replace = [&](ir::Node* n, size_t input, ir::Tensor t) {
    ir::Value* nv = g.addInitializer(n->input(input)->name() + "_pruned", std::move(t), true);
    n->setInput(input, nv);
  };
  std::map<ir::Node*, int64_t> producerRows;
  for (auto& [s, e] : a.edits_) {
    auto it = kept.find(a.find(s));
    if (it == kept.end()) continue;
    const auto& keep = it->second;
    ir::Node* n = e.node;
    switch (e.kind) {
      case Edit::kProducer: {
        const bool rowsFirst = n->opType() == "Conv" || (n->opType() == "Gemm" && n->attrInt("transB", 0));
        const ir::Tensor& w = n->input(1)->initializer();
        replace(n, 1, sliceAxis(w, rowsFirst ? 0 : 1, keep, 1));
        if (n->input(2) && isFloatConst(n->input(2))) {
          const ir::Tensor& b = n->input(2)->initializer();
          if (b.numel() == a.channels_[static_cast<size_t>(a.find(s))]) replace(n, 2, sliceAxis(b, b.rank() - 1, keep, 1));
        }
        r.count("layers pruned");
        break;
      }
      case Edit::kConsumer:
        replace(n, 1, sliceAxis(n->input(1)->initializer(), e.axis, keep, e.block));
        break;
      case Edit::kChannelParam:
        replace(n, static_cast<size_t>(e.input), sliceAxis(n->input(static_cast<size_t>(e.input))->initializer(), e.axis, keep, 1));
        break;
      case Edit::kDepthwise:
        replace(n, 1, sliceAxis(n->input(1)->initializer(), 0, keep, 1));
        if (n->input(2)) replace(n, 2, sliceAxis(n->input(2)->initializer(), 0, keep, 1));
        n->setAttr(ir::Attribute::makeInt("group", static_cast<int64_t>(keep.size())));
        break;
    }
  }
  // Convs reading a channel Concat: each segment keeps its space's channels at its offset.
  for (const auto& c : a.concats_) {
    std::vector<int64_t> keep;
    int64_t offset = 0;
    for (const auto& [space, width] : c.segments) {
      auto it = space >= 0 ? kept.find(a.find(space)) : kept.end();
      if (it != kept.end())
        for (int64_t k : it->second) keep.push_back(offset + k);
      else
        for (int64_t k = 0; k < width; ++k) keep.push_back(offset + k);
      offset += width;
    }
    if (static_cast<int64_t>(keep.size()) == offset) continue;
    for (ir::Node* k : c.consumers) replace(k, 1, sliceAxis(k->input(1)->initializer(), 1, keep, 1));
    ir::ValueType t = c.concat->output(0)->type();
    if (t.shape) (*t.shape)[1] = ir::Dim::known(static_cast<int64_t>(keep.size()));
    c.concat->output(0)->setType(t);
    r.count("concat consumers re-indexed", static_cast<int64_t>(c.consumers.size()));
  }
  // Shapes of the tensors in pruned spaces.
  for (auto& [v, info] : a.info_) {
    auto it = kept.find(a.find(info.space));
    if (it == kept.end()) continue;
    ir::ValueType t = v->type();
    if (t.shape && info.axis < static_cast<int64_t>(t.shape->size()))
      (*t.shape)[static_cast<size_t>(info.axis)] = ir::Dim::known(static_cast<int64_t>(it->second.size()) * info.block);
    const_cast<ir::Value*>(v)->setType(t);
  }
  r.layerColumns = {"channels", "kept"};
  for (auto& [root, keep] : kept)
    r.layers.push_back({"group " + std::to_string(r.layers.size()),
                        {static_cast<double>(a.channels_[static_cast<size_t>(root)]), static_cast<double>(keep.size())}});
  r.count("channel groups pruned", static_cast<int64_t>(kept.size()));
  r.count("channels removed", removedChannels);
  r.changed = true;
  return r;
}

}  // namespace effdl::passes::prune
