// Statistics of a pruned layer's input (passes/prune/activation_stats.h) equal what the
// calibration samples imply: Σ x_c², the mean of x_c, and the Gram matrix of [x; 1].
#include "passes/prune/activation_stats.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "test_util.h"

namespace effdl::test {
namespace {

// The input statistics of m's MatMul layers over `calib` (with Gram matrices up to maxGramDim).
std::vector<passes::prune::LayerStats> matmulStats(ir::Model& m, const eval::SampleSet& calib, int64_t maxGramDim) {
  passes::prune::TargetFilter f;
  f.opTypes = {"MatMul"};
  std::map<std::string, int64_t> declined;
  auto targets = passes::prune::findTargets(*m.graph, f, declined);
  EXPECT_EQ(targets.size(), 1u);
  passes::PassContext ctx;
  ctx.calib = &calib;
  return passes::prune::gatherStats(m, targets, calib, ctx, true, maxGramDim);
}

TEST(ActivationStats, MatMulInputStatisticsMatchTheSamples) {
  // x [2, 3] feeds MatMul(x, W [3, 4]): each sample gives 2 rows (positions) of 3 channels.
  auto m = parse(R"(<ir_version: 8, opset_import: ["" : 17]>
    g (float[2,3] x) => (float[2,4] y)
       <float[3,4] w = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}>
    {
      y = MatMul(x, w)
    })");
  auto calib = eval::SampleSet::open("random:5", 1 << 20, 3);
  auto stats = matmulStats(*m, calib, 64);
  ASSERT_EQ(stats.size(), 1u);
  const passes::prune::LayerStats& s = stats[0];

  // The same samples, summed here.
  std::vector<double> sq(3, 0.0), sum(3, 0.0), gram(16, 0.0);
  int64_t rows = 0;
  for (size_t i = 0; i < calib.size(); ++i) {
    auto in = calib.sample(i, *m);
    ASSERT_EQ(in.size(), 1u);
    auto x = in[0].second.values<float>();
    ASSERT_EQ(x.size(), 6u);
    for (int r = 0; r < 2; ++r, ++rows) {
      const double z[4] = {x[r * 3], x[r * 3 + 1], x[r * 3 + 2], 1.0};
      for (int c = 0; c < 3; ++c) {
        sq[c] += z[c] * z[c];
        sum[c] += z[c];
      }
      for (int a = 0; a < 4; ++a)
        for (int b = 0; b < 4; ++b) gram[a * 4 + b] += z[a] * z[b];
    }
  }
  EXPECT_EQ(s.positions, rows);
  ASSERT_EQ(s.sqNorm.size(), 3u);
  ASSERT_EQ(s.mean.size(), 3u);
  for (int c = 0; c < 3; ++c) {
    EXPECT_NEAR(s.sqNorm[c], sq[c], 1e-5 * (1 + sq[c])) << "channel " << c;
    EXPECT_NEAR(s.mean[c], sum[c] / static_cast<double>(rows), 1e-6) << "channel " << c;
  }
  ASSERT_EQ(s.gramDim, 4);
  ASSERT_EQ(s.gram.size(), 16u);
  for (int k = 0; k < 16; ++k) EXPECT_NEAR(s.gram[k], gram[k], 1e-5 * (1 + std::abs(gram[k]))) << "entry " << k;
}

TEST(ActivationStats, NoGramWhenItWouldExceedTheLimit) {
  auto m = parse(R"(<ir_version: 8, opset_import: ["" : 17]>
    g (float[1,3] x) => (float[1,2] y)
       <float[3,2] w = {1, 2, 3, 4, 5, 6}>
    {
      y = MatMul(x, w)
    })");
  auto calib = eval::SampleSet::open("random:2", 1 << 20, 3);
  auto stats = matmulStats(*m, calib, 3);  // cols + 1 = 4 > 3
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_TRUE(stats[0].gram.empty());
  EXPECT_EQ(stats[0].sqNorm.size(), 3u);
}

}  // namespace
}  // namespace effdl::test
