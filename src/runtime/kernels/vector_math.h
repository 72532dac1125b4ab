// float32 exp, expm1, sigmoid, tanh and erf written so that a loop calling them auto-vectorises:
// straight-line arithmetic, selects as bit masks, no libm calls and no float→int conversions.
// libm's scalar functions would keep Exp/Sigmoid/Tanh/Erf loops scalar (ONNX Runtime uses
// vectorised approximations of similar accuracy, ~1–2 ulp for exp). GCC's default
// -ftrapping-math keeps `c ? a : b` on floats from being if-converted, hence selectBits.
// Each function takes kFma: true only inside loops compiled for a target with FMA (see
// elementwise.h), where a*b+c becomes one fused instruction; the build's ISO mode
// (-ffp-contract=off) would otherwise never fuse them.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace effdl::runtime {

// c ? a : b, as a bitwise blend that the vectoriser accepts.
inline float selectBits(bool c, float a, float b) {
  const uint32_t m = 0u - static_cast<uint32_t>(c);
  return std::bit_cast<float>((std::bit_cast<uint32_t>(a) & m) | (std::bit_cast<uint32_t>(b) & ~m));
}
inline double selectBits(bool c, double a, double b) {
  const uint64_t m = uint64_t{0} - static_cast<uint64_t>(c);
  return std::bit_cast<double>((std::bit_cast<uint64_t>(a) & m) | (std::bit_cast<uint64_t>(b) & ~m));
}

// a * b + c; fused (one rounding) when kFma. Only instantiate kFma = true in functions compiled
// for FMA: elsewhere __builtin_fmaf is a libm call.
template <bool kFma>
[[gnu::always_inline]] inline float madd(float a, float b, float c) {
  if constexpr (kFma) return __builtin_fmaf(a, b, c);
  else return a * b + c;
}

// e^x with ~1 ulp error (Cephes' expf polynomial). Results below ~2^-124 flush to 0; NaN stays
// NaN, ±Inf give Inf and 0.
template <bool kFma = false>
inline float fastExp(float x) {
  constexpr float kHi = 88.7228394f;  // ln(FLT_MAX)
  constexpr float kLo = -86.5f;       // keeps 2^(n-1) below a normal float
  constexpr float kShift = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
  const float xc = selectBits(x > kHi, kHi, selectBits(x < kLo, kLo, x));
  // x = n ln2 + r with n = round(x / ln2), |r| <= ln2 / 2; ln2 split in two for exactness.
  const float t = madd<kFma>(xc, 1.44269504088896341f, kShift);
  const float n = t - kShift;
  float r = madd<kFma>(n, -0.693359375f, xc);
  r = madd<kFma>(n, 2.12194440e-4f, r);
  const float r2 = r * r;
  float p = 1.9875691500e-4f;
  p = madd<kFma>(p, r, 1.3981999507e-3f);
  p = madd<kFma>(p, r, 8.3334519073e-3f);
  p = madd<kFma>(p, r, 4.1665795894e-2f);
  p = madd<kFma>(p, r, 1.6666665459e-1f);
  p = madd<kFma>(p, r, 5.0000001201e-1f);
  p = madd<kFma>(p, r2, r) + 1.0f;
  // 2^n as 2^(n-1) * 2, so that n = 128 (x near ln(FLT_MAX)) still has a finite scale. n sits in
  // t's low mantissa bits; unsigned arithmetic keeps a NaN's garbage bits well defined.
  const uint32_t ni = std::bit_cast<uint32_t>(t) - std::bit_cast<uint32_t>(kShift);
  const float scale = std::bit_cast<float>((ni + 126u) << 23);
  float y = p * scale * 2.0f;
  y = selectBits(x > kHi, std::numeric_limits<float>::infinity(), y);
  return selectBits(x < kLo, 0.0f, y);
}

// e^x - 1, accurate near 0 too (a Taylor polynomial below |x| < 1/8, where exp(x) - 1 would
// cancel).
template <bool kFma = false>
inline float fastExpm1(float x) {
  const float big = fastExp<kFma>(x) - 1.0f;
  float p = 1.0f / 5040.0f;
  p = madd<kFma>(p, x, 1.0f / 720.0f);
  p = madd<kFma>(p, x, 1.0f / 120.0f);
  p = madd<kFma>(p, x, 1.0f / 24.0f);
  p = madd<kFma>(p, x, 1.0f / 6.0f);
  p = madd<kFma>(p, x, 0.5f);
  const float small = madd<kFma>(p * x, x, x);
  const float ax = std::bit_cast<float>(std::bit_cast<uint32_t>(x) & 0x7fffffffu);
  return selectBits(ax < 0.125f, small, big);
}

