// Pooling over the spatial dims of [N, C, spatial...]: MaxPool (with its Indices output),
// AveragePool, LpPool, their Global forms, and MaxUnpool. One, two and three spatial dims share
// one loop nest: fewer dims are padded in front with size-1 dims whose window is 1.
// Output size per spatial dim, with ek = (k-1)*dilation + 1:
//   explicit pads: floor((in + pb + pe - ek) / s) + 1 (ceil_mode: ceil, minus one if the last
//     window would start inside the end padding, as PyTorch and ONNX Runtime do)
//   SAME_UPPER / SAME_LOWER: ceil(in / s), padding split with the extra one at the end / start
//   VALID: floor((in - ek) / s) + 1
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#include "runtime/kernel_registry.h"
#include "runtime/kernels/families.h"
#include "runtime/kernels/half.h"
#include "runtime/limits.h"

// `omp simd` asks for vectorisation; clang warns where it cannot comply (always under ASan's
// instrumentation), and -Werror would make that warning a failed build.
#if defined(__clang__)
#pragma clang diagnostic ignored "-Wpass-failed"
#endif

namespace effdl::runtime {
namespace {

// Attribute values (kernel, strides, pads, dilations) are bounded so sums cannot overflow.
constexpr int64_t kMaxAttr = int64_t{1} << 31;

std::vector<float> widen(const RtTensor& t) {
  std::vector<float> v(static_cast<size_t>(t.numel()));
  const uint16_t* h = t.as<uint16_t>();
  for (size_t i = 0; i < v.size(); ++i) v[i] = halfToFloat(h[i]);
  return v;
}

void narrow(const std::vector<float>& v, RtTensor& t) {
  uint16_t* h = t.as<uint16_t>();
  for (size_t i = 0; i < v.size(); ++i) h[i] = floatToHalf(v[i]);
}

// Element count of an output whose shape comes from attributes or input values; refused above the
// runtime's tensor size limit before anything is allocated (the runtime runs untrusted models).
int64_t checkedNumel(const KernelIo& io, const Shape& dims, ir::DataType dtype) {
  int64_t n = 1, bytes = 0;
  for (int64_t d : dims)
    if (d < 0 || __builtin_mul_overflow(n, d, &n))
      throwRunError(io, "output shape " + shapeString(dims) + " is invalid or too large");
  if (__builtin_mul_overflow(n, static_cast<int64_t>(ir::dtypeSize(dtype)), &bytes) || bytes > runtimeMaxTensorBytes())
    throwRunError(io, "output shape " + shapeString(dims) + " exceeds the runtime's tensor size limit of " +
                          std::to_string(runtimeMaxTensorBytes()) + " bytes");
  return n;
}

// ---------------------------------------------------------------------------------- geometry
enum class AutoPad { kNotSet, kSameUpper, kSameLower, kValid };

// The pooling attributes, validated when the session is built.
struct PoolAttrs {
  std::vector<int64_t> kernel, strides, dilations, pads;  // pads: begins then ends
  AutoPad autoPad = AutoPad::kNotSet;
  bool ceilMode = false;

