// Resize (opsets 10-19) and Upsample (opsets 7-9): nearest, linear and cubic interpolation over any
// number of dims, separable: each dim gets a table of taps (input index, weight) per output
// index, and an output element is the sum over the product of its dims' taps. Coordinates follow
// ONNX's reference implementation (onnx/backend/test/case/node/resize.py), which produced the
// backend tests' expected outputs:
//   half_pixel          x = (o + 0.5) / scale - 0.5
//   pytorch_half_pixel  as half_pixel, but 0 when the output dim is 1
//   align_corners       x = o * (in - 1) / (in * scale - 1)   (0 when in * scale == 1)
//   asymmetric          x = o / scale
//   tf_half_pixel_for_nn x = (o + 0.5) / scale
//   tf_crop_and_resize  x = roi_start * (in - 1) + o * (roi_end - roi_start) * (in - 1) / (in * scale - 1),
//                       extrapolation_value outside [0, in - 1]
//   half_pixel_symmetric (opset 19) half_pixel around the centre of the input
// Taps outside the input take the edge value (or weight 0 with exclude_outside). Opset 10 Resize
// and Upsample use asymmetric coordinates and ONNX Runtime's "simple" nearest rounding (floor when
// upsampling, ceil when downsampling).
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

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

enum class Mode { kNearest, kLinear, kCubic };
enum class Coord { kHalfPixel, kPytorchHalfPixel, kAlignCorners, kAsymmetric, kTfHalfPixelForNn, kTfCropAndResize, kHalfPixelSymmetric };
enum class NearestMode { kRoundPreferFloor, kRoundPreferCeil, kFloor, kCeil, kSimple };

struct ResizeAttrs {
  Mode mode = Mode::kNearest;
  Coord coord = Coord::kHalfPixel;
  NearestMode nearest = NearestMode::kRoundPreferFloor;
  double cubicA = -0.75;
  bool excludeOutside = false;
  double extrapolation = 0;
};

// Per output index of one dim: up to 4 taps and whether it lies outside the crop (tf_crop_and_resize).
struct AxisTaps {
  int k = 1;
  std::vector<int64_t> idx;  // out * k input indices, already clamped to [0, in)
  std::vector<double> w;     // out * k weights
  std::vector<uint8_t> outside;
  // Output index o reads exactly input index o with weight 1: the dim passes through.
  bool identity = false;
};

double sourceCoord(const ResizeAttrs& a, int64_t o, double scale, int64_t in, int64_t out, double roiStart,
                   double roiEnd) {
  const double x = static_cast<double>(o), lenIn = static_cast<double>(in);
  const double lenOut = scale * lenIn;  // as the reference: not rounded to the output dim
  switch (a.coord) {
    case Coord::kHalfPixel: return (x + 0.5) / scale - 0.5;
    case Coord::kPytorchHalfPixel: return out > 1 ? (x + 0.5) / scale - 0.5 : 0.0;
    case Coord::kAlignCorners: return lenOut == 1 ? 0.0 : x * (lenIn - 1) / (lenOut - 1);
    case Coord::kAsymmetric: return x / scale;
    case Coord::kTfHalfPixelForNn: return (x + 0.5) / scale;
    case Coord::kTfCropAndResize: {
      const double span = (roiEnd - roiStart) * (lenIn - 1);
      return roiStart * (lenIn - 1) + (lenOut == 1 ? span / 2 : x * span / (lenOut - 1));
    }
    case Coord::kHalfPixelSymmetric: {
      const double adjustment = static_cast<double>(out) / lenOut;
      const double offset = lenIn / 2 * (1 - adjustment);
      return offset + (x + 0.5) / scale - 0.5;
    }
  }
  return 0;
}

