// Which weights pruning drops (passes/prune/masks.h): the lowest scores, ties by position, per
// row for Wanda, N of every M along the reduction axis.
#include "passes/prune/masks.h"

#include <gtest/gtest.h>

#include <numeric>

namespace effdl::passes::prune {
namespace {

int64_t kept(const std::vector<uint8_t>& m) { return std::accumulate(m.begin(), m.end(), int64_t{0}); }

TEST(PruneMasks, DropLowestDropsExactlyCountAndBreaksTiesByPosition) {
  std::vector<float> s = {0.5f, 0.1f, 0.1f, 0.9f, 0.1f};
  auto m = dropLowest(s, 2);
  EXPECT_EQ(m, (std::vector<uint8_t>{1, 0, 0, 1, 1}));  // of the three ties 0.1, the first two go
  EXPECT_EQ(kept(dropLowest(s, 0)), 5);
  EXPECT_EQ(kept(dropLowest(s, 5)), 0);
}

TEST(PruneMasks, DropLowestPerRowPrunesEveryRowEqually) {
  // 2 rows x 4 cols; row 1's scores are all larger than row 0's: a global threshold would empty
  // row 0, per-row keeps half of each.
  WeightView v;
  v.rows = 2;
  v.cols = 4;
  std::vector<float> s = {1, 2, 3, 4, 10, 40, 20, 30};
  auto m = dropLowestPerRow(s, v, 0.5);
  EXPECT_EQ(m, (std::vector<uint8_t>{0, 0, 1, 1, 0, 1, 0, 1}));
}

TEST(PruneMasks, DropLowestPerRowFollowsATransposedView) {
  // MatMul weights are [K, N]: row r (an output) is column r of the stored matrix.
  WeightView v;
  v.rows = 2;
  v.cols = 3;
  v.transposed = true;
  // stored [3, 2]: output 0 = {5, 1, 3}, output 1 = {2, 6, 4}
  std::vector<float> s = {5, 2, 1, 6, 3, 4};
  auto m = dropLowestPerRow(s, v, 1.0 / 3);
  EXPECT_EQ(m, (std::vector<uint8_t>{1, 0, 0, 1, 1, 1}));
}

TEST(PruneMasks, KeepNofMKeepsTheLargestNInEveryGroupOfM) {
  WeightView v;
  v.rows = 2;
  v.cols = 8;
  std::vector<float> s = {1, 4, 2, 3, 8, 7, 6, 5, 0, 0, 9, 9, 1, 2, 3, 4};
  auto m = keepNofM(s, v, 2, 4);
  EXPECT_EQ(m, (std::vector<uint8_t>{0, 1, 0, 1, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1}));
  for (int64_t g = 0; g < 4; ++g) EXPECT_EQ(m[g * 4] + m[g * 4 + 1] + m[g * 4 + 2] + m[g * 4 + 3], 2) << g;
}

TEST(PruneMasks, KeepNofMGroupsInputChannelsOfAConvAtEachKernelPosition) {
  // Conv weight [M=1, C=4, 2 kernel positions] flattened per row as c·K + k: groups of 4 run over
  // channels with k fixed, so each kernel position keeps 2 of its 4 channels.
  WeightView v;
  v.rows = 1;
  v.cols = 8;
  v.kernel = 2;
  std::vector<float> s = {1, 8, 2, 7, 3, 6, 4, 5};  // k=0: {1,2,3,4}  k=1: {8,7,6,5}
  auto m = keepNofM(s, v, 2, 4);
  EXPECT_EQ(m, (std::vector<uint8_t>{0, 1, 0, 1, 1, 0, 1, 0}));
  EXPECT_TRUE(blockable(v, 4));
  EXPECT_FALSE(blockable(v, 3));
}

}  // namespace
}  // namespace effdl::passes::prune
