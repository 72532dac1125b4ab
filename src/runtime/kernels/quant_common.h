// Quantization arithmetic shared by the int8 kernels (quantize.cpp, qlinear.cpp, the fused QDQ
// kernels): scale/zero-point parameters per tensor or per axis, and ONNX's rounding (half to
// even) and saturation.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "ir/tensor.h"
#include "runtime/rt_tensor.h"
#include "runtime/rt_value.h"

namespace effdl::runtime {

inline bool isInt8Type(ir::DataType t) { return t == ir::DataType::kUint8 || t == ir::DataType::kInt8; }

// saturate(round_half_to_even(v) + zp) into T (u8 or s8). Clamping first (to bounds that are
// integers, so the order does not matter) keeps |v| small enough for the 1.5·2^23 trick, which
// rounds half to even under the default rounding mode with two float additions: the loop then
// vectorises, where std::nearbyint is a libm call on baseline x86-64 (1.2 ms on resnet18's input
// against 0.1 ms). NaN becomes zp (as ONNX Runtime does).
template <typename T>
inline T quantizeRounded(float v, int32_t zp) {
  static_assert(sizeof(T) == 1, "8-bit outputs only");
  const float lo = static_cast<float>(std::numeric_limits<T>::min() - zp);
  const float hi = static_cast<float>(std::numeric_limits<T>::max() - zp);
  float r = v == v ? v : 0.f;
  r = r < lo ? lo : r;
  r = r > hi ? hi : r;
  r = (r + 12582912.f) - 12582912.f;
  return static_cast<T>(static_cast<int32_t>(r) + zp);
}

// Scales and zero points resolved for one input shape: per tensor (one value) or one value per
// index along `axis`. Element i of a row-major tensor uses index (i / inner) % count.
struct AxisParams {
  std::vector<float> scale;
  std::vector<int32_t> zeroPoint;  // same length as scale (zeros when omitted)
  ir::DataType zeroPointType = ir::DataType::kUndefined;  // kUndefined when omitted
  int64_t inner = 1;               // elements per step along the axis (1 for per-tensor)
  size_t count() const { return scale.size(); }
};

// viewOf (a runtime view of a weight, no copy) is in runtime/rt_value.h.

// Reads a u8/s8/s32 tensor as int32 values; `what` names it in errors (prefixed by `describe`).
std::vector<int32_t> readZeroPoints(const std::string& describe, const RtTensor& t, const char* what);
// Reads a float32 scale tensor; a non-finite scale is the model's error (a zero one is allowed:
// DynamicQuantizeLinear produces it for an all-zero input).
std::vector<float> readScales(const std::string& describe, const RtTensor& t, const char* what);

// Scale (and zero point) for data of shape `x`. A scalar or one-element scale is per tensor;
// a 1-D scale is per axis when `axisAllowed`, and its length must equal x[axis] (an
// invalid-model error naming the node otherwise). The zero point must have the scale's shape.
AxisParams resolveAxisParams(const std::string& describe, const Shape& x, const RtTensor& scale, const RtTensor* zp,
                             int64_t axis, bool axisAllowed);

// The float value the pair (scale, zp) maps q to, in float32 as ONNX computes it. q - zp cannot
// overflow: 8-bit q, or int32 q with zero point 0 (DequantizeLinear checks it).
inline float dequantizeValue(int32_t q, int32_t zp, float scale) { return static_cast<float>(q - zp) * scale; }

}  // namespace effdl::runtime