int64_t nearestIndex(NearestMode m, double x, double scale) {
  const double f = std::floor(x);
  const double r = x - f;
  if (r == 0) return static_cast<int64_t>(f);
  switch (m) {
    case NearestMode::kRoundPreferFloor: return static_cast<int64_t>(r <= 0.5 ? f : f + 1);
    case NearestMode::kRoundPreferCeil: return static_cast<int64_t>(r < 0.5 ? f : f + 1);
    case NearestMode::kFloor: return static_cast<int64_t>(f);
    case NearestMode::kCeil: return static_cast<int64_t>(f + 1);
    case NearestMode::kSimple: return static_cast<int64_t>(scale < 1 ? std::ceil(x) : std::trunc(x));
  }
  return static_cast<int64_t>(f);
}

AxisTaps makeTaps(const ResizeAttrs& a, int64_t in, int64_t out, double scale, double roiStart, double roiEnd) {
  AxisTaps t;
  t.k = a.mode == Mode::kNearest ? 1 : a.mode == Mode::kLinear ? 2 : 4;
  const size_t k = static_cast<size_t>(t.k);
  t.idx.resize(static_cast<size_t>(out) * k);
  t.w.resize(static_cast<size_t>(out) * k);
  t.outside.assign(static_cast<size_t>(out), 0);
  auto clampIdx = [in](int64_t i) { return std::min(std::max<int64_t>(i, 0), in - 1); };
  bool identity = in == out;
  for (int64_t o = 0; o < out; ++o) {
    const double x = sourceCoord(a, o, scale, in, out, roiStart, roiEnd);
    int64_t* idx = &t.idx[static_cast<size_t>(o) * k];
    double* w = &t.w[static_cast<size_t>(o) * k];
    // Outside the crop, or not a number (a NaN roi): the extrapolation value.
    if (a.coord == Coord::kTfCropAndResize && !(x >= 0 && x <= static_cast<double>(in - 1))) {
      t.outside[static_cast<size_t>(o)] = 1;
      std::fill(idx, idx + k, 0);
      std::fill(w, w + k, 0.0);
      identity = false;
      continue;
    }
    const double f = std::floor(x), r = x - f;
    const int64_t x0 = static_cast<int64_t>(f);
    if (a.mode == Mode::kNearest) {
      idx[0] = clampIdx(nearestIndex(a.nearest, x, scale));
      w[0] = 1;
    } else if (a.mode == Mode::kLinear) {
      const int64_t raw[2] = {x0, x0 + 1};
      const double c[2] = {1 - r, r};
      for (size_t j = 0; j < 2; ++j) {
        idx[j] = raw[j];
        w[j] = c[j];
      }
    } else {
      const double A = a.cubicA, r1 = r + 1, q = 1 - r, q1 = q + 1;
      const double c[4] = {((A * r1 - 5 * A) * r1 + 8 * A) * r1 - 4 * A, ((A + 2) * r - (A + 3)) * r * r + 1,
                           ((A + 2) * q - (A + 3)) * q * q + 1, ((A * q1 - 5 * A) * q1 + 8 * A) * q1 - 4 * A};
      for (size_t j = 0; j < 4; ++j) {
        idx[j] = x0 - 1 + static_cast<int64_t>(j);
        w[j] = c[j];
      }
    }
    if (a.mode != Mode::kNearest) {
      if (a.excludeOutside) {
        double sum = 0;
        for (size_t j = 0; j < k; ++j) {
          if (idx[j] < 0 || idx[j] >= in) w[j] = 0;
          sum += w[j];
        }
        if (sum != 0)
          for (size_t j = 0; j < k; ++j) w[j] /= sum;
      }
      for (size_t j = 0; j < k; ++j) idx[j] = clampIdx(idx[j]);
    }
    // Identity: the tap weights all land on index o.
    double onSelf = 0, elsewhere = 0;
    for (size_t j = 0; j < k; ++j) (idx[j] == o ? onSelf : elsewhere) += std::fabs(w[j]);
    if (!(onSelf == 1 && elsewhere == 0) && !(a.mode == Mode::kNearest && idx[0] == o)) identity = false;
  }
  t.identity = identity;
  return t;
}

// --------------------------------------------------------------------------------- computing
// The dims split into `planes` (leading pass-through dims, copied plane by plane) and the rest.
struct Layout {
  size_t lead = 0;  // number of leading pass-through dims
  int64_t planes = 1, inPlane = 1, outPlane = 1;
  std::vector<int64_t> inStride;  // per dim (element strides of the input)
};

