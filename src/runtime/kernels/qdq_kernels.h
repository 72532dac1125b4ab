// Kernels that run a matched QDQ group (runtime/qdq_fusion.h) as one integer operation:
//   conv:    DequantizeLinear(x_q), DequantizeLinear(w_q) → Conv → [Relu|Clip] → QuantizeLinear
//   matmul:  the same around MatMul / Gemm with a constant 2-D weight
//   add:     DequantizeLinear(a_q) + DequantizeLinear(b_q) → [Relu] → QuantizeLinear
// Their single run-time input is the quantized activation (two for add); weights, scales and
// zero points were baked when the session was built.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "runtime/kernel.h"
#include "runtime/kernels/int8_conv.h"
#include "runtime/kernels/int8_matmul.h"

namespace effdl::runtime {

// knownX: x_q's shape when the model fixes it (the primitive is then made now).
std::unique_ptr<Kernel> makeQdqConvKernel(Int8ConvParams params, const std::string& describe,
                                          const std::optional<Shape>& knownX, int threads);
// gemm: A must be 2-D (Gemm); otherwise A's leading dims are rows (MatMul with a 2-D weight).
std::unique_ptr<Kernel> makeQdqMatMulKernel(Int8MatMulParams params, const std::string& describe, bool gemm,
                                            std::optional<int64_t> knownRows, int threads);

// y = saturate(round(clamp(((a - za)·sa + (b - zb)·sb) / sy, lo, hi)) + zy), the same float
// operations as the unfused DequantizeLinear, Add, Relu, QuantizeLinear (so the same result).
struct QdqAddParams {
  ir::DataType aType = ir::DataType::kUint8, bType = ir::DataType::kUint8, yType = ir::DataType::kUint8;
  float aScale = 1.f, bScale = 1.f, yScale = 1.f;
  int32_t aZeroPoint = 0, bZeroPoint = 0, yZeroPoint = 0;
  bool relu = false;
  // Layouts (runtime/qdq_fusion.h): an input whose layout differs from y's is converted first.
  bool aChannelsLast = false, bChannelsLast = false, yChannelsLast = false;
};
std::unique_ptr<Kernel> makeQdqAddKernel(const QdqAddParams& params);

}  // namespace effdl::runtime
