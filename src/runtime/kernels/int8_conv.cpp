// Integer convolution on oneDNN int8 primitives with a plain C++ path (see int8_conv.h).
// Activations that fused QDQ groups pass between them are channels-last (runtime/qdq_fusion.h);
// others are NCHW and reordered to channels-last around the primitive (oneDNN's int8 kernels want
// it). Those u8 reorders were most of mobilenet_v2's int8 time: 8.4 ms with them, 3.2 ms without.
// Facts about oneDNN 2.6 this relies on, measured here and pinned by the unit tests (oneDNN path
// against the plain C++ one): bias is added before the output scale, padding counts as the source zero point
// (zero in real terms, as ONNX pads), scales and zero points must be fixed when the primitive is
// created, and the depthwise kernel takes no zero points (the destination one is then a post-op;
// a source one sends the conv to the C++ path).
#include "runtime/kernels/int8_conv.h"

#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <cstring>
#include <optional>
#include <unordered_map>

#include "runtime/dnnl_context.h"
#include "runtime/kernels/int8_dnnl_attr.h"
#include "runtime/kernels/quant_common.h"

namespace effdl::runtime {

using dnnl::memory;
using Tag = memory::format_tag;

template <typename T>
T Int8Epilogue::apply(int64_t acc, size_t c) const {
  float v = static_cast<float>(acc);
  if (!bias.empty()) v += bias[c];
  v *= scale.size() == 1 ? scale[0] : scale[c];
  v = std::clamp(v, lo, hi);
  if constexpr (std::is_same_v<T, float>)
    return v;
  else
    return quantizeRounded<T>(v, yZeroPoint);
}
template uint8_t Int8Epilogue::apply<uint8_t>(int64_t, size_t) const;
template int8_t Int8Epilogue::apply<int8_t>(int64_t, size_t) const;
template float Int8Epilogue::apply<float>(int64_t, size_t) const;

namespace {

memory::data_type dnnlType(ir::DataType t) {
  switch (t) {
    case ir::DataType::kUint8: return memory::data_type::u8;
    case ir::DataType::kInt8: return memory::data_type::s8;
    case ir::DataType::kInt32: return memory::data_type::s32;
    default: return memory::data_type::f32;
  }
}

int64_t numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

template <typename X, typename Y>
void referenceTyped(const Int8ConvParams& p, const Geometry& g, const X* x, Y* y) {
  const size_t nsp = g.x.size() - 2;
  const int64_t N = g.x[0], C = g.x[1], M = g.y[1], G = g.group, Cg = C / G, Mg = M / G;
  const int64_t inSize = numel(Shape(g.x.begin() + 2, g.x.end()));
  const int64_t outSize = numel(Shape(g.y.begin() + 2, g.y.end()));
  const int64_t kSize = numel(g.kernel);
  std::vector<int64_t> oc(nsp), kc(nsp);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t m = 0; m < M; ++m) {
      const int64_t grp = m / Mg;
      for (int64_t o = 0; o < outSize; ++o) {
        for (int64_t rest = o, d = static_cast<int64_t>(nsp) - 1; d >= 0; --d) {
          oc[static_cast<size_t>(d)] = rest % g.y[static_cast<size_t>(d) + 2];
          rest /= g.y[static_cast<size_t>(d) + 2];
        }
        int64_t acc = 0;
        for (int64_t k = 0; k < kSize; ++k) {
          for (int64_t rest = k, d = static_cast<int64_t>(nsp) - 1; d >= 0; --d) {
            kc[static_cast<size_t>(d)] = rest % g.kernel[static_cast<size_t>(d)];
            rest /= g.kernel[static_cast<size_t>(d)];
          }
          int64_t off = 0;
          bool inside = true;
          for (size_t d = 0; d < nsp && inside; ++d) {
            const int64_t pos = oc[d] * g.strides[d] - g.padBegin[d] + kc[d] * g.dilations[d];
            inside = pos >= 0 && pos < g.x[d + 2];
            off = off * g.x[d + 2] + pos;
          }
          if (!inside) continue;  // padding: x - x_zero_point = 0
          for (int64_t c = 0; c < Cg; ++c)
            acc += static_cast<int64_t>(static_cast<int32_t>(x[(n * C + grp * Cg + c) * inSize + off]) - p.xZeroPoint) *
                   p.w[static_cast<size_t>((m * Cg + c) * kSize + k)];
        }
        Y& out = y[(n * M + m) * outSize + o];
        if constexpr (std::is_same_v<Y, int32_t>)
          out = static_cast<int32_t>(acc);  // ConvInteger: wraps as int32 arithmetic would
        else
          out = p.out.apply<Y>(acc, static_cast<size_t>(m));
      }
    }
}

template <typename X>
void referenceForX(const Int8ConvParams& p, const Geometry& g, const X* x, void* y) {
  switch (p.out.yType) {
    case ir::DataType::kUint8: referenceTyped(p, g, x, static_cast<uint8_t*>(y)); break;
    case ir::DataType::kInt8: referenceTyped(p, g, x, static_cast<int8_t*>(y)); break;
    case ir::DataType::kFloat: referenceTyped(p, g, x, static_cast<float*>(y)); break;
    default: referenceTyped(p, g, x, static_cast<int32_t*>(y)); break;
  }
}

}  // namespace

