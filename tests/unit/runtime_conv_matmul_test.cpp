// The oneDNN-backed kernels: Conv, ConvTranspose, Gemm, MatMul. Small hand-computed cases pin the
// semantics (pads, auto_pad, groups, output_shape, broadcasting); seeded random shapes check the
// oneDNN paths (float32) against the plain C++ paths (float64) and naive loops; bad shapes are
// errors naming the node, never crashes.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>

#include "core/error.h"
#include "runtime/kernels/half.h"
#include "runtime/session.h"
#include "test_util.h"

namespace effdl::test {
namespace {

using runtime::Session;

ir::Tensor tensorOf(std::vector<int64_t> dims, std::vector<float> v) {
  return ir::Tensor::fromVector(ir::DataType::kFloat, std::move(dims), v);
}

ir::Tensor iota(std::vector<int64_t> dims, float start = 1) {
  int64_t n = 1;
  for (auto d : dims) n *= d;
  std::vector<float> v(static_cast<size_t>(n));
  for (size_t i = 0; i < v.size(); ++i) v[i] = start + static_cast<float>(i);
  return tensorOf(std::move(dims), v);
}

std::vector<float> valuesOf(const ir::Tensor& t) {
  auto s = t.values<float>();
  return {s.begin(), s.end()};
}

void expectNear(const std::vector<float>& got, const std::vector<float>& want, float tol = 1e-4f) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_NEAR(got[i], want[i], tol * (1 + std::fabs(want[i]))) << "element " << i;
}

// Runs a one-input model and returns output 0.
ir::Tensor run1(const std::string& text, const ir::Tensor& x, int threads = 1) {
  auto m = parse(text);
  Session s(*m, {threads});
  return s.run({{"x", &x}})[0];
}

// ------------------------------------------------------------------------------ hand-computed
TEST(RuntimeConv, PlainConvWithBias) {
  auto y = run1(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,1,3,3] x) => (float[1,1,2,2] y) <float[1,1,2,2] w = {1, 1, 1, 1}, float[1] b = {10}>
    { y = Conv(x, w, b) })",
                iota({1, 1, 3, 3}));
  EXPECT_EQ(y.dims(), (std::vector<int64_t>{1, 1, 2, 2}));
  expectNear(valuesOf(y), {22, 26, 34, 38});
}

TEST(RuntimeConv, PadsStridesAndAutoPad) {
  // 3×3 ones over 1..9 padded by 1: the sum of each 3×3 neighbourhood; stride 2 keeps the corners.
  auto y = run1(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,1,3,3] x) => (float[1,1,2,2] y) <float[1,1,3,3] w = {1, 1, 1, 1, 1, 1, 1, 1, 1}>
    { y = Conv <pads = [1, 1, 1, 1], strides = [2, 2]> (x, w) })",
                iota({1, 1, 3, 3}));
  expectNear(valuesOf(y), {12, 16, 24, 28});
  // Kernel 3, stride 2 on 4 wide: total padding 1, at the end for SAME_UPPER, at the start for
  // SAME_LOWER.
  const char* same = R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,1,4] x) => (float[1,1,2] y) <float[1,1,3] w = {1, 10, 100}>
    { y = Conv <auto_pad = "%s", strides = [2]> (x, w) })";
  char text[512];
  std::snprintf(text, sizeof text, same, "SAME_UPPER");
  expectNear(valuesOf(run1(text, iota({1, 1, 4}))), {321, 43});
  std::snprintf(text, sizeof text, same, "SAME_LOWER");
  expectNear(valuesOf(run1(text, iota({1, 1, 4}))), {210, 432});
}

TEST(RuntimeConv, DepthwiseAndDilated) {
  // Two channels, group 2: each channel scaled by its own 1×1 weight.
  auto y = run1(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,2,2,2] x) => (float[1,2,2,2] y) <float[2,1,1,1] w = {2, -1}>
    { y = Conv <group = 2> (x, w) })",
                iota({1, 2, 2, 2}));
  expectNear(valuesOf(y), {2, 4, 6, 8, -5, -6, -7, -8});
  // Dilation 2 on 1..5 with {1, 1}: x[i] + x[i+2].
  auto d = run1(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,1,5] x) => (float[1,1,3] y) <float[1,1,2] w = {1, 1}>
    { y = Conv <dilations = [2]> (x, w) })",
                iota({1, 1, 5}));
  expectNear(valuesOf(d), {4, 6, 8});
}

