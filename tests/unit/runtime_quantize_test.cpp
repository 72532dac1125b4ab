// QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear and the QLinear/Integer ops: rounding
// (half to even), saturation, per-axis parameters and their errors, int32 inputs, and the baked
// oneDNN path (constant weights and parameters) against the run-time path (the same model with
// them as graph inputs). ONNX's backend cases (conformance) cover the spec's own examples.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>

#include "core/error.h"
#include "runtime/session.h"
#include "test_util.h"

namespace effdl::test {
namespace {

using runtime::Session;

template <typename T>
std::vector<T> valuesOf(const ir::Tensor& t) {
  auto s = t.values<T>();
  return {s.begin(), s.end()};
}

std::vector<ir::Tensor> runModel(const std::string& text, const std::vector<std::pair<std::string, ir::Tensor>>& inputs,
                                 bool fuse = true) {
  auto m = parse(text);
  runtime::SessionOptions o;
  o.threads = 1;
  o.fuseQdq = fuse;
  Session s(*m, o);
  std::vector<runtime::NamedInput> named;
  for (const auto& [n, t] : inputs) named.push_back({n, &t});
  return s.run(named);
}

ir::Tensor floats(std::vector<int64_t> dims, std::vector<float> v) {
  return ir::Tensor::fromVector(ir::DataType::kFloat, std::move(dims), v);
}

TEST(RuntimeQuant, QuantizeRoundsHalfToEvenAndSaturates) {
  const ir::Tensor x = floats({8}, {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 300.f, -300.f});
  auto u8 = runModel(R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[8] x) => (uint8[8] y) <float s = {1}, uint8 z = {10}> { y = QuantizeLinear(x, s, z) })",
                     {{"x", x}})[0];
  EXPECT_EQ(valuesOf<uint8_t>(u8), (std::vector<uint8_t>{10, 12, 12, 10, 8, 8, 255, 0}));
  auto s8 = runModel(R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[8] x) => (int8[8] y) <float s = {0.5}, int8 z = {-1}> { y = QuantizeLinear(x, s, z) })",
                     {{"x", x}})[0];
  // x / 0.5 = 1, 3, 5, -1, -3, -5, 600, -600 (no ties), then -1.
  EXPECT_EQ(valuesOf<int8_t>(s8), (std::vector<int8_t>{0, 2, 4, -2, -4, -6, 127, -128}));
  // No zero point: uint8 with zero point 0.
  auto noZp = runModel(R"(
    <ir_version: 8, opset_import: ["" : 10]>
    g (float[8] x) => (uint8[8] y) <float s = {2}> { y = QuantizeLinear(x, s) })",
                       {{"x", x}})[0];
  EXPECT_EQ(valuesOf<uint8_t>(noZp), (std::vector<uint8_t>{0, 1, 1, 0, 0, 0, 150, 0}));
}

TEST(RuntimeQuant, PerAxisParameters) {
  const ir::Tensor x = floats({2, 3, 2}, {1, 2, 3, 4, 5, 6, -1, -2, -3, -4, -5, -6});
  auto q = runModel(R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[2,3,2] x) => (int8[2,3,2] y) <float[3] s = {1, 2, 4}, int8[3] z = {0, 10, -10}>
    { y = QuantizeLinear <axis = 1> (x, s, z) })",
                    {{"x", x}})[0];
  // Channel 1 (scale 2): 3/2 = 1.5 → 2, 4/2 = 2; channel 2 (scale 4): 5/4 → 1, 6/4 = 1.5 → 2.
  EXPECT_EQ(valuesOf<int8_t>(q), (std::vector<int8_t>{1, 2, 12, 12, -9, -8, -1, -2, 8, 8, -11, -12}));
  auto dq = runModel(R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (int8[2,3,2] x) => (float[2,3,2] y) <float[2] s = {0.5, 2}, int8[2] z = {1, -1}>
    { y = DequantizeLinear <axis = -3> (x, s, z) })",
                     {{"x", q}})[0];
  std::vector<float> want;
  const auto qv = valuesOf<int8_t>(q);
  for (size_t i = 0; i < qv.size(); ++i) want.push_back(i < 6 ? (qv[i] - 1) * 0.5f : (qv[i] + 1) * 2.f);
  EXPECT_EQ(valuesOf<float>(dq), want);
}

