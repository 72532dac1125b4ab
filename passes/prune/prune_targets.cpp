// Finding the weights pruning may touch; see the header.
#include "passes/prune/prune_targets.h"

#include <algorithm>
#include <iterator>
#include <map>
#include <set>

namespace effdl::passes::prune {
namespace {

bool isDefaultDomain(const std::string& d) { return d.empty() || d == "ai.onnx"; }

// Why `n` cannot be pruned, or "" with `view` filled in.
std::string viewOf(const ir::Node& n, WeightView& view) {
  const ir::Value* w = n.input(1);
  if (!w || !w->isConstant()) return "weight not a constant initializer";
  const ir::Tensor& t = w->initializer();
  if (t.dtype() != ir::DataType::kFloat || t.nbytes() != static_cast<size_t>(t.numel()) * sizeof(float))
    return "weight not float32";
  const auto& d = t.dims();
  if (n.opType() == "Conv") {
    const int64_t groups = n.attrInt("group", 1);
    if (d.size() < 3 || groups < 1 || d[0] % groups != 0) return "unexpected Conv weight shape";
    view.rows = d[0];
    view.kernel = 1;
    for (size_t i = 2; i < d.size(); ++i) view.kernel *= d[i];
    view.cols = d[1] * view.kernel;
    view.groups = groups;
    return "";
  }
  if (d.size() != 2) return n.opType() + " weight not rank 2";
  if (n.opType() == "Gemm") {
    if (n.attrInt("transA", 0) != 0) return "Gemm transA";
    const bool transB = n.attrInt("transB", 0) != 0;
    view.rows = transB ? d[0] : d[1];
    view.cols = transB ? d[1] : d[0];
    view.transposed = !transB;
    return "";
  }
  view.rows = d[1];  // MatMul
  view.cols = d[0];
  view.transposed = true;
  return "";
}

// A node that applies a constant weight matrix or table (rank >= 2) to its data.
bool isWeighted(const ir::Node& n) {
  static const char* kOps[] = {"Conv", "ConvTranspose", "Gemm", "MatMul", "Gather", "MatMulInteger", "ConvInteger",
                               "QLinearConv", "QLinearMatMul", "LSTM", "GRU", "RNN", "Einsum"};
  if (std::find(std::begin(kOps), std::end(kOps), n.opType()) == std::end(kOps)) return false;
  for (const ir::Value* v : n.inputs()) {
    if (!v) continue;
    const ir::Value* src = v;
    // Weights that arrive through DequantizeLinear (QDQ models) still count.
    if (src->producer() && src->producer()->opType() == "DequantizeLinear") src = src->producer()->input(0);
    if (src && src->isConstant() && src->initializer().rank() >= 2) return true;
  }
  return false;
}

// Targets that are first (no weighted node upstream of their data input) or last (no weighted
// node downstream), found by one forward and one backward sweep over the topological order.
std::set<const ir::Node*> inputOutputLayers(ir::Graph& g) {
  const std::vector<ir::Node*> order = g.nodes();
  std::set<const ir::Value*> afterWeighted;  // values computed from a weighted node's output
  std::set<const ir::Node*> out;
  for (ir::Node* n : order) {
    bool above = false;
    for (const ir::Value* v : n->inputs()) above = above || (v && afterWeighted.count(v));
    if (isWeighted(*n) && !above) out.insert(n);
    if (above || isWeighted(*n))
      for (const ir::Value* v : n->outputs())
        if (v) afterWeighted.insert(v);
  }
  std::set<const ir::Node*> feedsWeighted;  // nodes with a weighted node downstream
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    ir::Node* n = *it;
    bool below = false;
    for (const ir::Value* v : n->outputs())
      if (v)
        for (const ir::Use& u : v->uses()) below = below || isWeighted(*u.node) || feedsWeighted.count(u.node);
    if (below) feedsWeighted.insert(n);
    else if (isWeighted(*n)) out.insert(n);
  }
  return out;
}

}  // namespace

std::string layerName(const Target& t) { return t.node->name().empty() ? t.weight->name() : t.node->name(); }

std::vector<Target> findTargets(ir::Graph& g, const TargetFilter& filter, std::map<std::string, int64_t>& declined) {
  std::vector<Target> all;
  for (ir::Node* n : g.nodes()) {
    if (!isDefaultDomain(n->domain())) continue;
    if (std::find(filter.opTypes.begin(), filter.opTypes.end(), n->opType()) == filter.opTypes.end()) continue;
    Target t;
    t.node = n;
    t.weight = n->input(1);
    if (std::string why = viewOf(*n, t.view); !why.empty()) {
      declined[why]++;
      continue;
    }
    if (t.view.rows * t.view.cols < filter.minSize) {
      declined["smaller than min-size"]++;
      continue;
    }
    all.push_back(t);
  }
  auto excluded = [&](const Target& t) {
    const auto& ex = filter.excludeNodes;
    return std::find(ex.begin(), ex.end(), layerName(t)) != ex.end();
  };
  std::set<const ir::Node*> io;
  if (filter.keepFirstLast) io = inputOutputLayers(g);
  std::vector<Target> out;
  for (size_t i = 0; i < all.size(); ++i) {
    const Target& t = all[i];
    if (excluded(t)) {
      declined["excluded by name"]++;
      continue;
    }
    if (io.count(t.node)) {
      declined["first/last layer kept dense"]++;
      continue;
    }
    // A weight shared by several nodes is pruned once, and only when every user is a target
    // that agrees on the layout (else an excluded or different user would see it change).
    bool ok = true;
    for (const ir::Use& u : t.weight->uses()) {
      auto same = [&](const Target& o) { return o.node == u.node; };
      auto it = std::find_if(all.begin(), all.end(), same);
      if (it == all.end() || excluded(*it) || it->view.transposed != t.view.transposed ||
          it->view.rows != t.view.rows || u.index != 1)
        ok = false;
    }
    if (!ok) {
      declined["weight shared with a node that is not pruned alike"]++;
      continue;
    }
    if (std::any_of(out.begin(), out.end(), [&](const Target& o) { return o.weight == t.weight; })) continue;
    out.push_back(t);
  }
  return out;
}

}  // namespace effdl::passes::prune
