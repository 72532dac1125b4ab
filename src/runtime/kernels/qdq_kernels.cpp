// The fused QDQ kernels (see qdq_kernels.h).
#include "runtime/kernels/qdq_kernels.h"

#include <array>

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

template <typename T>
std::array<float, 256> dequantTable(float scale, int32_t zp) {
  std::array<float, 256> t{};
  for (int v = std::numeric_limits<T>::min(); v <= std::numeric_limits<T>::max(); ++v)
    t[static_cast<uint8_t>(static_cast<T>(v))] = dequantizeValue(v, zp, scale);
  return t;
}

class QdqAddKernel : public Kernel {
 public:
  explicit QdqAddKernel(const QdqAddParams& p) : p_(p) {
    a_ = p.aType == ir::DataType::kUint8 ? dequantTable<uint8_t>(p.aScale, p.aZeroPoint)
                                         : dequantTable<int8_t>(p.aScale, p.aZeroPoint);
    b_ = p.bType == ir::DataType::kUint8 ? dequantTable<uint8_t>(p.bScale, p.bZeroPoint)
                                         : dequantTable<int8_t>(p.bScale, p.bZeroPoint);
  }
  void run(KernelIo& io) override {
    const RtTensor* a = io.input(0);
    const RtTensor* b = io.input(1);
    if (!a || !b) throwRunError(io, "inputs A and B are required");
    if (a->dtype != p_.aType || b->dtype != p_.bType)
      throwRunError(io, "quantized inputs are " + std::string(ir::dtypeName(a->dtype)) + " and " +
                            std::string(ir::dtypeName(b->dtype)) + ", not the types the model declares");
    if (a->dims != b->dims)
      throwRunError(io, "input shapes " + shapeString(a->dims) + " and " + shapeString(b->dims) + " differ");
    RtTensor& y = io.allocOutputInPlace(0, 0, p_.yType, a->dims);
    const int64_t n = a->numel();
    const auto* ap = static_cast<const uint8_t*>(a->data);
    const auto* bp = static_cast<const uint8_t*>(b->data);
    if (p_.yType == ir::DataType::kUint8) loop(ap, bp, static_cast<uint8_t*>(y.data), n);
    else loop(ap, bp, static_cast<int8_t*>(y.data), n);
  }

 private:
  template <typename Y>
  void loop(const uint8_t* a, const uint8_t* b, Y* y, int64_t n) const {
    const float ys = p_.yScale;
    const int32_t zp = p_.yZeroPoint;
    for (int64_t i = 0; i < n; ++i) {
      float v = a_[a[i]] + b_[b[i]];
      if (p_.relu) v = std::max(v, 0.f);
      y[i] = quantizeRounded<Y>(v / ys, zp);
    }
  }
  QdqAddParams p_;
  std::array<float, 256> a_, b_;  // dequantized value of each byte
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