void referenceInt8Conv(const Int8ConvParams& p, const Geometry& g, const void* x, void* y) {
  if (p.xType == ir::DataType::kUint8) referenceForX(p, g, static_cast<const uint8_t*>(x), y);
  else referenceForX(p, g, static_cast<const int8_t*>(x), y);
}

struct Int8Conv::Plan {
  Shape x;
  int threads = 0;
  Geometry geo;
  bool dnnl = false;
  dnnl::primitive prim;
  memory::desc srcDesc, dstDesc;
  bool reorderSrc = false, reorderDst = false;
  memory srcUser, srcPrim, dstUser, dstPrim, weights, bias;
  dnnl::reorder srcReorder, dstReorder;
  std::unordered_map<int, memory> args;
  // A primitive without the source zero point (oneDNN 2.6 has none for depthwise convs with one):
  // it writes raw channels-last int32 sums Σ x·w', and compensation[m, o] = Σ x_zero_point·w'
  // over the taps inside the input at output position o is subtracted before the epilogue.
  bool compensated = false;
  std::vector<int32_t> compensation;  // [M, output positions]
};

Int8Conv::Int8Conv(Int8ConvParams params, std::string describe) : p_(std::move(params)), describe_(std::move(describe)) {
  const bool vnni = cpuHasInt8DotProduct();
  const int32_t lo = vnni ? -128 : -64, hi = vnni ? 127 : 64;
  dnnlWeightsOk_ = !p_.attrs.transposed &&
                   std::all_of(p_.w.begin(), p_.w.end(), [&](int32_t v) { return v >= lo && v <= hi; });
}

Int8Conv::~Int8Conv() = default;

Shape Int8Conv::outputShape(const Shape& x) const { return resolveGeometry(p_.attrs, x, p_.wDims, describe_).y; }

void Int8Conv::prepare(const Shape& x) {
  try {
    planFor(x);
  } catch (const dnnl::error& e) {
    throwDnnlError(describe_, e);
  }
}

bool Int8Conv::usesDnnl(const Shape& x) { return planFor(x).dnnl; }

