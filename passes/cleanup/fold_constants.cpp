// Constant folding through runtime::evaluateNode (see the header).
#include "passes/cleanup/fold_constants.h"
#include "passes/common/storage_markers.h"

#include <set>

#include "analysis/memory.h"
#include "core/error.h"
#include "runtime/node_evaluator.h"

namespace effdl::passes {
namespace {

const std::set<std::string>& neverFolded() {
  static const std::set<std::string> ops = {"RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike",
                                            "Multinomial", "Bernoulli", "DequantizeLinear", "Constant"};
  return ops;
}

class FoldConstants : public Pass {
 public:
  explicit FoldConstants(int64_t maxBytes) : maxBytes_(maxBytes) {}

  PassResult run(ir::Model& model, PassContext& ctx) override {
    PassResult r;
    int64_t budget = maxBytes_;
    if (ctx.limits.maxTensorBytes > 0 && static_cast<int64_t>(ctx.limits.maxTensorBytes) < budget)
      budget = static_cast<int64_t>(ctx.limits.maxTensorBytes);
    foldGraph(model, *model.graph, budget, r);
    r.changed = r.counter("nodes folded") > 0;
    return r;
  }

 private:
  void foldGraph(ir::Model& model, ir::Graph& g, int64_t budget, PassResult& r) {
    for (ir::Node* n : g.nodes()) {
      for (auto& a : n->attributes()) {
        if (a.g) foldGraph(model, *a.g, budget, r);
        for (auto& sg : a.graphs) foldGraph(model, *sg, budget, r);
      }
      if (n->numInputs() == 0) continue;
      bool allConstant = true;
      int64_t inputBytes = 0;
      for (const ir::Value* in : n->inputs()) {
        if (!in) continue;
        if (!in->isConstant()) {
          allConstant = false;
          break;
        }
        inputBytes += static_cast<int64_t>(in->initializer().nbytes());
      }
      if (!allConstant) continue;
      if (!n->domain().empty() && n->domain() != "ai.onnx") {
        r.decline("op of another domain");
        continue;
      }
      if (neverFolded().count(n->opType())) continue;
      if (n->docString() == kSparseDecodeDoc) {
        r.decline("sparse weight decode kept");
        continue;
      }
      if (n->hasSubgraphs()) {
        r.decline("node with subgraphs kept");
        continue;
      }
      if (!runtime::hasKernel(model, *n)) {
        r.decline("no kernel for " + n->opType());
        continue;
      }
      int64_t outputBytes = 0;
      bool known = true;
      for (const ir::Value* out : n->outputs()) {
        if (!out) continue;
        auto b = analysis::staticBytes(out->type());
        if (!b) known = false;
        else outputBytes += *b;
      }
      if (!known) {
        r.decline("output shape unknown");
        continue;
      }
      if (outputBytes > budget || (outputBytes > 4096 && outputBytes > 2 * inputBytes)) {
        r.decline("result too large");
        continue;
      }
      bool graphOutput = false;
      for (const ir::Value* out : n->outputs()) graphOutput = graphOutput || (out && out->isGraphOutput());
      if (graphOutput) {
        r.decline("output is a graph output");
        continue;
      }
      std::vector<ir::Tensor> results;
      try {
        results = runtime::evaluateNode(model, *n);
      } catch (const Error&) {
        r.decline("kernel failed on the constants");
        continue;
      }
      for (size_t i = 0; i < n->numOutputs(); ++i) {
        ir::Value* out = n->output(i);
        if (!out) continue;
        ir::Value* c = g.addInitializer(out->name() + "_folded", std::move(results[i]), /*fresh=*/true);
        g.replaceAllUsesWith(out, c);
      }
      g.eraseNode(n);
      r.count("nodes folded");
    }
    g.collectGarbage();
  }

  int64_t maxBytes_;
};

}  // namespace

PassInfo foldConstantsInfo() {
  return PassInfo{"fold-constants",
                  "evaluate nodes whose inputs are all constants with the runtime's kernels",
                  {{"max-bytes", OptionType::kInt, "1048576", "largest folded result, in bytes", {}}},
                  [](const PassOptions& o) { return std::make_unique<FoldConstants>(o.getInt("max-bytes")); }};
}

}  // namespace effdl::passes