Layout makeLayout(const Shape& in, const Shape& out, const std::vector<AxisTaps>& taps) {
  Layout l;
  const size_t rank = in.size();
  while (l.lead < rank && taps[l.lead].identity) ++l.lead;
  // Keep at least the last dim in the interpolated part so rows stay the unit of work.
  if (l.lead == rank && rank > 0) l.lead = rank - 1;
  for (size_t d = 0; d < l.lead; ++d) l.planes *= in[d];
  for (size_t d = l.lead; d < rank; ++d) {
    l.inPlane *= in[d];
    l.outPlane *= out[d];
  }
  l.inStride.assign(rank, 1);
  for (size_t d = rank; d-- > 1;) l.inStride[d - 1] = l.inStride[d] * in[d];
  return l;
}

// The common case: only the last two dims are interpolated (NCHW images). Separable: each input
// row needed is interpolated along W once into a scratch plane, then output rows blend scratch
// rows along H (a loop over W that vectorises). Planes run in parallel.
template <typename T>
void interpolate2D(const T* x, T* y, const Shape& in, const Shape& out, const std::vector<AxisTaps>& taps,
                   const Layout& l) {
  const size_t rank = out.size();
  const AxisTaps& th = taps[rank - 2];
  const AxisTaps& tw = taps[rank - 1];
  const int64_t inH = in[rank - 2], inW = in[rank - 1], outH = out[rank - 2], outW = out[rank - 1];
  const int kh = th.k, kw = tw.k;
  std::vector<T> wh(th.w.begin(), th.w.end()), ww(tw.w.begin(), tw.w.end());
  // Scratch rows only for the input rows some output row reads (a strong downscale along H reads
  // few): slot[ih] is the row's place in the scratch plane, -1 when unread.
  std::vector<int64_t> slot(static_cast<size_t>(inH), -1);
  int64_t slots = 0;
  for (size_t i = 0; i < th.idx.size(); ++i)
    if (th.w[i] != 0 && slot[static_cast<size_t>(th.idx[i])] < 0) slot[static_cast<size_t>(th.idx[i])] = slots++;
  [[maybe_unused]] const bool big = l.planes * outH * outW >= (1 << 14);
#pragma omp parallel if (big && l.planes > 1)
  {
    std::vector<T> tmp(static_cast<size_t>(slots * outW));
#pragma omp for schedule(static)
    for (int64_t p = 0; p < l.planes; ++p) {
      const T* xp = x + p * l.inPlane;
      T* yp = y + p * l.outPlane;
      for (int64_t ih = 0; ih < inH; ++ih) {
        const int64_t at = slot[static_cast<size_t>(ih)];
        if (at < 0) continue;
        const T* xr = xp + ih * inW;
        T* tr = tmp.data() + at * outW;
        if (kw == 2) {
          for (int64_t ox = 0; ox < outW; ++ox) {
            const int64_t* ix = &tw.idx[static_cast<size_t>(ox * 2)];
            const T* wx = &ww[static_cast<size_t>(ox * 2)];
            tr[ox] = wx[0] * xr[ix[0]] + wx[1] * xr[ix[1]];
          }
        } else {
          for (int64_t ox = 0; ox < outW; ++ox) {
            const int64_t* ix = &tw.idx[static_cast<size_t>(ox * kw)];
            const T* wx = &ww[static_cast<size_t>(ox * kw)];
            T s = 0;
            for (int j = 0; j < kw; ++j) s += wx[j] * xr[ix[j]];
            tr[ox] = s;
          }
        }
      }
      for (int64_t oy = 0; oy < outH; ++oy) {
        T* yr = yp + oy * outW;
        const int64_t* iy = &th.idx[static_cast<size_t>(oy * kh)];
        const T* wy = &wh[static_cast<size_t>(oy * kh)];
        std::fill(yr, yr + outW, T(0));
        for (int j = 0; j < kh; ++j) {
          if (wy[j] == 0) continue;
          const T* tr = tmp.data() + slot[static_cast<size_t>(iy[j])] * outW;
          const T w = wy[j];
#pragma omp simd
          for (int64_t ox = 0; ox < outW; ++ox) yr[ox] += w * tr[ox];
        }
      }
    }
  }
}