Int8Conv::Plan& Int8Conv::planFor(const Shape& x) {
  const int threads = dnnlThreads();
  for (auto& p : plans_)
    if (p->x == x && p->threads == threads) return *p;
  auto plan = std::make_unique<Plan>();
  Plan& p = *plan;
  p.x = x;
  p.threads = threads;
  p.geo = resolveGeometry(p_.attrs, x, p_.wDims, describe_);
  const Geometry& g = p.geo;
  const size_t rank = x.size();
  if (dnnlWeightsOk_ && rank >= 3 && rank <= 5 && numel(g.y) > 0 && numel(x) > 0) {
    const auto& eng = dnnlEngine();
    const int64_t G = g.group, C = g.x[1], M = g.y[1];
    memory::dims wDims = G > 1 ? memory::dims{G, M / G, C / G} : memory::dims{M, C};
    for (int64_t k : g.kernel) wDims.push_back(k);
    const Tag wTag = G > 1 ? plainTag(rank + 1) : plainTag(rank);
    memory::desc wUser(wDims, memory::data_type::s8, wTag), wAny(wDims, memory::data_type::s8, Tag::any);
    const bool hasBias = !p_.out.bias.empty();
    memory::desc bDesc({M}, memory::data_type::f32, Tag::a);
    memory::dims strides(g.strides.begin(), g.strides.end()), dil, padL(g.padBegin.begin(), g.padBegin.end()),
        padR(g.padEnd.begin(), g.padEnd.end());
    for (int64_t d : g.dilations) dil.push_back(d - 1);
    const auto xt = dnnlType(p_.xType), yt = dnnlType(p_.out.yType);
    dnnl::primitive_attr attr = int8PrimitiveAttr(p_.out, G > 1 ? 0x3 : 0x2, p_.xZeroPoint);
    std::optional<dnnl::convolution_forward::primitive_desc> pd;
    for (Tag act : {channelsLastTag(rank), plainTag(rank)}) {
      try {
        memory::desc xd(toDnnlDims(g.x), xt, act), yd(toDnnlDims(g.y), yt, act);
        dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, xd,
                                          wAny, hasBias ? bDesc : memory::desc(), yd, strides, dil, padL, padR);
        pd.emplace(d, attr, eng);
        // oneDNN's reference int8 conv is slower than ours and as exact: take only JIT kernels.
        if (std::string(pd->impl_info_str()).find("ref") != std::string::npos) {
          pd.reset();
          continue;
        }
        break;
      } catch (const dnnl::error&) {
        pd.reset();
      }
    }
    if (!pd && p_.xZeroPoint != 0) {
      try {
        memory::desc xd(toDnnlDims(g.x), xt, channelsLastTag(rank));
        memory::desc yd(toDnnlDims(g.y), memory::data_type::s32, channelsLastTag(rank));
        dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, xd,
                                          wAny, memory::desc(), yd, strides, dil, padL, padR);
        pd.emplace(d, eng);
        if (std::string(pd->impl_info_str()).find("ref") != std::string::npos) pd.reset();
      } catch (const dnnl::error&) {
        pd.reset();
      }
      p.compensated = pd.has_value();
    }
    const Tag xTag = p_.srcChannelsLast ? channelsLastTag(rank) : plainTag(rank);
    const Tag yTag = p_.dstChannelsLast ? channelsLastTag(rank) : plainTag(rank);
    if (pd && p.compensated) {
      p.dnnl = true;
      p.prim = dnnl::convolution_forward(*pd);
      const memory::desc xPlain(toDnnlDims(g.x), xt, xTag);
      p.srcDesc = pd->src_desc();
      p.dstDesc = pd->dst_desc();
      p.reorderSrc = p.srcDesc != xPlain;
      p.srcUser = memory(xPlain, eng, DNNL_MEMORY_NONE);
      p.srcPrim = p.reorderSrc ? memory(p.srcDesc, eng, DNNL_MEMORY_NONE) : p.srcUser;
      if (p.reorderSrc) p.srcReorder = dnnl::reorder(p.srcUser, p.srcPrim);
      p.dstPrim = memory(p.dstDesc, eng, DNNL_MEMORY_NONE);
      std::vector<int8_t> w8(p_.w.begin(), p_.w.end());
      memory wSrc(wUser, eng, w8.data());
      p.weights = memory(pd->weights_desc(), eng);
      dnnl::reorder(wSrc, p.weights).execute(dnnlStream(), wSrc, p.weights);
      dnnlStream().wait();
      p.args = {{DNNL_ARG_SRC, p.srcPrim}, {DNNL_ARG_WEIGHTS, p.weights}, {DNNL_ARG_DST, p.dstPrim}};
      // The compensation: the plain path's int32 sums over one image filled with the zero point.
      Int8ConvParams q = p_;
      q.xZeroPoint = 0;
      q.out.yType = ir::DataType::kInt32;
      Geometry one = g;
      one.x[0] = one.y[0] = 1;
      const int64_t perImage = numel(one.x);
      std::vector<uint8_t> filled(static_cast<size_t>(perImage), static_cast<uint8_t>(p_.xZeroPoint));
      p.compensation.resize(static_cast<size_t>(numel(one.y)));
      referenceInt8Conv(q, one, filled.data(), p.compensation.data());
    } else if (pd) {
      p.dnnl = true;
      p.prim = dnnl::convolution_forward(*pd);
      const memory::desc xPlain(toDnnlDims(g.x), xt, xTag), yPlain(toDnnlDims(g.y), yt, yTag);
      p.srcDesc = pd->src_desc();
      p.dstDesc = pd->dst_desc();
      p.reorderSrc = p.srcDesc != xPlain;
      p.reorderDst = p.dstDesc != yPlain;
      p.srcUser = memory(xPlain, eng, DNNL_MEMORY_NONE);
      p.dstUser = memory(yPlain, eng, DNNL_MEMORY_NONE);
      p.srcPrim = p.reorderSrc ? memory(p.srcDesc, eng, DNNL_MEMORY_NONE) : p.srcUser;
      p.dstPrim = p.reorderDst ? memory(p.dstDesc, eng, DNNL_MEMORY_NONE) : p.dstUser;
      if (p.reorderSrc) p.srcReorder = dnnl::reorder(p.srcUser, p.srcPrim);
      if (p.reorderDst) p.dstReorder = dnnl::reorder(p.dstPrim, p.dstUser);
      // Weights: s8 in ONNX order, reordered once into the primitive's layout.
      std::vector<int8_t> w8(p_.w.begin(), p_.w.end());
      memory wSrc(wUser, eng, w8.data());
      p.weights = memory(pd->weights_desc(), eng);
      dnnl::reorder(wSrc, p.weights).execute(dnnlStream(), wSrc, p.weights);
      dnnlStream().wait();
      p.args = {{DNNL_ARG_SRC, p.srcPrim}, {DNNL_ARG_WEIGHTS, p.weights}, {DNNL_ARG_DST, p.dstPrim}};
      if (hasBias) {
        p.bias = memory(bDesc, eng, p_.out.bias.data());
        p.args[DNNL_ARG_BIAS] = p.bias;
      }
    }
  }
  if (plans_.size() >= 16) plans_.erase(plans_.begin());  // a batch size that keeps changing
  plans_.push_back(std::move(plan));
  return *plans_.back();
}

