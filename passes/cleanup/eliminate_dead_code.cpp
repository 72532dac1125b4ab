// Dead node, initializer and (optionally) input elimination; see the header.
#include "passes/cleanup/eliminate_dead_code.h"

namespace effdl::passes {
namespace {

bool isLive(const ir::Value* v) { return v && (v->hasUses() || v->isGraphOutput()); }

void sweep(ir::Graph& g, const EliminateDeadCodeOptions& o, PassResult& r) {
  // Subgraphs first: their captures decide which outer values stay implicitly used.
  for (ir::Node* n : g.nodes()) {
    bool touched = false;
    for (auto& a : n->attributes()) {
      auto clean = [&](ir::Graph& sub) {
        sweep(sub, o, r);
        if (sub.removeUnusedCaptures() > 0) touched = true;
      };
      if (a.g) clean(*a.g);
      for (auto& sg : a.graphs) clean(*sg);
    }
    if (touched) g.refreshImplicitInputs(n);
  }
  // Reverse topological order: erasing a node can make its producers dead in the same sweep.
  auto nodes = g.nodes();
  for (auto it = nodes.rbegin(); it != nodes.rend(); ++it) {
    ir::Node* n = *it;
    bool live = false;
    for (ir::Value* out : n->outputs()) live = live || isLive(out);
    if (!live) {
      g.eraseNode(n);
      r.count("nodes removed");
    }
  }
  for (ir::Value* v : g.initializers()) {
    if (isLive(v)) continue;
    if (v->isGraphInput()) {
      if (!o.removeUnusedInputs) continue;
      g.removeInput(v);
      r.count("inputs removed");
    }
    g.removeInitializer(v);
    r.count("initializers removed");
  }
  for (ir::Value* v : g.sparseInitializers()) {
    if (isLive(v)) continue;
    g.removeInitializer(v);
    r.count("initializers removed");
  }
  if (o.removeUnusedInputs && g.parent() == nullptr) {
    for (ir::Value* v : std::vector<ir::Value*>(g.inputs())) {
      if (isLive(v)) continue;
      g.removeInput(v);
      r.count("inputs removed");
    }
  }
  g.collectGarbage();
}

}  // namespace

PassResult EliminateDeadCode::run(ir::Model& model, PassContext&) {
  PassResult r;
  sweep(*model.graph, options_, r);
  r.changed = !r.counters.empty();
  return r;
}

PassInfo eliminateDeadCodeInfo() {
  return PassInfo{
      "eliminate-dead",
      "remove nodes, initializers (and optionally inputs) that no graph output depends on",
      {{"inputs", OptionType::kBool, "false",
        "also remove graph inputs nothing reads (changes the model's interface)", {}}},
      [](const PassOptions& o) {
        return std::make_unique<EliminateDeadCode>(EliminateDeadCodeOptions{o.getBool("inputs")});
      }};
}

}  // namespace effdl::passes
