// QLinearConv, ConvInteger, QLinearMatMul, MatMulInteger (opset 10). With constant weights and
// quantization parameters the kernel bakes them into a oneDNN int8 primitive when the session is
// built (Int8Conv, Int8MatMul); otherwise the parameters are read at each run and a plain C++
// path computes the same integers. Output rounding follows ONNX Runtime: the float multiplier
// x_scale·w_scale/y_scale times the int32 accumulator, rounded half to even.
#include <cstring>
#include <optional>

#include "runtime/dnnl_context.h"
#include "runtime/kernel_registry.h"
#include "runtime/kernels/families.h"
#include "runtime/kernels/int8_conv.h"
#include "runtime/kernels/int8_matmul.h"
#include "runtime/kernels/quant_common.h"

namespace effdl::runtime {
namespace {

const RtTensor* optionalIn(const KernelIo& io, size_t i) { return i < io.numInputs() ? io.input(i) : nullptr; }

const RtTensor& need(const std::string& describe, const std::vector<const RtTensor*>& in, size_t i, const char* what) {
  if (i >= in.size() || !in[i]) throwInvalid(describe + ": " + what + " is required");
  return *in[i];
}

const RtTensor& requiredIn(const KernelIo& io, size_t i, const char* what) {
  const RtTensor* t = optionalIn(io, i);
  if (!t) throwRunError(io, std::string(what) + " is required");
  return *t;
}

// One value of a scalar (or one-element) parameter.
float scalarScale(const std::string& describe, const RtTensor& t, const char* what) {
  if (t.numel() != 1)
    throwInvalid(describe + ": " + what + " must be a scalar, got shape " + shapeString(t.dims));
  return readScales(describe, t, what)[0];
}
int32_t scalarZeroPoint(const std::string& describe, const RtTensor* t, ir::DataType expected, const char* what) {
  if (!t) return 0;
  if (t->numel() != 1)
    throwInvalid(describe + ": " + what + " must be a scalar, got shape " + shapeString(t->dims));
  if (expected != ir::DataType::kUndefined && t->dtype != expected)
    throwInvalid(describe + ": " + what + " is " + std::string(ir::dtypeName(t->dtype)) + " but its input is " +
                 std::string(ir::dtypeName(expected)));
  return readZeroPoints(describe, *t, what)[0];
}

// Per-channel values of a parameter with `count` channels: a scalar is broadcast; otherwise it
// must hold exactly `count` values (an error naming the node and `what`).
template <typename T>
std::vector<T> perChannel(const std::string& describe, std::vector<T> v, int64_t count, const char* what,
                          const Shape& dims) {
  if (v.size() == 1) return v;
  if (static_cast<int64_t>(v.size()) != count)
    throwInvalid(describe + ": " + what + " has shape " + shapeString(dims) + " but there are " +
                 std::to_string(count) + " channels (expected a scalar or " + std::to_string(count) + " values)");
  return v;
}

void requireInt8(const std::string& describe, const RtTensor& t, const char* what) {
  if (!isInt8Type(t.dtype))
    throwInvalid(describe + ": " + what + " must be uint8 or int8, got " + std::string(ir::dtypeName(t.dtype)));
}

// Weights minus their zero point (scalar or one per output channel = leading dim).
std::vector<int32_t> weightsMinusZeroPoint(const std::string& describe, const RtTensor& w, const RtTensor* wzp) {
  requireInt8(describe, w, "weight");
  const int64_t n = w.numel(), M = w.dims.empty() ? 1 : w.dims[0];
  std::vector<int32_t> zp = {0};
  if (wzp) {
    if (wzp->dtype != w.dtype)
      throwInvalid(describe + ": weight zero point is " + std::string(ir::dtypeName(wzp->dtype)) + " but the weight is " +
                   std::string(ir::dtypeName(w.dtype)));
    zp = perChannel(describe, readZeroPoints(describe, *wzp, "weight zero point"), M, "weight zero point", wzp->dims);
  }
  std::vector<int32_t> v = readZeroPoints(describe, w, "weight");
  const int64_t per = M > 0 ? n / M : 0;
  if (zp.size() > 1 || zp[0] != 0)
    for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] -= zp.size() == 1 ? zp[0] : zp[static_cast<size_t>(i / per)];
  return v;
}

// ------------------------------------------------------------------------------ QLinearConv
// Inputs: x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, y_zero_point, B (int32).
Int8ConvParams qlinearConvParams(const std::string& describe, const ConvAttrs& attrs, const std::vector<const RtTensor*>& in) {
  const RtTensor& x = need(describe, in, 0, "input x");
  requireInt8(describe, x, "input x");
  Int8ConvParams p;
  p.attrs = attrs;
  p.xType = x.dtype;
  p.xZeroPoint = scalarZeroPoint(describe, in[2], x.dtype, "x_zero_point");
  const float xs = scalarScale(describe, need(describe, in, 1, "x_scale"), "x_scale");
  const RtTensor& w = need(describe, in, 3, "weight w");
  const RtTensor& wScale = need(describe, in, 4, "w_scale");
  if (w.rank() < 3) throwInvalid(describe + ": weight shape " + shapeString(w.dims) + " has no spatial dims");
  const int64_t M = w.dims[0];
  p.wDims = w.dims;
  p.w = weightsMinusZeroPoint(describe, w, in[5]);
  const std::vector<float> ws = perChannel(describe, readScales(describe, wScale, "w_scale"), M, "w_scale", wScale.dims);
  const float ys = scalarScale(describe, need(describe, in, 6, "y_scale"), "y_scale");
  if (!in[7]) throwInvalid(describe + ": y_zero_point is required (it sets the output type)");
  p.out.yType = in[7]->dtype;
  if (!isInt8Type(p.out.yType)) throwInvalid(describe + ": y_zero_point must be uint8 or int8");
  p.out.yZeroPoint = scalarZeroPoint(describe, in[7], ir::DataType::kUndefined, "y_zero_point");
  for (float s : ws) p.out.scale.push_back(xs * s / ys);
  if (in.size() > 8 && in[8]) {
    const RtTensor& b = *in[8];
    if (b.dtype != ir::DataType::kInt32 || b.rank() != 1 || b.dims[0] != M)
      throwInvalid(describe + ": bias B must be int32 of shape [" + std::to_string(M) + "], got " +
                   std::string(ir::dtypeName(b.dtype)) + " " + shapeString(b.dims));
    p.out.bias.assign(b.as<int32_t>(), b.as<int32_t>() + M);
  }
  return p;
}

// ConvInteger: x, w, x_zero_point, w_zero_point → int32.
Int8ConvParams convIntegerParams(const std::string& describe, const ConvAttrs& attrs, const std::vector<const RtTensor*>& in) {
  const RtTensor& x = need(describe, in, 0, "input x");
  requireInt8(describe, x, "input x");
  Int8ConvParams p;
  p.attrs = attrs;
  p.xType = x.dtype;
  p.xZeroPoint = scalarZeroPoint(describe, in[2], x.dtype, "x_zero_point");
  const RtTensor& w = need(describe, in, 1, "weight w");
  if (w.rank() < 3) throwInvalid(describe + ": weight shape " + shapeString(w.dims) + " has no spatial dims");
  p.wDims = w.dims;
  p.w = weightsMinusZeroPoint(describe, w, in[3]);
  p.out.yType = ir::DataType::kInt32;
  p.out.scale = {1.f};
  return p;
}

using ConvParamsFn = Int8ConvParams (*)(const std::string&, const ConvAttrs&, const std::vector<const RtTensor*>&);

class IntConvKernel : public Kernel {
 public:
  IntConvKernel(const KernelBuildContext& ctx, ConvParamsFn paramsFn, size_t numParams)
      : attrs_(parseConvAttrs(ctx, false)), paramsFn_(paramsFn), describe_(ctx.describe()) {
    // Everything but x constant: bake the parameters into an Int8Conv now.
    std::vector<RtTensor> views(numParams);
    std::vector<const RtTensor*> in(numParams, nullptr);
    for (size_t i = 1; i < numParams; ++i) {
      if (i >= ctx.numInputs() || !ctx.input(i)) continue;
      const ir::Tensor* t = ctx.constInput(i);
      if (!t) return;
      views[i] = viewOf(*t);
      in[i] = &views[i];
    }
    RtTensor x;
    x.dtype = ctx.input(0)->type().elemType;
    if (!isInt8Type(x.dtype)) return;
    in[0] = &x;
    conv_ = std::make_unique<Int8Conv>(paramsFn_(describe_, attrs_, in), describe_);
    const ir::ValueType& xt = ctx.input(0)->type();
    if (!xt.shape) return;
    Shape dims;
    for (const auto& d : *xt.shape) {
      if (!d.value) return;
      dims.push_back(*d.value);
    }
    DnnlThreadScope threads(ctx.threads);
    conv_->prepare(dims);
  }

