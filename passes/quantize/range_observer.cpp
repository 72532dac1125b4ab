// Range observers; see the header.
#include "passes/quantize/range_observer.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace effdl::passes::quant {

void RangeObserver::observe(std::span<const float> x) {
  float lo = std::numeric_limits<float>::infinity(), hi = -lo;
  for (float v : x) {
    if (!std::isfinite(v)) continue;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  if (lo > hi) return;
  if (!seen_) min_ = lo, max_ = hi, seen_ = true;
  min_ = std::min(min_, lo);
  max_ = std::max(max_, hi);
  if (!histogram_) return;
  const float am = std::max(-lo, hi);
  if (am <= 0) {
    if (hist_.empty()) hist_.assign(kBins, 0);
    hist_[0] += x.size();
    return;
  }
  grow(am);
  const double inv = static_cast<double>(kBins) / top_;
  for (float v : x) {
    if (!std::isfinite(v)) continue;
    size_t b = static_cast<size_t>(std::fabs(v) * inv);
    ++hist_[std::min(b, kBins - 1)];
  }
}

void RangeObserver::grow(float absMax) {
  if (hist_.empty()) hist_.assign(kBins, 0);
  if (top_ <= 0) {
    // First non-zero sample: everything counted so far was exactly 0 and stays in bin 0.
    top_ = absMax * 1.0001f;
    return;
  }
  while (absMax >= top_) {
    for (size_t i = 0; i < kBins / 2; ++i) hist_[i] = hist_[2 * i] + hist_[2 * i + 1];
    std::fill(hist_.begin() + kBins / 2, hist_.end(), 0);
    top_ *= 2;
  }
}

namespace {

// KL(P || Q) of the reference distribution clipped at `bins` and its `levels`-level version.
double klDivergence(const std::vector<uint64_t>& hist, size_t bins, size_t levels) {
  std::vector<double> p(hist.begin(), hist.begin() + static_cast<std::ptrdiff_t>(bins));
  for (size_t i = bins; i < hist.size(); ++i) p[bins - 1] += static_cast<double>(hist[i]);
  std::vector<double> q(bins, 0.0);
  const double per = static_cast<double>(bins) / static_cast<double>(levels);
  for (size_t l = 0; l < levels; ++l) {
    size_t a = static_cast<size_t>(std::floor(static_cast<double>(l) * per));
    size_t b = std::min(bins, static_cast<size_t>(std::floor(static_cast<double>(l + 1) * per)));
    double sum = 0;
    size_t nonzero = 0;
    for (size_t i = a; i < b; ++i) {
      sum += static_cast<double>(hist[i]);
      nonzero += hist[i] != 0;
    }
    for (size_t i = a; i < b; ++i)
      if (hist[i] != 0) q[i] = sum / static_cast<double>(nonzero);
  }
  double ps = 0, qs = 0;
  for (size_t i = 0; i < bins; ++i) ps += p[i], qs += q[i];
  if (ps <= 0 || qs <= 0) return std::numeric_limits<double>::infinity();
  double kl = 0;
  for (size_t i = 0; i < bins; ++i) {
    if (p[i] == 0) continue;
    double pi = p[i] / ps, qi = q[i] / qs;
    kl += pi * std::log(pi / std::max(qi, 1e-4));  // smoothing as ONNX Runtime's entropy calibrator
  }
  return kl;
}

}  // namespace

float RangeObserver::threshold(CalibMethod method, double percentile) const {
  uint64_t total = 0;
  for (uint64_t c : hist_) total += c;
  if (total == 0 || top_ <= 0) return 0;
  const double width = static_cast<double>(top_) / kBins;
  if (method == CalibMethod::kPercentile) {
    const double want = percentile / 100.0 * static_cast<double>(total);
    uint64_t cum = 0;
    for (size_t i = 0; i < kBins; ++i) {
      cum += hist_[i];
      if (static_cast<double>(cum) >= want) return static_cast<float>((static_cast<double>(i) + 1) * width);
    }
    return top_;
  }
  // Entropy: the last non-empty bin bounds the search; thresholds from 128 bins up, in steps.
  size_t last = kBins;
  while (last > 0 && hist_[last - 1] == 0) --last;
  // Non-negative tensors (after ReLU) use all 256 u8 levels on [0, t]; signed ones 128 per side.
  const size_t levels = min_ >= 0 ? 256 : 128;
  if (last <= levels) return static_cast<float>(static_cast<double>(last) * width);
  double best = std::numeric_limits<double>::infinity();
  size_t bestBins = last;
  for (size_t bins = levels; bins <= last; bins += 16) {
    double kl = klDivergence(hist_, bins, levels);
    if (kl < best) best = kl, bestBins = bins;
  }
  return static_cast<float>(static_cast<double>(bestBins) * width);
}

std::pair<float, float> RangeObserver::range(CalibMethod method, double percentile) const {
  if (!seen_) return {0.0f, 0.0f};
  if (method == CalibMethod::kMinMax || !histogram_) return {min_, max_};
  float t = threshold(method, percentile);
  return {std::max(min_, -t), std::min(max_, t)};
}

}  // namespace effdl::passes::quant
