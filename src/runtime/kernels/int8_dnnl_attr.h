// The oneDNN attributes shared by the int8 conv and matmul engines: output scales, the clamp and
// the destination zero point as post-ops, the source zero point.
#pragma once

#include <oneapi/dnnl/dnnl.hpp>

#include "runtime/kernels/int8_conv.h"

namespace effdl::runtime {

// `scaleMask`: oneDNN's output-scale mask for a per-channel scale (ignored for one scale).
dnnl::primitive_attr int8PrimitiveAttr(const Int8Epilogue& out, int scaleMask, int32_t srcZeroPoint);

}  // namespace effdl::runtime
