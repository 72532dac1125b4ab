// Statistics of each pruned layer's input over the calibration samples, gathered in one run of
// effdl's runtime (passes/common/activation_tap.h), streaming: memory does not grow with samples.
//   sqNorm[c]  = Σ x_c²  over every sample and position (Wanda's ‖X_c‖²)
//   mean[c]    = mean of x_c (bias correction)
//   gram       = Σ z zᵀ with z = [patch; 1], the layer's im2col column plus a constant 1
//                (least-squares reconstruction of weights and bias), when cols+1 ≤ maxGramDim
#pragma once

#include <cstdint>
#include <vector>

#include "eval/sample_set.h"
#include "passes/pass.h"
#include "passes/prune/prune_targets.h"

namespace effdl::passes::prune {

struct LayerStats {
  std::vector<double> sqNorm;  // per input channel of the node's data input
  std::vector<double> mean;
  std::vector<double> gram;  // (cols+1)², row-major; empty when not gathered
  int64_t gramDim = 0;
  int64_t positions = 0;  // rows of the im2col matrix seen (samples × spatial positions)
};

// One LayerStats per target. `wantGram` asks for Gram matrices where the layer allows
// (Gemm/MatMul; 2-D Conv with group 1 and explicit pads) and cols+1 ≤ maxGramDim.
std::vector<LayerStats> gatherStats(ir::Model& model, const std::vector<Target>& targets,
                                    const eval::SampleSet& calib, PassContext& ctx, bool wantGram,
                                    int64_t maxGramDim);

}  // namespace effdl::passes::prune