  void parse(const KernelBuildContext& ctx) {
    const ir::Node& n = ctx.node;
    kernel = n.attrInts("kernel_shape");
    if (kernel.empty()) ctx.invalid("kernel_shape is required");
    if (kernel.size() > 3) ctx.unsupported("pooling over more than 3 spatial dims is not supported");
    const size_t k = kernel.size();
    strides = n.attrInts("strides");
    dilations = n.attrInts("dilations");
    pads = n.attrInts("pads");
    if (strides.empty()) strides.assign(k, 1);
    if (dilations.empty()) dilations.assign(k, 1);
    if (pads.empty()) pads.assign(2 * k, 0);
    if (strides.size() != k || dilations.size() != k || pads.size() != 2 * k)
      ctx.invalid("strides, dilations and pads must match kernel_shape's " + std::to_string(k) + " spatial dims");
    for (size_t i = 0; i < k; ++i) {
      if (kernel[i] < 1 || kernel[i] > kMaxAttr) ctx.invalid("kernel_shape values must be in [1, 2^31]");
      if (strides[i] < 1 || strides[i] > kMaxAttr) ctx.invalid("strides must be in [1, 2^31]");
      if (dilations[i] < 1 || dilations[i] > kMaxAttr) ctx.invalid("dilations must be in [1, 2^31]");
    }
    for (int64_t p : pads)
      if (p < 0 || p > kMaxAttr) ctx.invalid("pads must be in [0, 2^31]");
    std::string ap = n.attrString("auto_pad", "NOTSET");
    if (ap == "NOTSET") autoPad = AutoPad::kNotSet;
    else if (ap == "SAME_UPPER") autoPad = AutoPad::kSameUpper;
    else if (ap == "SAME_LOWER") autoPad = AutoPad::kSameLower;
    else if (ap == "VALID") autoPad = AutoPad::kValid;
    else ctx.invalid("unknown auto_pad '" + ap + "'");
    ceilMode = n.attrInt("ceil_mode", 0) != 0;
  }
};

// One run's geometry, always 3 spatial dims (missing leading ones have size 1, window 1).
struct Geometry {
  int64_t planes = 1;  // N * C
  int64_t in[3] = {1, 1, 1}, out[3] = {1, 1, 1};
  int64_t k[3] = {1, 1, 1}, s[3] = {1, 1, 1}, d[3] = {1, 1, 1}, pb[3] = {0, 0, 0}, pe[3] = {0, 0, 0};
  int64_t inPlane() const { return in[0] * in[1] * in[2]; }
  int64_t outPlane() const { return out[0] * out[1] * out[2]; }
};

// Output dims and the geometry for input dims `x`; throws naming the node for shapes that do not fit.
Geometry makeGeometry(const KernelIo& io, const PoolAttrs& a, const RtTensor& xt, Shape& outDims) {
  const Shape& x = xt.dims;
  const size_t nsp = a.kernel.size();
  if (x.size() != nsp + 2)
    throwRunError(io, "input shape " + shapeString(x) + " does not fit a " + std::to_string(nsp) +
                          "-D pooling window (expected rank " + std::to_string(nsp + 2) + ")");
  Geometry g;
  g.planes = x[0] * x[1];
  outDims = {x[0], x[1]};
  const size_t off = 3 - nsp;
  for (size_t i = 0; i < nsp; ++i) {
    const int64_t in = x[2 + i], k = a.kernel[i], s = a.strides[i], d = a.dilations[i];
    const int64_t ek = (k - 1) * d + 1;
    int64_t pb = a.pads[i], pe = a.pads[i + nsp], out = 0;
    switch (a.autoPad) {
      case AutoPad::kNotSet: {
        const int64_t span = in + pb + pe - ek;
        if (span < 0)
          throwRunError(io, "pooling window " + std::to_string(ek) + " is larger than the padded input dim " +
                                std::to_string(in + pb + pe) + " (input " + shapeString(x) + ")");
        out = (a.ceilMode ? (span + s - 1) / s : span / s) + 1;
        if (a.ceilMode && (out - 1) * s >= in + pb) --out;
        break;
      }
      case AutoPad::kSameUpper:
      case AutoPad::kSameLower: {
        out = (in + s - 1) / s;
        const int64_t total = std::max<int64_t>(0, (out - 1) * s + ek - in);
        pb = a.autoPad == AutoPad::kSameUpper ? total / 2 : total - total / 2;
        pe = total - pb;
        break;
      }
      case AutoPad::kValid:
        if (in < ek)
          throwRunError(io, "pooling window " + std::to_string(ek) + " is larger than the input dim " +
                                std::to_string(in) + " (input " + shapeString(x) + ")");
        out = (in - ek) / s + 1;
        pb = pe = 0;
        break;
    }
    g.in[off + i] = in;
    g.out[off + i] = out;
    g.k[off + i] = k;
    g.s[off + i] = s;
    g.d[off + i] = d;
    g.pb[off + i] = pb;
    g.pe[off + i] = pe;
    outDims.push_back(out);
  }
  checkedNumel(io, outDims, xt.dtype);
  return g;
}

// Roughly how many window taps a run visits, to decide on threads. In double: hostile kernel
// sizes could overflow an integer product.
double workOf(const Geometry& g) {
  double w = static_cast<double>(g.planes);
  for (int d = 0; d < 3; ++d) w *= static_cast<double>(g.out[d]) * static_cast<double>(std::min(g.k[d], g.in[d]));
  return w;
}

// For each output position of one dim: the first input position of its window and the range of
// window taps [lo, hi) that fall inside the input.
struct Taps {
  std::vector<int64_t> start, lo, hi;
};

Taps makeTaps(const Geometry& g, int dim) {
  Taps t;
  const int64_t n = g.out[dim];
  t.start.resize(static_cast<size_t>(n));
  t.lo.resize(static_cast<size_t>(n));
  t.hi.resize(static_cast<size_t>(n));
  for (int64_t o = 0; o < n; ++o) {
    const int64_t st = o * g.s[dim] - g.pb[dim], d = g.d[dim];
    int64_t lo = st >= 0 ? 0 : (-st + d - 1) / d;
    int64_t hi = g.in[dim] > st ? std::min(g.k[dim], (g.in[dim] - st + d - 1) / d) : 0;
    t.start[static_cast<size_t>(o)] = st;
    t.lo[static_cast<size_t>(o)] = lo;
    t.hi[static_cast<size_t>(o)] = std::max(lo, hi);
  }
  return t;
}

// ---------------------------------------------------------------------------------- max pool
template <typename T>
void maxPool(const Geometry& g, const T* x, T* y, int64_t* indices, bool columnMajor) {
  const Taps td = makeTaps(g, 0), th = makeTaps(g, 1), tw = makeTaps(g, 2);
  const int64_t inPlane = g.inPlane(), outPlane = g.outPlane();
  const int64_t H = g.in[1], W = g.in[2], D = g.in[0];
  [[maybe_unused]] const bool big = workOf(g) >= (1 << 15);
#pragma omp parallel for if (big && g.planes > 1) schedule(static)
  for (int64_t p = 0; p < g.planes; ++p) {
    const T* xp = x + p * inPlane;
    T* yp = y + p * outPlane;
    int64_t* ip = indices ? indices + p * outPlane : nullptr;
    for (int64_t od = 0; od < g.out[0]; ++od) {
      for (int64_t oh = 0; oh < g.out[1]; ++oh) {
        T* yrow = yp + (od * g.out[1] + oh) * g.out[2];
        for (int64_t ow = 0; ow < g.out[2]; ++ow) {
          T best = std::numeric_limits<T>::has_infinity ? -std::numeric_limits<T>::infinity()
                                                        : std::numeric_limits<T>::lowest();
          int64_t bestAt = -1;
          for (int64_t jd = td.lo[od]; jd < td.hi[od]; ++jd) {
            const int64_t id = td.start[od] + jd * g.d[0];
            for (int64_t jh = th.lo[oh]; jh < th.hi[oh]; ++jh) {
              const int64_t ih = th.start[oh] + jh * g.d[1];
              const T* xrow = xp + (id * H + ih) * W;
              const int64_t sw = tw.start[ow], dw = g.d[2];
              for (int64_t jw = tw.lo[ow]; jw < tw.hi[ow]; ++jw) {
                const T v = xrow[sw + jw * dw];
                if (v > best || bestAt < 0) {
                  best = v;
                  bestAt = (id * H + ih) * W + sw + jw * dw;
                }
              }
            }
          }
          yrow[ow] = best;
          if (ip) {
            int64_t at = bestAt < 0 ? 0 : bestAt;
            if (columnMajor) {  // spatial position in column-major order: w*H*D + h*D + d
              const int64_t w = at % W, h = (at / W) % H, d = at / (W * H);
              at = (w * H + h) * D + d;
            }
            ip[(od * g.out[1] + oh) * g.out[2] + ow] = p * inPlane + at;
          }
        }
      }
    }
  }
}

// ------------------------------------------------------------------------- average and Lp pool
enum class PoolKind { kMax, kAverage, kLp };

template <PoolKind Kind, typename T>
void sumPool(const Geometry& g, const T* x, T* y, bool countIncludePad, double p) {
  const Taps td = makeTaps(g, 0), th = makeTaps(g, 1), tw = makeTaps(g, 2);
  const int64_t inPlane = g.inPlane(), outPlane = g.outPlane();
  const int64_t H = g.in[1], W = g.in[2];
  // Taps inside input plus padding, per output position and dim (the divisor when padding counts).
  auto padded = [&](int dim, const Taps& t, int64_t o) {
    const int64_t limit = g.in[dim] + g.pe[dim], st = t.start[static_cast<size_t>(o)];
    if (st >= limit) return int64_t{0};
    return std::min(g.k[dim], (limit - st + g.d[dim] - 1) / g.d[dim]);
  };
  [[maybe_unused]] const bool big = workOf(g) >= (1 << 15);
#pragma omp parallel for if (big && g.planes > 1) schedule(static)
  for (int64_t pl = 0; pl < g.planes; ++pl) {
    const T* xp = x + pl * inPlane;
    T* yp = y + pl * outPlane;
    for (int64_t od = 0; od < g.out[0]; ++od) {
      for (int64_t oh = 0; oh < g.out[1]; ++oh) {
        T* yrow = yp + (od * g.out[1] + oh) * g.out[2];
        for (int64_t ow = 0; ow < g.out[2]; ++ow) {
          T sum = 0;
          for (int64_t jd = td.lo[od]; jd < td.hi[od]; ++jd) {
            const int64_t id = td.start[od] + jd * g.d[0];
            for (int64_t jh = th.lo[oh]; jh < th.hi[oh]; ++jh) {
              const int64_t ih = th.start[oh] + jh * g.d[1];
              const T* xrow = xp + (id * H + ih) * W + tw.start[ow];
              const int64_t dw = g.d[2];
              for (int64_t jw = tw.lo[ow]; jw < tw.hi[ow]; ++jw) {
                const T v = xrow[jw * dw];
                if constexpr (Kind == PoolKind::kLp) sum += static_cast<T>(std::pow(std::fabs(static_cast<double>(v)), p));
                else sum += v;
              }
            }
          }
          if constexpr (Kind == PoolKind::kLp) {
            yrow[ow] = static_cast<T>(std::pow(static_cast<double>(sum), 1.0 / p));
          } else {
            // Counts multiplied in T: with hostile kernel sizes an integer product could overflow.
            T count;
            if (countIncludePad)
              count = static_cast<T>(padded(0, td, od)) * static_cast<T>(padded(1, th, oh)) *
                      static_cast<T>(padded(2, tw, ow));
            else
              count = static_cast<T>(td.hi[od] - td.lo[od]) * static_cast<T>(th.hi[oh] - th.lo[oh]) *
                      static_cast<T>(tw.hi[ow] - tw.lo[ow]);
            yrow[ow] = count > 0 ? sum / count : std::numeric_limits<T>::quiet_NaN();
          }
        }
      }
    }
  }
}

// ------------------------------------------------------------------- row-wise max and average
// The fast path when the innermost window is contiguous (dilation 1 along W) and no Indices are
// wanted: each output row accumulates whole input rows (one per (d, h) tap), so the inner loop
// runs along W with a fixed window; columns whose window is entirely inside the input skip the
// bounds checks. K and S are the window and stride along W when known at compile time (0: not).
template <bool IsMax, typename T, int KC, int SC>
[[gnu::always_inline]] inline void accumulateRow(const T* xr, T* acc, const Taps& tw, int64_t outW, int64_t k, int64_t s,
                                                 int64_t interiorBegin, int64_t interiorEnd) {
  const int64_t K = KC ? KC : k, S = SC ? SC : s;
  auto edge = [&](int64_t ow) {
    T m = acc[ow];
    const T* p = xr + tw.start[static_cast<size_t>(ow)];
    for (int64_t j = tw.lo[static_cast<size_t>(ow)]; j < tw.hi[static_cast<size_t>(ow)]; ++j)
      m = IsMax ? (m < p[j] ? p[j] : m) : m + p[j];
    acc[ow] = m;
  };
  for (int64_t ow = 0; ow < interiorBegin; ++ow) edge(ow);
  if (interiorBegin < interiorEnd) {
    const T* base = xr + tw.start[static_cast<size_t>(interiorBegin)];
    for (int64_t ow = interiorBegin; ow < interiorEnd; ++ow) {
      const T* p = base + (ow - interiorBegin) * S;
      T m = acc[ow];
      for (int64_t j = 0; j < K; ++j) m = IsMax ? (m < p[j] ? p[j] : m) : m + p[j];
      acc[ow] = m;
    }
  }
  for (int64_t ow = std::max(interiorEnd, interiorBegin); ow < outW; ++ow) edge(ow);
}

// A whole output row from exactly three input rows with a 3-wide window along W (3x3 pooling
// away from the top and bottom borders): one pass, nine loads per output, nothing accumulated
// in memory.
template <bool IsMax, typename T, int S>
[[gnu::always_inline]] inline void fusedRow3x3(const T* const* rows, T* yr, const Taps& tw, int64_t outW,
                                               int64_t interiorBegin, int64_t interiorEnd, T init) {
  auto op = [](T a, T b) { return IsMax ? (a < b ? b : a) : a + b; };
  auto edge = [&](int64_t ow) {
    T m = init;
    const size_t o = static_cast<size_t>(ow);
    for (int r = 0; r < 3; ++r)
      for (int64_t j = tw.lo[o]; j < tw.hi[o]; ++j) m = op(m, rows[r][tw.start[o] + j]);
    yr[ow] = m;
  };
  for (int64_t ow = 0; ow < interiorBegin; ++ow) edge(ow);
  if (interiorBegin < interiorEnd) {
    const int64_t st = tw.start[static_cast<size_t>(interiorBegin)];
    const T* a = rows[0] + st;
    const T* b = rows[1] + st;
    const T* c = rows[2] + st;
    T* out = yr + interiorBegin;
    const int64_t n = interiorEnd - interiorBegin;
    for (int64_t i = 0; i < n; ++i) {
      const int64_t q = i * S;
      T m = op(op(a[q], a[q + 1]), a[q + 2]);
      m = op(op(op(m, b[q]), b[q + 1]), b[q + 2]);
      m = op(op(op(m, c[q]), c[q + 1]), c[q + 2]);
      out[i] = m;
    }
  }
  for (int64_t ow = std::max(interiorEnd, interiorBegin); ow < outW; ++ow) edge(ow);
}

// What every output row of one run shares.
template <typename T>
struct RowPlan {
  const Geometry* g;
  Taps td, th, tw;
  int64_t interiorBegin, interiorEnd;  // columns whose window lies inside [0, W)
  std::vector<T> colCount;             // AveragePool's divisor along W, per column
  bool countIncludePad;
};

// AveragePool's divisor along one dim: the window's taps inside the input, or inside the input
// and its padding.
template <typename T>
int64_t windowCount(const RowPlan<T>& rp, int dim, const Taps& t, int64_t o) {
  const Geometry& g = *rp.g;
  const size_t i = static_cast<size_t>(o);
  if (!rp.countIncludePad) return t.hi[i] - t.lo[i];
  const int64_t limit = g.in[dim] + g.pe[dim];
  return t.start[i] >= limit ? int64_t{0} : std::min(g.k[dim], (limit - t.start[i] + g.d[dim] - 1) / g.d[dim]);
}

// Output rows [r0, r1) (a row: one (plane, d, h) position, all of W).
template <bool IsMax, typename T>
[[gnu::always_inline]] inline void poolRows(const RowPlan<T>& rp, const T* x, T* y, int64_t r0, int64_t r1) {
  const Geometry& g = *rp.g;
  const int64_t inPlane = g.inPlane(), outPlane = g.outPlane();
  const int64_t H = g.in[1], W = g.in[2], outW = g.out[2], k = g.k[2], s = g.s[2];
  const int64_t rowsPerPlane = g.out[0] * g.out[1];
  const T init = IsMax ? (std::numeric_limits<T>::has_infinity ? -std::numeric_limits<T>::infinity()
                                                                : std::numeric_limits<T>::lowest())
                       : T(0);
  // (plane, od, oh) of row r0, then stepped along without divisions.
  int64_t pl = r0 / rowsPerPlane, od = (r0 % rowsPerPlane) / g.out[1], oh = r0 % g.out[1];
  for (int64_t r = r0; r < r1; ++r, ++oh) {
    if (oh == g.out[1]) {
      oh = 0;
      if (++od == g.out[0]) {
        od = 0;
        ++pl;
      }
    }
    const T* xp = x + pl * inPlane;
    T* yr = y + pl * outPlane + (od * g.out[1] + oh) * outW;
    const int64_t ib = rp.interiorBegin, ie = rp.interiorEnd;
    if (k == 3 && (s == 1 || s == 2) && rp.td.hi[od] - rp.td.lo[od] == 1 && rp.th.hi[oh] - rp.th.lo[oh] == 3) {
      const int64_t id = rp.td.start[od] + rp.td.lo[od] * g.d[0];
      const T* rows[3];
      for (int j = 0; j < 3; ++j) rows[j] = xp + (id * H + rp.th.start[oh] + (rp.th.lo[oh] + j) * g.d[1]) * W;
      if (s == 1) fusedRow3x3<IsMax, T, 1>(rows, yr, rp.tw, outW, ib, ie, init);
      else fusedRow3x3<IsMax, T, 2>(rows, yr, rp.tw, outW, ib, ie, init);
    } else {
      std::fill(yr, yr + outW, init);
      for (int64_t jd = rp.td.lo[od]; jd < rp.td.hi[od]; ++jd) {
        const int64_t id = rp.td.start[od] + jd * g.d[0];
        for (int64_t jh = rp.th.lo[oh]; jh < rp.th.hi[oh]; ++jh) {
          const T* xr = xp + (id * H + rp.th.start[oh] + jh * g.d[1]) * W;
          // Common windows get loops with compile-time bounds.
          if (k == 3 && s == 1) accumulateRow<IsMax, T, 3, 1>(xr, yr, rp.tw, outW, k, s, ib, ie);
          else if (k == 3 && s == 2) accumulateRow<IsMax, T, 3, 2>(xr, yr, rp.tw, outW, k, s, ib, ie);
          else if (k == 2 && s == 2) accumulateRow<IsMax, T, 2, 2>(xr, yr, rp.tw, outW, k, s, ib, ie);
          else accumulateRow<IsMax, T, 0, 0>(xr, yr, rp.tw, outW, k, s, ib, ie);
        }
      }
    }
    if constexpr (!IsMax) {
      const T outer = static_cast<T>(windowCount(rp, 0, rp.td, od)) * static_cast<T>(windowCount(rp, 1, rp.th, oh));
      for (int64_t ow = 0; ow < outW; ++ow) {
        const T c = outer * rp.colCount[static_cast<size_t>(ow)];
        yr[ow] = c > 0 ? yr[ow] / c : std::numeric_limits<T>::quiet_NaN();
      }
    }
  }
}

// GCC also builds the float32 row loops for AVX2 and AVX-512 and picks one when the library loads
// (the build targets baseline x86-64; ONNX Runtime's pooling uses the widest vectors available).
// Clang builds (the sanitizer tree) keep the baseline loops.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define EFFDL_POOL_CLONES __attribute__((target_clones("default", "avx2", "arch=x86-64-v4")))
#else
#define EFFDL_POOL_CLONES
#endif

EFFDL_POOL_CLONES void maxRowsF32(const RowPlan<float>& rp, const float* x, float* y, int64_t r0, int64_t r1) {
  poolRows<true, float>(rp, x, y, r0, r1);
}
EFFDL_POOL_CLONES void averageRowsF32(const RowPlan<float>& rp, const float* x, float* y, int64_t r0, int64_t r1) {
  poolRows<false, float>(rp, x, y, r0, r1);
}

template <bool IsMax, typename T>
void rowPool(const Geometry& g, const T* x, T* y, bool countIncludePad) {
  RowPlan<T> rp{&g, makeTaps(g, 0), makeTaps(g, 1), makeTaps(g, 2), g.out[2], g.out[2], {}, countIncludePad};
  const int64_t W = g.in[2], outW = g.out[2];
  for (int64_t ow = 0; ow < outW; ++ow) {
    const int64_t st = rp.tw.start[static_cast<size_t>(ow)];
    if (st >= 0 && st + g.k[2] <= W) {
      if (rp.interiorBegin == outW) rp.interiorBegin = ow;
      rp.interiorEnd = ow + 1;
    }
  }
  rp.colCount.resize(static_cast<size_t>(outW));
  for (int64_t ow = 0; ow < outW; ++ow) rp.colCount[static_cast<size_t>(ow)] = static_cast<T>(windowCount(rp, 2, rp.tw, ow));
  const int64_t rows = g.planes * g.out[0] * g.out[1];
  // Threads take contiguous chunks of output rows.
  const int64_t chunks = std::min<int64_t>(rows, 256);
  const int64_t per = (rows + chunks - 1) / chunks;
  [[maybe_unused]] const bool big = workOf(g) >= (1 << 15);
#pragma omp parallel for if (big && chunks > 1) schedule(static)
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t r0 = c * per, r1 = std::min(rows, r0 + per);
    if (r0 >= r1) continue;
    if constexpr (std::is_same_v<T, float>) {
      if constexpr (IsMax) maxRowsF32(rp, x, y, r0, r1);
      else averageRowsF32(rp, x, y, r0, r1);
    } else {
      poolRows<IsMax, T>(rp, x, y, r0, r1);
    }
  }
}

bool isFloatType(ir::DataType t) {
  return t == ir::DataType::kFloat || t == ir::DataType::kDouble || t == ir::DataType::kFloat16;
}

bool maxPoolType(ir::DataType t) { return isFloatType(t) || t == ir::DataType::kInt8 || t == ir::DataType::kUint8; }

void checkBuildType(const KernelBuildContext& ctx, bool (*ok)(ir::DataType)) {
  if (ctx.numInputs() < 1 || !ctx.input(0)) ctx.invalid("needs an input");
  const ir::ValueType& t = ctx.input(0)->type();
  if (t.kind == ir::ValueType::Kind::kTensor && t.elemType != ir::DataType::kUndefined && !ok(t.elemType))
    ctx.unsupported("input type " + std::string(ir::dtypeName(t.elemType)) + " is not supported");
}

const RtTensor& input0(const KernelIo& io, bool (*ok)(ir::DataType)) {
  const RtTensor* x = io.input(0);
  if (!x) throwRunError(io, "input 0 is missing");
  if (!ok(x->dtype)) throwRunError(io, "unsupported input type " + std::string(ir::dtypeName(x->dtype)));
  return *x;
}

// ---------------------------------------------------------------------------------- kernels
class PoolKernel : public Kernel {
 public:
  PoolKernel(const KernelBuildContext& ctx, PoolKind kind) : kind_(kind) {
    attrs_.parse(ctx);
    checkBuildType(ctx, kind == PoolKind::kMax ? maxPoolType : isFloatType);
    const ir::Node& n = ctx.node;
    countIncludePad_ = n.attrInt("count_include_pad", 0) != 0;
    columnMajor_ = n.attrInt("storage_order", 0) != 0;
    p_ = lpNorm(ctx);
  }