// Interpolating kernel for float and double. Each output row (the last dim) gets the weighted
// input rows from the product of the other dims' taps, then the last dim's taps.
template <typename T>
void interpolate(const T* x, T* y, const Shape& in, const Shape& out, const std::vector<AxisTaps>& taps, const Layout& l,
                 T extrap) {
  const size_t rank = out.size();
  if (rank >= 2 && l.lead == rank - 2) {
    bool anyOutside = false;
    for (size_t d = rank - 2; d < rank; ++d)
      anyOutside = anyOutside || std::find(taps[d].outside.begin(), taps[d].outside.end(), 1) != taps[d].outside.end();
    if (!anyOutside) return interpolate2D<T>(x, y, in, out, taps, l);
  }
  const size_t last = rank - 1;
  const int64_t outW = out[last];
  const int64_t rowsPerPlane = l.outPlane / std::max<int64_t>(outW, 1);
  const int64_t rows = l.planes * rowsPerPlane;
  const AxisTaps& tw = taps[last];
  const int kw = tw.k;
  std::vector<T> ww(tw.w.begin(), tw.w.end());
  [[maybe_unused]] const bool big = rows * outW >= (1 << 14);
#pragma omp parallel if (big && rows > 1)
  {
    std::vector<int64_t> rowOff, off2;
    std::vector<T> rowW, w2;
    std::vector<int64_t> at(rank, 0);
#pragma omp for schedule(static)
    for (int64_t row = 0; row < rows; ++row) {
      const int64_t plane = row / rowsPerPlane;
      int64_t rem = row % rowsPerPlane;
      for (size_t d = last; d-- > l.lead;) {
        at[d] = rem % out[d];
        rem /= out[d];
      }
      // Weighted input rows: the product of the taps of dims [lead, last).
      rowOff.assign(1, plane * l.inPlane);
      rowW.assign(1, T(1));
      bool outside = false;
      for (size_t d = l.lead; d < last; ++d) {
        const AxisTaps& t = taps[d];
        const size_t o = static_cast<size_t>(at[d]);
        if (t.outside[o]) {
          outside = true;
          break;
        }
        const size_t n = rowOff.size();
        off2.clear();
        w2.clear();
        for (int j = 0; j < t.k; ++j) {
          const double wj = t.w[o * static_cast<size_t>(t.k) + static_cast<size_t>(j)];
          if (wj == 0 && t.k > 1) continue;
          const int64_t oj = t.idx[o * static_cast<size_t>(t.k) + static_cast<size_t>(j)] * l.inStride[d];
          for (size_t i = 0; i < n; ++i) {
            off2.push_back(rowOff[i] + oj);
            w2.push_back(rowW[i] * static_cast<T>(wj));
          }
        }
        rowOff.swap(off2);
        rowW.swap(w2);
      }
      T* yr = y + row * outW;
      if (outside) {
        std::fill(yr, yr + outW, extrap);
        continue;
      }
      for (int64_t ox = 0; ox < outW; ++ox) {
        if (tw.outside[static_cast<size_t>(ox)]) {
          yr[ox] = extrap;
          continue;
        }
        const int64_t* ix = &tw.idx[static_cast<size_t>(ox * kw)];
        const T* wx = &ww[static_cast<size_t>(ox * kw)];
        T acc = 0;
        for (size_t i = 0; i < rowOff.size(); ++i) {
          const T* xr = x + rowOff[i];
          T s = 0;
          for (int j = 0; j < kw; ++j) s += wx[j] * xr[ix[j]];
          acc += rowW[i] * s;
        }
        yr[ox] = acc;
      }
    }
  }
}

