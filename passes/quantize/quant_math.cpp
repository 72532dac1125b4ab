// Quantization arithmetic; see the header.
#include "passes/quantize/quant_math.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace effdl::passes::quant {

ActParams activationParams(float lo, float hi, bool u8) {
  lo = std::min(lo, 0.0f);
  hi = std::max(hi, 0.0f);
  ActParams p;
  if (u8) {
    if (hi - lo <= 0.0f) return p;
    p.scale = (hi - lo) / 255.0f;
    p.zeroPoint = static_cast<int32_t>(std::clamp(std::nearbyint(-lo / p.scale), 0.0f, 255.0f));
  } else {
    float m = std::max(-lo, hi);
    if (m <= 0.0f) return p;
    p.scale = m / 127.0f;
  }
  return p;
}

namespace {
// Weights are read in slabs of about this many bytes: the unit of work of a thread, and the
// range handed to the caller's `done` once read, so that a huge mapped weight never becomes
// resident as a whole.
constexpr size_t kSlabBytes = size_t{16} << 20;

// Clamps to [-qmax, qmax] and rounds half to even, as std::nearbyint in the default rounding
// mode: adding 1.5 * 2^23 leaves no fraction bits, so the addition itself rounds. NaN (from a
// NaN weight) becomes 0: casting it to an integer is undefined. Branch-free, so loops vectorise.
[[gnu::always_inline]] inline int8_t roundSat(float x, float qmax) {
  constexpr float kRound = 12582912.0f;
  x = x > qmax ? qmax : x;  // a NaN passes both compares unchanged
  x = x < -qmax ? -qmax : x;
  x = x == x ? x : 0.0f;
  return static_cast<int8_t>(static_cast<int32_t>((x + kRound) - kRound));
}
// |x|, with infinities and NaN counted as 0 (they would make every other value round to 0).
[[gnu::always_inline]] inline float absFinite(float x) {
  const float a = std::fabs(x);
  return a <= std::numeric_limits<float>::max() ? a : 0.0f;
}
[[gnu::always_inline]] inline float maxOf(float a, float b) { return a < b ? b : a; }

// Largest |x| of a contiguous run, in independent lanes so that the compiler vectorises it.
[[gnu::always_inline]] inline float runMax(const float* x, size_t n) {
  constexpr size_t kLanes = 16;
  float lane[kLanes] = {};
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (size_t l = 0; l < kLanes; ++l) lane[l] = maxOf(lane[l], absFinite(x[i + l]));
  float m = 0.0f;
  for (; i < n; ++i) m = maxOf(m, absFinite(x[i]));
  for (float v : lane) m = maxOf(m, v);
  return m;
}

// GCC also builds the two slab loops below for AVX2 and AVX-512 and picks one when the library
// loads: the build targets baseline x86-64 (4 floats per instruction) and weight-only
// quantization of a mapped 1 GiB model spends most of its CPU time here. Max, division and the
// rounding are exact in every instruction set, so the bytes do not depend on the clone. Clang
// builds (the sanitizer tree) keep the baseline loops.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define EFFDL_QUANT_CLONES __attribute__((target_clones("default", "avx2", "arch=x86-64-v4")))
#else
#define EFFDL_QUANT_CLONES
#endif

// Maxima of |x| per channel over units [ub, ue): a unit is one row of every channel
// (rowIsChannels) or one channel's contiguous run.
EFFDL_QUANT_CLONES void slabMax(const float* src, size_t ub, size_t ue, size_t unit, bool rowIsChannels,
                                size_t axisLen, float* local) {
  for (size_t u = ub; u < ue; ++u) {
    const float* x = src + u * unit;
    if (rowIsChannels) {
      for (size_t a = 0; a < unit; ++a) local[a] = maxOf(local[a], absFinite(x[a]));
    } else {
      const size_t a = u % axisLen;
      local[a] = maxOf(local[a], runMax(x, unit));
    }
  }
}

// Quantizes units [ub, ue) with the channels' scales.
EFFDL_QUANT_CLONES void slabQuantize(const float* src, int8_t* q, size_t ub, size_t ue, size_t unit,
                                     bool rowIsChannels, size_t axisLen, const float* scales, float qmax) {
  for (size_t u = ub; u < ue; ++u) {
    const float* x = src + u * unit;
    int8_t* y = q + u * unit;
    // `omp simd`: y is int8, which may alias anything as far as the compiler knows.
    if (rowIsChannels) {
#pragma omp simd
      for (size_t a = 0; a < unit; ++a) y[a] = roundSat(x[a] / scales[a], qmax);
    } else {
      const float sc = scales[u % axisLen];
#pragma omp simd
      for (size_t i = 0; i < unit; ++i) y[i] = roundSat(x[i] / sc, qmax);
    }
  }
}
}  // namespace