TEST(RuntimeConv, WeightsAsInputAndSymbolicBatch) {
  // Non-constant weights (reordered per run) and a batch that is only known at run time.
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[N,1,3,3] x, float[1,1,2,2] w) => (float[N,1,2,2] y) { y = Conv(x, w) })");
  Session s(*m, {1});
  auto w = tensorOf({1, 1, 2, 2}, {1, 0, 0, -1});
  for (int64_t n : {1, 3}) {
    auto x = iota({n, 1, 3, 3});
    auto y = s.run({{"x", &x}, {"w", &w}})[0];
    EXPECT_EQ(y.dims(), (std::vector<int64_t>{n, 1, 2, 2}));
    for (float v : valuesOf(y)) EXPECT_FLOAT_EQ(v, -4);
  }
}

TEST(RuntimeConvTranspose, BasicOutputPaddingAndOutputShape) {
  const char* base = R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,1,2,2] x) => (float[1,1,%s] y) <float[1,1,2,2] w = {1, 1, 1, 1}>
    { y = ConvTranspose <%s> (x, w) })";
  char text[512];
  std::snprintf(text, sizeof text, base, "3,3", "strides = [1, 1]");
  expectNear(valuesOf(run1(text, iota({1, 1, 2, 2}))), {1, 3, 2, 4, 10, 6, 3, 7, 4});
  // output_padding adds a row and a column that only the (absent) bias reaches.
  std::snprintf(text, sizeof text, base, "5,5", "strides = [2, 2], output_padding = [1, 1]");
  auto y = run1(text, iota({1, 1, 2, 2}));
  ASSERT_EQ(y.dims(), (std::vector<int64_t>{1, 1, 5, 5}));
  expectNear(valuesOf(y), {1, 1, 2, 2, 0, 1, 1, 2, 2, 0, 3, 3, 4, 4, 0, 3, 3, 4, 4, 0, 0, 0, 0, 0, 0});
  // output_shape 3×3 from a natural 4×4: one element of padding, at the start (ONNX, ORT).
  std::snprintf(text, sizeof text, base, "3,3", "strides = [2, 2], output_shape = [3, 3]");
  expectNear(valuesOf(run1(text, iota({1, 1, 2, 2}))), {1, 2, 2, 3, 4, 4, 3, 4, 4});
}

TEST(RuntimeConvTranspose, AutoPadSameMatchesOnnxRuntime) {
  // Expected rows from ONNX Runtime 1.30: 1..9 in 3×3, 3×3 ones, stride 2 → 6×6 (natural 7).
  const char* base = R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,1,3,3] x) => (float[1,1,6,6] y) <float[1,1,3,3] w = {1, 1, 1, 1, 1, 1, 1, 1, 1}>
    { y = ConvTranspose <auto_pad = "%s", strides = [2, 2]> (x, w) })";
  char text[512];
  std::snprintf(text, sizeof text, base, "SAME_UPPER");
  auto up = valuesOf(run1(text, iota({1, 1, 3, 3})));
  ASSERT_EQ(up.size(), 36u);
  expectNear({up.begin(), up.begin() + 6}, {1, 1, 3, 2, 5, 3});
  std::snprintf(text, sizeof text, base, "SAME_LOWER");
  auto low = valuesOf(run1(text, iota({1, 1, 3, 3})));
  expectNear({low.begin(), low.begin() + 6}, {1, 3, 2, 5, 3, 3});
}

