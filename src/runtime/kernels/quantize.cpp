// QuantizeLinear, DequantizeLinear (opsets 10 and 13: per tensor, and per axis from 13; u8/s8, and
// int32 input for DequantizeLinear) and DynamicQuantizeLinear, as ONNX specifies them:
//   QuantizeLinear:   y = saturate(round_half_to_even(x / y_scale) + y_zero_point)
//   DequantizeLinear: y = (x - x_zero_point) * x_scale
// computed in float32 (x / scale, not x * (1/scale): the two round differently, and ONNX's
// reference and ONNX Runtime divide). Scale and zero point are read at each run; their lengths
// are checked against the axis (an error naming the node).
#include <algorithm>
#include <cstring>
#include <optional>

#include "runtime/kernel_registry.h"
#include "runtime/kernels/families.h"
#include "runtime/kernels/quant_common.h"

namespace effdl::runtime {
namespace {

const RtTensor& required(const KernelIo& io, size_t i, const char* what) {
  const RtTensor* t = io.input(i);
  if (!t) throwRunError(io, std::string(what) + " is required");
  return *t;
}

// Runs f(first element, count, scale, zero point) over the runs of elements that share parameters.
template <typename F>
void forEachRun(int64_t n, const AxisParams& p, F&& f) {
  if (p.count() == 1) return f(int64_t{0}, n, p.scale[0], p.zeroPoint[0]);
  const int64_t count = static_cast<int64_t>(p.count());
  for (int64_t start = 0; start < n; start += p.inner) {
    const size_t c = static_cast<size_t>((start / p.inner) % count);
    f(start, std::min(p.inner, n - start), p.scale[c], p.zeroPoint[c]);
  }
}

template <typename T>
void quantizeLoop(const float* x, int64_t n, const AxisParams& p, T* y) {
  forEachRun(n, p, [&](int64_t start, int64_t len, float s, int32_t zp) {
    for (int64_t i = start; i < start + len; ++i) y[i] = quantizeRounded<T>(x[i] / s, zp);
  });
}

class QuantizeLinearKernel : public Kernel {
 public:
  QuantizeLinearKernel(int64_t axis, bool axisAllowed) : axis_(axis), axisAllowed_(axisAllowed) {}
  void run(KernelIo& io) override {
    const RtTensor& x = required(io, 0, "input x");
    const RtTensor& scale = required(io, 1, "y_scale");
    const RtTensor* zp = io.numInputs() > 2 ? io.input(2) : nullptr;
    AxisParams p = resolveAxisParams(io.describe(), x.dims, scale, zp, axis_, axisAllowed_);
    const ir::DataType yType = zp ? zp->dtype : ir::DataType::kUint8;
    if (!isInt8Type(yType)) throwRunError(io, "y_zero_point must be uint8 or int8, got " + std::string(ir::dtypeName(yType)));
    std::vector<float> xf;
    const float* xp = nullptr;
    if (x.dtype == ir::DataType::kFloat) {
      xp = x.as<float>();
    } else if (x.dtype == ir::DataType::kInt32) {  // opset 13 also quantizes int32
      xf.assign(x.as<int32_t>(), x.as<int32_t>() + x.numel());
      xp = xf.data();
    } else {
      throwRunError(io, "input x must be float32 or int32, got " + std::string(ir::dtypeName(x.dtype)));
    }
    RtTensor& y = io.allocOutput(0, yType, x.dims);
    if (yType == ir::DataType::kUint8) quantizeLoop(xp, x.numel(), p, y.as<uint8_t>());
    else quantizeLoop(xp, x.numel(), p, y.as<int8_t>());
  }

 private:
  int64_t axis_;
  bool axisAllowed_;
};

template <typename T>
void dequantizeLoop(const T* x, int64_t n, const AxisParams& p, float* y) {
  forEachRun(n, p, [&](int64_t start, int64_t len, float s, int32_t zp) {
    for (int64_t i = start; i < start + len; ++i) y[i] = dequantizeValue(x[i], zp, s);
  });
}

class DequantizeLinearKernel : public Kernel {
 public:
  DequantizeLinearKernel(int64_t axis, bool axisAllowed) : axis_(axis), axisAllowed_(axisAllowed) {}
  void run(KernelIo& io) override {
    const RtTensor& x = required(io, 0, "input x");
    const RtTensor& scale = required(io, 1, "x_scale");
    const RtTensor* zp = io.numInputs() > 2 ? io.input(2) : nullptr;
    AxisParams p = resolveAxisParams(io.describe(), x.dims, scale, zp, axis_, axisAllowed_);
    if (zp && zp->dtype != x.dtype)
      throwRunError(io, "x_zero_point is " + std::string(ir::dtypeName(zp->dtype)) + " but x is " +
                            std::string(ir::dtypeName(x.dtype)));
    if (x.dtype == ir::DataType::kInt32)
      for (int32_t z : p.zeroPoint)
        if (z != 0) throwRunError(io, "an int32 input must have zero point 0, got " + std::to_string(z));
    RtTensor& y = io.allocOutput(0, ir::DataType::kFloat, x.dims);
    switch (x.dtype) {
      case ir::DataType::kUint8: dequantizeLoop(x.as<uint8_t>(), x.numel(), p, y.as<float>()); break;
      case ir::DataType::kInt8: dequantizeLoop(x.as<int8_t>(), x.numel(), p, y.as<float>()); break;
      case ir::DataType::kInt32: dequantizeLoop(x.as<int32_t>(), x.numel(), p, y.as<float>()); break;
      default: throwRunError(io, "input x must be uint8, int8 or int32, got " + std::string(ir::dtypeName(x.dtype)));
    }
  }

