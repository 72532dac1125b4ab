// The arithmetic behind every quantization mode (passes/quantize/quant_math.h), checked against
// ONNX's definitions: QuantizeLinear rounds half to even and saturates; zero must be exact.
#include "passes/quantize/quant_math.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace effdl::passes::quant {
namespace {

float dequant(int32_t q, const ActParams& p) { return static_cast<float>(q - p.zeroPoint) * p.scale; }

TEST(ActivationParams, U8RangeIsWidenedToIncludeZeroAndZeroIsExact) {
  // A positive-only range still maps 0 to an integer level (ReLU outputs, zero padding).
  auto p = activationParams(0.5f, 2.0f, /*u8=*/true);
  EXPECT_EQ(p.zeroPoint, 0);
  EXPECT_FLOAT_EQ(p.scale, 2.0f / 255.0f);
  auto q = activationParams(-1.0f, 3.0f, true);
  EXPECT_FLOAT_EQ(q.scale, 4.0f / 255.0f);
  EXPECT_GE(q.zeroPoint, 0);
  EXPECT_LE(q.zeroPoint, 255);
  EXPECT_FLOAT_EQ(dequant(q.zeroPoint, q), 0.0f);
  // Both ends representable within one step.
  EXPECT_NEAR(dequant(0, q), -1.0f, q.scale);
  EXPECT_NEAR(dequant(255, q), 3.0f, q.scale);
}

TEST(ActivationParams, S8IsSymmetric) {
  auto p = activationParams(-1.0f, 3.0f, /*u8=*/false);
  EXPECT_EQ(p.zeroPoint, 0);
  EXPECT_NEAR(p.scale * 127.0f, 3.0f, 1e-6f);
}

TEST(ActivationParams, ZeroWidthRangeGetsScaleOne) {
  auto p = activationParams(0.0f, 0.0f, true);
  EXPECT_EQ(p.scale, 1.0f);
  EXPECT_EQ(p.zeroPoint, 0);
}

TEST(QuantizeAxis, PerChannelScalesAreMaxAbsOver127) {
  // [outer=1, axis=2, inner=3]: channel 0 = {1, -2, 0.5}, channel 1 = {0.1, 0.2, -0.3}
  std::vector<float> w = {1.0f, -2.0f, 0.5f, 0.1f, 0.2f, -0.3f};
  auto r = quantizeAxis(w, 1, 2, 3, /*reduceRange=*/false);
  ASSERT_EQ(r.scales.size(), 2u);
  EXPECT_FLOAT_EQ(r.scales[0], 2.0f / 127.0f);
  EXPECT_FLOAT_EQ(r.scales[1], 0.3f / 127.0f);
  ASSERT_EQ(r.q.size(), 6u);
  EXPECT_EQ(r.q[1], -127);
  EXPECT_EQ(r.q[5], -127);
  for (size_t i = 0; i < w.size(); ++i) EXPECT_NEAR(r.q[i] * r.scales[i / 3], w[i], r.scales[i / 3] / 2 + 1e-7f) << i;
}

TEST(QuantizeAxis, ReduceRangeUses63Levels) {
  std::vector<float> w = {0.63f, -0.63f};
  auto r = quantizeAxis(w, 2, 1, 1, /*reduceRange=*/true);
  EXPECT_EQ(r.q[0], 63);
  EXPECT_EQ(r.q[1], -63);
  EXPECT_FLOAT_EQ(r.scales[0], 0.01f);
}

TEST(QuantizeAxis, ZerosStayExactlyZeroAndAZeroChannelIsHarmless) {
  // Pruned weights must stay zero after quantization (sparse storage relies on it), and an
  // all-zero channel must not divide by zero.
  std::vector<float> w = {0.0f, 0.0f, 0.0f, 0.0f, 1.0f, 0.0f};
  auto r = quantizeAxis(w, 1, 2, 3, false);
  for (float s : r.scales) EXPECT_TRUE(std::isfinite(s) && s > 0);
  EXPECT_EQ(r.q[0], 0);
  EXPECT_EQ(r.q[3], 0);
  EXPECT_EQ(r.q[4], 127);
  EXPECT_EQ(r.q[5], 0);
}

TEST(QuantizeBlocks, OneScalePerBlockOfRows) {
  // [outer=1, rows=4, inner=1], blocks of 2: {1, 2 | 30, 40}
  std::vector<float> w = {1.0f, 2.0f, 30.0f, 40.0f};
  auto r = quantizeBlocks(w, 1, 4, 1, 2, false);
  ASSERT_EQ(r.scales.size(), 2u);
  EXPECT_FLOAT_EQ(r.scales[0], 2.0f / 127.0f);
  EXPECT_FLOAT_EQ(r.scales[1], 40.0f / 127.0f);
  EXPECT_EQ(r.q[1], 127);
  EXPECT_EQ(r.q[3], 127);
  EXPECT_EQ(r.q[0], 64);  // 63.5 rounds half to even
}

TEST(QuantizeBias, RoundsToTheProductOfScalesAndSaturates) {
  std::vector<float> b = {1.0f, -1.0f, 1e30f};
  std::vector<float> sw = {0.5f, 0.25f, 1e-10f};
  auto q = quantizeBias(b, 0.1f, sw);
  EXPECT_EQ(q[0], 20);   // 1 / (0.1 · 0.5)
  EXPECT_EQ(q[1], -40);  // -1 / (0.1 · 0.25)
  EXPECT_EQ(q[2], std::numeric_limits<int32_t>::max());
  auto one = quantizeBias(std::vector<float>{0.3f, 0.6f}, 0.1f, std::vector<float>{1.0f});
  EXPECT_EQ(one[0], 3);
  EXPECT_EQ(one[1], 6);
}

}  // namespace
}  // namespace effdl::passes::quant