TEST(RuntimeGemm, TransposesAlphaBetaAndBroadcastC) {
  // A = [[1,2],[3,4]], B given transposed: B^T = [[1,0],[1,1]] → A·B = [[3,2],[7,4]].
  const char* text = R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2,2] x) => (float[2,2] y) <float[2,2] b = {1, 1, 0, 1}, float[%s] c = {%s}>
    { y = Gemm <transB = 1, alpha = 2.0, beta = 0.5> (x, b, c) })";
  char buf[512];
  std::snprintf(buf, sizeof buf, text, "2", "10, 20");  // a row: the fused bias
  expectNear(valuesOf(run1(buf, iota({2, 2}))), {11, 14, 19, 18});
  std::snprintf(buf, sizeof buf, text, "2,1", "10, 20");  // a column: added by prefilling Y
  expectNear(valuesOf(run1(buf, iota({2, 2}))), {11, 9, 24, 18});
  std::snprintf(buf, sizeof buf, text, "1", "4");  // a scalar
  expectNear(valuesOf(run1(buf, iota({2, 2}))), {8, 6, 16, 10});
  // transA, B an input, no C.
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[3,2] x, float[3,2] b) => (float[2,2] y) { y = Gemm <transA = 1> (x, b) })");
  Session s(*m, {1});
  auto a = iota({3, 2}), b = tensorOf({3, 2}, {1, 0, 0, 1, 1, 1});
  expectNear(valuesOf(s.run({{"x", &a}, {"b", &b}})[0]), {1 + 5, 3 + 5, 2 + 6, 4 + 6});
}

TEST(RuntimeGemm, LegacyBroadcastFlag) {
  // Opset 6: C must match Y unless broadcast=1.
  const char* text = R"(
    <ir_version: 4, opset_import: ["" : 6]>
    g (float[2,2] x) => (float[2,2] y) <float[2,2] b = {1, 0, 0, 1}, float[2] c = {1, 2}>
    { y = Gemm <broadcast = %d> (x, b, c) })";
  char buf[512];
  std::snprintf(buf, sizeof buf, text, 1);
  expectNear(valuesOf(run1(buf, iota({2, 2}))), {2, 4, 4, 6});
  std::snprintf(buf, sizeof buf, text, 0);
  std::string msg;
  EXPECT_EQ(kindOf([&] { run1(buf, iota({2, 2})); }, &msg), ErrorKind::kInvalidModel);
  EXPECT_NE(msg.find("Gemm"), std::string::npos) << msg;
}

TEST(RuntimeMatMul, VectorsAndBroadcastBatches) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[K] x, float[K] v) => (float y) { y = MatMul(x, v) })");
  Session s(*m, {1});
  auto x = iota({3}), v = tensorOf({3}, {1, 1, 2});
  auto y = s.run({{"x", &x}, {"v", &v}})[0];
  EXPECT_TRUE(y.dims().empty());
  expectNear(valuesOf(y), {9});

  // [2,1,2,3] × [3,3,2] → [2,3,2,2]: A's batch of 1 broadcasts over B's 3, B over A's 2.
  auto mb = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2,1,2,3] x, float[3,3,2] b) => (float[2,3,2,2] y) { y = MatMul(x, b) })");
  Session sb(*mb, {1});
  auto a = iota({2, 1, 2, 3}), b = iota({3, 3, 2}, -5);
  auto out = sb.run({{"x", &a}, {"b", &b}})[0];
  ASSERT_EQ(out.dims(), (std::vector<int64_t>{2, 3, 2, 2}));
  auto av = valuesOf(a), bv = valuesOf(b);
  std::vector<float> want;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int r = 0; r < 2; ++r)
        for (int c = 0; c < 2; ++c) {
          float acc = 0;
          for (int k = 0; k < 3; ++k) acc += av[static_cast<size_t>(i * 6 + r * 3 + k)] * bv[static_cast<size_t>(j * 6 + k * 2 + c)];
          want.push_back(acc);
        }
  expectNear(valuesOf(out), want);
}

TEST(RuntimeMatMul, ConstantWeightsFlattenBatchAndVectorSides) {
  // A [2,2,3] × constant B [3,2]: one GEMM over 4 rows.
  const char* text = R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[N,2,3] x) => (float[N,2,2] y) <float[3,2] b = {1, 0, 0, 1, 1, 1}>
    { y = MatMul(x, b) })";
  auto y = run1(text, iota({2, 2, 3}));
  ASSERT_EQ(y.dims(), (std::vector<int64_t>{2, 2, 2}));
  expectNear(valuesOf(y), {4, 5, 10, 11, 16, 17, 22, 23});
  // 1-D A against a constant matrix; a matrix against a constant vector.
  auto v = run1(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[3] x) => (float[2] y) <float[3,2] b = {1, 0, 0, 1, 1, 1}> { y = MatMul(x, b) })",
                iota({3}));
  EXPECT_EQ(v.dims(), (std::vector<int64_t>{2}));
  expectNear(valuesOf(v), {4, 5});
  auto mv = run1(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2,3] x) => (float[2] y) <float[3] b = {1, 0, -1}> { y = MatMul(x, b) })",
                 iota({2, 3}));
  expectNear(valuesOf(mv), {-2, -2});
}

