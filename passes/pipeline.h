// A pipeline: passes with their options, built from a CLI spec ("cleanup,fold-batchnorm" or
// "prune{sparsity=0.5,scope=global}") or a JSON recipe, validated before any work starts; run
// with per-pass timing and statistics, optionally verifying the model after every pass.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "passes/pass.h"

namespace effdl::passes {

struct PipelineStep {
  const PassInfo* info = nullptr;
  PassOptions options;
};

struct Pipeline {
  std::vector<PipelineStep> steps;
  // The canonical spec string (passes with their explicit options), for logs and reproducers.
  std::string toSpec() const;
};

// Throws kUsage naming the unknown pass/option or the bad value.
Pipeline parsePipelineSpec(const std::string& spec);
// {"schema_version": 1, "passes": [{"name": "fold-batchnorm", "options": {...}}]}
Pipeline parseRecipeJson(const std::string& json, const std::string& display);
Pipeline loadRecipeFile(const std::filesystem::path& path);
// Builds one step, validating option names and values.
PipelineStep makeStep(const std::string& passName, const std::map<std::string, std::string>& options);

// The pipeline `effdl optimize` builds from pass flags (--quantize, --prune, --hash-embeddings and
// their --<flag>-<option> companions): cleanup, fold-batchnorm, the flagged passes in their fixed
// order (PassInfo::fixedOrder: hashing, pruning, quantization), cleanup. `flagged` maps a pass
// name to its options.
// Passes with PassInfo::fixedOrder ≥ kStorageOrder run after the final cleanup.
inline constexpr int kStorageOrder = 10;
Pipeline fixedOrderPipeline(const std::map<std::string, std::map<std::string, std::string>>& flagged);

struct StepReport {
  std::string pass;
  PassResult result;
  double seconds = 0;
  size_t nodesBefore = 0, nodesAfter = 0;
};

struct RunOptions {
  // Checker + shape inference after every pass; a failure names the pass and leaves a reproducer.
  bool verify = false;
  std::filesystem::path reproducerDir = ".";
};

std::vector<StepReport> runPipeline(ir::Model& model, const Pipeline& pipeline, PassContext& ctx,
                                    const RunOptions& options = {});

}  // namespace effdl::passes
