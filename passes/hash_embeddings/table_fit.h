// The numerical side of embedding hashing: fitting the smaller tables to the original rows
// (bucket means, quotient-remainder least squares, k-means) and measuring what was lost.
// Weights are per original row (token frequencies + 1 from calibration, or all 1).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace effdl::passes::hashfit {

// A row-major [rows, dim] float matrix.
struct Matrix {
  int64_t rows = 0, dim = 0;
  std::vector<float> data;
  float* row(int64_t r) { return data.data() + r * dim; }
  const float* row(int64_t r) const { return data.data() + r * dim; }
};

// Row k = weighted mean of the rows i with bucket[i] == k (zero when no row maps to k).
Matrix bucketMeans(std::span<const float> table, int64_t dim, std::span<const int64_t> bucket, int64_t buckets,
                   std::span<const double> weight);

// Quotient-remainder: row i ≈ E1[i mod m] ∘ E2[i div m] (∘ = + or elementwise ×), fitted by
// alternating closed-form weighted least squares from E2 = 0 (sum) or 1 (product).
struct QrTables {
  Matrix remainder, quotient;  // E1 [m, D], E2 [ceil(V/m), D]
};
QrTables fitQuotientRemainder(std::span<const float> table, int64_t rows, int64_t dim, int64_t m, bool product,
                              std::span<const double> weight, int iterations);

// Weighted k-means (Lloyd) over the rows into k centroids, seeded init from distinct rows.
// `assignment` receives the centroid of every row.
Matrix kMeans(std::span<const float> table, int64_t rows, int64_t dim, int64_t k, std::span<const double> weight,
              uint64_t seed, int iterations, std::vector<int64_t>& assignment);

// ||table - reconstruction||_F / ||table||_F, reconstruction given row by row.
struct ErrorAccumulator {
  double diff2 = 0, norm2 = 0;
  void add(const float* original, const float* approx, int64_t dim, double weight = 1.0);
  double relative() const;
};

struct BucketLoads {
  int64_t max = 0, empty = 0;
  double mean = 0;  // rows per non-empty bucket
};
BucketLoads bucketLoads(std::span<const int64_t> bucket, int64_t buckets);

// splitmix64: the seeded stream behind hash parameters and k-means init.
uint64_t mix64(uint64_t x);

}  // namespace effdl::passes::hashfit
