// QDQ fusion (runtime/qdq_fusion.h): QDQ Conv, MatMul and Gemm models give the same outputs fused
// (one int8 kernel per group) as unfused (every DequantizeLinear, float op and QuantizeLinear on
// its own: the float reference) within one quantization step; Add, MaxPool and Reshape between
// QDQ pairs give identical outputs; groups whose intermediate values are read elsewhere are left
// unfused. Session::numKernels() shows what was fused.
#include <gtest/gtest.h>

#include <random>

#include "runtime/session.h"
#include "test_util.h"

namespace effdl::test {
namespace {

using runtime::Session;

std::string randomList(std::mt19937& rng, int64_t n, int lo, int hi) {
  std::uniform_int_distribution<int> d(lo, hi);
  std::string s = "{";
  for (int64_t i = 0; i < n; ++i) s += (i ? ", " : "") + std::to_string(d(rng));
  return s + "}";
}

struct RunResult {
  std::vector<float> y;
  size_t kernels = 0;
};

RunResult runOnce(const ir::Model& m, const ir::Tensor& x, bool fuse) {
  runtime::SessionOptions o;
  o.threads = 1;
  o.fuseQdq = fuse;
  Session s(m, o);
  auto out = s.run({{"x", &x}});
  auto v = out[0].values<float>();
  return {{v.begin(), v.end()}, s.numKernels()};
}

// Fused and unfused outputs of `text` (whose output is DequantizeLinear(y_q) with scale yScale)
// agree within one step; returns the two kernel counts.
std::pair<size_t, size_t> expectWithinOneStep(const std::string& text, const ir::Tensor& x, float yScale) {
  auto m = parse(text);
  RunResult fused = runOnce(*m, x, true), plain = runOnce(*m, x, false);
  EXPECT_EQ(fused.y.size(), plain.y.size());
  size_t differ = 0;
  for (size_t i = 0; i < fused.y.size() && i < plain.y.size(); ++i) {
    EXPECT_LE(std::fabs(fused.y[i] - plain.y[i]), yScale * 1.001f) << "element " << i;
    differ += fused.y[i] != plain.y[i];
  }
  // Off by one step only where the float sum lands on a rounding tie: rare.
  EXPECT_LE(differ * 100, fused.y.size()) << differ << " of " << fused.y.size() << " elements differ";
  return {fused.kernels, plain.kernels};
}

// x → Q → DQ → Conv(DQ(w s8 per channel), DQ(bias int32)) → Relu → Q → DQ → y
// The bias scale is xs·ws: computed by a Mul (not a constant: no fusion), or given as `bsc`.
std::string qdqConvModel(std::mt19937& rng, const std::string& act, const std::string& bias, bool constBiasScale = false) {
  const int64_t M = 8, C = 4;
  std::uniform_real_distribution<float> d(0.002f, 0.01f);
  std::string ws = "{", bsc = "{";
  for (int64_t m = 0; m < M; ++m) {
    const float w = d(rng);
    ws += (m ? ", " : "") + std::to_string(w);
    bsc += (m ? ", " : "") + std::to_string(w * 0.02f);
  }
  ws += "}", bsc += "}";
  return R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[1,4,10,10] x) => (float[1,8,5,5] y)
      <float xs = {0.02}, uint8 xz = {120}, int8[8,4,3,3] wq = )" +
         randomList(rng, M * C * 9, -127, 127) + R"(, float[8] ws = )" + ws + R"(, float[8] bsc = )" + bsc +
         R"(, int8[8] wz = {0, 0, 0, 0, 0, 0, 0, 0}, int32[8] bq = )" + randomList(rng, M, -3000, 3000) +
         R"(, float[8] bf = )" + floatList(rng, M, -0.5f, 0.5f) + R"(, int32[8] bz = {0, 0, 0, 0, 0, 0, 0, 0},
       float lo = {-0.3}, float hi = {0.6}, float ys = {0.01}, uint8 yz = {40}>
    {
      xq = QuantizeLinear(x, xs, xz)
      xd = DequantizeLinear(xq, xs, xz)
      wd = DequantizeLinear <axis = 0> (wq, ws, wz)
      bs = )" + std::string(constBiasScale ? "Identity(bsc)" : "Mul(ws, xs)") + R"(
      bd = DequantizeLinear <axis = 0> (bq, )" + std::string(constBiasScale ? "bsc" : "bs") + R"(, bz)
      c = Conv <pads = [1, 1, 1, 1], strides = [2, 2]> (xd, wd, )" +
         bias + R"()
      r = )" + act + R"(
      yq = QuantizeLinear(r, ys, yz)
      y = DequantizeLinear(yq, ys, yz)
    })";
}