  // LpPool's p: a float before opset 2, an int since.
  static double lpNorm(const KernelBuildContext& ctx) {
    const ir::Attribute* a = ctx.node.attr("p");
    double p = 2;
    if (a && a->type == ir::AttrType::kFloat) p = a->f;
    else if (a && a->type == ir::AttrType::kInt) p = static_cast<double>(a->i);
    if (!(p > 0) || !std::isfinite(p)) ctx.invalid("p must be positive");
    return p;
  }

  void run(KernelIo& io) override {
    const RtTensor& x = input0(io, kind_ == PoolKind::kMax ? maxPoolType : isFloatType);
    Shape outDims;
    Geometry g = makeGeometry(io, attrs_, x, outDims);
    RtTensor& y = io.allocOutput(0, x.dtype, outDims);
    int64_t* indices = nullptr;
    if (kind_ == PoolKind::kMax && io.numOutputs() > 1 && io.hasOutput(1))
      indices = io.allocOutput(1, ir::DataType::kInt64, outDims).as<int64_t>();
    if (y.numel() == 0) return;
    switch (x.dtype) {
      case ir::DataType::kFloat: return compute<float>(g, x.as<float>(), y.as<float>(), indices);
      case ir::DataType::kDouble: return compute<double>(g, x.as<double>(), y.as<double>(), indices);
      case ir::DataType::kInt8: return compute<int8_t>(g, x.as<int8_t>(), y.as<int8_t>(), indices);
      case ir::DataType::kUint8: return compute<uint8_t>(g, x.as<uint8_t>(), y.as<uint8_t>(), indices);
      default: {
        std::vector<float> xf = widen(x), yf(static_cast<size_t>(y.numel()));
        compute<float>(g, xf.data(), yf.data(), indices);
        narrow(yf, y);
      }
    }
  }

