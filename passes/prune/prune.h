// Post-training pruning of Conv / Gemm / MatMul weights (issue 7).
//   unstructured: zero the lowest-scoring weights, per layer (each layer reaches `sparsity`) or
//                 with one global threshold (scope=global), or every |score| < threshold;
//   N:M:          in every block of M consecutive input channels (per output, per kernel
//                 position) keep the N highest scores — the reduction axis, as sparse kernels want;
//   channels:     structured; see structured_prune.h.
// Scores: magnitude |w|, or Wanda |w|·‖X_c‖ with ‖X_c‖ the calibration norm of input channel c
// (method=wanda needs --calib; weights then compete within their output row, as in Wanda).
// reconstruct=true refits the kept weights and bias by least squares on the calibration inputs
// (reconstruct.h). Pruned weights are exact zeros in float32, which symmetric int8 quantization
// keeps zero; sparse-storage (fixedOrder 10) encodes them compactly after the final cleanup.
#pragma once

#include "passes/pass.h"

namespace effdl::passes {

PassInfo pruneInfo();

}  // namespace effdl::passes
