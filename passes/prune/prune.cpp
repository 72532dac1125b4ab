// The prune pass: option parsing, scoring, masks, refit, report; see the header.
#include "passes/prune/prune.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include "core/error.h"
#include "passes/prune/activation_stats.h"
#include "passes/prune/masks.h"
#include "passes/prune/prune_targets.h"
#include "passes/prune/reconstruct.h"
#include "passes/prune/structured_prune.h"

namespace effdl::passes {
namespace {

using prune::Target;

enum class Mode { kUnstructured, kNofM, kChannels };

struct PruneOptions {
  double sparsity = 0.5;
  bool global = false;
  double threshold = 0;
  Mode mode = Mode::kUnstructured;
  int64_t n = 0, m = 0;
  bool wanda = false;
  bool l1 = false;
  bool reconstruct = false;
  int64_t maxGram = 2049;
  prune::TargetFilter filter;
};

PruneOptions parseOptions(const PassOptions& o) {
  PruneOptions p;
  p.sparsity = o.getFloat("sparsity");
  if (!(p.sparsity >= 0 && p.sparsity < 1)) throwUsage("prune: sparsity must be in [0, 1), got " + o.getString("sparsity"));
  p.global = o.getString("scope") == "global";
  p.threshold = o.getFloat("threshold");
  if (!(p.threshold >= 0)) throwUsage("prune: threshold must be >= 0");
  const std::string mode = o.getString("mode");
  if (mode == "unstructured") {
    p.mode = Mode::kUnstructured;
  } else if (mode == "channels") {
    p.mode = Mode::kChannels;
  } else {
    const size_t colon = mode.find(':');
    try {
      if (colon == std::string::npos) throw std::invalid_argument(mode);
      size_t u1 = 0, u2 = 0;
      p.n = std::stoll(mode.substr(0, colon), &u1);
      p.m = std::stoll(mode.substr(colon + 1), &u2);
      if (u1 != colon || u2 != mode.size() - colon - 1) throw std::invalid_argument(mode);
    } catch (const std::exception&) {
      throwUsage("prune: mode must be unstructured, channels or N:M (e.g. 2:4), got '" + mode + "'");
    }
    if (p.n < 1 || p.m < 2 || p.n >= p.m || p.m > 64)
      throwUsage("prune: N:M mode needs 1 <= N < M <= 64, got '" + mode + "'");
    p.mode = Mode::kNofM;
  }
  p.wanda = o.getString("method") == "wanda";
  p.l1 = o.getString("norm") == "l1";
  p.reconstruct = o.getBool("reconstruct");
  p.maxGram = o.getInt("max-gram");
  p.filter.opTypes = o.getList("op-types");
  for (const auto& t : p.filter.opTypes)
    if (t != "Conv" && t != "Gemm" && t != "MatMul") throwUsage("prune: op-types may list Conv, Gemm, MatMul; got '" + t + "'");
  p.filter.minSize = o.getInt("min-size");
  p.filter.excludeNodes = o.getList("exclude-nodes");
  // auto: masks keep the input and output layers dense (few inputs per output, so zeroing half of
  // them costs most: digits conv1 has 9, the text classifier's head feeds the logits directly);
  // channel removal keeps its own rule (no head output can be removed anyway).
  const std::string keep = o.getString("keep-first-last");
  p.filter.keepFirstLast = keep == "true" || (keep == "auto" && p.mode != Mode::kChannels);
  return p;
}

// The layer's bias as one float per output row, if it has one we may refit: Conv B [O] or
// Gemm C with numel N, alpha = beta = 1, float32 constants.
std::optional<std::vector<float>> biasOf(const Target& t) {
  const ir::Value* b = t.node->input(2);
  if (!b || !b->isConstant()) return std::nullopt;
  const ir::Tensor& bt = b->initializer();
  if (bt.dtype() != ir::DataType::kFloat || bt.numel() != t.view.rows ||
      bt.nbytes() != static_cast<size_t>(bt.numel()) * sizeof(float))
    return std::nullopt;
  if (t.node->opType() == "Gemm" && (t.node->attrFloat("alpha", 1) != 1 || t.node->attrFloat("beta", 1) != 1))
    return std::nullopt;
  auto v = bt.values<float>();
  return std::vector<float>(v.begin(), v.end());
}

bool canCreateBias(const Target& t) {
  if (t.node->input(2)) return false;
  if (t.node->opType() == "Conv") return true;
  return t.node->opType() == "Gemm" && t.node->attrFloat("beta", 1) == 1 && t.node->attrFloat("alpha", 1) == 1;
}

class Prune : public Pass {
 public:
  explicit Prune(PruneOptions o) : o_(std::move(o)) {}

