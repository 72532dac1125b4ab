// Constant folding through runtime::evaluateNode (see the header).
#include "passes/cleanup/fold_constants.h"
#include "passes/common/storage_markers.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <set>

#include "analysis/memory.h"
#include "core/checked_math.h"
#include "core/error.h"
#include "runtime/limits.h"
#include "runtime/node_evaluator.h"

namespace effdl::passes {
namespace {

const std::set<std::string>& neverFolded() {
  static const std::set<std::string> ops = {"RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike",
                                            "Multinomial", "Bernoulli", "DequantizeLinear", "Constant"};
  return ops;
}

// Nodes in a graph and its subgraphs, and whether any of them is a Loop or Scan.
struct SubgraphSize {
  int64_t nodes = 0;
  bool loops = false;
};
void measure(const ir::Graph& g, SubgraphSize& s) {
  for (const ir::Node* n : g.nodes()) {
    ++s.nodes;
    s.loops = s.loops || n->opType() == "Loop" || n->opType() == "Scan";
    for (const auto& a : n->attributes()) {
      if (a.g) measure(*a.g, s);
      for (const auto& sg : a.graphs) measure(*sg, s);
    }
  }
}

// Control flow is folded only within a work budget counted in body-node runs, not seconds, so
// the result does not depend on the machine's speed: an If on a constant condition, a Loop
// whose constant trip count times its body's size fits `maxLoopWork`. Nested loops (whose
// trips multiply) and Scan are kept. Returns the decline reason, or "" when it may fold.
std::string controlFlowDecline(const ir::Node& n, int64_t maxLoopWork) {
  for (const ir::Value* v : n.implicitInputs())
    if (!v->isConstant()) return "subgraph reads a non-constant value";
  SubgraphSize size;
  for (const auto& a : n.attributes()) {
    if (a.g) measure(*a.g, size);
    for (const auto& sg : a.graphs) measure(*sg, size);
  }
  if (n.opType() == "If") return size.loops ? "control flow with nested loops kept" : "";
  if (n.opType() != "Loop") return "node with subgraphs kept";
  if (size.loops) return "control flow with nested loops kept";
  const ir::Value* m = n.numInputs() > 0 ? n.input(0) : nullptr;
  if (!m || !m->isConstant() || m->initializer().dtype() != ir::DataType::kInt64 || m->initializer().numel() != 1)
    return "Loop without a constant trip count kept";
  int64_t trips = 0;
  std::memcpy(&trips, m->initializer().data(), sizeof trips);
  auto work = checkedMul(std::max<int64_t>(trips, 0), std::max<int64_t>(size.nodes, 1));
  if (!work || *work > maxLoopWork) return "Loop above the folding work budget kept";
  return "";
}

// A folded result is kept small in absolute terms, and must not blow a few bytes up into many.
bool tooLarge(int64_t outputBytes, int64_t inputBytes, int64_t budget) {
  return outputBytes > budget || (outputBytes > 4096 && outputBytes > 2 * inputBytes);
}

// Lowers the runtime's per-tensor allocation limit while a subgraph runs, so that no tensor in
// a folded Loop or If body can exceed the folding budget. Passes run on one thread.
class ScopedAllocationLimit {
 public:
  explicit ScopedAllocationLimit(int64_t bytes) : saved_(runtime::runtimeMaxTensorBytes()) {
    runtime::setRuntimeMaxTensorBytes(std::min(saved_, bytes));
  }
  ~ScopedAllocationLimit() { runtime::setRuntimeMaxTensorBytes(saved_); }
  ScopedAllocationLimit(const ScopedAllocationLimit&) = delete;
  ScopedAllocationLimit& operator=(const ScopedAllocationLimit&) = delete;

 private:
  int64_t saved_;
};

class FoldConstants : public Pass {
 public:
  FoldConstants(int64_t maxBytes, int64_t maxLoopWork) : maxBytes_(maxBytes), maxLoopWork_(maxLoopWork) {}

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
        std::string why = controlFlowDecline(*n, maxLoopWork_);
        if (!why.empty()) {
          r.decline(why);
          continue;
        }
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
      // Shape inference often leaves a Loop's outputs unknown: control flow is checked after it
      // ran, under an allocation limit of the budget (ScopedAllocationLimit) meanwhile.
      const bool controlFlow = n->hasSubgraphs();
      if (!known && !controlFlow) {
        r.decline("output shape unknown");
        continue;
      }
      if (known && tooLarge(outputBytes, inputBytes, budget)) {
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
        std::optional<ScopedAllocationLimit> limit;
        if (controlFlow) limit.emplace(budget);
        results = runtime::evaluateNode(model, *n);
      } catch (const Error&) {
        r.decline("kernel failed on the constants");
        continue;
      }
      if (controlFlow) {
        int64_t bytes = 0;
        for (const auto& t : results) bytes += static_cast<int64_t>(t.nbytes());
        if (tooLarge(bytes, inputBytes, budget)) {
          r.decline("result too large");
          continue;
        }
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
  int64_t maxLoopWork_;
};

}  // namespace

PassInfo foldConstantsInfo() {
  return PassInfo{"fold-constants",
                  "evaluate nodes whose inputs are all constants with the runtime's kernels",
                  {{"max-bytes", OptionType::kInt, "1048576", "largest folded result, in bytes", {}},
                   {"max-loop-work", OptionType::kInt, "4096",
                    "fold a Loop only when trip count x body nodes is at most this", {}}},
                  [](const PassOptions& o) {
                    return std::make_unique<FoldConstants>(o.getInt("max-bytes"), o.getInt("max-loop-work"));
                  }};
}

}  // namespace effdl::passes