 private:
  template <typename T>
  void compute(const Geometry& g, const T* x, T* y, int64_t* indices) {
    const bool rows = g.d[2] == 1;  // the row-wise path needs a contiguous window along W
    switch (kind_) {
      case PoolKind::kMax:
        if (rows && !indices) return rowPool<true, T>(g, x, y, false);
        return maxPool<T>(g, x, y, indices, columnMajor_);
      case PoolKind::kAverage:
        if (rows) return rowPool<false, T>(g, x, y, countIncludePad_);
        return sumPool<PoolKind::kAverage, T>(g, x, y, countIncludePad_, p_);
      case PoolKind::kLp: return sumPool<PoolKind::kLp, T>(g, x, y, countIncludePad_, p_);
    }
  }

  PoolKind kind_;
  PoolAttrs attrs_;
  bool countIncludePad_ = false;
  bool columnMajor_ = false;
  double p_ = 2;
};

// GlobalMaxPool, GlobalAveragePool, GlobalLpPool: one value per (n, c) plane.
class GlobalPoolKernel : public Kernel {
 public:
  GlobalPoolKernel(const KernelBuildContext& ctx, PoolKind kind) : kind_(kind) {
    checkBuildType(ctx, isFloatType);
    if (kind == PoolKind::kLp) p_ = PoolKernel::lpNorm(ctx);
  }