  void run(KernelIo& io) override {
    const RtTensor& x = requiredIn(io, 0, "input x");
    if (conv_ && x.dtype == conv_->params().xType) {
      RtTensor& y = io.allocOutput(0, conv_->params().out.yType, conv_->outputShape(x.dims));
      conv_->run(x, y);
      return;
    }
    std::vector<const RtTensor*> in(9, nullptr);
    for (size_t i = 0; i < std::min<size_t>(io.numInputs(), 9); ++i) in[i] = io.input(i);
    Int8ConvParams p = paramsFn_(io.describe(), attrs_, in);
    const Geometry g = resolveGeometry(p.attrs, x.dims, p.wDims, io.describe());
    RtTensor& y = io.allocOutput(0, p.out.yType, g.y);
    if (y.nbytes) referenceInt8Conv(p, g, x.data, y.data);
  }

 private:
  ConvAttrs attrs_;
  ConvParamsFn paramsFn_;
  std::string describe_;
  std::unique_ptr<Int8Conv> conv_;
};

// ---------------------------------------------------------------------------- integer MatMul
// The general path: numpy batching/broadcasting, a's zero point (and scale) per tensor or per
// row, b's per tensor or per column, any of them non-constant.
struct IntMatMulArgs {
  const RtTensor* a = nullptr;
  const RtTensor* b = nullptr;
  std::vector<int32_t> aZp, bZp;     // 1, M or N values
  std::vector<float> aScale, bScale;  // QLinearMatMul only
  float yScale = 1.f;
  int32_t yZp = 0;
  ir::DataType yType = ir::DataType::kInt32;
};

template <typename A, typename B, typename Y>
void generalIntMatMul(const IntMatMulArgs& args, RtTensor& y, const Shape& batch, int64_t M,
                      int64_t K, int64_t N, const Shape& aB, const Shape& bB) {
  const A* a = args.a->as<A>();
  const B* b = args.b->as<B>();
  Y* yp = y.as<Y>();
  int64_t batches = 1;
  for (int64_t d : batch) batches *= d;
  std::vector<int64_t> idx(batch.size(), 0);
  for (int64_t t = 0; t < batches; ++t) {
    int64_t ao = 0, bo = 0, aStride = M * K, bStride = K * N;
    for (int64_t d = static_cast<int64_t>(batch.size()) - 1; d >= 0; --d) {
      const size_t u = static_cast<size_t>(d);
      if (aB[u] != 1) ao += idx[u] * aStride;
      if (bB[u] != 1) bo += idx[u] * bStride;
      aStride *= aB[u];
      bStride *= bB[u];
    }
    for (int64_t m = 0; m < M; ++m) {
      const int32_t azp = args.aZp.size() == 1 ? args.aZp[0] : args.aZp[static_cast<size_t>(m)];
      for (int64_t n = 0; n < N; ++n) {
        const int32_t bzp = args.bZp.size() == 1 ? args.bZp[0] : args.bZp[static_cast<size_t>(n)];
        int64_t acc = 0;
        for (int64_t k = 0; k < K; ++k)
          acc += (static_cast<int64_t>(a[ao + m * K + k]) - azp) * (static_cast<int64_t>(b[bo + k * N + n]) - bzp);
        Y& out = yp[(t * M + m) * N + n];
        if constexpr (std::is_same_v<Y, int32_t>) {
          out = static_cast<int32_t>(acc);
        } else {
          const float as = args.aScale.size() == 1 ? args.aScale[0] : args.aScale[static_cast<size_t>(m)];
          const float bs = args.bScale.size() == 1 ? args.bScale[0] : args.bScale[static_cast<size_t>(n)];
          out = quantizeRounded<Y>(static_cast<float>(acc) * (as * bs / args.yScale), args.yZp);
        }
      }
    }
    for (int64_t d = static_cast<int64_t>(batch.size()) - 1; d >= 0; --d) {
      if (++idx[static_cast<size_t>(d)] < batch[static_cast<size_t>(d)]) break;
      idx[static_cast<size_t>(d)] = 0;
    }
  }
}

void runGeneralIntMatMul(KernelIo& io, const IntMatMulArgs& args) {
  const Shape& aIn = args.a->dims;
  const Shape& bIn = args.b->dims;
  if (aIn.empty() || bIn.empty()) throwRunError(io, "operands must have rank ≥ 1");
  Shape a = aIn.size() == 1 ? Shape{1, aIn[0]} : aIn, b = bIn.size() == 1 ? Shape{bIn[0], 1} : bIn;
  const int64_t M = a[a.size() - 2], K = a.back(), N = b.back();
  if (b[b.size() - 2] != K)
    throwRunError(io, "shapes " + shapeString(aIn) + " and " + shapeString(bIn) + " cannot be multiplied");
  const size_t rank = std::max(a.size(), b.size());
  a.insert(a.begin(), rank - a.size(), 1);
  b.insert(b.begin(), rank - b.size(), 1);
  Shape batch, aB, bB;
  for (size_t d = 0; d + 2 < rank; ++d) {
    if (a[d] != b[d] && a[d] != 1 && b[d] != 1)
      throwRunError(io, "batch dims of " + shapeString(aIn) + " and " + shapeString(bIn) + " do not broadcast");
    batch.push_back(a[d] == 1 ? b[d] : a[d]);
    aB.push_back(a[d]);
    bB.push_back(b[d]);
  }
  auto check = [&](size_t size, int64_t want, const char* what) {
    if (size != 1 && static_cast<int64_t>(size) != want)
      throwRunError(io, std::string(what) + " has " + std::to_string(size) + " values; expected 1 or " + std::to_string(want));
  };
  check(args.aZp.size(), M, "a_zero_point");
  check(args.bZp.size(), N, "b_zero_point");
  if (args.yType != ir::DataType::kInt32) {
    check(args.aScale.size(), M, "a_scale");
    check(args.bScale.size(), N, "b_scale");
  }
  Shape yDims = batch;
  if (aIn.size() > 1) yDims.push_back(M);
  if (bIn.size() > 1) yDims.push_back(N);
  RtTensor& y = io.allocOutput(0, args.yType, yDims);
  if (y.nbytes == 0) return;
  auto dispatchY = [&](auto aTag, auto bTag) {
    using A = decltype(aTag);
    using B = decltype(bTag);
    switch (args.yType) {
      case ir::DataType::kUint8: generalIntMatMul<A, B, uint8_t>(args, y, batch, M, K, N, aB, bB); break;
      case ir::DataType::kInt8: generalIntMatMul<A, B, int8_t>(args, y, batch, M, K, N, aB, bB); break;
      default: generalIntMatMul<A, B, int32_t>(args, y, batch, M, K, N, aB, bB); break;
    }
  };
  const bool aU8 = args.a->dtype == ir::DataType::kUint8, bU8 = args.b->dtype == ir::DataType::kUint8;
  if (aU8 && bU8) dispatchY(uint8_t{}, uint8_t{});
  else if (aU8) dispatchY(uint8_t{}, int8_t{});
  else if (bU8) dispatchY(int8_t{}, uint8_t{});
  else dispatchY(int8_t{}, int8_t{});
}

std::vector<int32_t> zeroPoints(const KernelIo& io, const RtTensor* zp, ir::DataType expected, const char* what) {
  if (!zp) return {0};
  if (zp->dtype != expected)
    throwRunError(io, std::string(what) + " is " + std::string(ir::dtypeName(zp->dtype)) + " but its input is " +
                          std::string(ir::dtypeName(expected)));
  if (zp->rank() > 1 && zp->numel() != 1)
    throwRunError(io, std::string(what) + " must be a scalar or 1-D, got shape " + shapeString(zp->dims));
  return readZeroPoints(io.describe(), *zp, what);
}

// Inputs: QLinearMatMul a, a_scale, a_zp, b, b_scale, b_zp, y_scale, y_zp; MatMulInteger A, B, a_zp, b_zp.
class IntMatMulKernel : public Kernel {
 public:
  IntMatMulKernel(const KernelBuildContext& ctx, bool qlinear) : qlinear_(qlinear), describe_(ctx.describe()) {
    const size_t bIndex = qlinear ? 3 : 1;
    // Constant b (2-D) and parameters, per-tensor a zero point: an Int8MatMul baked now. For
    // MatMulInteger the a zero point may come at run time (dynamic quantization: from
    // DynamicQuantizeLinear): Σ (a - za)·b' = Σ a·b' - za·Σ_k b'[k, n], a column sum made now.
    const size_t count = qlinear ? 8 : 4;
    std::vector<RtTensor> views(count);
    std::vector<const RtTensor*> in(count, nullptr);
    bool runtimeAZp = false;
    for (size_t i = 1; i < count; ++i) {
      if (i >= ctx.numInputs() || !ctx.input(i)) continue;
      const ir::Tensor* t = ctx.constInput(i);
      if (!t && !qlinear && i == 2) {
        runtimeAZp = true;
        continue;
      }
      if (!t) return;
      views[i] = viewOf(*t);
      in[i] = &views[i];
    }
    const ir::DataType aType = ctx.input(0)->type().elemType;
    if (!isInt8Type(aType) || !in[bIndex] || in[bIndex]->rank() != 2 || !isInt8Type(in[bIndex]->dtype)) return;
    Int8MatMulParams p;
    p.aType = aType;
    p.K = in[bIndex]->dims[0];
    p.N = in[bIndex]->dims[1];
    const RtTensor* azp = in[2];
    const RtTensor* bzp = in[qlinear ? 5 : 3];
    if (azp && (azp->numel() != 1 || azp->dtype != aType)) return;  // per-row: the general path
    p.aZeroPoint = azp ? readZeroPoints(describe_, *azp, "a_zero_point")[0] : 0;
    const RtTensor& b = *in[bIndex];
    std::vector<int32_t> bz = {0};
    if (bzp) {
      if (bzp->dtype != b.dtype || (bzp->numel() != 1 && bzp->numel() != p.N)) return;
      bz = readZeroPoints(describe_, *bzp, "b_zero_point");
    }
    p.b = readZeroPoints(describe_, b, "b");
    for (int64_t k = 0; k < p.K; ++k)
      for (int64_t n = 0; n < p.N; ++n) p.b[static_cast<size_t>(k * p.N + n)] -= bz.size() == 1 ? bz[0] : bz[static_cast<size_t>(n)];
    if (runtimeAZp) {
      columnSums_.assign(static_cast<size_t>(p.N), 0);
      for (int64_t k = 0; k < p.K; ++k)
        for (int64_t n = 0; n < p.N; ++n) columnSums_[static_cast<size_t>(n)] += p.b[static_cast<size_t>(k * p.N + n)];
    }
    if (qlinear) {
      if (in[1]->numel() != 1 || !in[6] || in[6]->numel() != 1 || !in[7] || in[7]->numel() != 1) return;
      if (in[4]->numel() != 1 && in[4]->numel() != p.N) return;
      const float as = readScales(describe_, *in[1], "a_scale")[0], ys = readScales(describe_, *in[6], "y_scale")[0];
      for (float bs : readScales(describe_, *in[4], "b_scale")) p.out.scale.push_back(as * bs / ys);
      p.out.yType = in[7]->dtype;
      if (!isInt8Type(p.out.yType)) return;
      p.out.yZeroPoint = readZeroPoints(describe_, *in[7], "y_zero_point")[0];
    } else {
      p.out.yType = ir::DataType::kInt32;
      p.out.scale = {1.f};
    }
    mm_ = std::make_unique<Int8MatMul>(std::move(p), describe_);
    const ir::ValueType& at = ctx.input(0)->type();
    if (!at.shape || at.shape->size() < 2) return;
    int64_t rows = 1;
    for (size_t d = 0; d + 1 < at.shape->size(); ++d) {
      if (!(*at.shape)[d].value) return;
      rows *= *(*at.shape)[d].value;
    }
    DnnlThreadScope threads(ctx.threads);
    mm_->prepare(rows);
  }