TEST(RuntimeMatMul, IntegersAndDoublesTakeThePlainPath) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (int64[2,2] x, int64[2,2] b) => (int64[2,2] y) { y = MatMul(x, b) })");
  Session s(*m, {1});
  auto a = ir::Tensor::fromVector(ir::DataType::kInt64, {2, 2}, std::vector<int64_t>{1, 2, 3, 4});
  auto b = ir::Tensor::fromVector(ir::DataType::kInt64, {2, 2}, std::vector<int64_t>{5, 6, 7, 8});
  auto y = s.run({{"x", &a}, {"b", &b}})[0];
  auto v = y.values<int64_t>();
  EXPECT_EQ(std::vector<int64_t>(v.begin(), v.end()), (std::vector<int64_t>{19, 22, 43, 50}));
}

// ------------------------------------------------------------------------------------ errors
TEST(RuntimeConvMatMul, BadShapesAreErrorsNamingTheNode) {
  std::string msg;
  // Channels: weight expects 2, input has 3.
  auto conv = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,3,4,4] x) => (float[1,1,3,3] y) <float[1,2,2,2] w = {1, 1, 1, 1, 1, 1, 1, 1}>
    { y = Conv(x, w) })");
  conv->graph->nodes()[0]->setName("conv1");
  EXPECT_EQ(kindOf([&] { Session s(*conv, {1}); }, &msg), ErrorKind::kInvalidModel);
  EXPECT_NE(msg.find("node 'conv1' (Conv, opset 17)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("3 channels"), std::string::npos) << msg;

  // Input smaller than the kernel, found at run time (symbolic spatial dims).
  auto small = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,1,H,W] x) => (float[1,1,A,B] y) <float[1,1,3,3] w = {1, 1, 1, 1, 1, 1, 1, 1, 1}>
    { y = Conv(x, w) })");
  Session ss(*small, {1});
  auto tiny = iota({1, 1, 2, 2});
  EXPECT_EQ(kindOf([&] { ss.run({{"x", &tiny}}); }, &msg), ErrorKind::kInvalidModel);
  EXPECT_NE(msg.find("smaller than"), std::string::npos) << msg;

  // Rank 2 into Conv; bias of the wrong length.
  auto flat = iota({2, 2});
  EXPECT_EQ(kindOf([&] { ss.run({{"x", &flat}}); }, &msg), ErrorKind::kUsage);  // the session checks rank
  auto badBias = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,1,3,3] x, float[3] b) => (float[1,1,3,3] y) <float[1,1,1,1] w = {1}>
    { y = Conv(x, w, b) })");
  Session sb(*badBias, {1});
  auto x = iota({1, 1, 3, 3}), b = iota({3});
  EXPECT_EQ(kindOf([&] { sb.run({{"x", &x}, {"b", &b}}); }, &msg), ErrorKind::kInvalidModel);
  EXPECT_NE(msg.find("bias"), std::string::npos) << msg;

  // MatMul: inner dims differ; batch dims that do not broadcast.
  auto mm = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[A,B,C] x, float[D,E,F] w) => (float[A,B,F] y) { y = MatMul(x, w) })");
  Session sm(*mm, {1});
  auto a = iota({2, 2, 3}), w1 = iota({2, 2, 2}), w2 = iota({3, 3, 2});
  EXPECT_EQ(kindOf([&] { sm.run({{"x", &a}, {"w", &w1}}); }, &msg), ErrorKind::kInvalidModel);
  EXPECT_NE(msg.find("cannot be multiplied"), std::string::npos) << msg;
  EXPECT_EQ(kindOf([&] { sm.run({{"x", &a}, {"w", &w2}}); }, &msg), ErrorKind::kInvalidModel);
  EXPECT_NE(msg.find("do not broadcast"), std::string::npos) << msg;

  // Gemm: K mismatch against constant weights; a C that does not broadcast.
  auto gemm = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[M,K] x, float[P,Q] c) => (float[M,2] y) <float[3,2] b = {1, 2, 3, 4, 5, 6}>
    { y = Gemm(x, b, c) })");
  Session sg(*gemm, {1});
  auto a4 = iota({2, 4}), a3 = iota({2, 3}), c3 = iota({3, 2});
  EXPECT_EQ(kindOf([&] { sg.run({{"x", &a4}, {"c", &c3}}); }, &msg), ErrorKind::kInvalidModel);
  EXPECT_NE(msg.find("cannot be multiplied"), std::string::npos) << msg;
  EXPECT_EQ(kindOf([&] { sg.run({{"x", &a3}, {"c", &c3}}); }, &msg), ErrorKind::kInvalidModel);
  EXPECT_NE(msg.find("does not broadcast"), std::string::npos) << msg;
}