// Nearest: a gather of whole elements, for every dtype (E is an unsigned type of the element's size).
template <typename E>
void gatherNearest(const E* x, E* y, const Shape& out, const std::vector<AxisTaps>& taps, const Layout& l, E extrap) {
  const size_t rank = out.size();
  const size_t last = rank - 1;
  const int64_t outW = out[last];
  const int64_t rowsPerPlane = l.outPlane / std::max<int64_t>(outW, 1);
  const int64_t rows = l.planes * rowsPerPlane;
  const AxisTaps& tw = taps[last];
  [[maybe_unused]] const bool big = rows * outW >= (1 << 15);
#pragma omp parallel if (big && rows > 1)
  {
    std::vector<int64_t> at(rank, 0);
#pragma omp for schedule(static)
    for (int64_t row = 0; row < rows; ++row) {
      const int64_t plane = row / rowsPerPlane;
      int64_t rem = row % rowsPerPlane;
      int64_t off = plane * l.inPlane;
      bool outside = false;
      for (size_t d = last; d-- > l.lead;) {
        const size_t o = static_cast<size_t>(rem % out[d]);
        rem /= out[d];
        outside = outside || taps[d].outside[o];
        off += taps[d].idx[o] * l.inStride[d];
      }
      E* yr = y + row * outW;
      if (outside) {
        std::fill(yr, yr + outW, extrap);
        continue;
      }
      const E* xr = x + off;
      const int64_t* ix = tw.idx.data();
      for (int64_t ox = 0; ox < outW; ++ox) yr[ox] = tw.outside[static_cast<size_t>(ox)] ? extrap : xr[ix[ox]];
    }
  }
}

// v as an integer type: NaN gives 0, out-of-range values saturate (a plain cast would be undefined).
template <typename I>
I saturate(double v) {
  if (std::isnan(v)) return I(0);
  if (v <= static_cast<double>(std::numeric_limits<I>::lowest())) return std::numeric_limits<I>::lowest();
  if (v >= static_cast<double>(std::numeric_limits<I>::max())) return std::numeric_limits<I>::max();
  return static_cast<I>(v);
}

// extrapolation_value as an element of the output's dtype.
template <typename E>
E fillElement(ir::DataType dt, double v) {
  uint64_t bits = 0;
  switch (dt) {
    case ir::DataType::kFloat: bits = std::bit_cast<uint32_t>(static_cast<float>(v)); break;
    case ir::DataType::kDouble: bits = std::bit_cast<uint64_t>(v); break;
    case ir::DataType::kFloat16: bits = floatToHalf(static_cast<float>(v)); break;
    case ir::DataType::kBfloat16: bits = floatToBfloat16(static_cast<float>(v)); break;
    case ir::DataType::kInt8: bits = static_cast<uint8_t>(saturate<int8_t>(v)); break;
    case ir::DataType::kUint8: bits = saturate<uint8_t>(v); break;
    case ir::DataType::kInt16: bits = static_cast<uint16_t>(saturate<int16_t>(v)); break;
    case ir::DataType::kUint16: bits = saturate<uint16_t>(v); break;
    case ir::DataType::kInt32: bits = static_cast<uint32_t>(saturate<int32_t>(v)); break;
    case ir::DataType::kUint32: bits = saturate<uint32_t>(v); break;
    case ir::DataType::kInt64: bits = static_cast<uint64_t>(saturate<int64_t>(v)); break;
    case ir::DataType::kUint64: bits = saturate<uint64_t>(v); break;
    default: break;
  }
  return static_cast<E>(bits);
}

bool isFloatType(ir::DataType t) {
  return t == ir::DataType::kFloat || t == ir::DataType::kDouble || t == ir::DataType::kFloat16;
}

