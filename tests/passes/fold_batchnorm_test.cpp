// fold-batchnorm: golden before/after in ONNX text syntax, with values chosen so the folded
// weights are exact, plus numeric checks against a direct evaluation of the original model.
#include <gtest/gtest.h>

#include <cmath>

#include "ir/verify.h"
#include "passes/registry.h"
#include "test_util.h"

namespace effdl::test {
namespace {

std::vector<float> floats(const ir::Model& m, const std::string& name) {
  const ir::Value* v = m.graph->findValue(name);
  EXPECT_TRUE(v && v->isInitializer()) << name;
  if (!v || !v->isInitializer()) return {};
  auto s = v->initializer().values<float>();
  return {s.begin(), s.end()};
}

// Runs fold-batchnorm on `text`; expects no change, and returns the statistics.
passes::PassResult expectUnchanged(const std::string& text) {
  auto m = parse(text);
  auto r = runPass(*m, "fold-batchnorm");
  EXPECT_EQ(print(*m), canonical(text));
  EXPECT_FALSE(r.changed);
  return r;
}

// BN(y)[c] in double, as the spec defines it.
double batchNorm(double y, double scale, double beta, double mean, double var, double eps) {
  return (y - mean) / std::sqrt(var + eps) * scale + beta;
}

// ---------------------------------------------------------------- Conv

// s = scale / sqrt(var + 0) = {3/2, 1/0.5} = {1.5, 2}
// W' = {1, 2} * 1.5, {3, 4} * 2 = {1.5, 3, 6, 8};  b' = (0 - mean) * s + beta = {-1, -5}
constexpr const char* kConvBn = R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,2,3,3] x) => (float[1,2,3,3] y)
       <float[2,2,1,1] w = {1.0, 2.0, 3.0, 4.0}, float[2] s = {3.0, 1.0}, float[2] bb = {0.5, -1.0},
        float[2] m = {1.0, 2.0}, float[2] v = {4.0, 0.25}>
    {
      c = Conv <kernel_shape = [1, 1]> (x, w)
      y = BatchNormalization <epsilon = 0.0> (c, s, bb, m, v)
    })";

TEST(FoldBatchnorm, ConvWithoutBiasKeepsTheOutputName) {
  auto m = parse(kConvBn);
  auto r = runPass(*m, "fold-batchnorm");
  // The old initializers stay until eliminate-dead: the pass never edits them (they may be shared).
  EXPECT_EQ(print(*m), canonical(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,2,3,3] x) => (float[1,2,3,3] y)
       <float[2,2,1,1] w = {1.0, 2.0, 3.0, 4.0}, float[2] s = {3.0, 1.0}, float[2] bb = {0.5, -1.0},
        float[2] m = {1.0, 2.0}, float[2] v = {4.0, 0.25},
        float[2,2,1,1] w_bn = {1.5, 3.0, 6.0, 8.0}, float[2] w_bias_bn = {-1.0, -5.0}>
    {
      y = Conv <kernel_shape = [1, 1]> (x, w_bn, w_bias_bn)
    })"));
  EXPECT_EQ(r.counter("BatchNormalization folded into Conv"), 1);
  EXPECT_TRUE(r.changed);
  EXPECT_TRUE(r.declined.empty());
  EXPECT_NO_THROW(ir::verifyModel(*m, /*strict=*/true));
}

TEST(FoldBatchnorm, WithEliminateDeadOnlyTheFoldedWeightsRemain) {
  auto m = parse(kConvBn);
  runPass(*m, "fold-batchnorm,eliminate-dead");
  EXPECT_EQ(print(*m), canonical(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,2,3,3] x) => (float[1,2,3,3] y)
       <float[2,2,1,1] w_bn = {1.5, 3.0, 6.0, 8.0}, float[2] w_bias_bn = {-1.0, -5.0}>
    {
      y = Conv <kernel_shape = [1, 1]> (x, w_bn, w_bias_bn)
    })"));
}