// float16 models (--quantize fp16) are computed in float32: inputs widened, outputs rounded back.
// Halves of small integers are exact, so the products are too.
ir::Tensor halfOf(std::vector<int64_t> dims, const std::vector<float>& v) {
  std::vector<uint16_t> h(v.size());
  for (size_t i = 0; i < v.size(); ++i) h[i] = runtime::floatToHalf(v[i]);
  return ir::Tensor::fromVector(ir::DataType::kFloat16, std::move(dims), h);
}
std::vector<float> floatsOfHalf(const ir::Tensor& t) {
  EXPECT_EQ(t.dtype(), ir::DataType::kFloat16);
  std::vector<float> out;
  for (uint16_t h : t.values<uint16_t>()) out.push_back(runtime::halfToFloat(h));
  return out;
}

TEST(RuntimeConvMatMul, Float16MatMulRunsInFloat32) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float16[2,2] x, float16[2,2] b) => (float16[2,2] y) { y = MatMul(x, b) })");
  Session s(*m, {1});
  auto x = halfOf({2, 2}, {1, 2, 3, 4}), b = halfOf({2, 2}, {5, 6, 7, 8});
  auto y = s.run({{"x", &x}, {"b", &b}})[0];
  EXPECT_EQ(y.dims(), (std::vector<int64_t>{2, 2}));
  expectNear(floatsOfHalf(y), {19, 22, 43, 50}, 0);
}

TEST(RuntimeConvMatMul, Float16ConstantWeightsOfConvAndGemmAreWidenedOnce) {
  // x -> Conv(w: [2,1,1,1] = {2, -1}, b = {0.5, 1}) -> Flatten -> Gemm(B: [8,1] ones, transB=0)
  auto m = std::make_unique<ir::Model>();
  m->opsets = {{"", 17}};
  ir::Graph& g = *m->graph;
  ir::Value* x = g.addInput("x", ir::ValueType::tensor(ir::DataType::kFloat16,
                                                       {ir::Dim::known(1), ir::Dim::known(1), ir::Dim::known(2),
                                                        ir::Dim::known(2)}));
  ir::Value* w = g.addInitializer("w", halfOf({2, 1, 1, 1}, {2, -1}));
  ir::Value* b = g.addInitializer("b", halfOf({2}, {0.5f, 1}));
  ir::Value* ones = g.addInitializer("ones", halfOf({8, 1}, std::vector<float>(8, 1.0f)));
  ir::Node* conv = g.createNode("Conv", {x, w, b}, {"c"});
  conv->output(0)->setType(ir::ValueType::tensor(ir::DataType::kFloat16, {}));
  ir::Node* flat = g.createNode("Flatten", {conv->output(0)}, {"f"});
  flat->output(0)->setType(ir::ValueType::tensor(ir::DataType::kFloat16, {}));
  ir::Node* gemm = g.createNode("Gemm", {flat->output(0), ones}, {"y"});
  gemm->output(0)->setType(ir::ValueType::tensor(ir::DataType::kFloat16, {}));
  g.addOutput(conv->output(0));
  g.addOutput(gemm->output(0));
  Session s(*m, {1});
  auto in = halfOf({1, 1, 2, 2}, {1, 2, 3, 4});
  for (int run = 0; run < 2; ++run) {
    auto out = s.run({{"x", &in}});
    expectNear(floatsOfHalf(out[0]), {2.5f, 4.5f, 6.5f, 8.5f, 0, -1, -2, -3}, 0);
    expectNear(floatsOfHalf(out[1]), {16}, 0);  // 22 - 6
  }
}

