// Integer convolution, the engine behind QLinearConv, ConvInteger and the fused QDQ Conv:
//   acc[n,m,o] = Σ (x - x_zero_point) · w'        (int32; w' = weights minus their zero point)
//   y = saturate(round_half_to_even(clamp((acc + bias[m]) · scale[m], lo, hi)) + y_zero_point)
// or y = acc for an int32 output (ConvInteger). With constant parameters this runs on a oneDNN
// int8 primitive (u8/s8 activations × s8 weights, s32 accumulation; VNNI where the CPU has it),
// weights reordered once (where oneDNN takes no source zero point, as for depthwise convs, its
// raw int32 sums and a precomputed compensation); otherwise (weights that do not fit s8, shapes
// oneDNN refuses, or a CPU without VNNI whose 16-bit intermediate sums could saturate) a plain
// C++ loop computes the same.
#pragma once

#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "runtime/cpu_int8.h"
#include "runtime/kernels/conv_geometry.h"

namespace effdl::runtime {

struct Int8Epilogue {
  // u8, s8; f32 (no rounding, zero point 0: the real value); s32 (raw accumulators: no scale, bias, clamp)
  ir::DataType yType = ir::DataType::kUint8;
  std::vector<float> scale;                   // one per output channel, or one for all
  std::vector<float> bias;                    // per output channel in accumulator units; empty: none
  int32_t yZeroPoint = 0;
  // Bounds in the scaled domain, before rounding: Relu gives lo = 0, Clip(a, b) gives a/s, b/s.
  float lo = -std::numeric_limits<float>::infinity(), hi = std::numeric_limits<float>::infinity();

  // The output value for one accumulator of channel c (u8/s8/f32 outputs).
  template <typename T>
  T apply(int64_t acc, size_t c) const;
};

struct Int8ConvParams {
  ConvAttrs attrs;
  ir::DataType xType = ir::DataType::kUint8;  // u8 or s8
  int32_t xZeroPoint = 0;
  Shape wDims;             // [M, C/group, k…]
  std::vector<int32_t> w;  // weights minus their zero point, in wDims order
  Int8Epilogue out;
  // Physical layout of x and y (their dims stay N, C, spatial…): channels-last where only fused
  // QDQ groups read and write them (runtime/qdq_fusion.h).
  bool srcChannelsLast = false, dstChannelsLast = false;
};

class Int8Conv {
 public:
  Int8Conv(Int8ConvParams params, std::string describe);
  ~Int8Conv();
  const Int8ConvParams& params() const { return p_; }
  // The output shape for input shape x (an invalid-model error naming the node when they do not fit).
  Shape outputShape(const Shape& x) const;
  // Creates the primitive for this input shape now (session build) instead of at the first run.
  void prepare(const Shape& x);
  // Whether the input shape x runs on oneDNN (tests).
  bool usesDnnl(const Shape& x);
  // y must be allocated with outputShape(x.dims) and p.out.yType.
  void run(const RtTensor& x, RtTensor& y);

 private:
  struct Plan;
  Plan& planFor(const Shape& x);
  void runCompensated(Plan& p, const RtTensor& x, RtTensor& y);
  void runReference(Plan& p, const RtTensor& x, RtTensor& y);
  Int8ConvParams p_;
  std::string describe_;
  bool dnnlWeightsOk_ = false;  // weights fit s8 (and 7 bits without VNNI)
  std::vector<std::unique_ptr<Plan>> plans_;
};

// The plain C++ path (any rank, any parameters): exact.
void referenceInt8Conv(const Int8ConvParams& p, const Geometry& g, const void* x, void* y);

}  // namespace effdl::runtime