  void run(KernelIo& io) override {
    const RtTensor& a = requiredIn(io, 0, "input a");
    if (mm_ && a.dtype == mm_->params().aType && a.rank() >= 2 && a.dims.back() == mm_->params().K) {
      int64_t azp = 0;
      const RtTensor* z = columnSums_.empty() ? nullptr : optionalIn(io, 2);
      if (!z || (z->numel() == 1 && z->dtype == a.dtype)) {  // else per-row: the general path
        if (z) azp = readZeroPoints(io.describe(), *z, "a_zero_point")[0];
        Shape yDims = a.dims;
        const int64_t N = mm_->params().N;
        yDims.back() = N;
        RtTensor& y = io.allocOutput(0, mm_->params().out.yType, yDims);
        int64_t rows = 1;
        for (size_t d = 0; d + 1 < a.rank(); ++d) rows *= a.dims[d];
        mm_->run(a.data, rows, y.data);
        if (azp != 0) {
          int32_t* yp = y.as<int32_t>();
          for (int64_t r = 0; r < rows; ++r)
            for (int64_t n = 0; n < N; ++n)  // int32 wraparound, as the spec's int32 arithmetic
              yp[r * N + n] = static_cast<int32_t>(yp[r * N + n] - azp * columnSums_[static_cast<size_t>(n)]);
        }
        return;
      }
    }
    IntMatMulArgs args;
    args.a = &a;
    requireInt8(io.describe(), a, "input a");
    if (qlinear_) {
      args.b = &requiredIn(io, 3, "input b");
      requireInt8(io.describe(), *args.b, "input b");
      args.aScale = readScales(io.describe(), requiredIn(io, 1, "a_scale"), "a_scale");
      args.bScale = readScales(io.describe(), requiredIn(io, 4, "b_scale"), "b_scale");
      args.aZp = zeroPoints(io, &requiredIn(io, 2, "a_zero_point"), a.dtype, "a_zero_point");
      args.bZp = zeroPoints(io, &requiredIn(io, 5, "b_zero_point"), args.b->dtype, "b_zero_point");
      args.yScale = scalarScale(io.describe(), requiredIn(io, 6, "y_scale"), "y_scale");
      const RtTensor& yzp = requiredIn(io, 7, "y_zero_point");
      args.yType = yzp.dtype;
      if (!isInt8Type(args.yType)) throwRunError(io, "y_zero_point must be uint8 or int8");
      args.yZp = scalarZeroPoint(io.describe(), &yzp, ir::DataType::kUndefined, "y_zero_point");
    } else {
      args.b = &requiredIn(io, 1, "input B");
      requireInt8(io.describe(), *args.b, "input B");
      args.aZp = zeroPoints(io, optionalIn(io, 2), a.dtype, "a_zero_point");
      args.bZp = zeroPoints(io, optionalIn(io, 3), args.b->dtype, "b_zero_point");
    }
    runGeneralIntMatMul(io, args);
  }