TEST(RuntimeConvMatMul, Bfloat16IsRefusedAtBuild) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (bfloat16[2,2] x, bfloat16[2,2] b) => (bfloat16[2,2] y) { y = MatMul(x, b) })");
  std::string msg;
  EXPECT_EQ(kindOf([&] { Session s(*m, {1}); }, &msg), ErrorKind::kUnsupported);
  EXPECT_NE(msg.find("bfloat16"), std::string::npos) << msg;
}

// ------------------------------------------------------------- oneDNN against plain C++ paths
// A model with one Conv/ConvTranspose whose weights are initializers, in float or double.
std::unique_ptr<ir::Model> convModel(bool transposed, ir::DataType dt, const std::vector<int64_t>& xDims,
                                     const std::vector<int64_t>& wDims, const std::vector<double>& w,
                                     const std::vector<double>& b, const std::vector<ir::Attribute>& attrs) {
  auto m = std::make_unique<ir::Model>();
  m->opsets = {{"", 17}};
  ir::Graph& g = *m->graph;
  std::vector<ir::Dim> dims;
  for (int64_t d : xDims) dims.push_back(ir::Dim::known(d));
  ir::Value* x = g.addInput("x", ir::ValueType::tensor(dt, dims));
  auto make = [&](const std::vector<int64_t>& d, const std::vector<double>& v) {
    if (dt == ir::DataType::kDouble) return ir::Tensor::fromVector(dt, d, v);
    return ir::Tensor::fromVector(dt, d, std::vector<float>(v.begin(), v.end()));
  };
  ir::Value* wv = g.addInitializer("w", make(wDims, w));
  std::vector<ir::Value*> ins{x, wv};
  if (!b.empty()) ins.push_back(g.addInitializer("b", make({static_cast<int64_t>(b.size())}, b)));
  ir::Node* n = g.createNode(transposed ? "ConvTranspose" : "Conv", ins, {"y"});
  n->setName("conv");
  for (const auto& a : attrs) {
    ir::Attribute c;
    c.name = a.name;
    c.type = a.type;
    c.ints = a.ints;
    c.i = a.i;
    c.s = a.s;
    n->setAttr(std::move(c));
  }
  g.addOutput(n->output(0));
  return m;
}

