// Integer matrix product with a constant right-hand side, the engine behind QLinearMatMul and
// MatMulInteger with constant weights and the fused QDQ MatMul/Gemm:
//   acc[m,n] = Σ_k (a[m,k] - a_zero_point) · b'[k,n]     (b' = weights minus their zero point)
//   y[m,n] = the Int8Epilogue of acc for channel n (or acc itself for an int32 output).
// On a oneDNN int8 matmul (weights reordered once) when b' fits s8 (7 bits without VNNI), else
// a plain C++ loop.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "runtime/kernels/int8_conv.h"

namespace effdl::runtime {

struct Int8MatMulParams {
  ir::DataType aType = ir::DataType::kUint8;  // u8 or s8
  int32_t aZeroPoint = 0;
  int64_t K = 0, N = 0;
  std::vector<int32_t> b;  // [K, N], minus the weights' zero point
  Int8Epilogue out;        // per column n (u8, s8, f32 or s32 output)
};

class Int8MatMul {
 public:
  Int8MatMul(Int8MatMulParams params, std::string describe);
  ~Int8MatMul();
  const Int8MatMulParams& params() const { return p_; }
  void prepare(int64_t M);
  bool usesDnnl(int64_t M);
  // a: [M, K] rows of aType; y: [M, N] of out.yType.
  void run(const void* a, int64_t M, void* y);

 private:
  struct Plan;
  Plan& planFor(int64_t M);
  Int8MatMulParams p_;
  std::string describe_;
  bool dnnlWeightsOk_ = false;
  std::vector<std::unique_ptr<Plan>> plans_;
};

void referenceInt8MatMul(const Int8MatMulParams& p, const void* a, int64_t M, void* y);

}  // namespace effdl::runtime