TEST(RuntimeQuant, PerAxisLengthMismatchIsAnErrorNamingTheNode) {
  const ir::Tensor x = floats({2, 3}, {1, 2, 3, 4, 5, 6});
  expectError(
      [&] {
        runModel(R"(
          <ir_version: 8, opset_import: ["" : 13]>
          g (float[2,3] x) => (uint8[2,3] y) <float[2] s = {1, 2}, uint8[2] z = {0, 0}>
          { y = QuantizeLinear <axis = 1> (x, s, z) })",
                 {{"x", x}});
      },
      ErrorKind::kInvalidModel, "per-axis scale has 2 values but axis 1 of input shape [2,3] has 3");
  expectError(
      [&] {
        runModel(R"(
          <ir_version: 8, opset_import: ["" : 13]>
          g (float[2,3] x) => (uint8[2,3] y) <float[3] s = {1, 2, 3}, uint8[2] z = {0, 0}>
          { y = QuantizeLinear <axis = 1> (x, s, z) })",
                 {{"x", x}});
      },
      ErrorKind::kInvalidModel, "zero point shape [2] differs from scale shape [3]");
  // A constant weight with the wrong number of scales: refused when the session is built.
  expectError(
      [&] {
        auto m = parse(R"(
          <ir_version: 8, opset_import: ["" : 13]>
          g (float[2] x) => (float[4,2] y) <int8[4,2] w = {1, 2, 3, 4, 5, 6, 7, 8}, float[3] s = {1, 2, 3}>
          { d = DequantizeLinear <axis = 0> (w, s)
            y = Add(d, x) })");
        runtime::Session session(*m, {1});
      },
      ErrorKind::kInvalidModel, "per-axis scale has 3 values but axis 0 of input shape [4,2] has 4");
  // Opset 10 has no axis: a 1-D scale of several values is refused.
  expectError(
      [&] {
        runModel(R"(
          <ir_version: 8, opset_import: ["" : 10]>
          g (uint8[2,3] x) => (float[2,3] y) <float[3] s = {1, 2, 3}> { y = DequantizeLinear(x, s) })",
                 {{"x", ir::Tensor::fromVector(ir::DataType::kUint8, {2, 3}, std::vector<uint8_t>{1, 2, 3, 4, 5, 6})}});
      },
      ErrorKind::kInvalidModel, "allows only a per-tensor scale");
}

TEST(RuntimeQuant, DequantizeInt32) {
  const ir::Tensor x = ir::Tensor::fromVector(ir::DataType::kInt32, {3}, std::vector<int32_t>{-5, 100000, 7});
  auto y = runModel(R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (int32[3] x) => (float[3] y) <float s = {0.5}> { y = DequantizeLinear(x, s) })",
                    {{"x", x}})[0];
  EXPECT_EQ(valuesOf<float>(y), (std::vector<float>{-2.5f, 50000.f, 3.5f}));
  expectError(
      [&] {
        runModel(R"(
          <ir_version: 8, opset_import: ["" : 13]>
          g (int32[3] x) => (float[3] y) <float s = {0.5}, int32 z = {1}> { y = DequantizeLinear(x, s, z) })",
                 {{"x", x}});
      },
      ErrorKind::kInvalidModel, "an int32 input must have zero point 0");
}

TEST(RuntimeQuant, DynamicQuantizeLinear) {
  const char* model = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[4] x) => (uint8[4] y, float s, uint8 z) { y, s, z = DynamicQuantizeLinear(x) })";
  auto out = runModel(model, {{"x", floats({4}, {0.f, 2.f, -1.f, 4.f})}});
  const float scale = 5.f / 255.f;
  EXPECT_FLOAT_EQ(valuesOf<float>(out[1])[0], scale);
  EXPECT_EQ(valuesOf<uint8_t>(out[2])[0], 51);  // round(1 / scale)
  EXPECT_EQ(valuesOf<uint8_t>(out[0]), (std::vector<uint8_t>{51, 153, 0, 255}));
  // All zeros: scale 0, zero point 0, no division by zero.
  out = runModel(model, {{"x", floats({4}, {0.f, 0.f, 0.f, 0.f})}});
  EXPECT_EQ(valuesOf<float>(out[1])[0], 0.f);
  EXPECT_EQ(valuesOf<uint8_t>(out[0]), (std::vector<uint8_t>{0, 0, 0, 0}));
}

