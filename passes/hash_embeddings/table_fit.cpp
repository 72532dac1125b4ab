// Fitting smaller embedding tables to the original rows; see the header.
#include "passes/hash_embeddings/table_fit.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

// `omp simd` asks for vectorisation (the k-means distance loop dominates); clang warns where it
// cannot comply (always under ASan), and -Werror would make that a failed build.
#if defined(__clang__)
#pragma clang diagnostic ignored "-Wpass-failed"
#endif

namespace effdl::passes::hashfit {

uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

Matrix bucketMeans(std::span<const float> table, int64_t dim, std::span<const int64_t> bucket, int64_t buckets,
                   std::span<const double> weight) {
  std::vector<double> sum(static_cast<size_t>(buckets * dim), 0.0), wsum(static_cast<size_t>(buckets), 0.0);
  for (size_t i = 0; i < bucket.size(); ++i) {
    const int64_t k = bucket[i];
    const double w = weight.empty() ? 1.0 : weight[i];
    wsum[static_cast<size_t>(k)] += w;
    const float* src = table.data() + static_cast<int64_t>(i) * dim;
    double* dst = sum.data() + k * dim;
    for (int64_t d = 0; d < dim; ++d) dst[d] += w * src[d];
  }
  Matrix m{buckets, dim, std::vector<float>(static_cast<size_t>(buckets * dim), 0.0f)};
  for (int64_t k = 0; k < buckets; ++k) {
    const double w = wsum[static_cast<size_t>(k)];
    if (w <= 0) continue;
    for (int64_t d = 0; d < dim; ++d) m.row(k)[d] = static_cast<float>(sum[static_cast<size_t>(k * dim + d)] / w);
  }
  return m;
}

QrTables fitQuotientRemainder(std::span<const float> table, int64_t rows, int64_t dim, int64_t m, bool product,
                              std::span<const double> weight, int iterations) {
  const int64_t q = (rows + m - 1) / m;
  QrTables t{Matrix{m, dim, std::vector<float>(static_cast<size_t>(m * dim), 0.0f)},
             Matrix{q, dim, std::vector<float>(static_cast<size_t>(q * dim), product ? 1.0f : 0.0f)}};
  auto w = [&](int64_t i) { return weight.empty() ? 1.0 : weight[static_cast<size_t>(i)]; };
  // One half-step: solve `target` rows (indexed by key(i)) with the other table fixed, per
  // element: sum: x = Σ w (e - o) / Σ w;  product: x = Σ w e o / Σ w o².
  auto solve = [&](Matrix& target, const Matrix& other, auto key, auto otherKey) {
    std::vector<double> num(target.data.size(), 0.0), den(target.data.size(), 0.0);
    for (int64_t i = 0; i < rows; ++i) {
      const float* e = table.data() + i * dim;
      const float* o = other.row(otherKey(i));
      const int64_t k = key(i);
      const double wi = w(i);
      for (int64_t d = 0; d < dim; ++d) {
        const size_t at = static_cast<size_t>(k * dim + d);
        if (product) {
          num[at] += wi * e[d] * o[d];
          den[at] += wi * static_cast<double>(o[d]) * o[d];
        } else {
          num[at] += wi * (static_cast<double>(e[d]) - o[d]);
          den[at] += wi;
        }
      }
    }
    for (size_t at = 0; at < num.size(); ++at)
      if (den[at] > 1e-30) target.data[at] = static_cast<float>(num[at] / den[at]);
  };
  auto rem = [m](int64_t i) { return i % m; };
  auto quo = [m](int64_t i) { return i / m; };
  for (int it = 0; it < std::max(1, iterations); ++it) {
    solve(t.remainder, t.quotient, rem, quo);
    solve(t.quotient, t.remainder, quo, rem);
  }
  // End on the larger table so it absorbs what the last quotient update left.
  solve(t.remainder, t.quotient, rem, quo);
  return t;
}

Matrix kMeans(std::span<const float> table, int64_t rows, int64_t dim, int64_t k, std::span<const double> weight,
              uint64_t seed, int iterations, std::vector<int64_t>& assignment) {
  // Init: k distinct rows drawn by a seeded partial Fisher-Yates shuffle.
  std::vector<int64_t> order(static_cast<size_t>(rows));
  std::iota(order.begin(), order.end(), 0);
  uint64_t s = seed;
  for (int64_t i = 0; i < k; ++i) {
    s = mix64(s);
    const int64_t j = i + static_cast<int64_t>(s % static_cast<uint64_t>(rows - i));
    std::swap(order[static_cast<size_t>(i)], order[static_cast<size_t>(j)]);
  }
  Matrix c{k, dim, std::vector<float>(static_cast<size_t>(k * dim))};
  for (int64_t i = 0; i < k; ++i)
    std::copy_n(table.data() + order[static_cast<size_t>(i)] * dim, dim, c.row(i));
  assignment.assign(static_cast<size_t>(rows), 0);
  std::vector<float> cnorm(static_cast<size_t>(k));
  for (int it = 0; it <= std::max(1, iterations); ++it) {
    for (int64_t j = 0; j < k; ++j) {
      double n = 0;
      for (int64_t d = 0; d < dim; ++d) n += static_cast<double>(c.row(j)[d]) * c.row(j)[d];
      cnorm[static_cast<size_t>(j)] = static_cast<float>(n);
    }
    // Assignment: argmin ||c||² - 2 x·c (ties to the lowest index, so results are deterministic).
    int64_t moved = 0;
#pragma omp parallel for schedule(static) reduction(+ : moved)
    for (int64_t i = 0; i < rows; ++i) {
      const float* x = table.data() + i * dim;
      float best = std::numeric_limits<float>::infinity();
      int64_t arg = 0;
      for (int64_t j = 0; j < k; ++j) {
        const float* cj = c.row(j);
        float dot = 0;
#pragma omp simd reduction(+ : dot)
        for (int64_t d = 0; d < dim; ++d) dot += x[d] * cj[d];
        const float dist = cnorm[static_cast<size_t>(j)] - 2 * dot;
        if (dist < best) {
          best = dist;
          arg = j;
        }
      }
      if (assignment[static_cast<size_t>(i)] != arg) ++moved;
      assignment[static_cast<size_t>(i)] = arg;
    }
    if (it == std::max(1, iterations) || (it > 0 && moved == 0)) break;
    Matrix next = bucketMeans(table, dim, assignment, k, weight);
    // A centroid that lost all its rows keeps its place.
    std::vector<char> used(static_cast<size_t>(k), 0);
    for (int64_t a : assignment) used[static_cast<size_t>(a)] = 1;
    for (int64_t j = 0; j < k; ++j)
      if (used[static_cast<size_t>(j)]) std::copy_n(next.row(j), dim, c.row(j));
  }
  return c;
}

void ErrorAccumulator::add(const float* original, const float* approx, int64_t dim, double weight) {
  for (int64_t d = 0; d < dim; ++d) {
    const double e = static_cast<double>(original[d]) - approx[d];
    diff2 += weight * e * e;
    norm2 += weight * static_cast<double>(original[d]) * original[d];
  }
}

double ErrorAccumulator::relative() const { return norm2 > 0 ? std::sqrt(diff2 / norm2) : 0.0; }

BucketLoads bucketLoads(std::span<const int64_t> bucket, int64_t buckets) {
  std::vector<int64_t> load(static_cast<size_t>(buckets), 0);
  for (int64_t b : bucket) ++load[static_cast<size_t>(b)];
  BucketLoads l;
  int64_t used = 0;
  for (int64_t n : load) {
    l.max = std::max(l.max, n);
    if (n == 0) ++l.empty;
    else ++used;
  }
  l.mean = used ? static_cast<double>(bucket.size()) / static_cast<double>(used) : 0.0;
  return l;
}

}  // namespace effdl::passes::hashfit