  void run(KernelIo& io) override {
    const RtTensor& x = input0(io, isFloatType);
    if (x.rank() < 2) throwRunError(io, "input shape " + shapeString(x.dims) + " must have rank 2 or more");
    Shape outDims = x.dims;
    for (size_t d = 2; d < outDims.size(); ++d) outDims[d] = 1;
    const int64_t planes = x.dims[0] * x.dims[1];
    const int64_t plane = planes ? x.numel() / planes : 0;
    RtTensor& y = io.allocOutput(0, x.dtype, outDims);
    if (planes == 0) return;
    switch (x.dtype) {
      case ir::DataType::kFloat: return compute<float>(x.as<float>(), y.as<float>(), planes, plane);
      case ir::DataType::kDouble: return compute<double>(x.as<double>(), y.as<double>(), planes, plane);
      default: {
        std::vector<float> xf = widen(x), yf(static_cast<size_t>(planes));
        compute<float>(xf.data(), yf.data(), planes, plane);
        narrow(yf, y);
      }
    }
  }

 private:
  template <typename T>
  void compute(const T* x, T* y, int64_t planes, int64_t plane) {
    [[maybe_unused]] const bool big = planes * plane >= (1 << 15);
#pragma omp parallel for if (big && planes > 1) schedule(static)
    for (int64_t p = 0; p < planes; ++p) {
      const T* xp = x + p * plane;
      if (kind_ == PoolKind::kMax) {
        // 16 partial maxima: GCC vectorises this form (not an `omp simd reduction(max)`).
        T part[16];
        std::fill(part, part + 16, -std::numeric_limits<T>::infinity());
        int64_t i = 0;
        for (; i + 16 <= plane; i += 16) {
#pragma omp simd
          for (int j = 0; j < 16; ++j) part[j] = std::max(part[j], xp[i + j]);
        }
        for (; i < plane; ++i) part[0] = std::max(part[0], xp[i]);
        T m = part[0];
        for (int j = 1; j < 16; ++j) m = std::max(m, part[j]);
        y[p] = plane > 0 ? m : std::numeric_limits<T>::quiet_NaN();
      } else if (kind_ == PoolKind::kAverage) {
        T s = 0;
#pragma omp simd reduction(+ : s)
        for (int64_t i = 0; i < plane; ++i) s += xp[i];
        y[p] = s / static_cast<T>(plane);
      } else {
        double s = 0;
        for (int64_t i = 0; i < plane; ++i) s += std::pow(std::fabs(static_cast<double>(xp[i])), p_);
        y[p] = static_cast<T>(std::pow(s, 1.0 / p_));
      }
    }
  }