namespace {
template <typename Y>
void compensatedEpilogue(const Int8Epilogue& out, const int32_t* sums, const int32_t* comp, int64_t N, int64_t M,
                         int64_t positions, bool channelsLast, Y* y) {
  for (int64_t n = 0; n < N; ++n)
    for (int64_t o = 0; o < positions; ++o) {
      const int32_t* row = sums + (n * positions + o) * M;  // channels-last
      for (int64_t m = 0; m < M; ++m) {
        const int64_t acc = static_cast<int64_t>(row[m]) - comp[m * positions + o];
        const int64_t at = channelsLast ? (n * positions + o) * M + m : (n * M + m) * positions + o;
        if constexpr (std::is_same_v<Y, int32_t>)
          y[at] = static_cast<int32_t>(acc);
        else
          y[at] = out.apply<Y>(acc, static_cast<size_t>(m));
      }
    }
}
}  // namespace

void Int8Conv::runCompensated(Plan& p, const RtTensor& x, RtTensor& y) {
  dnnl::stream& s = dnnlStream();
  p.srcUser.set_data_handle(const_cast<void*>(x.data));
  if (p.reorderSrc) p.srcPrim.set_data_handle(dnnlScratch(0, p.srcDesc.get_size()));
  auto* sums = static_cast<int32_t*>(dnnlScratch(1, p.dstDesc.get_size()));
  p.dstPrim.set_data_handle(sums);
  if (p.reorderSrc) p.srcReorder.execute(s, p.srcUser, p.srcPrim);
  p.prim.execute(s, p.args);
  s.wait();
  const Geometry& g = p.geo;
  const int64_t N = g.y[0], M = g.y[1], positions = numel(g.y) / std::max<int64_t>(1, N * M);
  const int32_t* comp = p.compensation.data();
  const bool cl = p_.dstChannelsLast;
  switch (p_.out.yType) {
    case ir::DataType::kUint8: compensatedEpilogue(p_.out, sums, comp, N, M, positions, cl, y.as<uint8_t>()); break;
    case ir::DataType::kInt8: compensatedEpilogue(p_.out, sums, comp, N, M, positions, cl, y.as<int8_t>()); break;
    case ir::DataType::kFloat: compensatedEpilogue(p_.out, sums, comp, N, M, positions, cl, y.as<float>()); break;
    default: compensatedEpilogue(p_.out, sums, comp, N, M, positions, cl, y.as<int32_t>()); break;
  }
}

