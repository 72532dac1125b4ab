// Runs a model over the calibration set and hands chosen intermediate values to a callback, one
// sample at a time: how passes gather activation statistics (quantization ranges, Wanda norms,
// reconstruction inputs, token ids reaching an embedding Gather). The values are made graph
// outputs only for the duration of the call; the model is unchanged afterwards.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "eval/sample_set.h"
#include "passes/pass.h"

namespace effdl::passes {

struct TapOptions {
  int threads = 0;  // 0: all cores
  // Called with (0, total) before the first sample and after each one (done, total), e.g. for a
  // progress line.
  std::function<void(size_t, size_t)> progress;
};

// The options a pass runs its taps with: the context's threads, progress reported to
// ctx.progress as `step` (e.g. "quantize calibration").
TapOptions tapOptions(const PassContext& ctx, const std::string& step);

// For each calibration sample, calls `visit(sample index, values)` with one tensor per name of
// `taps`, in that order. A tap may name a graph input, an intermediate value or a graph output
// of the main graph (not of a subgraph); an unknown name is kInternal (a pass bug). The tensors
// are only valid during the call.
void forEachActivation(ir::Model& model, const std::vector<std::string>& taps, const eval::SampleSet& calib,
                       const TapOptions& options,
                       const std::function<void(size_t, const std::vector<const ir::Tensor*>&)>& visit);

}  // namespace effdl::passes
