// Scale and zero-point parameters for the int8 kernels (see quant_common.h).
#include "runtime/kernels/quant_common.h"

#include "core/error.h"

namespace effdl::runtime {

std::vector<int32_t> readZeroPoints(const std::string& describe, const RtTensor& t, const char* what) {
  const int64_t n = t.numel();
  std::vector<int32_t> v(static_cast<size_t>(n));
  switch (t.dtype) {
    case ir::DataType::kUint8:
      for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = t.as<uint8_t>()[i];
      break;
    case ir::DataType::kInt8:
      for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = t.as<int8_t>()[i];
      break;
    case ir::DataType::kInt32:
      for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = t.as<int32_t>()[i];
      break;
    default:
      throwInvalid(describe + ": " + what + " must be uint8, int8 or int32, got " + std::string(ir::dtypeName(t.dtype)));
  }
  return v;
}

std::vector<float> readScales(const std::string& describe, const RtTensor& t, const char* what) {
  if (t.dtype != ir::DataType::kFloat)
    throwInvalid(describe + ": " + what + " must be float32, got " + std::string(ir::dtypeName(t.dtype)));
  std::vector<float> v(t.as<float>(), t.as<float>() + t.numel());
  for (float s : v)
    if (!std::isfinite(s)) throwInvalid(describe + ": " + what + " holds a non-finite value");
  return v;
}

AxisParams resolveAxisParams(const std::string& describe, const Shape& x, const RtTensor& scale, const RtTensor* zp,
                             int64_t axis, bool axisAllowed) {
  AxisParams p;
  if (scale.rank() > 1) throwInvalid(describe + ": scale must be a scalar or 1-D, got shape " + shapeString(scale.dims));
  p.scale = readScales(describe, scale, "scale");
  if (p.scale.empty()) throwInvalid(describe + ": scale is empty");
  if (zp) {
    if (zp->dims != scale.dims)
      throwInvalid(describe + ": zero point shape " + shapeString(zp->dims) + " differs from scale shape " +
                   shapeString(scale.dims));
    p.zeroPoint = readZeroPoints(describe, *zp, "zero point");
    p.zeroPointType = zp->dtype;
  } else {
    p.zeroPoint.assign(p.scale.size(), 0);
  }
  if (p.scale.size() == 1) return p;  // per tensor
  if (!axisAllowed)
    throwInvalid(describe + ": scale has " + std::to_string(p.scale.size()) +
                 " values but this opset allows only a per-tensor scale");
  const int64_t rank = static_cast<int64_t>(x.size());
  if (axis < -rank || axis >= rank)
    throwInvalid(describe + ": axis " + std::to_string(axis) + " is out of range for input shape " + shapeString(x));
  if (axis < 0) axis += rank;
  if (x[static_cast<size_t>(axis)] != static_cast<int64_t>(p.scale.size()))
    throwInvalid(describe + ": per-axis scale has " + std::to_string(p.scale.size()) + " values but axis " +
                 std::to_string(axis) + " of input shape " + shapeString(x) + " has " +
                 std::to_string(x[static_cast<size_t>(axis)]));
  for (size_t d = static_cast<size_t>(axis) + 1; d < x.size(); ++d) p.inner *= x[d];
  return p;
}

}  // namespace effdl::runtime