Quantized quantizeAxis(std::span<const float> w, int64_t outer, int64_t axisLen, int64_t inner, bool reduceRange,
                       const DoneFn& done) {
  const float qmax = reduceRange ? 63.0f : 127.0f;
  if (axisLen == 1) {  // one scale: the whole tensor is one run
    inner *= outer;
    outer = 1;
  }
  Quantized r;
  r.scales.assign(static_cast<size_t>(axisLen), 0.0f);
  r.q.resize(w.size());
  // A unit is a contiguous run: one outer row of every channel (inner == 1) or one channel's
  // inner run. Slabs are whole units.
  const size_t unit = static_cast<size_t>(inner == 1 ? axisLen : inner);
  if (w.empty() || unit == 0) return r;
  const size_t units = w.size() / unit;
  std::fill(r.q.begin() + static_cast<std::ptrdiff_t>(units * unit), r.q.end(), int8_t{0});  // dims not matching w
  const size_t perSlab = std::max<size_t>(1, kSlabBytes / sizeof(float) / unit);
  const int64_t slabs = static_cast<int64_t>((units + perSlab - 1) / perSlab);
  const float* src = w.data();
  auto slabRange = [&](int64_t s) {
    const size_t b = static_cast<size_t>(s) * perSlab;
    return std::pair<size_t, size_t>{b, std::min(units, b + perSlab)};
  };

  // Maxima per channel: per thread, then merged (max is exact, so the thread count cannot
  // change the result).
#pragma omp parallel if (slabs > 1)
  {
    std::vector<float> local(r.scales.size(), 0.0f);
#pragma omp for schedule(static)
    for (int64_t s = 0; s < slabs; ++s) {
      auto [ub, ue] = slabRange(s);
      slabMax(src, ub, ue, unit, inner == 1, static_cast<size_t>(axisLen), local.data());
      if (done) done(ub * unit, (ue - ub) * unit);
    }
#pragma omp critical
    for (size_t a = 0; a < local.size(); ++a) r.scales[a] = maxOf(r.scales[a], local[a]);
  }
  for (float& s : r.scales) s = s > 0.0f ? s / qmax : 1.0f;

  const float* scales = r.scales.data();
  int8_t* q = r.q.data();
#pragma omp parallel for if (slabs > 1) schedule(static)
  for (int64_t s = 0; s < slabs; ++s) {
    auto [ub, ue] = slabRange(s);
    slabQuantize(src, q, ub, ue, unit, inner == 1, static_cast<size_t>(axisLen), scales, qmax);
    if (done) done(ub * unit, (ue - ub) * unit);
  }
  return r;
}

Quantized quantizeBlocks(std::span<const float> w, int64_t outer, int64_t rows, int64_t inner, int64_t blockSize,
                         bool reduceRange) {
  const float qmax = reduceRange ? 63.0f : 127.0f;
  const int64_t blocks = rows / blockSize;
  Quantized r;
  r.scales.assign(static_cast<size_t>(outer * blocks * inner), 0.0f);
  r.q.resize(w.size());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t b = 0; b < blocks; ++b)
      for (int64_t i = 0; i < inner; ++i) {
        float m = 0.0f;
        for (int64_t k = 0; k < blockSize; ++k)
          m = std::max(m, absFinite(w[static_cast<size_t>(((o * rows) + b * blockSize + k) * inner + i)]));
        float s = m > 0.0f ? m / qmax : 1.0f;
        r.scales[static_cast<size_t>((o * blocks + b) * inner + i)] = s;
        for (int64_t k = 0; k < blockSize; ++k) {
          size_t e = static_cast<size_t>(((o * rows) + b * blockSize + k) * inner + i);
          r.q[e] = roundSat(w[e] / s, qmax);
        }
      }
  return r;
}

std::vector<int32_t> quantizeBias(std::span<const float> b, float sx, std::span<const float> sw) {
  std::vector<int32_t> q(b.size());
  const double lim = static_cast<double>(std::numeric_limits<int32_t>::max());
  for (size_t o = 0; o < b.size(); ++o) {
    double s = static_cast<double>(sx) * static_cast<double>(sw.size() == 1 ? sw[0] : sw[o]);
    double v = s > 0 && std::isfinite(b[o]) ? std::nearbyint(static_cast<double>(b[o]) / s) : 0.0;
    q[o] = static_cast<int32_t>(std::clamp(v, -lim, lim));
  }
  return q;
}

}  // namespace effdl::passes::quant
