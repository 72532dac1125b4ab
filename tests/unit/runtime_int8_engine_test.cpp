// The int8 engines behind QLinearConv/ConvInteger/QLinearMatMul/MatMulInteger and the fused QDQ
// kernels: the oneDNN int8 path against the plain C++ path on seeded random data, over the
// parameters that change oneDNN's arithmetic (padding with a source zero point, groups,
// depthwise, strides and dilations, per-channel scales, bias, Relu/Clip bounds, u8/s8/s32
// outputs). This pins the oneDNN semantics the engines rely on (bias before the scale, padding
// as the zero point, destination zero point after rounding). Run also without VNNI by the ctest
// unit.int8_without_vnni (DNNL_MAX_CPU_ISA=AVX512_CORE), where wide weights take the C++ path.
#include <gtest/gtest.h>

#include <cstring>

#include <random>

#include "runtime/dnnl_context.h"
#include "runtime/kernels/int8_conv.h"
#include "runtime/kernels/int8_matmul.h"

namespace effdl::test {
namespace {

using namespace runtime;

struct ConvCase {
  Shape x, w;
  int64_t group = 1;
  std::vector<int64_t> strides, pads, dilations;
  ir::DataType xType = ir::DataType::kUint8, yType = ir::DataType::kUint8;
  int32_t xZp = 0, yZp = 0, wRange = 127;
  bool bias = false, perChannel = false, relu = false, clip = false;
  bool expectDnnl = true;  // oneDNN 2.6 has no int8 kernel for some cases (then the C++ path runs)
};

template <typename T>
std::vector<uint8_t> randomBytes(std::mt19937& rng, int64_t n) {
  std::uniform_int_distribution<int> d(std::numeric_limits<T>::min(), std::numeric_limits<T>::max());
  std::vector<uint8_t> v(static_cast<size_t>(n));
  for (auto& b : v) b = static_cast<uint8_t>(static_cast<T>(d(rng)));
  return v;
}

int64_t numelOf(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

Int8Epilogue randomEpilogue(std::mt19937& rng, ir::DataType yType, int32_t yZp, int64_t channels, bool perChannel,
                            bool bias, bool relu, bool clip) {
  Int8Epilogue e;
  e.yType = yType;
  e.yZeroPoint = yZp;
  std::uniform_real_distribution<float> s(0.0005f, 0.004f), b(-3000.f, 3000.f);
  for (int64_t c = 0; c < (perChannel ? channels : 1); ++c) e.scale.push_back(s(rng));
  if (bias)
    for (int64_t c = 0; c < channels; ++c) e.bias.push_back(b(rng));
  if (relu) e.lo = 0.f;
  if (clip) e.lo = -20.f, e.hi = 30.f;
  return e;
}

// Elements where the two differ by more than `tol`, and where they differ at all.
template <typename T>
std::pair<int64_t, int64_t> differences(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b, int64_t tol) {
  const T* x = reinterpret_cast<const T*>(a.data());
  const T* y = reinterpret_cast<const T*>(b.data());
  int64_t big = 0, any = 0;
  for (size_t i = 0; i < a.size() / sizeof(T); ++i) {
    const int64_t d = std::abs(static_cast<int64_t>(x[i]) - static_cast<int64_t>(y[i]));
    big += d > tol;
    any += d != 0;
  }
  return {big, any};
}

// NCHW bytes → NHWC and back (elements of `size` bytes).
std::vector<uint8_t> relayout(const std::vector<uint8_t>& v, const Shape& d, size_t size, bool toChannelsLast) {
  std::vector<uint8_t> out(v.size());
  const int64_t N = d[0], C = d[1], HW = d[2] * d[3];
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t i = 0; i < HW; ++i) {
        const size_t plain = static_cast<size_t>((n * C + c) * HW + i) * size;
        const size_t last = static_cast<size_t>((n * HW + i) * C + c) * size;
        std::memcpy(&out[toChannelsLast ? last : plain], &v[toChannelsLast ? plain : last], size);
      }
  return out;
}
std::vector<uint8_t> toChannelsLast(const std::vector<uint8_t>& v, const Shape& d, size_t size) {
  return relayout(v, d, size, true);
}
std::vector<uint8_t> toPlain(const std::vector<uint8_t>& v, const Shape& d, size_t size) {
  return relayout(v, d, size, false);
}

void checkConv(const ConvCase& c, unsigned seed) {
  std::mt19937 rng(seed);
  Int8ConvParams p;
  p.attrs.group = c.group;
  p.attrs.strides = c.strides;
  p.attrs.pads = c.pads;
  p.attrs.dilations = c.dilations;
  p.xType = c.xType;
  p.xZeroPoint = c.xZp;
  p.wDims = c.w;
  std::uniform_int_distribution<int32_t> wd(-c.wRange - 1, c.wRange);
  for (int64_t i = 0; i < numelOf(c.w); ++i) p.w.push_back(std::clamp(wd(rng), -128, 127));
  p.out = randomEpilogue(rng, c.yType, c.yZp, c.w[0], c.perChannel, c.bias, c.relu, c.clip);
  if (c.yType == ir::DataType::kInt32) p.out.bias.clear(), p.out.scale = {1.f};
  Int8Conv conv(p, "node 'test' (Conv)");
  RtTensor x;
  x.dtype = c.xType;
  x.dims = c.x;
  std::vector<uint8_t> xb = c.xType == ir::DataType::kUint8 ? randomBytes<uint8_t>(rng, numelOf(c.x))
                                                            : randomBytes<int8_t>(rng, numelOf(c.x));
  x.data = xb.data();
  x.nbytes = xb.size();
  const Shape yDims = conv.outputShape(c.x);
  const size_t ySize = static_cast<size_t>(numelOf(yDims)) * ir::dtypeSize(c.yType);
  std::vector<uint8_t> got(ySize), want(ySize);
  RtTensor y;
  y.dtype = c.yType;
  y.dims = yDims;
  y.data = got.data();
  y.nbytes = got.size();
  DnnlThreadScope threads(1);
  if (c.expectDnnl && (cpuHasInt8DotProduct() || c.wRange <= 64)) {
    EXPECT_TRUE(conv.usesDnnl(c.x)) << "oneDNN refused the case";
  }
  conv.run(x, y);
  const Geometry g = resolveGeometry(p.attrs, c.x, c.w, "test");
  referenceInt8Conv(p, g, xb.data(), want.data());
  // int32 outputs are exact; quantized ones may differ by one step where (acc + bias) · scale lands
  // within float rounding of a .5 tie (oneDNN and C++ order the float operations differently).
  std::pair<int64_t, int64_t> d;
  if (c.yType == ir::DataType::kInt32) d = differences<int32_t>(got, want, 0);
  else if (c.yType == ir::DataType::kUint8) d = differences<uint8_t>(got, want, 1);
  else d = differences<int8_t>(got, want, 1);
  EXPECT_EQ(d.first, 0) << "elements off by more than one step";
  EXPECT_LE(d.second * 1000, static_cast<int64_t>(ySize)) << "more than 0.1% of elements differ";
  if (c.x.size() != 4) return;
  // The same with channels-last input and output (fused QDQ groups pass such values between
  // them): the same numbers as the NCHW run, whichever path (oneDNN, compensated, C++) runs.
  p.srcChannelsLast = p.dstChannelsLast = true;
  Int8Conv convCl(p, "node 'test' (Conv)");
  std::vector<uint8_t> xCl = toChannelsLast(xb, c.x, ir::dtypeSize(c.xType)), yCl(ySize);
  RtTensor xc = x, yc = y;
  xc.data = xCl.data();
  yc.data = yCl.data();
  convCl.run(xc, yc);
  EXPECT_EQ(toPlain(yCl, yDims, ir::dtypeSize(c.yType)), got) << "channels-last run differs from the NCHW one";
}

TEST(Int8Engine, ConvPaddingWithZeroPointsBiasAndPerChannelScales) {
  ConvCase c;
  c.x = {1, 16, 9, 9};
  c.w = {24, 16, 3, 3};
  c.pads = {1, 1, 1, 1};
  c.xZp = 117;
  c.yZp = 9;
  c.bias = c.perChannel = true;
  checkConv(c, 1);
}

TEST(Int8Engine, ConvStridesDilationsGroupsAndDepthwise) {
  ConvCase c;
  c.x = {2, 8, 11, 10};
  c.w = {12, 4, 3, 3};
  c.group = 2;
  c.strides = {2, 1};
  c.dilations = {1, 2};
  c.pads = {2, 0, 1, 2};
  c.xZp = 3;
  c.bias = true;
  c.expectDnnl = false;  // grouped, dilated, asymmetric pads: no oneDNN 2.6 int8 kernel
  checkConv(c, 2);
  ConvCase dw;
  dw.x = {1, 32, 14, 14};
  dw.w = {32, 1, 3, 3};
  dw.group = 32;
  dw.pads = {1, 1, 1, 1};
  dw.yZp = 128;
  dw.perChannel = true;
  checkConv(dw, 3);
  dw.xZp = 128;  // oneDNN 2.6's depthwise int8 kernel takes no source zero point: compensated
  checkConv(dw, 4);
  dw.yType = ir::DataType::kInt32;
  checkConv(dw, 5);
}

TEST(Int8Engine, ConvOutputTypesAndBounds) {
  ConvCase c;
  c.x = {1, 8, 7, 7};
  c.w = {16, 8, 1, 1};
  c.xType = ir::DataType::kInt8;
  c.xZp = -5;
  c.yType = ir::DataType::kInt8;
  c.yZp = -3;
  c.relu = true;
  checkConv(c, 4);
  c.relu = false;
  c.clip = true;
  c.bias = true;
  checkConv(c, 5);
  c.yType = ir::DataType::kInt32;  // ConvInteger
  c.clip = false;
  checkConv(c, 6);
  ConvCase d3;  // 3-D and 1-D convolutions
  d3.x = {1, 4, 5, 6, 7};
  d3.w = {8, 4, 3, 3, 3};
  d3.pads = {1, 1, 1, 1, 1, 1};
  d3.xZp = 40;
  checkConv(d3, 7);
  ConvCase d1;
  d1.x = {2, 6, 20};
  d1.w = {5, 6, 4};
  d1.strides = {3};
  checkConv(d1, 8);
}

void checkMatMul(int64_t M, int64_t K, int64_t N, ir::DataType aType, ir::DataType yType, int32_t aZp, int32_t yZp,
                 bool perChannel, bool bias, bool relu, unsigned seed) {
  std::mt19937 rng(seed);
  Int8MatMulParams p;
  p.aType = aType;
  p.aZeroPoint = aZp;
  p.K = K;
  p.N = N;
  std::uniform_int_distribution<int32_t> wd(-128, 127);
  for (int64_t i = 0; i < K * N; ++i) p.b.push_back(wd(rng));
  p.out = randomEpilogue(rng, yType, yZp, N, perChannel, bias, relu, false);
  if (yType == ir::DataType::kInt32) p.out.bias.clear(), p.out.scale = {1.f};
  Int8MatMul mm(p, "node 'test' (MatMul)");
  std::vector<uint8_t> a = aType == ir::DataType::kUint8 ? randomBytes<uint8_t>(rng, M * K) : randomBytes<int8_t>(rng, M * K);
  const size_t ySize = static_cast<size_t>(M * N) * ir::dtypeSize(yType);
  std::vector<uint8_t> got(ySize), want(ySize);
  DnnlThreadScope threads(1);
  EXPECT_TRUE(mm.usesDnnl(M) || !cpuHasInt8DotProduct());
  mm.run(a.data(), M, got.data());
  referenceInt8MatMul(p, a.data(), M, want.data());
  std::pair<int64_t, int64_t> d;
  if (yType == ir::DataType::kInt32) d = differences<int32_t>(got, want, 0);
  else if (yType == ir::DataType::kUint8) d = differences<uint8_t>(got, want, 1);
  else d = differences<int8_t>(got, want, 1);
  EXPECT_EQ(d.first, 0);
  EXPECT_LE(d.second * 1000, static_cast<int64_t>(ySize));
}

TEST(Int8Engine, MatMulAgainstReference) {
  checkMatMul(7, 64, 33, ir::DataType::kUint8, ir::DataType::kUint8, 131, 7, true, true, false, 10);
  checkMatMul(1, 512, 100, ir::DataType::kUint8, ir::DataType::kUint8, 0, 128, false, true, true, 11);
  checkMatMul(5, 40, 16, ir::DataType::kInt8, ir::DataType::kInt8, -9, -1, true, false, false, 12);
  checkMatMul(6, 30, 20, ir::DataType::kUint8, ir::DataType::kInt32, 100, 0, false, false, false, 13);
}

TEST(Int8Engine, WeightsThatDoNotFitS8TakeThePlainPath) {
  Int8MatMulParams p;
  p.K = 2;
  p.N = 2;
  p.b = {200, -3, 4, 5};  // 200: a u8 weight minus zero point 0 does not fit s8
  p.out.scale = {1.f};
  p.out.yType = ir::DataType::kInt32;
  Int8MatMul mm(p, "node 'test' (MatMul)");
  EXPECT_FALSE(mm.usesDnnl(1));
  std::vector<uint8_t> a = {2, 3};
  std::vector<int32_t> y(2);
  mm.run(a.data(), 1, y.data());
  EXPECT_EQ(y, (std::vector<int32_t>{2 * 200 + 3 * 4, 2 * -3 + 3 * 5}));
}

}  // namespace
}  // namespace effdl::test