TEST(FoldBatchnorm, ConvWithBias) {
  // b' = (b - mean) * s + beta = {(1 - 1) * 1.5 + 0.5, (-1 - 2) * 2 - 1} = {0.5, -7}
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,2,3,3] x) => (float[1,2,3,3] y)
       <float[2,2,1,1] w = {1.0, 2.0, 3.0, 4.0}, float[2] b = {1.0, -1.0}, float[2] s = {3.0, 1.0},
        float[2] bb = {0.5, -1.0}, float[2] m = {1.0, 2.0}, float[2] v = {4.0, 0.25}>
    {
      c = Conv <kernel_shape = [1, 1]> (x, w, b)
      t = BatchNormalization <epsilon = 0.0> (c, s, bb, m, v)
      y = Relu(t)
    })");
  runPass(*m, "fold-batchnorm,eliminate-dead");
  EXPECT_EQ(print(*m), canonical(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,2,3,3] x) => (float[1,2,3,3] y)
       <float[2,2,1,1] w_bn = {1.5, 3.0, 6.0, 8.0}, float[2] b_bn = {0.5, -7.0}>
    {
      c = Conv <kernel_shape = [1, 1]> (x, w_bn, b_bn)
      y = Relu(c)
    })"));
  EXPECT_NO_THROW(ir::verifyModel(*m, /*strict=*/true));
}

TEST(FoldBatchnorm, Conv3x3NumericallyMatchesTheOriginal) {
  // Default epsilon (1e-5), values that are not exact in binary: evaluate a valid 3x3 conv
  // followed by BN directly, and the folded conv, at every output position.
  const char* text = R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,1,3,3] x) => (float[1,2,1,1] y)
       <float[2,1,3,3] w = {0.1, -0.2, 0.3, 0.4, 0.5, -0.6, 0.7, 0.8, 0.9,
                            -1.1, 1.2, 1.3, -1.4, 1.5, 1.6, 1.7, -1.8, 1.9},
        float[2] b = {0.3, -0.7}, float[2] s = {1.3, -0.45}, float[2] bb = {0.11, 2.5},
        float[2] m = {0.2, -1.7}, float[2] v = {0.9, 3.3}>
    {
      c = Conv <kernel_shape = [3, 3]> (x, w, b)
      y = BatchNormalization (c, s, bb, m, v)
    })";
  auto before = parse(text);
  auto after = parse(text);
  runPass(*after, "fold-batchnorm,eliminate-dead");
  ASSERT_EQ(after->graph->numNodes(), 1u);
  const std::vector<float> w = floats(*before, "w"), b = floats(*before, "b"), s = floats(*before, "s"),
                           bb = floats(*before, "bb"), m = floats(*before, "m"), v = floats(*before, "v");
  const std::vector<float> w2 = floats(*after, "w_bn"), b2 = floats(*after, "b_bn");
  ASSERT_EQ(w2.size(), 18u);
  ASSERT_EQ(b2.size(), 2u);
  const float x[9] = {0.5f, -1.0f, 2.0f, 0.25f, 3.0f, -0.75f, 1.5f, -2.0f, 0.125f};
  for (int o = 0; o < 2; ++o) {
    double conv = b[o], folded = b2[o];
    for (int k = 0; k < 9; ++k) {
      conv += static_cast<double>(w[o * 9 + k]) * x[k];
      folded += static_cast<double>(w2[o * 9 + k]) * x[k];
    }
    double expected = batchNorm(conv, s[o], bb[o], m[o], v[o], 1e-5);
    EXPECT_NEAR(folded, expected, 1e-5 * (1 + std::abs(expected))) << "channel " << o;
  }
  EXPECT_NO_THROW(ir::verifyModel(*after, /*strict=*/true));
}

// ---------------------------------------------------------------- ConvTranspose

// W [C_in=4, C_out/group=2, 1, 1], group 2: input channels {0,1} feed outputs {0,1}, input
// channels {2,3} feed outputs {2,3}; W[i, j] belongs to output channel g * 2 + j.
// s = 1 / sqrt(var) = {1, 2, 0.5, 4}
// W' = {1*1, 2*2}, {3*1, 4*2}, {5*0.5, 6*4}, {7*0.5, 8*4} = {1, 4, 3, 8, 2.5, 24, 3.5, 32}
// b' = (0 - 1) * s + 0.5 = {-0.5, -1.5, 0, -3.5}
constexpr const char* kConvTransposeBn = R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,4,1,1] x) => (float[1,4,1,1] y)
       <float[4,2,1,1] w = {1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0},
        float[4] s = {1.0, 1.0, 1.0, 1.0}, float[4] bb = {0.5, 0.5, 0.5, 0.5},
        float[4] m = {1.0, 1.0, 1.0, 1.0}, float[4] v = {1.0, 0.25, 4.0, 0.0625}>
    {
      c = ConvTranspose <group = 2, kernel_shape = [1, 1]> (x, w)
      y = BatchNormalization <epsilon = 0.0> (c, s, bb, m, v)
    })";

