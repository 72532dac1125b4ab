// quantizeAxis (slab-wise, vectorised, threaded) against the plain definition: round half to even
// of w / s, saturated; NaN to 0; infinities left out of the scale. Every layout, thread counts 1
// and 2, and weights spanning several slabs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <mutex>
#include <random>

#include "passes/quantize/quant_math.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace effdl::passes::quant {
namespace {

Quantized reference(const std::vector<float>& w, int64_t outer, int64_t axisLen, int64_t inner, float qmax) {
  Quantized r;
  r.scales.assign(static_cast<size_t>(axisLen), 0.0f);
  auto at = [&](int64_t o, int64_t a, int64_t i) { return static_cast<size_t>((o * axisLen + a) * inner + i); };
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t a = 0; a < axisLen; ++a)
      for (int64_t i = 0; i < inner; ++i) {
        const float v = w[at(o, a, i)];
        if (std::isfinite(v)) r.scales[a] = std::max(r.scales[a], std::fabs(v));
      }
  for (float& s : r.scales) s = s > 0.0f ? s / qmax : 1.0f;
  r.q.resize(w.size());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t a = 0; a < axisLen; ++a)
      for (int64_t i = 0; i < inner; ++i) {
        const float x = w[at(o, a, i)] / r.scales[a];
        r.q[at(o, a, i)] = std::isnan(x) ? 0 : static_cast<int8_t>(std::clamp(std::nearbyint(x), -qmax, qmax));
      }
  return r;
}

std::vector<float> weights(size_t n) {
  std::mt19937 rng(7);
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> w(n);
  for (float& v : w) v = d(rng);
  return w;
}

void expectSame(const Quantized& a, const Quantized& b) {
  ASSERT_EQ(a.scales, b.scales);
  ASSERT_EQ(a.q.size(), b.q.size());
  for (size_t i = 0; i < a.q.size(); ++i) ASSERT_EQ(a.q[i], b.q[i]) << "element " << i;
}

TEST(QuantMath, TiesRoundToEvenAndSpecialValues) {
  // Channel max 127 makes the scale 1, so each value is its own quotient.
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> w = {127.0f, 2.5f, 3.5f, -2.5f, -0.5f, 126.5f, inf, -inf, nan, 0.49999997f};
  Quantized q = quantizeAxis(w, 1, 1, static_cast<int64_t>(w.size()), false);
  ASSERT_EQ(q.scales.size(), 1u);
  EXPECT_EQ(q.scales[0], 1.0f);
  Int8Buffer expected = {127, 2, 4, -2, 0, 126, 127, -127, 0, 0};
  EXPECT_EQ(q.q, expected);
  expectSame(q, reference(w, 1, 1, static_cast<int64_t>(w.size()), 127.0f));
}

TEST(QuantMath, EveryLayoutMatchesTheDefinition) {
  const auto w = weights(6 * 10 * 7);
  for (bool reduce : {false, true}) {
    const float qmax = reduce ? 63.0f : 127.0f;
    expectSame(quantizeAxis(w, 6, 10, 7, reduce), reference(w, 6, 10, 7, qmax));    // conv-like
    expectSame(quantizeAxis(w, 60, 7, 1, reduce), reference(w, 60, 7, 1, qmax));    // matmul: last axis
    expectSame(quantizeAxis(w, 1, 60, 7, reduce), reference(w, 1, 60, 7, qmax));    // rows of a table
    expectSame(quantizeAxis(w, 420, 1, 1, reduce), reference(w, 1, 1, 420, qmax));  // per tensor
  }
}

TEST(QuantMath, SlabsAndThreadsDoNotChangeTheResult) {
  // 20 MiB of floats: more than one 16 MiB slab, so work is split and `done` called per slab.
  const int64_t rows = 2560, cols = 2048;
  const auto w = weights(static_cast<size_t>(rows * cols));
  std::vector<int> seen(w.size(), 0);
  std::mutex mu;
  auto done = [&](size_t first, size_t count) {
    std::lock_guard<std::mutex> lock(mu);
    for (size_t i = first; i < first + count; ++i) ++seen[i];
  };
  const Quantized ref = reference(w, rows, cols, 1, 127.0f);
  for (int threads : {1, 2}) {
#ifdef _OPENMP
    omp_set_num_threads(threads);
#endif
    std::fill(seen.begin(), seen.end(), 0);
    expectSame(quantizeAxis(w, rows, cols, 1, false, done), ref);
    // Every element is reported read once per pass (scales, then values).
    EXPECT_TRUE(std::all_of(seen.begin(), seen.end(), [](int n) { return n == 2; })) << threads << " threads";
  }
  expectSame(quantizeAxis(w, 1, rows, cols, false), reference(w, 1, rows, cols, 127.0f));
}

}  // namespace
}  // namespace effdl::passes::quant