template <bool kFma = false>
inline float fastSigmoid(float x) {
  return 1.0f / (1.0f + fastExp<kFma>(-x));
}

// tanh as a 13/6-degree rational function on [-7.9, 7.9] (Eigen's generic_fast_tanh_float);
// a few ulp.
template <bool kFma = false>
inline float fastTanh(float x) {
  constexpr float kClamp = 7.90531110763549805f;
  const float xc = selectBits(x > kClamp, kClamp, selectBits(x < -kClamp, -kClamp, x));
  const float x2 = xc * xc;
  float p = -2.76076847742355e-16f;
  p = madd<kFma>(p, x2, 2.00018790482477e-13f);
  p = madd<kFma>(p, x2, -8.60467152213735e-11f);
  p = madd<kFma>(p, x2, 5.12229709037114e-08f);
  p = madd<kFma>(p, x2, 1.48572235717979e-05f);
  p = madd<kFma>(p, x2, 6.37261928875436e-04f);
  p = madd<kFma>(p, x2, 4.89352455891786e-03f);
  p = p * xc;
  float q = 1.19825839466702e-06f;
  q = madd<kFma>(q, x2, 1.18534705686654e-04f);
  q = madd<kFma>(q, x2, 2.26843463243900e-03f);
  q = madd<kFma>(q, x2, 4.89352518554385e-03f);
  const float ax = std::bit_cast<float>(std::bit_cast<uint32_t>(x) & 0x7fffffffu);
  return selectBits(ax < 0.0004f, x, p / q);
}

// erf as x * P(x^2) / Q(x^2) on [-4, 4] (Eigen's generic_fast_erf_float; beyond 4, erf is ±1 in
// float): relative error ~1e-7 near 0, absolute error below 5e-7 everywhere. A rational function
// costs half of an erfc-through-exp formulation, and GELU spends most of its time here.
template <bool kFma = false>
inline float fastErf(float x) {
  const float xc = selectBits(x > 4.0f, 4.0f, selectBits(x < -4.0f, -4.0f, x));
  const float x2 = xc * xc;
  float p = -2.72614225801306e-10f;
  p = madd<kFma>(p, x2, 2.77068142495902e-08f);
  p = madd<kFma>(p, x2, -2.10102402082508e-06f);
  p = madd<kFma>(p, x2, -5.69250639462346e-05f);
  p = madd<kFma>(p, x2, -7.34990630326855e-04f);
  p = madd<kFma>(p, x2, -2.95459980854025e-03f);
  p = madd<kFma>(p, x2, -1.60960333262415e-02f);
  p = p * xc;
  float q = -1.45660718464996e-05f;
  q = madd<kFma>(q, x2, -2.13374055278905e-04f);
  q = madd<kFma>(q, x2, -1.68282697438203e-03f);
  q = madd<kFma>(q, x2, -7.37332916720468e-03f);
  q = madd<kFma>(q, x2, -1.42647390514189e-02f);
  return p / q;
}

// y = sqrt(x). std::sqrt must set errno for negative inputs, which keeps GCC (without
// -fno-math-errno) from vectorising it and sends each negative input through a libm call;
// sqrtps/sqrtpd give the same IEEE results (NaN for negatives) without that.
inline void sqrtArray(const float* x, float* y, int64_t n) {
  int64_t i = 0;
#if defined(__SSE2__)
  for (; i + 4 <= n; i += 4) _mm_storeu_ps(y + i, _mm_sqrt_ps(_mm_loadu_ps(x + i)));
#endif
  for (; i < n; ++i) y[i] = std::sqrt(x[i]);
}
inline void sqrtArray(const double* x, double* y, int64_t n) {
  int64_t i = 0;
#if defined(__SSE2__)
  for (; i + 2 <= n; i += 2) _mm_storeu_pd(y + i, _mm_sqrt_pd(_mm_loadu_pd(x + i)));
#endif
  for (; i < n; ++i) y[i] = std::sqrt(x[i]);
}

}  // namespace effdl::runtime