TEST(FoldBatchnorm, ConvTransposeWithGroupsScalesOutputChannels) {
  auto m = parse(kConvTransposeBn);
  auto r = runPass(*m, "fold-batchnorm");
  runPass(*m, "eliminate-dead");
  EXPECT_EQ(print(*m), canonical(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,4,1,1] x) => (float[1,4,1,1] y)
       <float[4,2,1,1] w_bn = {1.0, 4.0, 3.0, 8.0, 2.5, 24.0, 3.5, 32.0},
        float[4] w_bias_bn = {-0.5, -1.5, 0.0, -3.5}>
    {
      y = ConvTranspose <group = 2, kernel_shape = [1, 1]> (x, w_bn, w_bias_bn)
    })"));
  EXPECT_EQ(r.counter("BatchNormalization folded into ConvTranspose"), 1);
  EXPECT_NO_THROW(ir::verifyModel(*m, /*strict=*/true));
}

TEST(FoldBatchnorm, ConvTransposeNumericallyMatchesTheOriginal) {
  // A 1x1 ConvTranspose is per-pixel: y[o] = sum over i in group(o) of x[i] * W[i, o - g*2] + b[o].
  auto before = parse(kConvTransposeBn);
  auto after = parse(kConvTransposeBn);
  runPass(*after, "fold-batchnorm");
  const std::vector<float> w = floats(*before, "w"), w2 = floats(*after, "w_bn"), b2 = floats(*after, "w_bias_bn");
  const std::vector<float> s = floats(*before, "s"), bb = floats(*before, "bb"), m = floats(*before, "m"),
                           v = floats(*before, "v");
  const double x[4] = {0.5, -1.25, 2.0, 3.5};
  for (int o = 0; o < 4; ++o) {
    int g = o / 2, j = o % 2;
    double conv = 0, folded = b2[o];
    for (int i = g * 2; i < g * 2 + 2; ++i) {
      conv += x[i] * w[i * 2 + j];
      folded += x[i] * w2[i * 2 + j];
    }
    EXPECT_NEAR(folded, batchNorm(conv, s[o], bb[o], m[o], v[o], 0.0), 1e-6) << "channel " << o;
  }
}

// ---------------------------------------------------------------- Gemm

TEST(FoldBatchnorm, GemmTransB) {
  // B [N=2, K=3], transB = 1: row n of B is output column n. s = 1 / sqrt(var) = {2, 0.5}
  // B' = {1,2,3} * 2, {4,5,6} * 0.5 = {2,4,6, 2,2.5,3};  C' = (C - mean) * s + beta = {2, -1}
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[5,3] a) => (float[5,2] y)
       <float[2,3] bw = {1.0, 2.0, 3.0, 4.0, 5.0, 6.0}, float[2] c = {1.0, -1.0},
        float[2] s = {1.0, 1.0}, float[2] bb = {0.0, 0.0}, float[2] m = {0.0, 1.0}, float[2] v = {0.25, 4.0}>
    {
      t = Gemm <transB = 1> (a, bw, c)
      y = BatchNormalization <epsilon = 0.0> (t, s, bb, m, v)
    })");
  auto r = runPass(*m, "fold-batchnorm");
  runPass(*m, "eliminate-dead");
  EXPECT_EQ(print(*m), canonical(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[5,3] a) => (float[5,2] y)
       <float[2,3] bw_bn = {2.0, 4.0, 6.0, 2.0, 2.5, 3.0}, float[2] c_bn = {2.0, -1.0}>
    {
      y = Gemm <transB = 1> (a, bw_bn, c_bn)
    })"));
  EXPECT_EQ(r.counter("BatchNormalization folded into Gemm"), 1);
  EXPECT_NO_THROW(ir::verifyModel(*m, /*strict=*/true));
}

