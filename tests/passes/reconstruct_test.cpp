// Refitting a pruned layer (passes/prune/reconstruct.h): least squares over the Gram matrix of the
// layer's inputs recovers what the pruned weights computed when the kept inputs can express it;
// without a Gram matrix the bias absorbs the pruned weights times the inputs' means.
#include "passes/prune/reconstruct.h"

#include <gtest/gtest.h>

#include <random>

namespace effdl::passes::prune {
namespace {

Target gemmTarget(int64_t rows, int64_t cols) {
  Target t;
  t.view.rows = rows;
  t.view.cols = cols;
  return t;
}

// Gram matrix Σ z zᵀ of z = [x; 1] over the samples, as activation_stats gathers it.
LayerStats statsOf(const std::vector<std::vector<double>>& xs) {
  LayerStats s;
  const size_t cols = xs[0].size(), d = cols + 1;
  s.gramDim = static_cast<int64_t>(d);
  s.gram.assign(d * d, 0.0);
  s.mean.assign(cols, 0.0);
  for (const auto& x : xs) {
    std::vector<double> z(x);
    z.push_back(1.0);
    for (size_t i = 0; i < d; ++i)
      for (size_t j = 0; j < d; ++j) s.gram[i * d + j] += z[i] * z[j];
    for (size_t c = 0; c < cols; ++c) s.mean[c] += x[c] / static_cast<double>(xs.size());
  }
  s.positions = static_cast<int64_t>(xs.size());
  return s;
}

TEST(Reconstruct, LeastSquaresRecoversWeightsWhenThePrunedInputIsAnAffineFunctionOfKeptOnes) {
  // x2 = 2·x0 + 1 on every sample: pruning column 2 loses nothing if its weight moves onto x0
  // (×2) and the bias (×1). Row r: w = [a, b, c], bias d  ->  [a + 2c, b, 0], d + c.
  std::mt19937 rng(7);
  std::normal_distribution<double> n(0, 1);
  std::vector<std::vector<double>> xs;
  for (int i = 0; i < 64; ++i) {
    const double x0 = n(rng), x1 = n(rng);
    xs.push_back({x0, x1, 2 * x0 + 1});
  }
  const LayerStats s = statsOf(xs);
  const std::vector<float> original = {0.5f, -1.0f, 0.25f, 2.0f, 0.75f, -0.5f};  // 2 rows × 3
  const std::vector<uint8_t> keep = {1, 1, 0, 1, 1, 0};
  std::vector<float> w = {0.5f, -1.0f, 0.0f, 2.0f, 0.75f, 0.0f};
  std::optional<std::vector<float>> bias = std::vector<float>{0.1f, -0.2f};
  ASSERT_EQ(refit(gemmTarget(2, 3), s, original, keep, w, bias, false), RefitKind::kLeastSquares);
  EXPECT_NEAR(w[0], 0.5 + 2 * 0.25, 1e-3);
  EXPECT_NEAR(w[1], -1.0, 1e-3);
  EXPECT_EQ(w[2], 0.0f);  // pruned weights stay exactly zero
  EXPECT_NEAR(w[3], 2.0 + 2 * -0.5, 1e-3);
  EXPECT_NEAR(w[4], 0.75, 1e-3);
  EXPECT_EQ(w[5], 0.0f);
  EXPECT_NEAR((*bias)[0], 0.1 + 0.25, 1e-3);
  EXPECT_NEAR((*bias)[1], -0.2 - 0.5, 1e-3);
}

TEST(Reconstruct, LeastSquaresWithoutBiasFitsOnlyTheKeptWeights) {
  // Independent inputs, no bias: the best kept weights are the original ones (the pruned
  // input's contribution is uncorrelated noise to them), and no bias appears.
  std::mt19937 rng(3);
  std::normal_distribution<double> n(0, 1);
  std::vector<std::vector<double>> xs;
  for (int i = 0; i < 4000; ++i) xs.push_back({n(rng), n(rng), n(rng)});
  const std::vector<float> original = {1.0f, 2.0f, 3.0f};
  std::vector<float> w = {1.0f, 0.0f, 3.0f};
  std::optional<std::vector<float>> bias;
  ASSERT_EQ(refit(gemmTarget(1, 3), statsOf(xs), original, {1, 0, 1}, w, bias, true), RefitKind::kLeastSquares);
  EXPECT_FALSE(bias.has_value());
  EXPECT_NEAR(w[0], 1.0, 0.1);
  EXPECT_EQ(w[1], 0.0f);
  EXPECT_NEAR(w[2], 3.0, 0.1);
}

TEST(Reconstruct, BiasCorrectionAddsPrunedWeightsTimesInputMeans) {
  LayerStats s;
  s.mean = {2.0, -1.0, 0.5};
  const std::vector<float> original = {1.0f, 4.0f, -2.0f, 3.0f, 0.5f, 1.0f};  // 2 × 3
  std::vector<float> w = {1.0f, 0.0f, 0.0f, 3.0f, 0.5f, 0.0f};
  std::optional<std::vector<float>> bias = std::vector<float>{1.0f, 0.0f};
  ASSERT_EQ(refit(gemmTarget(2, 3), s, original, {1, 0, 0, 1, 1, 0}, w, bias, false), RefitKind::kBiasCorrection);
  EXPECT_FLOAT_EQ((*bias)[0], 1.0f + 4.0f * -1.0f + -2.0f * 0.5f);
  EXPECT_FLOAT_EQ((*bias)[1], 0.0f + 1.0f * 0.5f);
  EXPECT_EQ(w, (std::vector<float>{1.0f, 0.0f, 0.0f, 3.0f, 0.5f, 0.0f}));  // weights untouched
}

TEST(Reconstruct, NoGramAndNoBiasLeavesTheLayerUnlessABiasMayBeCreated) {
  LayerStats s;
  s.mean = {3.0, 1.0};
  const std::vector<float> original = {2.0f, 1.0f};
  std::vector<float> w = {0.0f, 1.0f};
  std::optional<std::vector<float>> bias;
  EXPECT_EQ(refit(gemmTarget(1, 2), s, original, {0, 1}, w, bias, false), RefitKind::kNone);
  EXPECT_FALSE(bias.has_value());
  EXPECT_EQ(refit(gemmTarget(1, 2), s, original, {0, 1}, w, bias, true), RefitKind::kBiasCorrection);
  ASSERT_TRUE(bias.has_value());
  EXPECT_FLOAT_EQ((*bias)[0], 6.0f);
}

}  // namespace
}  // namespace effdl::passes::prune