TEST(RuntimeQdq, ConvWithInt32BiasAndReluRunsAsOneKernel) {
  std::mt19937 rng(1);
  // The bias scale is an initializer: Q(x), the group and DQ(y) remain (the Identity of
  // constants runs once when the session is built).
  auto [fused, plain] = expectWithinOneStep(qdqConvModel(rng, "Relu(c)", "bd", true), randomInput({1, 4, 10, 10}, 2), 0.01f);
  EXPECT_EQ(plain, 8u);
  EXPECT_EQ(fused, 3u);
  // The bias scale comes from a Mul of constants: folded at session build, so the Conv fuses too.
  auto [fused0, plain0] = expectWithinOneStep(qdqConvModel(rng, "Relu(c)", "bd"), randomInput({1, 4, 10, 10}, 2), 0.01f);
  EXPECT_EQ(plain0, 8u);
  EXPECT_EQ(fused0, 3u);
}

TEST(RuntimeQdq, ConvWithFloatBiasAndClip) {
  std::mt19937 rng(3);
  auto [fused, plain] = expectWithinOneStep(qdqConvModel(rng, "Clip(c, lo, hi)", "bf"), randomInput({1, 4, 10, 10}, 4), 0.01f);
  EXPECT_EQ(fused, 4u);  // Q(x), the group, DQ(y), and the unused bias DQ (its Mul is folded)
  EXPECT_EQ(plain, 8u);
}

TEST(RuntimeQdq, MatMulAndGemm) {
  std::mt19937 rng(5);
  const std::string matmul = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[2,3,32] x) => (float[2,3,16] y)
      <float xs = {0.03}, uint8 xz = {128}, int8[32,16] wq = )" +
                             randomList(rng, 32 * 16, -127, 127) + R"(, float[16] ws = )" + floatList(rng, 16, 0.001f, 0.01f) +
                             R"(, float ys = {0.02}, int8 yz = {3}>
    {
      xq = QuantizeLinear(x, xs, xz)
      xd = DequantizeLinear(xq, xs, xz)
      wd = DequantizeLinear <axis = 1> (wq, ws)
      m = MatMul(xd, wd)
      yq = QuantizeLinear(m, ys, yz)
      y = DequantizeLinear(yq, ys, yz)
    })";
  auto [f1, p1] = expectWithinOneStep(matmul, randomInput({2, 3, 32}, 6), 0.02f);
  EXPECT_EQ(f1, 3u);
  EXPECT_EQ(p1, 6u);
  const std::string gemm = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[4,32] x) => (float[4,10] y)
      <float xs = {0.03}, uint8 xz = {100}, int8[10,32] wq = )" +
                           randomList(rng, 10 * 32, -127, 127) + R"(, float[10] ws = )" + floatList(rng, 10, 0.001f, 0.01f) +
                           R"(, float[10] b = )" + floatList(rng, 10, -1.f, 1.f) + R"(, float ys = {0.02}, uint8 yz = {0}>
    {
      xq = QuantizeLinear(x, xs, xz)
      xd = DequantizeLinear(xq, xs, xz)
      wd = DequantizeLinear <axis = 0> (wq, ws)
      m = Gemm <transB = 1, alpha = 0.5, beta = 2.0> (xd, wd, b)
      r = Relu(m)
      yq = QuantizeLinear(r, ys, yz)
      y = DequantizeLinear(yq, ys, yz)
    })";
  auto [f2, p2] = expectWithinOneStep(gemm, randomInput({4, 32}, 7), 0.02f);
  EXPECT_EQ(f2, 3u);
  EXPECT_EQ(p2, 7u);
  // Without the final Q/DQ (a classifier's last layer): int8 products, a float output equal to
  // the float reference up to the order of float additions.
  std::string floatOut = gemm;
  const std::string tail = "r = Relu(m)\n      yq = QuantizeLinear(r, ys, yz)\n      y = DequantizeLinear(yq, ys, yz)";
  ASSERT_NE(floatOut.find(tail), std::string::npos);
  floatOut.replace(floatOut.find(tail), tail.size(), "y = Relu(m)");
  auto m = parse(floatOut);
  const ir::Tensor x = randomInput({4, 32}, 8);
  RunResult fused = runOnce(*m, x, true), plain = runOnce(*m, x, false);
  EXPECT_EQ(fused.kernels, 2u);  // Q(x), the group
  EXPECT_EQ(plain.kernels, 5u);
  ASSERT_EQ(fused.y.size(), plain.y.size());
  for (size_t i = 0; i < fused.y.size(); ++i) EXPECT_NEAR(fused.y[i], plain.y[i], 1e-5f * (1 + std::fabs(plain.y[i]))) << i;
}