TEST(FoldBatchnorm, GemmWithoutTransBScalesColumnsAndKeepsCShape) {
  // B [K=3, N=2]: column n scaled by s[n] = {2, 0.5}: {1,2, 3,4, 5,6} → {2,1, 6,2, 10,3}.
  // C is [1, N] and stays [1, N]: {(1 - 0) * 2, (-1 - 1) * 0.5} = {2, -1}.
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[5,3] a) => (float[5,2] y)
       <float[3,2] bw = {1.0, 2.0, 3.0, 4.0, 5.0, 6.0}, float[1,2] c = {1.0, -1.0},
        float[2] s = {1.0, 1.0}, float[2] bb = {0.0, 0.0}, float[2] m = {0.0, 1.0}, float[2] v = {0.25, 4.0}>
    {
      t = Gemm (a, bw, c)
      y = BatchNormalization <epsilon = 0.0> (t, s, bb, m, v)
    })");
  runPass(*m, "fold-batchnorm,eliminate-dead");
  EXPECT_EQ(print(*m), canonical(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[5,3] a) => (float[5,2] y)
       <float[3,2] bw_bn = {2.0, 1.0, 6.0, 2.0, 10.0, 3.0}, float[1,2] c_bn = {2.0, -1.0}>
    {
      y = Gemm (a, bw_bn, c_bn)
    })"));
  EXPECT_NO_THROW(ir::verifyModel(*m, /*strict=*/true));
}

TEST(FoldBatchnorm, GemmWithoutC) {
  // C' = (0 - mean) * s + beta = {0, -0.5}, as a new [N] input.
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[5,3] a) => (float[5,2] y)
       <float[3,2] bw = {1.0, 2.0, 3.0, 4.0, 5.0, 6.0},
        float[2] s = {1.0, 1.0}, float[2] bb = {0.0, 0.0}, float[2] m = {0.0, 1.0}, float[2] v = {0.25, 4.0}>
    {
      t = Gemm (a, bw)
      y = BatchNormalization <epsilon = 0.0> (t, s, bb, m, v)
    })");
  runPass(*m, "fold-batchnorm,eliminate-dead");
  EXPECT_EQ(print(*m), canonical(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[5,3] a) => (float[5,2] y)
       <float[3,2] bw_bn = {2.0, 1.0, 6.0, 2.0, 10.0, 3.0}, float[2] bw_bias_bn = {0.0, -0.5}>
    {
      y = Gemm (a, bw_bn, bw_bias_bn)
    })"));
  EXPECT_NO_THROW(ir::verifyModel(*m, /*strict=*/true));
}

TEST(FoldBatchnorm, GemmDeclines) {
  auto r = expectUnchanged(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[5,3] a) => (float[5,2] y, float[5,2] z)
       <float[3,2] bw = {1.0, 2.0, 3.0, 4.0, 5.0, 6.0}, float[5,2] full = {0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0},
        float[2] s = {1.0, 1.0}, float[2] bb = {0.0, 0.0}, float[2] m = {0.0, 1.0}, float[2] v = {0.25, 4.0}>
    {
      t = Gemm <alpha = 2.0> (a, bw)
      y = BatchNormalization (t, s, bb, m, v)
      u = Gemm (a, bw, full)
      z = BatchNormalization (u, s, bb, m, v)
    })");
  EXPECT_EQ(r.declined["Gemm alpha/beta not 1"], 1);
  EXPECT_EQ(r.declined["Gemm C not [N] or [1,N]"], 1);
}

// ---------------------------------------------------------------- does not fire

TEST(FoldBatchnorm, DeclinesWhenTheConvOutputHasOtherUsers) {
  auto r = expectUnchanged(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,2,3,3] x) => (float[1,2,3,3] y, float[1,2,3,3] z)
       <float[2,2,1,1] w = {1.0, 2.0, 3.0, 4.0}, float[2] s = {3.0, 1.0}, float[2] bb = {0.5, -1.0},
        float[2] m = {1.0, 2.0}, float[2] v = {4.0, 0.25}>
    {
      c = Conv <kernel_shape = [1, 1]> (x, w)
      y = BatchNormalization (c, s, bb, m, v)
      z = Relu(c)
    })");
  EXPECT_EQ(r.declined["BN input has other users"], 1);
}

TEST(FoldBatchnorm, DeclinesWhenTheConvOutputIsAGraphOutput) {
  auto r = expectUnchanged(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,2,3,3] x) => (float[1,2,3,3] y, float[1,2,3,3] c)
       <float[2,2,1,1] w = {1.0, 2.0, 3.0, 4.0}, float[2] s = {3.0, 1.0}, float[2] bb = {0.5, -1.0},
        float[2] m = {1.0, 2.0}, float[2] v = {4.0, 0.25}>
    {
      c = Conv <kernel_shape = [1, 1]> (x, w)
      y = BatchNormalization (c, s, bb, m, v)
    })");
  EXPECT_EQ(r.declined["BN input has other users"], 1);
}

