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
// NaN (from a NaN weight) becomes 0: casting it to an integer is undefined.
int8_t roundSat(float x, float qmax) {
  if (std::isnan(x)) return 0;
  return static_cast<int8_t>(std::clamp(std::nearbyint(x), -qmax, qmax));
}
float absFinite(float x) { return std::isfinite(x) ? std::fabs(x) : 0.0f; }
}  // namespace

Quantized quantizeAxis(std::span<const float> w, int64_t outer, int64_t axisLen, int64_t inner, bool reduceRange) {
  const float qmax = reduceRange ? 63.0f : 127.0f;
  Quantized r;
  r.scales.assign(static_cast<size_t>(axisLen), 0.0f);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t a = 0; a < axisLen; ++a)
      for (int64_t i = 0; i < inner; ++i)
        r.scales[a] = std::max(r.scales[a], absFinite(w[static_cast<size_t>((o * axisLen + a) * inner + i)]));
  for (float& s : r.scales) s = s > 0.0f ? s / qmax : 1.0f;
  r.q.resize(w.size());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t a = 0; a < axisLen; ++a)
      for (int64_t i = 0; i < inner; ++i) {
        size_t e = static_cast<size_t>((o * axisLen + a) * inner + i);
        r.q[e] = roundSat(w[e] / r.scales[a], qmax);
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