TEST(RuntimeQdq, AddMaxPoolReshapeAndConcatBetweenQdqPairsAreExact) {
  const std::string text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[1,2,6,6] x) => (float[1,36] y)
      <float as = {0.02}, uint8 az = {128}, float bs = {0.03}, uint8 bz = {100}, float ys = {0.025}, uint8 yz = {0},
       int64[2] shape = {1, 18}>
    {
      aq = QuantizeLinear(x, as, az)
      n = Neg(x)
      bq = QuantizeLinear(n, bs, bz)
      ad = DequantizeLinear(aq, as, az)
      bd = DequantizeLinear(bq, bs, bz)
      s = Add(ad, bd)
      r = Relu(s)
      sq = QuantizeLinear(r, ys, yz)
      sd = DequantizeLinear(sq, ys, yz)
      p = MaxPool <kernel_shape = [2, 2], strides = [2, 2]> (sd)
      pq = QuantizeLinear(p, ys, yz)
      pd = DequantizeLinear(pq, ys, yz)
      f = Reshape(pd, shape)
      fq = QuantizeLinear(f, ys, yz)
      fd = DequantizeLinear(fq, ys, yz)
      k = Concat <axis = 1> (fd, fd)
      kq = QuantizeLinear(k, ys, yz)
      y = DequantizeLinear(kq, ys, yz)
    })";
  auto m = parse(text);
  const ir::Tensor x = randomInput({1, 2, 6, 6}, 8);
  RunResult fused = runOnce(*m, x, true), plain = runOnce(*m, x, false);
  EXPECT_EQ(fused.y, plain.y);
  EXPECT_EQ(plain.kernels, 18u);
  EXPECT_EQ(fused.kernels, 8u);  // Q(x), Neg, Q(n), groups: add, MaxPool, Reshape, Concat; DQ(y)
}

TEST(RuntimeQdq, ValuesReadOutsideTheGroupStayFloat) {
  std::mt19937 rng(9);
  std::string text = qdqConvModel(rng, "Relu(c)", "bf");
  // The Conv's float output is also a graph output: the Conv runs as int8 with a float output
  // (DQ, DQ, Conv) and Relu, Q, DQ stay separate.
  text.replace(text.find("=> (float[1,8,5,5] y)"), 21, "=> (float[1,8,5,5] y, float[1,8,5,5] c)");
  auto m = parse(text);
  const ir::Tensor x = randomInput({1, 4, 10, 10}, 10);
  runtime::SessionOptions o;
  o.threads = 1;
  Session fusedSession(*m, o);
  o.fuseQdq = false;
  Session plainSession(*m, o);
  EXPECT_EQ(plainSession.numKernels(), 8u);  // the bias scale's Mul of constants is folded
  EXPECT_EQ(fusedSession.numKernels(), 6u);
  auto a = fusedSession.run({{"x", &x}}), b = plainSession.run({{"x", &x}});
  auto ay = a[0].values<float>(), by = b[0].values<float>(), ac = a[1].values<float>(), bc = b[1].values<float>();
  for (size_t i = 0; i < ay.size(); ++i) EXPECT_LE(std::fabs(ay[i] - by[i]), 0.01f * 1.001f) << i;
  for (size_t i = 0; i < ac.size(); ++i) EXPECT_NEAR(ac[i], bc[i], 1e-5f * (1 + std::fabs(bc[i]))) << i;
}

// A DQ read by two fused groups is dropped (both read its input); one also read by a float op stays.
TEST(RuntimeQdq, SharedDequantize) {
  std::mt19937 rng(11);
  const std::string w1 = randomList(rng, 4 * 4, -127, 127), w2 = randomList(rng, 4 * 4, -127, 127);
  const std::string text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[1,4,3,3] x) => (float[1,4,3,3] y)
      <float xs = {0.02}, uint8 xz = {128}, int8[4,4,1,1] w1 = )" + w1 + R"(, int8[4,4,1,1] w2 = )" + w2 + R"(,
       float ws = {0.01}, float ys = {0.05}, uint8 yz = {128}>
    {
      xq = QuantizeLinear(x, xs, xz)
      xd = DequantizeLinear(xq, xs, xz)
      d1 = DequantizeLinear(w1, ws)
      d2 = DequantizeLinear(w2, ws)
      c1 = Conv(xd, d1)
      c2 = Conv(xd, d2)
      q1 = QuantizeLinear(c1, ys, yz)
      q2 = QuantizeLinear(c2, ys, yz)
      e1 = DequantizeLinear(q1, ys, yz)
      e2 = DequantizeLinear(q2, ys, yz)
      y = Add(e1, e2)
    })";
  auto [fused, plain] = expectWithinOneStep(text, randomInput({1, 4, 3, 3}, 12), 2 * 0.05f);
  EXPECT_EQ(plain, 11u);
  EXPECT_EQ(fused, 6u);  // Q(x), two groups, two DQ(y), Add
  std::string kept = text;
  kept.replace(kept.find("y = Add(e1, e2)"), 15, "s = Add(e1, e2)\n      y = Add(s, xd)");
  auto [fused2, plain2] = expectWithinOneStep(kept, randomInput({1, 4, 3, 3}, 12), 2 * 0.05f);
  EXPECT_EQ(plain2, 12u);
  EXPECT_EQ(fused2, 8u);  // Q(x), DQ(x) for the last Add, two groups, two DQ(y), two Adds
}

