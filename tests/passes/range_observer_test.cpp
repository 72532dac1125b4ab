// Calibration observers (passes/quantize/range_observer.h): the range each method picks, NaN/Inf
// skipped, and the streaming property that the result does not depend on how samples are split.
#include "passes/quantize/range_observer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

namespace effdl::passes::quant {
namespace {

std::vector<float> gaussianWithOutliers(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  v[n / 3] = 50.0f;  // rare outliers that minmax keeps and percentile/entropy clip
  v[n / 2] = -40.0f;
  return v;
}

TEST(RangeObserver, MinMaxIsTheExtremes) {
  RangeObserver o(/*histogram=*/false);
  o.observe(std::vector<float>{-1.5f, 0.25f, 3.0f});
  o.observe(std::vector<float>{2.0f});
  auto [lo, hi] = o.range(CalibMethod::kMinMax, 99.99);
  EXPECT_EQ(lo, -1.5f);
  EXPECT_EQ(hi, 3.0f);
}

TEST(RangeObserver, NothingSeenGivesZeroRangeAndNonFiniteValuesAreSkipped) {
  RangeObserver empty(true);
  EXPECT_EQ(empty.range(CalibMethod::kEntropy, 99.99), std::make_pair(0.0f, 0.0f));
  RangeObserver o(true);
  const float inf = std::numeric_limits<float>::infinity();
  o.observe(std::vector<float>{std::nanf(""), inf, -inf, 1.0f, -2.0f});
  auto [lo, hi] = o.range(CalibMethod::kMinMax, 99.99);
  EXPECT_EQ(lo, -2.0f);
  EXPECT_EQ(hi, 1.0f);
}

TEST(RangeObserver, PercentileAndEntropyClipRareOutliers) {
  auto v = gaussianWithOutliers(100000, 1);
  RangeObserver o(true);
  o.observe(v);
  auto [mlo, mhi] = o.range(CalibMethod::kMinMax, 99.99);
  EXPECT_EQ(mhi, 50.0f);
  EXPECT_EQ(mlo, -40.0f);
  auto [plo, phi] = o.range(CalibMethod::kPercentile, 99.9);
  // |N(0,1)| has its 99.9th percentile at 3.29; one histogram bin is 50/2048 wide at most 2x that.
  EXPECT_NEAR(phi, 3.29f, 0.1f);
  EXPECT_NEAR(plo, -phi, 1e-6f);
  auto [elo, ehi] = o.range(CalibMethod::kEntropy, 99.99);
  EXPECT_LT(ehi, 20.0f) << "entropy keeps most of the mass, not the outliers";
  EXPECT_GT(ehi, 2.0f);
  EXPECT_NEAR(elo, -ehi, 1e-6f);
}

TEST(RangeObserver, NonNegativeDataKeepsZeroAsLowerBound) {
  std::vector<float> v(5000);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i % 100) / 10.0f;  // ReLU-like
  RangeObserver o(true);
  o.observe(v);
  for (auto m : {CalibMethod::kPercentile, CalibMethod::kEntropy}) {
    auto [lo, hi] = o.range(m, 99.99);
    EXPECT_EQ(lo, 0.0f);
    EXPECT_GT(hi, 9.0f);
    EXPECT_LE(hi, 9.9f + 1e-5f);
  }
}

TEST(RangeObserver, SplittingSamplesChangesTheRangeByAtMostTheHistogramResolution) {
  // The histogram grows (top doubles, bins merge) as larger values arrive, so its resolution
  // follows the order of the values; one call or many may differ by a few final-width bins
  // (percentile) or by one step of the entropy search (16 bins), never more.
  auto v = gaussianWithOutliers(20000, 2);
  RangeObserver whole(true), parts(true);
  whole.observe(v);
  for (size_t i = 0; i < v.size(); i += 777)
    parts.observe(std::span<const float>(v.data() + i, std::min<size_t>(777, v.size() - i)));
  EXPECT_EQ(whole.range(CalibMethod::kMinMax, 99.99), parts.range(CalibMethod::kMinMax, 99.99));
  const float bin = 2 * 50.0f / RangeObserver::kBins;  // top <= 2 max|x|
  EXPECT_NEAR(whole.range(CalibMethod::kPercentile, 99.9).second, parts.range(CalibMethod::kPercentile, 99.9).second,
              2 * bin);
  EXPECT_NEAR(whole.range(CalibMethod::kEntropy, 99.99).second, parts.range(CalibMethod::kEntropy, 99.99).second,
              18 * bin);
}

}  // namespace
}  // namespace effdl::passes::quant