// --------------------------------------------------------------------------------- the kernel
class ResizeKernel : public Kernel {
 public:
  // upsample: Upsample-7/9; legacy: Resize-10 or Upsample (asymmetric, "simple" nearest).
  ResizeKernel(const KernelBuildContext& ctx, bool upsample) {
    const ir::Node& n = ctx.node;
    legacy_ = upsample || ctx.opset < 11;
    std::string mode = n.attrString("mode", "nearest");
    if (mode == "nearest") a_.mode = Mode::kNearest;
    else if (mode == "linear" || (upsample && mode == "bilinear")) a_.mode = Mode::kLinear;
    else if (mode == "cubic" && !legacy_) a_.mode = Mode::kCubic;
    else ctx.invalid("unknown mode '" + mode + "'");
    if (legacy_) {
      a_.coord = Coord::kAsymmetric;
      a_.nearest = NearestMode::kSimple;
    } else {
      std::string c = n.attrString("coordinate_transformation_mode", "half_pixel");
      if (c == "half_pixel") a_.coord = Coord::kHalfPixel;
      else if (c == "pytorch_half_pixel") a_.coord = Coord::kPytorchHalfPixel;
      else if (c == "align_corners") a_.coord = Coord::kAlignCorners;
      else if (c == "asymmetric") a_.coord = Coord::kAsymmetric;
      else if (c == "tf_half_pixel_for_nn" && ctx.opset < 18) a_.coord = Coord::kTfHalfPixelForNn;
      else if (c == "tf_crop_and_resize") a_.coord = Coord::kTfCropAndResize;
      else if (c == "half_pixel_symmetric" && ctx.opset >= 19) a_.coord = Coord::kHalfPixelSymmetric;
      else ctx.invalid("unknown coordinate_transformation_mode '" + c + "'");
      std::string nm = n.attrString("nearest_mode", "round_prefer_floor");
      if (nm == "round_prefer_floor") a_.nearest = NearestMode::kRoundPreferFloor;
      else if (nm == "round_prefer_ceil") a_.nearest = NearestMode::kRoundPreferCeil;
      else if (nm == "floor") a_.nearest = NearestMode::kFloor;
      else if (nm == "ceil") a_.nearest = NearestMode::kCeil;
      else ctx.invalid("unknown nearest_mode '" + nm + "'");
      a_.cubicA = n.attrFloat("cubic_coeff_a", -0.75f);
      a_.excludeOutside = n.attrInt("exclude_outside", 0) != 0;
      a_.extrapolation = n.attrFloat("extrapolation_value", 0.0f);
      // Opset 18's additions, which this kernel does not implement.
      if (n.attrInt("antialias", 0) != 0) ctx.unsupported("antialias is not supported");
      if (n.attr("axes")) ctx.unsupported("the axes attribute is not supported");
      if (n.attrString("keep_aspect_ratio_policy", "stretch") != "stretch")
        ctx.unsupported("keep_aspect_ratio_policy other than 'stretch' is not supported");
    }
    if (upsample && ctx.opset < 9) {
      const ir::Attribute* s = n.attr("scales");
      if (!s || s->type != ir::AttrType::kFloats) ctx.invalid("Upsample needs a scales attribute");
      attrScales_.assign(s->floats.begin(), s->floats.end());
      scalesFromAttr_ = true;
    }
    if (ctx.numInputs() < 1 || !ctx.input(0)) ctx.invalid("needs an input");
    const ir::ValueType& t = ctx.input(0)->type();
    if (a_.mode != Mode::kNearest && t.kind == ir::ValueType::Kind::kTensor && t.elemType != ir::DataType::kUndefined &&
        !isFloatType(t.elemType))
      ctx.unsupported("linear and cubic resize of " + std::string(ir::dtypeName(t.elemType)) + " are not supported");
  }