// The plain C++ path computes in N, C, spatial… order: channels-last data is converted around it.
void Int8Conv::runReference(Plan& p, const RtTensor& x, RtTensor& y) {
  const void* xp = p_.srcChannelsLast ? dnnlRelayoutToScratch(x, true, 0) : x.data;
  if (!p_.dstChannelsLast) return referenceInt8Conv(p_, p.geo, xp, y.data);
  RtTensor plainY = y;
  plainY.data = dnnlScratch(1, y.nbytes);
  referenceInt8Conv(p_, p.geo, xp, plainY.data);
  dnnlRelayout(plainY, false, y.data);
}

void Int8Conv::run(const RtTensor& x, RtTensor& y) {
  try {
    Plan& p = planFor(x.dims);
    if (y.nbytes == 0) return;
    if (!p.dnnl) {
      runReference(p, x, y);
      return;
    }
    dnnl::stream& s = dnnlStream();
    if (p.compensated) {
      runCompensated(p, x, y);
      return;
    }
    p.srcUser.set_data_handle(const_cast<void*>(x.data));
    p.dstUser.set_data_handle(y.data);
    if (p.reorderSrc) p.srcPrim.set_data_handle(dnnlScratch(0, p.srcDesc.get_size()));
    if (p.reorderDst) p.dstPrim.set_data_handle(dnnlScratch(1, p.dstDesc.get_size()));
    if (p.reorderSrc) p.srcReorder.execute(s, p.srcUser, p.srcPrim);
    p.prim.execute(s, p.args);
    if (p.reorderDst) p.dstReorder.execute(s, p.dstPrim, p.dstUser);
    s.wait();
  } catch (const dnnl::error& e) {
    throwDnnlError(describe_, e);
  }
}

dnnl::primitive_attr int8PrimitiveAttr(const Int8Epilogue& out, int scaleMask, int32_t srcZeroPoint) {
  dnnl::primitive_attr attr;
  if (out.yType != ir::DataType::kInt32) {
    attr.set_output_scales(out.scale.size() == 1 ? 0 : scaleMask, out.scale);
    // The destination zero point as a post-op adding it before rounding (the same for an integer
    // zero point): oneDNN 2.6's depthwise int8 kernel refuses set_zero_points(DNNL_ARG_DST).
    dnnl::post_ops ops;
    if (out.lo > -std::numeric_limits<float>::max() || out.hi < std::numeric_limits<float>::max())
      ops.append_eltwise(1.f, dnnl::algorithm::eltwise_clip, std::max(out.lo, -std::numeric_limits<float>::max()),
                         std::min(out.hi, std::numeric_limits<float>::max()));
    if (out.yZeroPoint != 0)
      ops.append_eltwise(1.f, dnnl::algorithm::eltwise_linear, 1.f, static_cast<float>(out.yZeroPoint));
    if (ops.len() > 0) attr.set_post_ops(ops);
  }
  if (srcZeroPoint != 0) attr.set_zero_points(DNNL_ARG_SRC, 0, {srcZeroPoint});
  return attr;
}

}  // namespace effdl::runtime