 private:
  bool qlinear_;
  std::string describe_;
  std::unique_ptr<Int8MatMul> mm_;
  std::vector<int64_t> columnSums_;  // MatMulInteger with a run-time a zero point
};

std::unique_ptr<Kernel> makeQLinearConv(const KernelBuildContext& ctx) {
  if (ctx.numInputs() < 8) ctx.invalid("needs 8 inputs (x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, y_zero_point)");
  return std::make_unique<IntConvKernel>(ctx, qlinearConvParams, 9);
}
std::unique_ptr<Kernel> makeConvInteger(const KernelBuildContext& ctx) {
  return std::make_unique<IntConvKernel>(ctx, convIntegerParams, 4);
}
std::unique_ptr<Kernel> makeQLinearMatMul(const KernelBuildContext& ctx) {
  if (ctx.numInputs() < 8) ctx.invalid("needs 8 inputs (a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale, y_zero_point)");
  return std::make_unique<IntMatMulKernel>(ctx, true);
}
std::unique_ptr<Kernel> makeMatMulInteger(const KernelBuildContext& ctx) {
  if (ctx.numInputs() < 2) ctx.invalid("needs inputs A and B");
  return std::make_unique<IntMatMulKernel>(ctx, false);
}

}  // namespace

void registerQLinearKernels(KernelRegistry& r) {
  r.add(KernelEntry{"", "QLinearConv", 10, 1000, makeQLinearConv});
  r.add(KernelEntry{"", "ConvInteger", 10, 1000, makeConvInteger});
  r.add(KernelEntry{"", "QLinearMatMul", 10, 1000, makeQLinearMatMul});
  r.add(KernelEntry{"", "MatMulInteger", 10, 1000, makeMatMulInteger});
}

}  // namespace effdl::runtime