TEST(FoldBatchnorm, DeclinesNonConstantParametersAndWeights) {
  auto r = expectUnchanged(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,2,3,3] x, float[2] sIn, float[2,2,1,1] wIn) => (float[1,2,3,3] y, float[1,2,3,3] z)
       <float[2,2,1,1] w = {1.0, 2.0, 3.0, 4.0}, float[2] s = {3.0, 1.0}, float[2] bb = {0.5, -1.0},
        float[2] m = {1.0, 2.0}, float[2] v = {4.0, 0.25}>
    {
      c = Conv <kernel_shape = [1, 1]> (x, w)
      y = BatchNormalization (c, sIn, bb, m, v)
      d = Conv <kernel_shape = [1, 1]> (x, wIn)
      z = BatchNormalization (d, s, bb, m, v)
    })");
  EXPECT_EQ(r.declined["BN params not constant"], 1);
  EXPECT_EQ(r.declined["weights not constant"], 1);
}

TEST(FoldBatchnorm, DeclinesOverridableInitializers) {
  // An input with a default value is not a constant: the caller may feed another scale.
  auto r = expectUnchanged(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,2,3,3] x, float[2] s = {3.0, 1.0}) => (float[1,2,3,3] y)
       <float[2,2,1,1] w = {1.0, 2.0, 3.0, 4.0}, float[2] bb = {0.5, -1.0},
        float[2] m = {1.0, 2.0}, float[2] v = {4.0, 0.25}>
    {
      c = Conv <kernel_shape = [1, 1]> (x, w)
      y = BatchNormalization (c, s, bb, m, v)
    })");
  EXPECT_EQ(r.declined["BN params not constant"], 1);
}

TEST(FoldBatchnorm, DeclinesOtherProducers) {
  auto r = expectUnchanged(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,2,3,3] x) => (float[1,2,3,3] y, float[1,2,3,3] z)
       <float[2] s = {3.0, 1.0}, float[2] bb = {0.5, -1.0}, float[2] m = {1.0, 2.0}, float[2] v = {4.0, 0.25}>
    {
      c = Relu(x)
      y = BatchNormalization (c, s, bb, m, v)
      z = BatchNormalization (x, s, bb, m, v)
    })");
  EXPECT_EQ(r.declined["producer is not Conv/ConvTranspose/Gemm"], 2);
}

TEST(FoldBatchnorm, DeclinesTrainingMode) {
  auto r = expectUnchanged(R"(
    <ir_version: 8, opset_import: ["" : 15]>
    g (float[1,2,3,3] x) => (float[1,2,3,3] y)
       <float[2,2,1,1] w = {1.0, 2.0, 3.0, 4.0}, float[2] s = {3.0, 1.0}, float[2] bb = {0.5, -1.0},
        float[2] m = {1.0, 2.0}, float[2] v = {4.0, 0.25}>
    {
      c = Conv <kernel_shape = [1, 1]> (x, w)
      y = BatchNormalization <training_mode = 1> (c, s, bb, m, v)
    })");
  EXPECT_EQ(r.declined["training mode"], 1);
}

TEST(FoldBatchnorm, DeclinesOpset9TrainingOutputs) {
  // Before opset 14 the optional outputs are what marks a training BN (Y uses batch statistics).
  auto r = expectUnchanged(R"(
    <ir_version: 8, opset_import: ["" : 9]>
    g (float[1,2,3,3] x) => (float[1,2,3,3] y)
       <float[2,2,1,1] w = {1.0, 2.0, 3.0, 4.0}, float[2] s = {3.0, 1.0}, float[2] bb = {0.5, -1.0},
        float[2] m = {1.0, 2.0}, float[2] v = {4.0, 0.25}>
    {
      c = Conv <kernel_shape = [1, 1]> (x, w)
      y, rm, rv, sm, sv = BatchNormalization (c, s, bb, m, v)
    })");
  EXPECT_EQ(r.declined["training mode"], 1);
}