template <typename T>
ir::Tensor randomInts(std::mt19937& rng, ir::DataType dt, std::vector<int64_t> dims) {
  int64_t n = 1;
  for (auto d : dims) n *= d;
  std::uniform_int_distribution<int> d(std::numeric_limits<T>::min(), std::numeric_limits<T>::max());
  std::vector<T> v(static_cast<size_t>(n));
  for (auto& e : v) e = static_cast<T>(d(rng));
  return ir::Tensor::fromVector(dt, std::move(dims), v);
}

// The text of a constant tensor, for an initializer list.
template <typename T>
std::string literal(const ir::Tensor& t) {
  std::string s = "{";
  for (T v : valuesOf<T>(t)) s += (s.size() > 1 ? ", " : "") + std::to_string(static_cast<int>(v));
  return s + "}";
}

TEST(RuntimeQuant, QLinearConvBakedMatchesRunTimeParameters) {
  std::mt19937 rng(7);
  const ir::Tensor x = randomInts<uint8_t>(rng, ir::DataType::kUint8, {1, 4, 6, 6});
  const ir::Tensor w = randomInts<uint8_t>(rng, ir::DataType::kUint8, {6, 2, 3, 3});  // u8 weights, zero point 128
  const std::string attrs = "<pads = [1, 1, 1, 1], strides = [2, 1], group = 2>";
  const std::string baked = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (uint8[1,4,6,6] x) => (uint8[1,6,3,6] y)
      <float xs = {0.02}, uint8 xz = {100}, uint8[6,2,3,3] w = )" +
                            literal<uint8_t>(w) + R"(, float[6] ws = {0.01, 0.02, 0.03, 0.01, 0.02, 0.005},
       uint8[6] wz = {128, 128, 128, 128, 128, 128}, float ys = {0.5}, uint8 yz = {7}, int32[6] b = {100, -200, 300, 0, 5, -5000}>
    { y = QLinearConv )" + attrs + R"( (x, xs, xz, w, ws, wz, ys, yz, b) })";
  const std::string runtime = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (uint8[1,4,6,6] x, uint8[6,2,3,3] w, float xs, uint8 xz, float[6] ws, uint8[6] wz, float ys, uint8 yz, int32[6] b)
      => (uint8[1,6,3,6] y)
    { y = QLinearConv )" + attrs + R"( (x, xs, xz, w, ws, wz, ys, yz, b) })";
  auto a = runModel(baked, {{"x", x}})[0];
  auto b = runModel(runtime, {{"x", x}, {"w", w},
                              {"xs", floats({}, {0.02f})},
                              {"xz", ir::Tensor::fromVector(ir::DataType::kUint8, {}, std::vector<uint8_t>{100})},
                              {"ws", floats({6}, {0.01f, 0.02f, 0.03f, 0.01f, 0.02f, 0.005f})},
                              {"wz", ir::Tensor::fromVector(ir::DataType::kUint8, {6}, std::vector<uint8_t>(6, 128))},
                              {"ys", floats({}, {0.5f})},
                              {"yz", ir::Tensor::fromVector(ir::DataType::kUint8, {}, std::vector<uint8_t>{7})},
                              {"b", ir::Tensor::fromVector(ir::DataType::kInt32, {6}, std::vector<int32_t>{100, -200, 300, 0, 5, -5000})}})[0];
  const auto av = valuesOf<uint8_t>(a), bv = valuesOf<uint8_t>(b);
  ASSERT_EQ(av.size(), bv.size());
  int off = 0;
  for (size_t i = 0; i < av.size(); ++i) {
    EXPECT_LE(std::abs(av[i] - bv[i]), 1) << i;
    off += av[i] != bv[i];
  }
  EXPECT_LE(off, 1);
}

