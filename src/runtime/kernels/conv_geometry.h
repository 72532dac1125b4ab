// Conv/ConvTranspose attributes and output-shape arithmetic, shared by the float kernels
// (conv.cpp) and the integer ones (QLinearConv, ConvInteger, fused QDQ Conv).
#pragma once

#include <string>
#include <vector>

#include "runtime/kernel.h"

namespace effdl::runtime {

enum class AutoPad { kNotSet, kSameUpper, kSameLower, kValid };

// Attributes, parsed once when the session is built.
struct ConvAttrs {
  bool transposed = false;
  AutoPad autoPad = AutoPad::kNotSet;
  int64_t group = 1;
  std::vector<int64_t> kernelShape, strides, dilations, pads, outputPadding, outputShape;
};

// One convolution's shapes, resolved for a concrete input shape.
struct Geometry {
  Shape x, w, y;  // ONNX layouts: x [N,C,D…], w [M,C/g,k…] (Conv) or [C,M/g,k…] (ConvTranspose)
  int64_t group = 1;
  std::vector<int64_t> kernel, strides, dilations;
  // Conv: the padding of x. ConvTranspose: y[o] is the full transposed conv's position o + padBegin;
  // padEnd = full length - padBegin - output length, negative when the output reaches past the data
  // (output_padding, a large output_shape): those positions get only the bias.
  std::vector<int64_t> padBegin, padEnd;
};

// Shape checks and output-shape arithmetic of ONNX's Conv / ConvTranspose. Errors are
// kInvalidModel prefixed with `describe` (the same at build and at run time).
Geometry resolveGeometry(const ConvAttrs& a, const Shape& x, const Shape& w, const std::string& describe);

// The attributes of a Conv-like node (inputs X and W required).
ConvAttrs parseConvAttrs(const KernelBuildContext& ctx, bool transposed);

}  // namespace effdl::runtime
