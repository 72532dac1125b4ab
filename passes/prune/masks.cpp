// Mask selection; see the header.
#include "passes/prune/masks.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace effdl::passes::prune {

std::vector<uint8_t> dropLowest(std::span<const float> scores, int64_t count) {
  const size_t n = scores.size();
  std::vector<uint8_t> keep(n, 1);
  if (count <= 0) return keep;
  if (static_cast<size_t>(count) >= n) return std::vector<uint8_t>(n, 0);
  std::vector<int64_t> idx(n);
  std::iota(idx.begin(), idx.end(), 0);
  auto less = [&](int64_t a, int64_t b) {
    return scores[static_cast<size_t>(a)] < scores[static_cast<size_t>(b)] ||
           (scores[static_cast<size_t>(a)] == scores[static_cast<size_t>(b)] && a < b);
  };
  std::nth_element(idx.begin(), idx.begin() + count, idx.end(), less);
  for (int64_t i = 0; i < count; ++i) keep[static_cast<size_t>(idx[static_cast<size_t>(i)])] = 0;
  return keep;
}

std::vector<uint8_t> dropLowestPerRow(std::span<const float> scores, const WeightView& view, double sparsity) {
  std::vector<uint8_t> keep(scores.size(), 1);
  const auto drop = static_cast<int64_t>(std::llround(sparsity * static_cast<double>(view.cols)));
  std::vector<float> row(static_cast<size_t>(view.cols));
  for (int64_t r = 0; r < view.rows; ++r) {
    for (int64_t c = 0; c < view.cols; ++c) row[static_cast<size_t>(c)] = scores[static_cast<size_t>(view.index(r, c))];
    std::vector<uint8_t> k = dropLowest(row, drop);
    for (int64_t c = 0; c < view.cols; ++c) keep[static_cast<size_t>(view.index(r, c))] = k[static_cast<size_t>(c)];
  }
  return keep;
}

bool blockable(const WeightView& view, int64_t m) { return m > 0 && (view.cols / view.kernel) % m == 0; }

std::vector<uint8_t> keepNofM(std::span<const float> scores, const WeightView& view, int64_t n, int64_t m) {
  std::vector<uint8_t> keep(scores.size(), 0);
  const int64_t channels = view.cols / view.kernel;
  std::vector<int64_t> pos(static_cast<size_t>(m));
  for (int64_t r = 0; r < view.rows; ++r)
    for (int64_t k = 0; k < view.kernel; ++k)
      for (int64_t c0 = 0; c0 < channels; c0 += m) {
        for (int64_t j = 0; j < m; ++j) pos[static_cast<size_t>(j)] = view.index(r, (c0 + j) * view.kernel + k);
        // Highest scores first; ties: lower channel first.
        std::stable_sort(pos.begin(), pos.end(), [&](int64_t a, int64_t b) {
          return scores[static_cast<size_t>(a)] > scores[static_cast<size_t>(b)];
        });
        for (int64_t j = 0; j < n; ++j) keep[static_cast<size_t>(pos[static_cast<size_t>(j)])] = 1;
      }
  return keep;
}

}  // namespace effdl::passes::prune