  PassResult run(ir::Model& model, PassContext& ctx) override {
    PassResult r;
    if (o_.mode == Mode::kChannels) return prune::pruneChannels(model, o_.sparsity, o_.l1, o_.filter);
    if ((o_.wanda || o_.reconstruct) && !ctx.calib)
      throwUsage(std::string("prune: ") + (o_.wanda ? "method=wanda" : "reconstruct") +
                 " needs calibration data: pass --calib DIR (or --calib random:N)");
    ir::Graph& g = *model.graph;
    std::vector<Target> targets = prune::findTargets(g, o_.filter, r.declined);
    if (o_.mode == Mode::kNofM) {
      std::vector<Target> ok;
      for (const Target& t : targets) {
        if (prune::blockable(t.view, o_.m)) ok.push_back(t);
        else r.decline("input channels not a multiple of M");
      }
      targets = std::move(ok);
    }
    if (targets.empty()) {
      r.notes.push_back("prune: no layer to prune");
      return r;
    }
    r.layerColumns = {"params", "zeros", "sparsity"};
    if (o_.wanda || o_.reconstruct) r.notes.push_back("prune: statistics from " + ctx.calib->describe());
    int64_t zeroed = 0, total = 0;
    if (o_.reconstruct && !o_.global) {
      // Layer by layer, each on the activations of the model pruned so far, so a refit also
      // absorbs the error of the layers before it (as SparseGPT does).
      for (const Target& t : targets) pruneBatch(model, ctx, {t}, r, zeroed, total);
    } else {
      pruneBatch(model, ctx, targets, r, zeroed, total);
    }
    r.count("layers pruned", static_cast<int64_t>(targets.size()));
    r.count("weights", total);
    r.count("weights zero", zeroed);
    r.changed = true;
    return r;
  }

 private:
  // Scores, masks, refits and writes the weights of `targets` (statistics gathered together).
  void pruneBatch(ir::Model& model, PassContext& ctx, const std::vector<Target>& targets, PassResult& r,
                  int64_t& zeroed, int64_t& total) const {
    ir::Graph& g = *model.graph;
    std::vector<prune::LayerStats> stats;
    if (o_.wanda || o_.reconstruct) {
      stats = prune::gatherStats(model, targets, *ctx.calib, ctx, o_.reconstruct, o_.maxGram);
    }

    // Scores, one vector per target.
    std::vector<std::vector<float>> scores(targets.size());
    for (size_t i = 0; i < targets.size(); ++i) {
      const Target& t = targets[i];
      auto w = t.weight->initializer().values<float>();
      auto& s = scores[i];
      s.resize(w.size());
      for (size_t e = 0; e < w.size(); ++e) s[e] = std::fabs(w[e]);
      if (o_.wanda)
        for (int64_t row = 0; row < t.view.rows; ++row)
          for (int64_t c = 0; c < t.view.cols; ++c) {
            const auto e = static_cast<size_t>(t.view.index(row, c));
            s[e] = static_cast<float>(s[e] * std::sqrt(stats[i].sqNorm[static_cast<size_t>(t.view.inputChannel(row, c))]));
          }
    }

    std::vector<std::vector<uint8_t>> keep = masks(targets, scores);

    for (size_t i = 0; i < targets.size(); ++i) {
      const Target& t = targets[i];
      auto w = t.weight->initializer().values<float>();
      std::vector<float> original(w.begin(), w.end()), pruned(original);
      for (size_t e = 0; e < pruned.size(); ++e)
        if (!keep[i][e]) pruned[e] = 0.0f;
      if (o_.reconstruct) refitLayer(g, t, stats[i], original, keep[i], pruned, r);
      int64_t zeros = 0;
      for (float x : pruned) zeros += x == 0.0f;
      g.setInitializer(t.weight, ir::Tensor::fromVector(ir::DataType::kFloat, t.weight->initializer().dims(), pruned));
      const auto n = static_cast<int64_t>(pruned.size());
      r.layers.push_back({prune::layerName(t), {static_cast<double>(n), static_cast<double>(zeros),
                                                 static_cast<double>(zeros) / static_cast<double>(n)}});
      zeroed += zeros;
      total += n;
    }
  }