TEST(RuntimeConvMatMul, RandomConvsAgreeWithPlainPath) {
  std::mt19937 rng(1234);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  std::uniform_real_distribution<double> val(-1, 1);
  int checked = 0;
  for (int iter = 0; iter < 60; ++iter) {
    const bool transposed = iter % 3 == 2;
    const int nsp = pick(1, 3);
    const int64_t G = pick(1, 3), Cg = pick(1, 3), Mg = pick(1, 4), N = pick(1, 2);
    std::vector<int64_t> x{N, G * Cg}, w, k, strides, dil, pads(static_cast<size_t>(2 * nsp)), outPad;
    w = transposed ? std::vector<int64_t>{G * Cg, Mg} : std::vector<int64_t>{G * Mg, Cg};
    for (int d = 0; d < nsp; ++d) {
      k.push_back(pick(1, 3));
      strides.push_back(pick(1, 2));
      dil.push_back(pick(1, 2));
      x.push_back(pick(nsp == 3 ? 3 : 4, nsp == 3 ? 6 : 9));
      w.push_back(k.back());
      pads[static_cast<size_t>(d)] = pick(0, 2);
      pads[static_cast<size_t>(d + nsp)] = pick(0, 2);
      outPad.push_back(pick(0, static_cast<int>(std::max(strides.back(), dil.back())) - 1));
    }
    std::vector<ir::Attribute> attrs;
    attrs.push_back(ir::Attribute::makeInts("strides", strides));
    attrs.push_back(ir::Attribute::makeInts("dilations", dil));
    attrs.push_back(ir::Attribute::makeInt("group", G));
    const int mode = pick(0, 3);  // explicit pads, SAME_UPPER, SAME_LOWER, VALID
    static const char* kAuto[] = {"NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"};
    if (mode == 0) attrs.push_back(ir::Attribute::makeInts("pads", pads));
    else attrs.push_back(ir::Attribute::makeString("auto_pad", kAuto[mode]));
    if (transposed) attrs.push_back(ir::Attribute::makeInts("output_padding", outPad));
    int64_t wn = 1, xn = 1;
    for (int64_t d : w) wn *= d;
    for (int64_t d : x) xn *= d;
    std::vector<double> wv(static_cast<size_t>(wn)), bv(pick(0, 1) ? static_cast<size_t>(G * Mg) : 0), xv(static_cast<size_t>(xn));
    for (auto* v : {&wv, &bv, &xv})
      for (double& e : *v) e = val(rng);
    auto mf = convModel(transposed, ir::DataType::kFloat, x, w, wv, bv, attrs);
    auto md = convModel(transposed, ir::DataType::kDouble, x, w, wv, bv, attrs);
    auto xf = ir::Tensor::fromVector(ir::DataType::kFloat, x, std::vector<float>(xv.begin(), xv.end()));
    auto xd = ir::Tensor::fromVector(ir::DataType::kDouble, x, xv);
    std::vector<ir::Tensor> yf, yd;
    std::string errF, errD;
    try {
      Session s(*mf, {1 + iter % 2});
      yf = s.run({{"x", &xf}});
    } catch (const Error& e) {
      errF = e.what();
    }
    try {
      Session s(*md, {1});
      yd = s.run({{"x", &xd}});
    } catch (const Error& e) {
      errD = e.what();
    }
    SCOPED_TRACE("iteration " + std::to_string(iter) + " x " + runtime::shapeString(x) + " w " + runtime::shapeString(w));
    ASSERT_EQ(errF, errD);  // shape errors (e.g. an empty output) the same on both paths
    if (!errF.empty()) continue;
    ASSERT_EQ(yf[0].dims(), yd[0].dims());
    auto f = yf[0].values<float>();
    auto d = yd[0].values<double>();
    for (size_t i = 0; i < d.size(); ++i) ASSERT_NEAR(f[i], d[i], 1e-4 * (1 + std::fabs(d[i]))) << "element " << i;
    ++checked;
  }
  EXPECT_GT(checked, 40);
}

// Float conv against the float64 plain path on the same values.
void expectConvMatchesPlainPath(const std::vector<int64_t>& x, const std::vector<int64_t>& w, bool bias,
                                const std::function<std::vector<ir::Attribute>()>& attrs, int threads, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> val(-1, 1);
  int64_t wn = 1, xn = 1;
  for (int64_t d : w) wn *= d;
  for (int64_t d : x) xn *= d;
  std::vector<double> wv(static_cast<size_t>(wn)), bv(bias ? static_cast<size_t>(w[0]) : 0), xv(static_cast<size_t>(xn));
  for (auto* v : {&wv, &bv, &xv})
    for (double& e : *v) e = val(rng);
  auto mf = convModel(false, ir::DataType::kFloat, x, w, wv, bv, attrs());
  auto md = convModel(false, ir::DataType::kDouble, x, w, wv, bv, attrs());
  auto xf = ir::Tensor::fromVector(ir::DataType::kFloat, x, std::vector<float>(xv.begin(), xv.end()));
  auto xd = ir::Tensor::fromVector(ir::DataType::kDouble, x, xv);
  Session sf(*mf, {threads}), sd(*md, {1});
  auto yf = sf.run({{"x", &xf}});
  auto yd = sd.run({{"x", &xd}});
  ASSERT_EQ(yf[0].dims(), yd[0].dims());
  auto f = yf[0].values<float>();
  auto d = yd[0].values<double>();
  for (size_t i = 0; i < d.size(); ++i) ASSERT_NEAR(f[i], d[i], 1e-4 * (1 + std::fabs(d[i]))) << "element " << i;
}