TEST(RuntimeQuant, QLinearMatMulAndMatMulIntegerBakedMatchRunTime) {
  std::mt19937 rng(9);
  const ir::Tensor a = randomInts<uint8_t>(rng, ir::DataType::kUint8, {2, 3, 16});
  const ir::Tensor b = randomInts<int8_t>(rng, ir::DataType::kInt8, {16, 5});
  const std::string bLit = literal<int8_t>(b);
  auto baked = runModel(R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (uint8[2,3,16] a) => (int32[2,3,5] y) <int8[16,5] b = )" + bLit + R"(, uint8 az = {9}, int8[5] bz = {0, 1, -1, 2, 0}>
    { y = MatMulInteger(a, b, az, bz) })",
                        {{"a", a}})[0];
  auto runtime = runModel(R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (uint8[2,3,16] a, int8[16,5] b) => (int32[2,3,5] y) <uint8 az = {9}, int8[5] bz = {0, 1, -1, 2, 0}>
    { y = MatMulInteger(a, b, az, bz) })",
                          {{"a", a}, {"b", b}})[0];
  EXPECT_EQ(valuesOf<int32_t>(baked), valuesOf<int32_t>(runtime));
  // Dynamic quantization: constant B, a zero point from DynamicQuantizeLinear (a run-time value).
  const ir::Tensor af = ir::Tensor::fromVector(ir::DataType::kFloat, {3, 16}, [] {
    std::vector<float> v(48);
    for (size_t i = 0; i < v.size(); ++i) v[i] = std::sin(static_cast<float>(i)) * 3.f + 1.f;
    return v;
  }());
  const std::string dyn = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[3,16] x%s) => (int32[3,5] y) <%s int8[5] bz = {0, 1, -1, 2, 0}>
    {
      q, s, z = DynamicQuantizeLinear(x)
      y = MatMulInteger(q, b, z, bz)
    })";
  char bakedText[4096], rtText[4096];
  std::snprintf(bakedText, sizeof bakedText, dyn.c_str(), "", ("int8[16,5] b = " + bLit + ",").c_str());
  std::snprintf(rtText, sizeof rtText, dyn.c_str(), ", int8[16,5] b", "");
  auto d1 = runModel(bakedText, {{"x", af}})[0];
  auto d2 = runModel(rtText, {{"x", af}, {"b", b}})[0];
  EXPECT_EQ(valuesOf<int32_t>(d1), valuesOf<int32_t>(d2));
  // Per-column b_zero_point of the wrong length: an error naming the node.
  expectError(
      [&] {
        runModel(R"(
          <ir_version: 8, opset_import: ["" : 13]>
          g (uint8[2,3,16] a, int8[16,5] b) => (int32[2,3,5] y) <int8[3] bz = {0, 1, -1}>
          { y = MatMulInteger(a, b, , bz) })",
                 {{"a", a}, {"b", b}});
      },
      ErrorKind::kInvalidModel, "b_zero_point has 3 values; expected 1 or 5");
  auto q1 = runModel(R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (uint8[2,3,16] a) => (int8[2,3,5] y)
      <int8[16,5] b = )" + bLit + R"(, float as = {0.1}, uint8 az = {9}, float bs = {0.05}, int8 bz = {0}, float ys = {0.3}, int8 yz = {-4}>
    { y = QLinearMatMul(a, as, az, b, bs, bz, ys, yz) })",
                     {{"a", a}})[0];
  auto q2 = runModel(R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (uint8[2,3,16] a, int8[16,5] b) => (int8[2,3,5] y)
      <float as = {0.1}, uint8 az = {9}, float bs = {0.05}, int8 bz = {0}, float ys = {0.3}, int8 yz = {-4}>
    { y = QLinearMatMul(a, as, az, b, bs, bz, ys, yz) })",
                     {{"a", a}, {"b", b}})[0];
  const auto v1 = valuesOf<int8_t>(q1), v2 = valuesOf<int8_t>(q2);
  for (size_t i = 0; i < v1.size(); ++i) EXPECT_LE(std::abs(v1[i] - v2[i]), 1) << i;
}

}  // namespace
}  // namespace effdl::test