  std::vector<std::vector<uint8_t>> masks(const std::vector<Target>& targets,
                                          const std::vector<std::vector<float>>& scores) const {
    std::vector<std::vector<uint8_t>> keep(targets.size());
    if (o_.mode == Mode::kNofM) {
      for (size_t i = 0; i < targets.size(); ++i) keep[i] = prune::keepNofM(scores[i], targets[i].view, o_.n, o_.m);
      return keep;
    }
    if (o_.threshold > 0) {
      for (size_t i = 0; i < targets.size(); ++i) {
        keep[i].resize(scores[i].size());
        for (size_t e = 0; e < scores[i].size(); ++e) keep[i][e] = scores[i][e] >= o_.threshold;
      }
      return keep;
    }
    if (o_.global) {
      std::vector<float> all;
      for (const auto& s : scores) all.insert(all.end(), s.begin(), s.end());
      const auto drop = static_cast<int64_t>(std::llround(o_.sparsity * static_cast<double>(all.size())));
      std::vector<uint8_t> k = prune::dropLowest(all, drop);
      size_t off = 0;
      for (size_t i = 0; i < targets.size(); ++i) {
        keep[i].assign(k.begin() + static_cast<std::ptrdiff_t>(off),
                       k.begin() + static_cast<std::ptrdiff_t>(off + scores[i].size()));
        off += scores[i].size();
      }
      return keep;
    }
    for (size_t i = 0; i < targets.size(); ++i) {
      if (o_.wanda) {
        keep[i] = prune::dropLowestPerRow(scores[i], targets[i].view, o_.sparsity);
      } else {
        const auto drop = static_cast<int64_t>(std::llround(o_.sparsity * static_cast<double>(scores[i].size())));
        keep[i] = prune::dropLowest(scores[i], drop);
      }
    }
    return keep;
  }

  void refitLayer(ir::Graph& g, const Target& t, const prune::LayerStats& s, const std::vector<float>& original,
                  const std::vector<uint8_t>& keep, std::vector<float>& pruned, PassResult& r) const {
    if (t.weight->uses().size() != 1) {
      r.decline("reconstruct: weight shared by several nodes");
      return;
    }
    std::optional<std::vector<float>> bias = biasOf(t);
    const bool hadBias = bias.has_value();
    if (!hadBias && t.node->input(2)) {
      r.decline("reconstruct: bias not a float32 [N] constant (or Gemm alpha/beta != 1)");
      if (s.gram.empty()) return;
    }
    prune::RefitKind k = prune::refit(t, s, original, keep, pruned, bias, canCreateBias(t));
    if (k == prune::RefitKind::kNone) {
      r.decline("reconstruct: no Gram matrix and no bias to correct");
      return;
    }
    r.count(k == prune::RefitKind::kLeastSquares ? "layers refit by least squares" : "layers bias-corrected");
    if (!bias) return;
    std::vector<int64_t> dims{t.view.rows};
    if (hadBias) dims = t.node->input(2)->initializer().dims();
    const std::string hint = (hadBias ? t.node->input(2)->name() : t.weight->name() + "_bias") + "_refit";
    ir::Value* b = g.addInitializer(hint, ir::Tensor::fromVector(ir::DataType::kFloat, dims, *bias), true);
    if (t.node->numInputs() < 3) t.node->addInput(b);
    else t.node->setInput(2, b);
  }

  PruneOptions o_;
};

}  // namespace

PassInfo pruneInfo() {
  PassInfo info{
      "prune",
      "zero (or remove) the least important Conv/Gemm/MatMul weights: magnitude or Wanda, unstructured, N:M or channels",
      {
          {"sparsity", OptionType::kFloat, "0.5", "fraction of weights (or channels) to remove, in [0, 1)", {}},
          {"scope", OptionType::kEnum, "layer", "each layer reaches the sparsity, or one global threshold", {"layer", "global"}},
          {"threshold", OptionType::kFloat, "0", "if > 0: zero every weight whose score is below it (overrides sparsity)", {}},
          {"mode", OptionType::kString, "unstructured", "unstructured, channels (structured) or N:M such as 2:4", {}},
          {"method", OptionType::kEnum, "magnitude", "score |w|, or Wanda |w|·‖X‖ (needs --calib)", {"magnitude", "wanda"}},
          {"norm", OptionType::kEnum, "l2", "channel norm for mode=channels", {"l1", "l2"}},
          {"reconstruct", OptionType::kBool, "false", "refit kept weights and bias on calibration data (least squares, else bias correction)", {}},
          {"max-gram", OptionType::kInt, "2049", "largest reduction length + 1 refit by least squares (bigger: bias correction)", {}},
          {"op-types", OptionType::kStringList, "Conv;Gemm;MatMul", "op types whose weights are pruned", {}},
          {"min-size", OptionType::kInt, "0", "weights with fewer elements stay dense", {}},
          {"exclude-nodes", OptionType::kStringList, "", "node names (or weight names of unnamed nodes) left dense", {}},
          {"keep-first-last", OptionType::kEnum, "auto",
           "leave the input layers (no weighted layer before them) and the heads (none after) dense; auto: yes unless mode=channels",
           {"auto", "true", "false"}},
      },
      [](const PassOptions& o) { return std::make_unique<Prune>(parseOptions(o)); }};
  info.cliFlag = "prune";
  info.primaryOption = "sparsity";
  info.fixedOrder = 2;
  return info;
}

}  // namespace effdl::passes