  void run(KernelIo& io) override {
    const RtTensor* xp = io.input(0);
    if (!xp) throwRunError(io, "input 0 is missing");
    const RtTensor& x = *xp;
    const size_t rank = x.rank();
    if (rank == 0) throwRunError(io, "cannot resize a scalar");
    if (a_.mode != Mode::kNearest && !isFloatType(x.dtype))
      throwRunError(io, "unsupported: linear and cubic resize of " + std::string(ir::dtypeName(x.dtype)));
    if (ir::dtypeSize(x.dtype) == 0 || x.dtype == ir::DataType::kString)
      throwRunError(io, "unsupported input type " + std::string(ir::dtypeName(x.dtype)));

    // Inputs: Resize-10 (X, scales), Resize-11+ (X, roi, scales, sizes), Upsample-9 (X, scales).
    const RtTensor* roiT = nullptr;
    const RtTensor* scalesT = nullptr;
    const RtTensor* sizesT = nullptr;
    if (legacy_) {
      if (!scalesFromAttr_) scalesT = io.numInputs() > 1 ? io.input(1) : nullptr;
    } else {
      roiT = io.numInputs() > 1 ? io.input(1) : nullptr;
      scalesT = io.numInputs() > 2 ? io.input(2) : nullptr;
      sizesT = io.numInputs() > 3 ? io.input(3) : nullptr;
    }
    if (scalesT && scalesT->numel() == 0) scalesT = nullptr;
    if (sizesT && sizesT->numel() == 0) sizesT = nullptr;

    std::vector<double> scales(rank, 1.0);
    Shape outDims(rank);
    if (sizesT) {
      if (scalesT) throwRunError(io, "only one of scales and sizes may be given");
      if (sizesT->dtype != ir::DataType::kInt64 || sizesT->numel() != static_cast<int64_t>(rank))
        throwRunError(io, "sizes must be " + std::to_string(rank) + " int64 values, got " +
                              std::string(ir::dtypeName(sizesT->dtype)) + " " + shapeString(sizesT->dims));
      for (size_t d = 0; d < rank; ++d) {
        const int64_t s = sizesT->as<int64_t>()[d];
        if (s < 0) throwRunError(io, "sizes must not be negative, got " + std::to_string(s));
        if (x.dims[d] == 0 && s != 0) throwRunError(io, "cannot resize an empty dim to " + std::to_string(s));
        outDims[d] = s;
        scales[d] = x.dims[d] ? static_cast<double>(s) / static_cast<double>(x.dims[d]) : 1.0;
      }
    } else {
      std::vector<double> sv;
      if (scalesFromAttr_) {
        sv = attrScales_;
      } else if (scalesT) {
        if (scalesT->dtype != ir::DataType::kFloat)
          throwRunError(io, "scales must be float, got " + std::string(ir::dtypeName(scalesT->dtype)));
        sv.assign(scalesT->as<float>(), scalesT->as<float>() + scalesT->numel());
      } else {
        throwRunError(io, "needs scales or sizes");
      }
      if (sv.size() != rank)
        throwRunError(io, "scales has " + std::to_string(sv.size()) + " values for input of rank " + std::to_string(rank));
      for (size_t d = 0; d < rank; ++d) {
        const double s = sv[d];
        if (!(s > 0) || !std::isfinite(s)) throwRunError(io, "scales must be positive and finite");
        const double o = std::floor(static_cast<double>(x.dims[d]) * s);
        if (o > 9.0e15) throwRunError(io, "output dim " + std::to_string(o) + " is too large");
        scales[d] = s;
        outDims[d] = static_cast<int64_t>(o);
      }
    }
    // Refuse outputs beyond the runtime's limit before allocating anything.
    int64_t total = 1, bytes = 0;
    for (int64_t d : outDims)
      if (__builtin_mul_overflow(total, d, &total))
        throwRunError(io, "output shape " + shapeString(outDims) + " is too large");
    if (__builtin_mul_overflow(total, static_cast<int64_t>(ir::dtypeSize(x.dtype)), &bytes) ||
        bytes > runtimeMaxTensorBytes())
      throwRunError(io, "output shape " + shapeString(outDims) + " exceeds the runtime's tensor size limit of " +
                            std::to_string(runtimeMaxTensorBytes()) + " bytes");

    // The tap tables (17 bytes per tap) grow with the sum of the output dims, which one long dim
    // can make larger than the output itself: they count against the same limit. (With total > 0
    // every dim is at most total, so this cannot overflow.)
    const int64_t tapsPerIndex = a_.mode == Mode::kNearest ? 1 : a_.mode == Mode::kLinear ? 2 : 4;
    int64_t tableBytes = 0;
    if (total > 0)
      for (int64_t d : outDims) tableBytes += d * tapsPerIndex * 17;
    if (tableBytes > runtimeMaxTensorBytes())
      throwRunError(io, "output shape " + shapeString(outDims) + " needs interpolation tables beyond the runtime's size limit");

    std::vector<double> roi(2 * rank);
    for (size_t d = 0; d < rank; ++d) {
      roi[d] = 0;
      roi[d + rank] = 1;
    }
    if (a_.coord == Coord::kTfCropAndResize) {
      if (!roiT || roiT->numel() != static_cast<int64_t>(2 * rank))
        throwRunError(io, "tf_crop_and_resize needs roi with " + std::to_string(2 * rank) + " values");
      for (size_t i = 0; i < 2 * rank; ++i) {
        switch (roiT->dtype) {
          case ir::DataType::kFloat: roi[i] = roiT->as<float>()[i]; break;
          case ir::DataType::kDouble: roi[i] = roiT->as<double>()[i]; break;
          case ir::DataType::kFloat16: roi[i] = halfToFloat(roiT->as<uint16_t>()[i]); break;
          default: throwRunError(io, "roi must be a float tensor, got " + std::string(ir::dtypeName(roiT->dtype)));
        }
      }
    }

    RtTensor& y = io.allocOutput(0, x.dtype, outDims);
    if (total == 0 || x.numel() == 0) return;
    std::vector<AxisTaps> taps;
    taps.reserve(rank);
    for (size_t d = 0; d < rank; ++d) taps.push_back(makeTaps(a_, x.dims[d], outDims[d], scales[d], roi[d], roi[d + rank]));
    const Layout l = makeLayout(x.dims, outDims, taps);

    if (a_.mode == Mode::kNearest) {
      switch (ir::dtypeSize(x.dtype)) {
        case 1: return nearest<uint8_t>(x, y, outDims, taps, l);
        case 2: return nearest<uint16_t>(x, y, outDims, taps, l);
        case 4: return nearest<uint32_t>(x, y, outDims, taps, l);
        case 8: return nearest<uint64_t>(x, y, outDims, taps, l);
        default: throwRunError(io, "unsupported input type " + std::string(ir::dtypeName(x.dtype)));
      }
    }
    const double e = a_.extrapolation;
    switch (x.dtype) {
      case ir::DataType::kFloat: return interpolate<float>(x.as<float>(), y.as<float>(), x.dims, outDims, taps, l, static_cast<float>(e));
      case ir::DataType::kDouble: return interpolate<double>(x.as<double>(), y.as<double>(), x.dims, outDims, taps, l, e);
      default: {
        std::vector<float> xf(static_cast<size_t>(x.numel())), yf(static_cast<size_t>(total));
        halfToFloat(x.as<uint16_t>(), xf.data(), xf.size());
        interpolate<float>(xf.data(), yf.data(), x.dims, outDims, taps, l, static_cast<float>(e));
        floatToHalf(yf.data(), y.as<uint16_t>(), yf.size());
      }
    }
  }

 private:
  template <typename E>
  void nearest(const RtTensor& x, RtTensor& y, const Shape& outDims, const std::vector<AxisTaps>& taps, const Layout& l) {
    gatherNearest<E>(x.as<E>(), y.as<E>(), outDims, taps, l, fillElement<E>(x.dtype, a_.extrapolation));
  }

  bool legacy_ = false;
  bool scalesFromAttr_ = false;
  std::vector<double> attrScales_;
  ResizeAttrs a_;
};

}  // namespace

void registerResizeKernels(KernelRegistry& r) {
  r.add(KernelEntry{"", "Resize", 10, 1000, [](const KernelBuildContext& ctx) -> std::unique_ptr<Kernel> {
                      return std::make_unique<ResizeKernel>(ctx, false);
                    }});
  r.add(KernelEntry{"", "Upsample", 7, 1000, [](const KernelBuildContext& ctx) -> std::unique_ptr<Kernel> {
                      return std::make_unique<ResizeKernel>(ctx, true);
                    }});
}

}  // namespace effdl::runtime
