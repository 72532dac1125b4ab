// Weight reconstruction after pruning; see the header.
#include "passes/prune/reconstruct.h"

#include <cmath>

namespace effdl::passes::prune {
namespace {

// Solves A x = b in place for symmetric positive definite A (n×n, row-major) by Cholesky;
// false when A is not positive definite.
bool choleskySolve(std::vector<double>& a, std::vector<double>& b, size_t n) {
  for (size_t j = 0; j < n; ++j) {
    double d = a[j * n + j];
    for (size_t k = 0; k < j; ++k) d -= a[j * n + k] * a[j * n + k];
    if (!(d > 0)) return false;
    d = std::sqrt(d);
    a[j * n + j] = d;
    for (size_t i = j + 1; i < n; ++i) {
      double s = a[i * n + j];
      for (size_t k = 0; k < j; ++k) s -= a[i * n + k] * a[j * n + k];
      a[i * n + j] = s / d;
    }
  }
  for (size_t i = 0; i < n; ++i) {
    double s = b[i];
    for (size_t k = 0; k < i; ++k) s -= a[i * n + k] * b[k];
    b[i] = s / a[i * n + i];
  }
  for (size_t i = n; i-- > 0;) {
    double s = b[i];
    for (size_t k = i + 1; k < n; ++k) s -= a[k * n + i] * b[k];
    b[i] = s / a[i * n + i];
  }
  return true;
}

}  // namespace

RefitKind refit(const Target& t, const LayerStats& s, const std::vector<float>& original,
                const std::vector<uint8_t>& keep, std::vector<float>& weights, std::optional<std::vector<float>>& bias,
                bool createBias) {
  const WeightView& v = t.view;
  if (!s.gram.empty()) {
    const auto d = static_cast<size_t>(s.gramDim);  // cols + 1
    const auto cols = static_cast<size_t>(v.cols);
    double diag = 0;
    for (size_t i = 0; i < d; ++i) diag += s.gram[i * d + i];
    const double ridge = 1e-6 * diag / static_cast<double>(d) + 1e-12;
    const bool withBias = bias.has_value();
    std::vector<size_t> idx;
    for (int64_t r = 0; r < v.rows; ++r) {
      idx.clear();
      for (size_t c = 0; c < cols; ++c)
        if (keep[static_cast<size_t>(v.index(r, static_cast<int64_t>(c)))]) idx.push_back(c);
      if (withBias) idx.push_back(cols);
      if (idx.empty()) continue;
      // Right side: G_S,: · [w_orig; b_orig] (the bias column is the constant-1 input).
      std::vector<double> full(d, 0.0);
      for (size_t c = 0; c < cols; ++c) full[c] = original[static_cast<size_t>(v.index(r, static_cast<int64_t>(c)))];
      full[cols] = withBias ? (*bias)[static_cast<size_t>(r)] : 0.0;
      const size_t n = idx.size();
      std::vector<double> a(n * n), rhs(n, 0.0);
      for (size_t i = 0; i < n; ++i) {
        const double* g = s.gram.data() + idx[i] * d;
        for (size_t j = 0; j < n; ++j) a[i * n + j] = g[idx[j]];
        a[i * n + i] += ridge;
        for (size_t j = 0; j < d; ++j) rhs[i] += g[j] * full[j];
      }
      if (!choleskySolve(a, rhs, n)) continue;  // leave this row as pruned
      for (size_t i = 0; i < n; ++i) {
        if (idx[i] == cols) (*bias)[static_cast<size_t>(r)] = static_cast<float>(rhs[i]);
        else weights[static_cast<size_t>(v.index(r, static_cast<int64_t>(idx[i])))] = static_cast<float>(rhs[i]);
      }
    }
    return RefitKind::kLeastSquares;
  }
  if (!bias && !createBias) return RefitKind::kNone;
  if (!bias) bias = std::vector<float>(static_cast<size_t>(v.rows), 0.0f);
  for (int64_t r = 0; r < v.rows; ++r) {
    double delta = 0;
    for (int64_t c = 0; c < v.cols; ++c) {
      const auto e = static_cast<size_t>(v.index(r, c));
      delta += (static_cast<double>(original[e]) - weights[e]) * s.mean[static_cast<size_t>(v.inputChannel(r, c))];
    }
    (*bias)[static_cast<size_t>(r)] += static_cast<float>(delta);
  }
  return RefitKind::kBiasCorrection;
}

}  // namespace effdl::passes::prune