TEST(RuntimeConvMatMul, LargeDepthwiseAgreesWithPlainPath) {
  // Planes wide enough for the NCHW depthwise loop (on AVX-512 machines): 3×3 and 5×5, strides 1
  // and 2, symmetric, asymmetric and SAME padding, a batch of 2, 1 and 2 threads.
  int seed = 0;
  for (int64_t k : {3, 5})
    for (int64_t s : {1, 2})
      for (int pads = 0; pads < 3; ++pads) {
        SCOPED_TRACE("k " + std::to_string(k) + " s " + std::to_string(s) + " pads " + std::to_string(pads));
        auto attrs = [&] {
          std::vector<ir::Attribute> a;
          a.push_back(ir::Attribute::makeInt("group", 6));
          a.push_back(ir::Attribute::makeInts("strides", {s, s}));
          if (pads == 0) a.push_back(ir::Attribute::makeInts("pads", {k / 2, k / 2, k / 2, k / 2}));
          if (pads == 1) a.push_back(ir::Attribute::makeInts("pads", {0, 2, 1, 0}));
          if (pads == 2) a.push_back(ir::Attribute::makeString("auto_pad", "SAME_LOWER"));
          return a;
        };
        expectConvMatchesPlainPath({2, 6, 37, 70}, {6, 1, k, k}, pads != 1, attrs, 1 + seed % 2, static_cast<uint32_t>(seed));
        ++seed;
      }
}

TEST(RuntimeConvMatMul, GemmPathsAgreeWithNaiveLoops) {
  // Shapes that take each path: sgemm for 1–3 rows over big weights, reordered matmul otherwise,
  // at 1 and 2 threads; transB as PyTorch's Linear exports it.
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> val(-1, 1);
  struct Case {
    int64_t M, K, N;
  };
  for (Case c : {Case{1, 2048, 1024}, Case{3, 2048, 1024}, Case{4, 2048, 1024}, Case{1, 64, 48}, Case{5, 300, 70}}) {
    std::vector<float> a(static_cast<size_t>(c.M * c.K)), b(static_cast<size_t>(c.N * c.K)), bias(static_cast<size_t>(c.N));
    for (auto* v : {&a, &b, &bias})
      for (float& e : *v) e = val(rng);
    auto m = std::make_unique<ir::Model>();
    m->opsets = {{"", 17}};
    ir::Graph& g = *m->graph;
    ir::Value* x = g.addInput("x", ir::ValueType::tensor(ir::DataType::kFloat, {ir::Dim::symbolic("M"), ir::Dim::known(c.K)}));
    ir::Value* bw = g.addInitializer("b", ir::Tensor::fromVector(ir::DataType::kFloat, {c.N, c.K}, b));
    ir::Value* cb = g.addInitializer("c", ir::Tensor::fromVector(ir::DataType::kFloat, {c.N}, bias));
    ir::Node* n = g.createNode("Gemm", {x, bw, cb}, {"y"});
    n->setAttr(ir::Attribute::makeInt("transB", 1));
    g.addOutput(n->output(0));
    std::vector<float> want(static_cast<size_t>(c.M * c.N));
    for (int64_t i = 0; i < c.M; ++i)
      for (int64_t j = 0; j < c.N; ++j) {
        double acc = bias[static_cast<size_t>(j)];
        for (int64_t k = 0; k < c.K; ++k) acc += double(a[static_cast<size_t>(i * c.K + k)]) * b[static_cast<size_t>(j * c.K + k)];
        want[static_cast<size_t>(i * c.N + j)] = static_cast<float>(acc);
      }
    auto xt = ir::Tensor::fromVector(ir::DataType::kFloat, {c.M, c.K}, a);
    for (int threads : {1, 2}) {
      Session s(*m, {threads});
      SCOPED_TRACE("M=" + std::to_string(c.M) + " K=" + std::to_string(c.K) + " threads " + std::to_string(threads));
      expectNear(valuesOf(s.run({{"x", &xt}})[0]), want, 1e-4f);
      expectNear(valuesOf(s.run({{"x", &xt}})[0]), want, 1e-4f);  // cached plan
    }
  }
}

}  // namespace
}  // namespace effdl::test
