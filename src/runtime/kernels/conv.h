// The float Conv kernel with what a session fuses into it (runtime/conv_fusion.h): a folded
// BatchNormalization, a residual Add, a Relu/Clip, and the channels-last layout of activations
// that only fused convs read or write.
#pragma once

#include <limits>
#include <memory>
#include <optional>

#include "ir/tensor.h"
#include "runtime/kernel.h"

namespace effdl::runtime {

struct ConvFusion {
  // BatchNormalization folded in: these replace the node's W and B.
  std::optional<ir::Tensor> weights, bias;
  // y = conv(x) + residual, the residual read as the kernel's input 3 (same shape as y).
  bool residual = false;
  // Then y = min(max(y, lo), hi) (Relu: lo 0, hi +inf; Clip).
  bool clamp = false;
  float lo = -std::numeric_limits<float>::infinity(), hi = std::numeric_limits<float>::infinity();
  // Physical layout of x, y and the residual: channels-last (NHWC) instead of NCHW. Their dims stay
  // the logical NCHW ones; only fused convs read or write such values.
  bool srcChannelsLast = false, dstChannelsLast = false, residualChannelsLast = false;
};

// A Conv node's kernel (float32, 2-D) with `fusion` applied. Inputs at run time: X, W, B as the
// node's (W and B are ignored when fusion carries folded ones), then the residual.
std::unique_ptr<Kernel> makeFusedConv(const KernelBuildContext& ctx, ConvFusion fusion);

}  // namespace effdl::runtime
