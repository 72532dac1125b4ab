// The fused QDQ kernels (see qdq_kernels.h).
#include "runtime/kernels/qdq_kernels.h"

#include <algorithm>

#include "runtime/dnnl_context.h"
#include "runtime/kernels/quant_common.h"

namespace effdl::runtime {
namespace {

class QdqConvKernel : public Kernel {
 public:
  QdqConvKernel(Int8ConvParams p, const std::string& describe) : conv_(std::move(p), describe) {}
  Int8Conv& conv() { return conv_; }
  void run(KernelIo& io) override {
    const RtTensor* x = io.input(0);
    if (!x) throwRunError(io, "input x is required");
    if (x->dtype != conv_.params().xType)
      throwRunError(io, "quantized input is " + std::string(ir::dtypeName(x->dtype)) + ", expected " +
                            std::string(ir::dtypeName(conv_.params().xType)));
    RtTensor& y = io.allocOutput(0, conv_.params().out.yType, conv_.outputShape(x->dims));
    conv_.run(*x, y);
  }

 private:
  Int8Conv conv_;
};

class QdqMatMulKernel : public Kernel {
 public:
  QdqMatMulKernel(Int8MatMulParams p, const std::string& describe, bool gemm) : mm_(std::move(p), describe), gemm_(gemm) {}
  Int8MatMul& matmul() { return mm_; }
  void run(KernelIo& io) override {
    const RtTensor* a = io.input(0);
    if (!a) throwRunError(io, "input A is required");
    const auto& p = mm_.params();
    if (a->dtype != p.aType)
      throwRunError(io, "quantized input is " + std::string(ir::dtypeName(a->dtype)) + ", expected " +
                            std::string(ir::dtypeName(p.aType)));
    if (a->rank() < (gemm_ ? 2u : 1u) || (gemm_ && a->rank() != 2) || a->dims.back() != p.K)
      throwRunError(io, "input shape " + shapeString(a->dims) + " does not fit the weight's " + std::to_string(p.K) +
                            " rows");
    Shape yDims = a->dims;
    yDims.back() = p.N;
    int64_t rows = 1;
    for (size_t d = 0; d + 1 < a->rank(); ++d) rows *= a->dims[d];
    RtTensor& y = io.allocOutput(0, p.out.yType, yDims);
    mm_.run(a->data, rows, y.data);
  }

 private:
  Int8MatMul mm_;
  bool gemm_;
};

class QdqAddKernel : public Kernel {
 public:
  explicit QdqAddKernel(const QdqAddParams& p) : p_(p) {}
  void run(KernelIo& io) override {
    const RtTensor* a = io.input(0);
    const RtTensor* b = io.input(1);
    if (!a || !b) throwRunError(io, "inputs A and B are required");
    if (a->dtype != p_.aType || b->dtype != p_.bType)
      throwRunError(io, "quantized inputs are " + std::string(ir::dtypeName(a->dtype)) + " and " +
                            std::string(ir::dtypeName(b->dtype)) + ", not the types the model declares");
    if (a->dims != b->dims)
      throwRunError(io, "input shapes " + shapeString(a->dims) + " and " + shapeString(b->dims) + " differ");
    // Inputs in the other layout are read from a converted copy (so y may still share a's buffer).
    RtTensor ac = *a, bc = *b;
    if (p_.aChannelsLast != p_.yChannelsLast) ac.data = dnnlRelayoutToScratch(*a, p_.aChannelsLast, 0);
    if (p_.bChannelsLast != p_.yChannelsLast) bc.data = dnnlRelayoutToScratch(*b, p_.bChannelsLast, 1);
    a = &ac;
    b = &bc;
    RtTensor& y = io.allocOutputInPlace(0, 0, p_.yType, a->dims);
    const bool au = p_.aType == ir::DataType::kUint8, bu = p_.bType == ir::DataType::kUint8;
    if (au && bu) dispatchY(a->as<uint8_t>(), b->as<uint8_t>(), y, a->numel());
    else if (au) dispatchY(a->as<uint8_t>(), b->as<int8_t>(), y, a->numel());
    else if (bu) dispatchY(a->as<int8_t>(), b->as<uint8_t>(), y, a->numel());
    else dispatchY(a->as<int8_t>(), b->as<int8_t>(), y, a->numel());
  }

 private:
  template <typename A, typename B>
  void dispatchY(const A* a, const B* b, RtTensor& y, int64_t n) const {
    if (p_.yType == ir::DataType::kUint8) loop(a, b, y.as<uint8_t>(), n);
    else loop(a, b, y.as<int8_t>(), n);
  }
  // The unfused ops' float arithmetic, element by element (y may alias a: read before write).
  template <typename A, typename B, typename Y>
  void loop(const A* a, const B* b, Y* y, int64_t n) const {
    const float as = p_.aScale, bs = p_.bScale, ys = p_.yScale;
    const int32_t az = p_.aZeroPoint, bz = p_.bZeroPoint, yz = p_.yZeroPoint;
    const bool relu = p_.relu;
    for (int64_t i = 0; i < n; ++i) {
      float v = dequantizeValue(a[i], az, as) + dequantizeValue(b[i], bz, bs);
      if (relu) v = std::max(v, 0.f);
      y[i] = quantizeRounded<Y>(v / ys, yz);
    }
  }
  QdqAddParams p_;
};

}  // namespace

std::unique_ptr<Kernel> makeQdqConvKernel(Int8ConvParams params, const std::string& describe,
                                          const std::optional<Shape>& knownX, int threads) {
  auto k = std::make_unique<QdqConvKernel>(std::move(params), describe);
  if (knownX) {
    DnnlThreadScope scope(threads);
    k->conv().prepare(*knownX);
  }
  return k;
}

std::unique_ptr<Kernel> makeQdqMatMulKernel(Int8MatMulParams params, const std::string& describe, bool gemm,
                                            std::optional<int64_t> knownRows, int threads) {
  auto k = std::make_unique<QdqMatMulKernel>(std::move(params), describe, gemm);
  if (knownRows) {
    DnnlThreadScope scope(threads);
    k->matmul().prepare(*knownRows);
  }
  return k;
}

std::unique_ptr<Kernel> makeQdqAddKernel(const QdqAddParams& params) { return std::make_unique<QdqAddKernel>(params); }

}  // namespace effdl::runtime