TEST(RuntimeQdq, ChannelsLastChainThroughConvDepthwiseReferenceMaxPoolAndAdd) {
  // Quantized values that only fused groups pass between them stay channels-last: the depthwise
  // conv's output, conv3's (uint8 weights up to 255 do not fit s8: the C++ path, with conversions
  // around it) and the Add's (read by conv4, whose float-dequantized output is NCHW). conv1's
  // output is also read by a MaxPool group, so it stays NCHW, and so does the MaxPool's, which the
  // Add converts before adding it to conv3's channels-last output.
  std::mt19937 rng(21);
  const std::string text = R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[1,4,6,6] x) => (float[1,4,6,6] y)
      <float xs = {0.02}, uint8 xz = {128}, float ws = {0.004}, float ys = {0.03}, uint8 yz = {10},
       int8[16,4,1,1] w1 = )" + randomList(rng, 64, -127, 127) + R"(, int8[16,1,3,3] w2 = )" +
                           randomList(rng, 144, -127, 127) + R"(, uint8[16,16,1,1] w3 = )" + randomList(rng, 256, 0, 255) +
                           R"(, uint8 w3z = {0}, int8[4,16,1,1] w4 = )" + randomList(rng, 64, -127, 127) + R"(>
    {
      xq = QuantizeLinear(x, xs, xz)
      xd = DequantizeLinear(xq, xs, xz)
      d1 = DequantizeLinear(w1, ws)
      c1 = Conv(xd, d1)
      r1 = Relu(c1)
      q1 = QuantizeLinear(r1, ys, yz)
      e1 = DequantizeLinear(q1, ys, yz)
      d2 = DequantizeLinear(w2, ws)
      c2 = Conv <group = 16, pads = [1, 1, 1, 1]> (e1, d2)
      q2 = QuantizeLinear(c2, ys, yz)
      e2 = DequantizeLinear(q2, ys, yz)
      d3 = DequantizeLinear(w3, ws, w3z)
      c3 = Conv(e2, d3)
      q3 = QuantizeLinear(c3, ys, yz)
      e3 = DequantizeLinear(q3, ys, yz)
      e1b = DequantizeLinear(q1, ys, yz)
      mp = MaxPool <kernel_shape = [1, 1]> (e1b)
      qm = QuantizeLinear(mp, ys, yz)
      em = DequantizeLinear(qm, ys, yz)
      s = Add(e3, em)
      qs = QuantizeLinear(s, ys, yz)
      es = DequantizeLinear(qs, ys, yz)
      d4 = DequantizeLinear(w4, ws)
      c4 = Conv(es, d4)
      q4 = QuantizeLinear(c4, ys, yz)
      y = DequantizeLinear(q4, ys, yz)
    })";
  auto m = parse(text);
  const auto x = randomInput({1, 4, 6, 6}, 22);
  RunResult fused = runOnce(*m, x, true), plain = runOnce(*m, x, false);
  EXPECT_EQ(plain.kernels, 26u);
  EXPECT_EQ(fused.kernels, 8u);  // Q(x), conv1, depthwise, conv3, MaxPool, Add, conv4, DQ(y)
  ASSERT_EQ(fused.y.size(), plain.y.size());
  // Rounding ties may differ by a step inside the chain; a step at conv4's input moves y by a few.
  size_t differ = 0;
  for (size_t i = 0; i < fused.y.size(); ++i) {
    EXPECT_LE(std::fabs(fused.y[i] - plain.y[i]), 3 * 0.03f * 1.001f) << "element " << i;
    differ += fused.y[i] != plain.y[i];
  }
  EXPECT_LE(differ * 10, fused.y.size()) << differ << " of " << fused.y.size() << " elements differ";
}

}  // namespace
}  // namespace effdl::test