TEST(FoldBatchnorm, DeclinesNonFloatWeights) {
  // BN-15 lets X be double while its parameters are float: the Conv's weights are what differs.
  auto r = expectUnchanged(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (double[1,2,3,3] x) => (double[1,2,3,3] y)
       <double[2,2,1,1] w = {1.0, 2.0, 3.0, 4.0}, float[2] s = {3.0, 1.0}, float[2] bb = {0.5, -1.0},
        float[2] m = {1.0, 2.0}, float[2] v = {4.0, 0.25}>
    {
      c = Conv <kernel_shape = [1, 1]> (x, w)
      y = BatchNormalization (c, s, bb, m, v)
    })");
  EXPECT_EQ(r.declined["weights not float32"], 1);
}

TEST(FoldBatchnorm, DeclinesNonFloatParameters) {
  auto r = expectUnchanged(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (double[1,2,3,3] x) => (double[1,2,3,3] y)
       <double[2,2,1,1] w = {1.0, 2.0, 3.0, 4.0}, double[2] s = {3.0, 1.0}, double[2] bb = {0.5, -1.0},
        double[2] m = {1.0, 2.0}, double[2] v = {4.0, 0.25}>
    {
      c = Conv <kernel_shape = [1, 1]> (x, w)
      y = BatchNormalization (c, s, bb, m, v)
    })");
  EXPECT_EQ(r.declined["BN params not float32"], 1);
}

// ---------------------------------------------------------------- sharing and subgraphs

TEST(FoldBatchnorm, SharedWeightsAreNotEdited) {
  // w also feeds a second Conv: that one must keep reading the original values.
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,2,3,3] x) => (float[1,2,3,3] y, float[1,2,3,3] z)
       <float[2,2,1,1] w = {1.0, 2.0, 3.0, 4.0}, float[2] s = {3.0, 1.0}, float[2] bb = {0.5, -1.0},
        float[2] m = {1.0, 2.0}, float[2] v = {4.0, 0.25}>
    {
      c = Conv <kernel_shape = [1, 1]> (x, w)
      y = BatchNormalization <epsilon = 0.0> (c, s, bb, m, v)
      z = Conv <kernel_shape = [1, 1]> (x, w)
    })");
  runPass(*m, "fold-batchnorm,eliminate-dead");
  EXPECT_EQ(print(*m), canonical(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,2,3,3] x) => (float[1,2,3,3] y, float[1,2,3,3] z)
       <float[2,2,1,1] w = {1.0, 2.0, 3.0, 4.0},
        float[2,2,1,1] w_bn = {1.5, 3.0, 6.0, 8.0}, float[2] w_bias_bn = {-1.0, -5.0}>
    {
      y = Conv <kernel_shape = [1, 1]> (x, w_bn, w_bias_bn)
      z = Conv <kernel_shape = [1, 1]> (x, w)
    })"));
}

TEST(FoldBatchnorm, InsideASubgraphWithOuterWeights) {
  // The branch reads w and the BN parameters from the main graph (captures); the folded weights
  // become initializers of the branch.
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (bool cond, float[1,2,3,3] x) => (float[1,2,3,3] y)
       <float[2,2,1,1] w = {1.0, 2.0, 3.0, 4.0}, float[2] s = {3.0, 1.0}, float[2] bb = {0.5, -1.0},
        float[2] m = {1.0, 2.0}, float[2] v = {4.0, 0.25}>
    {
      y = If(cond) <
        then_branch = then_g () => (float[1,2,3,3] a) {
          c = Conv <kernel_shape = [1, 1]> (x, w)
          a = BatchNormalization <epsilon = 0.0> (c, s, bb, m, v)
        },
        else_branch = else_g () => (float[1,2,3,3] b) { b = Identity(x) }
      >
    })");
  runPass(*m, "fold-batchnorm,eliminate-dead");
  EXPECT_EQ(print(*m), canonical(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (bool cond, float[1,2,3,3] x) => (float[1,2,3,3] y)
    {
      y = If(cond) <
        then_branch = then_g () => (float[1,2,3,3] a)
           <float[2,2,1,1] w_bn = {1.5, 3.0, 6.0, 8.0}, float[2] w_bias_bn = {-1.0, -5.0}>
        {
          a = Conv <kernel_shape = [1, 1]> (x, w_bn, w_bias_bn)
        },
        else_branch = else_g () => (float[1,2,3,3] b) { b = Identity(x) }
      >
    })"));
  EXPECT_NO_THROW(ir::verifyModel(*m, /*strict=*/true));
}

}  // namespace
}  // namespace effdl::test
