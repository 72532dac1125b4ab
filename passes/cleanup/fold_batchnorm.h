// Folds an inference-time BatchNormalization into the Conv, ConvTranspose or Gemm that feeds it.
//   Before:  y = Conv(x, W, b)                 z = BatchNormalization <epsilon = e> (y, scale, beta, mean, var)
//   After:   z = Conv(x, W', b')
//   s[o] = scale[o] / sqrt(var[o] + e)
//   Conv:           W  [O, I/group, k...]      W'[o, ...] = W[o, ...] * s[o]
//   ConvTranspose:  W  [I, O/group, k...]      W'[i, j, ...] = W[i, j, ...] * s[g * (O/group) + j],
//                                              g = i / (I/group), the group of input channel i
//   Gemm:           y = A·B + C, B [K, N] (transB = 0) or [N, K] (transB = 1): column n of A·B is
//                                              scaled by s[n]; alpha = beta = 1; C absent, [N] or [1, N]
//   b'[o] = (b[o] - mean[o]) * s[o] + beta[o]          (b = 0 when absent)
// Applies when: BN is in inference form (training_mode = 0; opset < 7: is_test = 1; opset 7–13:
// no optional outputs), spatial (opset < 9), y has no other user and is not a graph output, and
// scale, beta, mean, var, W (and b) are float32 constant initializers with matching channel
// counts. Computed in double, stored as float32 in NEW initializers (the old ones may be shared;
// eliminate-dead removes them once unused). z keeps its name, even as a graph output.
#pragma once

#include "passes/pass.h"

namespace effdl::passes {

class FoldBatchnorm : public Pass {
 public:
  PassResult run(ir::Model& model, PassContext& ctx) override;
};

PassInfo foldBatchnormInfo();

}  // namespace effdl::passes