  PoolKind kind_;
  double p_ = 2;
};

// MaxUnpool: scatters X into a zero tensor at MaxPool's flat Indices.
class MaxUnpoolKernel : public Kernel {
 public:
  explicit MaxUnpoolKernel(const KernelBuildContext& ctx) {
    attrs_.parse(ctx);
    if (attrs_.autoPad != AutoPad::kNotSet) ctx.invalid("MaxUnpool has no auto_pad");
    checkBuildType(ctx, maxPoolType);
  }

  void run(KernelIo& io) override {
    const RtTensor& x = input0(io, maxPoolType);
    const RtTensor* ind = io.input(1);
    if (!ind) throwRunError(io, "input 1 (I) is missing");
    if (ind->dtype != ir::DataType::kInt64 || ind->dims != x.dims)
      throwRunError(io, "indices must be int64 with X's shape " + shapeString(x.dims) + ", got " +
                            std::string(ir::dtypeName(ind->dtype)) + " " + shapeString(ind->dims));
    const size_t nsp = attrs_.kernel.size();
    if (x.rank() != nsp + 2)
      throwRunError(io, "input shape " + shapeString(x.dims) + " does not fit a " + std::to_string(nsp) + "-D window");
    // The indices address the shape MaxPool's inverse infers; an output_shape (at least that
    // big) receives that result at its origin, the rest zero (as ONNX's reference does).
    Shape inferred = {x.dims[0], x.dims[1]};
    for (size_t i = 0; i < nsp; ++i) {
      const int64_t in = x.dims[2 + i];
      // Bounded first (attributes are at most 2^31), so the integer arithmetic cannot overflow.
      if (in < 1 || static_cast<double>(in - 1) * static_cast<double>(attrs_.strides[i]) > 1e18)
        throwRunError(io, "input shape " + shapeString(x.dims) + " gives no valid unpooled shape");
      const int64_t o = (in - 1) * attrs_.strides[i] + attrs_.kernel[i] - attrs_.pads[i] - attrs_.pads[i + nsp];
      if (o < 1) throwRunError(io, "input shape " + shapeString(x.dims) + " gives no valid unpooled shape");
      inferred.push_back(o);
    }
    const int64_t total = checkedNumel(io, inferred, x.dtype);
    Shape outDims = inferred;
    const RtTensor* shape = io.numInputs() > 2 ? io.input(2) : nullptr;
    if (shape) {
      if (shape->dtype != ir::DataType::kInt64 || shape->numel() != static_cast<int64_t>(x.rank()))
        throwRunError(io, "output_shape must be int64 with " + std::to_string(x.rank()) + " values");
      outDims.assign(shape->as<int64_t>(), shape->as<int64_t>() + shape->numel());
      for (size_t d = 0; d < outDims.size(); ++d)
        if (outDims[d] < inferred[d] || (d < 2 && outDims[d] != inferred[d]))
          throwRunError(io, "output_shape " + shapeString(outDims) + " is smaller than the unpooled shape " +
                                shapeString(inferred) + " or changes batch or channels");
      checkedNumel(io, outDims, x.dtype);
    }
    const size_t es = ir::dtypeSize(x.dtype);
    RtTensor& y = io.allocOutput(0, x.dtype, outDims);
    if (y.nbytes) std::memset(y.data, 0, y.nbytes);
    std::vector<uint8_t> staging;
    auto* dst = static_cast<uint8_t*>(y.data);
    if (outDims != inferred) {
      staging.assign(static_cast<size_t>(total) * es, 0);
      dst = staging.data();
    }
    const int64_t* idx = ind->as<int64_t>();
    const auto* src = static_cast<const uint8_t*>(x.data);
    for (int64_t i = 0, n = x.numel(); i < n; ++i) {
      if (idx[i] < 0 || idx[i] >= total)
        throwRunError(io, "index " + std::to_string(idx[i]) + " is outside the unpooled shape " + shapeString(inferred));
      std::memcpy(dst + static_cast<size_t>(idx[i]) * es, src + static_cast<size_t>(i) * es, es);
    }
    if (outDims == inferred) return;
    // Copy the inferred block row by row into the larger output.
    const size_t rank = inferred.size();
    const int64_t rowBytes = inferred[rank - 1] * static_cast<int64_t>(es);
    const int64_t rows = total / inferred[rank - 1];
    std::vector<int64_t> at(rank, 0);
    for (int64_t r = 0; r < rows; ++r) {
      int64_t off = 0;
      for (size_t d = 0; d + 1 < rank; ++d) off = off * outDims[d] + at[d];
      off *= outDims[rank - 1];
      std::memcpy(static_cast<uint8_t*>(y.data) + off * static_cast<int64_t>(es),
                  staging.data() + r * rowBytes, static_cast<size_t>(rowBytes));
      for (size_t d = rank - 1; d-- > 0;) {
        if (++at[d] < inferred[d]) break;
        at[d] = 0;
      }
    }
  }

