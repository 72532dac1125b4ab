// The numerical side of embedding hashing (passes/hash_embeddings/table_fit.h): bucket means,
// quotient-remainder fits, weighted k-means, and the error and load measures the report shows.
#include "passes/hash_embeddings/table_fit.h"

#include <gtest/gtest.h>

#include <cmath>

namespace effdl::passes::hashfit {
namespace {

TEST(TableFit, BucketMeansAreWeightedAndEmptyBucketsZero) {
  // 3 rows of dim 2 into 3 buckets: rows 0 and 2 share bucket 1 (weights 1 and 3), row 1 is
  // alone in bucket 0, bucket 2 gets nothing.
  std::vector<float> t = {1, 2, 10, 20, 3, 4};
  std::vector<int64_t> bucket = {1, 0, 1};
  std::vector<double> w = {1, 1, 3};
  auto m = bucketMeans(t, 2, bucket, 3, w);
  ASSERT_EQ(m.rows, 3);
  EXPECT_FLOAT_EQ(m.row(0)[0], 10);
  EXPECT_FLOAT_EQ(m.row(1)[0], (1 * 1 + 3 * 3) / 4.0f);
  EXPECT_FLOAT_EQ(m.row(1)[1], (2 * 1 + 4 * 3) / 4.0f);
  EXPECT_FLOAT_EQ(m.row(2)[0], 0);
  EXPECT_FLOAT_EQ(m.row(2)[1], 0);
}

TEST(TableFit, QuotientRemainderRecoversAnExactSum) {
  // row i = a[i mod 3] + b[i div 3] is representable exactly: the fit must find it.
  const int64_t V = 9, D = 2, m = 3;
  std::vector<float> a = {1, -1, 2, 0.5f, -3, 4}, b = {10, 0, -5, 5, 0, 1};
  std::vector<float> t(V * D);
  for (int64_t i = 0; i < V; ++i)
    for (int64_t d = 0; d < D; ++d) t[i * D + d] = a[(i % m) * D + d] + b[(i / m) * D + d];
  std::vector<double> w(V, 1.0);
  auto f = fitQuotientRemainder(t, V, D, m, /*product=*/false, w, 20);
  ASSERT_EQ(f.remainder.rows, 3);
  ASSERT_EQ(f.quotient.rows, 3);
  ErrorAccumulator e;
  for (int64_t i = 0; i < V; ++i) {
    float approx[2];
    for (int64_t d = 0; d < D; ++d) approx[d] = f.remainder.row(i % m)[d] + f.quotient.row(i / m)[d];
    e.add(t.data() + i * D, approx, D);
  }
  EXPECT_LT(e.relative(), 1e-4);
}

TEST(TableFit, KMeansFindsSeparatedClustersDeterministically) {
  // Two tight clusters around (0,0) and (100,100).
  std::vector<float> t = {0, 1, 1, 0, 0, 0, 100, 101, 101, 100, 100, 100};
  std::vector<double> w(6, 1.0);
  std::vector<int64_t> a1, a2;
  auto c1 = kMeans(t, 6, 2, 2, w, 42, 10, a1);
  auto c2 = kMeans(t, 6, 2, 2, w, 42, 10, a2);
  EXPECT_EQ(a1, a2);
  EXPECT_EQ(c1.data, c2.data);
  EXPECT_EQ(a1[0], a1[1]);
  EXPECT_EQ(a1[1], a1[2]);
  EXPECT_EQ(a1[3], a1[4]);
  EXPECT_NE(a1[0], a1[3]);
  const float* far = c1.row(a1[3]);
  EXPECT_NEAR(far[0], 100.333f, 1e-3f);
}

TEST(TableFit, ErrorAccumulatorIsRelativeFrobenius) {
  ErrorAccumulator e;
  float o[2] = {3, 4}, a[2] = {3, 4};
  e.add(o, a, 2);
  EXPECT_EQ(e.relative(), 0.0);
  float b[2] = {0, 0};
  e.add(o, b, 2);  // diff² 25, norm² 50
  EXPECT_NEAR(e.relative(), std::sqrt(0.5), 1e-12);
}

TEST(TableFit, BucketLoadsCountEmptyAndFullestBuckets) {
  std::vector<int64_t> bucket = {0, 0, 0, 2, 2};
  auto l = bucketLoads(bucket, 4);
  EXPECT_EQ(l.max, 3);
  EXPECT_EQ(l.empty, 2);
  EXPECT_DOUBLE_EQ(l.mean, 2.5);
}

TEST(TableFit, Mix64IsSplitmix64) {
  // Hash parameters derive from it: a change would change every hashed model. The value is
  // splitmix64's first output for seed 0 (Steele, Lea & Flood 2014; Vigna's reference code).
  EXPECT_EQ(mix64(0), 0xe220a8397b1dcdafULL);
}

}  // namespace
}  // namespace effdl::passes::hashfit