 private:
  int64_t axis_;
  bool axisAllowed_;
};

// y_scale = (max(0, max x) - min(0, min x)) / 255, y_zero_point = saturate(round(-min(0, min x) / y_scale)),
// y = saturate(round(x / y_scale) + y_zero_point), all uint8. An all-zero x gives scale 0 and zero
// point 0 (the spec divides by zero there; ONNX Runtime returns the same).
class DynamicQuantizeLinearKernel : public Kernel {
 public:
  void run(KernelIo& io) override {
    const RtTensor& x = required(io, 0, "input x");
    if (x.dtype != ir::DataType::kFloat)
      throwRunError(io, "input x must be float32, got " + std::string(ir::dtypeName(x.dtype)));
    const float* xp = x.as<float>();
    const int64_t n = x.numel();
    float lo = 0.f, hi = 0.f;
    for (int64_t i = 0; i < n; ++i) {
      if (std::isnan(xp[i])) throwRunError(io, "input x holds NaN: no quantization range");
      lo = std::min(lo, xp[i]);
      hi = std::max(hi, xp[i]);
    }
    const float scale = (hi - lo) / 255.f;
    uint8_t zp = 0;
    if (scale > 0.f) zp = quantizeRounded<uint8_t>((0.f - lo) / scale, 0);
    RtTensor& y = io.allocOutput(0, ir::DataType::kUint8, x.dims);
    uint8_t* yp = y.as<uint8_t>();
    if (scale > 0.f)
      for (int64_t i = 0; i < n; ++i) yp[i] = quantizeRounded<uint8_t>(xp[i] / scale, zp);
    else
      std::memset(yp, 0, static_cast<size_t>(n));
    if (io.hasOutput(1)) io.allocOutput(1, ir::DataType::kFloat, {}).as<float>()[0] = scale;
    if (io.hasOutput(2)) io.allocOutput(2, ir::DataType::kUint8, {}).as<uint8_t>()[0] = zp;
  }
};

// Parameters that do not fit the input are the model's error, reported when the session is built
// where the input's shape is known then (weights, static shapes): the same check as at run time.
void checkParamsAtBuild(const KernelBuildContext& ctx, int64_t axis) {
  if (ctx.numInputs() < 2 || !ctx.input(0) || !ctx.constInput(1)) return;
  if (ctx.numInputs() > 2 && ctx.input(2) && !ctx.constInput(2)) return;
  Shape x;
  if (const ir::Tensor* t = ctx.constInput(0)) {
    x = t->dims();
  } else {
    const ir::ValueType& type = ctx.input(0)->type();
    if (!type.shape) return;
    for (const auto& d : *type.shape) {
      if (!d.value) return;
      x.push_back(*d.value);
    }
  }
  const RtTensor scale = viewOf(*ctx.constInput(1));
  std::optional<RtTensor> zp;
  if (ctx.numInputs() > 2 && ctx.input(2)) zp = viewOf(*ctx.constInput(2));
  resolveAxisParams(ctx.describe(), x, scale, zp ? &*zp : nullptr, axis, ctx.opset >= 13);
}

std::unique_ptr<Kernel> makeQuantize(const KernelBuildContext& ctx) {
  checkParamsAtBuild(ctx, ctx.node.attrInt("axis", 1));
  return std::make_unique<QuantizeLinearKernel>(ctx.node.attrInt("axis", 1), ctx.opset >= 13);
}
std::unique_ptr<Kernel> makeDequantize(const KernelBuildContext& ctx) {
  checkParamsAtBuild(ctx, ctx.node.attrInt("axis", 1));
  return std::make_unique<DequantizeLinearKernel>(ctx.node.attrInt("axis", 1), ctx.opset >= 13);
}
std::unique_ptr<Kernel> makeDynamicQuantize(const KernelBuildContext&) {
  return std::make_unique<DynamicQuantizeLinearKernel>();
}

}  // namespace

void registerQuantizeKernels(KernelRegistry& r) {
  // Opset 19 adds float8 types and saturate; 21 blocked quantization: not implemented.
  r.add(KernelEntry{"", "QuantizeLinear", 10, 18, makeQuantize});
  r.add(KernelEntry{"", "DequantizeLinear", 10, 18, makeDequantize});
  r.add(KernelEntry{"", "DynamicQuantizeLinear", 11, 1000, makeDynamicQuantize});
}

}  // namespace effdl::runtime