 private:
  PoolAttrs attrs_;
};

KernelFactory poolFactory(PoolKind kind) {
  return [kind](const KernelBuildContext& ctx) -> std::unique_ptr<Kernel> { return std::make_unique<PoolKernel>(ctx, kind); };
}

KernelFactory globalPoolFactory(PoolKind kind) {
  return [kind](const KernelBuildContext& ctx) -> std::unique_ptr<Kernel> {
    return std::make_unique<GlobalPoolKernel>(ctx, kind);
  };
}

}  // namespace

void registerPoolKernels(KernelRegistry& r) {
  r.add(KernelEntry{"", "MaxPool", 1, 1000, poolFactory(PoolKind::kMax)});
  r.add(KernelEntry{"", "AveragePool", 1, 1000, poolFactory(PoolKind::kAverage)});
  r.add(KernelEntry{"", "LpPool", 1, 1000, poolFactory(PoolKind::kLp)});
  r.add(KernelEntry{"", "GlobalMaxPool", 1, 1000, globalPoolFactory(PoolKind::kMax)});
  r.add(KernelEntry{"", "GlobalAveragePool", 1, 1000, globalPoolFactory(PoolKind::kAverage)});
  r.add(KernelEntry{"", "GlobalLpPool", 1, 1000, globalPoolFactory(PoolKind::kLp)});
  r.add(KernelEntry{"", "MaxUnpool", 9, 1000, [](const KernelBuildContext& ctx) -> std::unique_ptr<Kernel> {
                      return std::make_unique<MaxUnpoolKernel>(ctx);
                    }});
}

}  // namespace effdl::runtime
