// Conv and ConvTranspose, 1-D to 3-D, fp32 on oneDNN.
// Weights that are initializers are reordered once into the layout the primitive asks for
// (format_tag::any: plain OIHW weights send oneDNN to slow paths). Primitives are made per input
// shape and thread count: at session build when the input shape is known, else at the first run,
// then cached. Activations stay NCHW between kernels; around the primitive a conv converts them to
// channels-last, where oneDNN's brgemm kernels run, unless the conv is a plain GEMM on NCHW data
// (1×1, no padding, one group). Measured on resnet18's convs at batch 1, 1 thread: all NCHW
// 46.7 ms; channels-last 30.9 ms, 34.4 ms with both reorders; its 1×1 stride-2 convs are faster
// in NCHW, as is a 1×1 16→96 conv on 112² (0.59 vs 1.88 ms: the reorders cost more than the conv).
// ConvTranspose likewise (256→128, 4×4 stride 2 on 28²: NCHW 9.3 ms, channels-last 7.9 ms).
// Large depthwise planes skip oneDNN for a direct NCHW loop (below). A plain C++ path covers
// float64, empty tensors and shapes oneDNN refuses.
#include <algorithm>
#include <cstring>
#include <optional>
#include <unordered_map>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "runtime/dnnl_context.h"
#include "runtime/kernels/conv.h"
#include "runtime/kernel_registry.h"
#include "runtime/kernels/conv_geometry.h"
#include "runtime/kernels/families.h"
#include "runtime/kernels/float16_via_float.h"

namespace effdl::runtime {
namespace {

using dnnl::memory;
using Tag = memory::format_tag;

int64_t numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

// ------------------------------------------------------------------------ plain C++ reference
// Direct loops for what oneDNN does not take (float64, empty tensors, refused shapes); any rank.
template <typename T>
void referenceConv(const Geometry& g, bool transposed, const T* x, const T* w, const T* b, T* y) {
  const size_t nsp = g.x.size() - 2;
  const int64_t N = g.x[0], C = g.x[1], M = g.y[1], G = g.group;
  const int64_t Cg = C / G, Mg = M / G;
  const int64_t inSize = numel(Shape(g.x.begin() + 2, g.x.end()));
  const int64_t outSize = numel(Shape(g.y.begin() + 2, g.y.end()));
  const int64_t kSize = numel(g.kernel);
  // For each flattened kernel offset: its per-dim coordinates.
  std::vector<std::vector<int64_t>> kCoord(static_cast<size_t>(kSize), std::vector<int64_t>(nsp));
  for (int64_t k = 0; k < kSize; ++k)
    for (int64_t rest = k, d = static_cast<int64_t>(nsp) - 1; d >= 0; --d) {
      kCoord[static_cast<size_t>(k)][static_cast<size_t>(d)] = rest % g.kernel[static_cast<size_t>(d)];
      rest /= g.kernel[static_cast<size_t>(d)];
    }
  for (int64_t n = 0; n < N; ++n)
    for (int64_t m = 0; m < M; ++m) {
      T* yp = y + (n * M + m) * outSize;
      std::fill(yp, yp + outSize, b ? b[m] : T(0));
    }
  std::vector<int64_t> oc(nsp), ic(nsp);
  if (!transposed) {
    // y[n,m,o] += x[n, g*Cg+c, o*s - pb + k*d] * w[m, c, k]
    for (int64_t n = 0; n < N; ++n)
      for (int64_t m = 0; m < M; ++m) {
        const int64_t grp = m / Mg;
        T* yp = y + (n * M + m) * outSize;
        for (int64_t o = 0; o < outSize; ++o) {
          for (int64_t rest = o, d = static_cast<int64_t>(nsp) - 1; d >= 0; --d) {
            oc[static_cast<size_t>(d)] = rest % g.y[static_cast<size_t>(d) + 2];
            rest /= g.y[static_cast<size_t>(d) + 2];
          }
          T acc = 0;
          for (int64_t k = 0; k < kSize; ++k) {
            int64_t off = 0;
            bool inside = true;
            for (size_t d = 0; d < nsp && inside; ++d) {
              int64_t p = oc[d] * g.strides[d] - g.padBegin[d] + kCoord[static_cast<size_t>(k)][d] * g.dilations[d];
              inside = p >= 0 && p < g.x[d + 2];
              off = off * g.x[d + 2] + p;
            }
            if (!inside) continue;
            for (int64_t c = 0; c < Cg; ++c)
              acc += x[(n * C + grp * Cg + c) * inSize + off] * w[(m * Cg + c) * kSize + k];
          }
          yp[o] += acc;
        }
      }
    return;
  }
  // ConvTranspose scatters: y[n, g*Mg+m, i*s + k*d - pb] += x[n, c, i] * w[c, m, k]
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c) {
      const int64_t grp = c / Cg;
      const T* xp = x + (n * C + c) * inSize;
      for (int64_t i = 0; i < inSize; ++i) {
        for (int64_t rest = i, d = static_cast<int64_t>(nsp) - 1; d >= 0; --d) {
          ic[static_cast<size_t>(d)] = rest % g.x[static_cast<size_t>(d) + 2];
          rest /= g.x[static_cast<size_t>(d) + 2];
        }
        for (int64_t k = 0; k < kSize; ++k) {
          int64_t off = 0;
          bool inside = true;
          for (size_t d = 0; d < nsp && inside; ++d) {
            int64_t p = ic[d] * g.strides[d] + kCoord[static_cast<size_t>(k)][d] * g.dilations[d] - g.padBegin[d];
            inside = p >= 0 && p < g.y[d + 2];
            off = off * g.y[d + 2] + p;
          }
          if (!inside) continue;
          for (int64_t m = 0; m < Mg; ++m)
            y[(n * M + grp * Mg + m) * outSize + off] += xp[i] * w[(c * Mg + m) * kSize + k];
        }
      }
    }
}

// ------------------------------------------------------------------------- NCHW depthwise
// oneDNN's depthwise kernels want channels-last, and on large planes the two reorders around them
// cost more than the conv. This direct NCHW loop wins there (mobilenet_v2's 3×3 layers, 1 thread,
// against oneDNN with reorders: 32ch 112² 0.18 vs 0.26 ms; 96ch 112² stride 2 0.63 vs 1.16;
// 144ch 56² 0.22 vs 0.61) and loses on small planes (960ch 7²: 0.10 vs 0.05; 144ch stride 2 to
// 28²: 0.27 vs 0.21), which stay on oneDNN. It needs AVX-512 (checked at run time): the build
// targets baseline x86-64, whose 4-wide loops would lose everywhere.
#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
#define EFFDL_CONV_DEPTHWISE 1
#define EFFDL_TARGET_AVX512_CONV __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")))
#else
#define EFFDL_CONV_DEPTHWISE 0
#endif

bool cpuHasAvx512() {
#if EFFDL_CONV_DEPTHWISE
  static const bool has = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                          __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
  return has;
#else
  return false;
#endif
}

// Whether the NCHW depthwise loop takes this conv: 2-D, one input channel per output channel,
// square 3×3 or 5×5, equal strides 1 or 2, no dilation, output rows at least about a vector wide.
bool useNchwDepthwise(const Geometry& g, bool transposed) {
  if (transposed || g.x.size() != 4 || !cpuHasAvx512()) return false;
  const int64_t C = g.x[1], M = g.y[1];
  if (g.group != C || M != C || g.kernel[0] != g.kernel[1] || g.strides[0] != g.strides[1]) return false;
  if ((g.kernel[0] != 3 && g.kernel[0] != 5) || g.dilations[0] != 1 || g.dilations[1] != 1) return false;
  const int64_t S = g.strides[0], OW = g.y[3];
  return (S == 1 && OW >= 14) || (S == 2 && OW >= 32);
}

#if EFFDL_CONV_DEPTHWISE
int64_t floorDiv(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

// One output row: y[ow] = b + Σ w[kh][kw] · rows[kh][phase kw%S][kw/S + ow]. K and S are constants,
// so the taps unroll and the ow loop vectorises.
template <int K, int S>
EFFDL_TARGET_AVX512_CONV void depthwiseRow(const float* const* rows, int64_t phaseW, const float* __restrict w, float b,
                                          float* __restrict y, int64_t OW) {
  for (int64_t ow = 0; ow < OW; ++ow) {
    float acc = b;
#pragma GCC unroll 8
    for (int kh = 0; kh < K; ++kh)
#pragma GCC unroll 8
      for (int kw = 0; kw < K; ++kw) acc = __builtin_fmaf(w[kh * K + kw], rows[kh][(kw % S) * phaseW + kw / S + ow], acc);
    y[ow] = acc;
  }
}

// Each plane is first copied with its padding into a small buffer, columns split by phase
// (column % S), so that every tap reads a contiguous run: no bounds checks in the inner loop.
template <int K, int S>
EFFDL_TARGET_AVX512_CONV void depthwisePlanes(const Geometry& g, const float* x, const float* w, const float* bias,
                                             float* y, float* scratch, [[maybe_unused]] int64_t scratchPerThread) {
  const int64_t N = g.x[0], C = g.x[1], H = g.x[2], W = g.x[3], OH = g.y[2], OW = g.y[3];
  const int64_t pt = g.padBegin[0], pl = g.padBegin[1];
  const int64_t PH = (OH - 1) * S + K, phaseW = OW - 1 + (K + S - 1) / S;
#pragma omp parallel for schedule(static)
  for (int64_t nc = 0; nc < N * C; ++nc) {
#ifdef _OPENMP
    float* plane = scratch + omp_get_thread_num() * scratchPerThread;
#else
    float* plane = scratch;
#endif
    const int64_t c = nc % C;
    const float* xp = x + nc * H * W;
    for (int64_t r = 0; r < PH; ++r) {
      float* pr = plane + r * S * phaseW;
      const int64_t ih = r - pt;
      if (ih < 0 || ih >= H) {
        std::fill(pr, pr + S * phaseW, 0.f);
        continue;
      }
      const float* xr = xp + ih * W;
      for (int ph = 0; ph < S; ++ph) {
        float* dst = pr + ph * phaseW;
        // Columns q with 0 <= q*S + ph - pl < W come from the input; the rest is padding.
        const int64_t lo = std::clamp<int64_t>(floorDiv(pl - ph + S - 1, S), 0, phaseW);
        const int64_t hi = std::clamp<int64_t>(floorDiv(W - 1 + pl - ph, S) + 1, lo, phaseW);
        std::fill(dst, dst + lo, 0.f);
        for (int64_t q = lo; q < hi; ++q) dst[q] = xr[q * S + ph - pl];
        std::fill(dst + hi, dst + phaseW, 0.f);
      }
    }
    const float* rows[K];
    for (int64_t oh = 0; oh < OH; ++oh) {
      for (int kh = 0; kh < K; ++kh) rows[kh] = plane + (oh * S + kh) * S * phaseW;
      depthwiseRow<K, S>(rows, phaseW, w + c * K * K, bias ? bias[c] : 0.f, y + (nc * OH + oh) * OW, OW);
    }
  }
}

void runNchwDepthwise(const Geometry& g, const float* x, const float* w, const float* b, float* y) {
  const int64_t K = g.kernel[0], S = g.strides[0];
  const int64_t perThread = ((g.y[2] - 1) * S + K) * S * (g.y[3] - 1 + (K + S - 1) / S) + 16;
  float* scratch = static_cast<float*>(dnnlScratch(2, static_cast<size_t>(perThread * dnnlThreads()) * sizeof(float)));
  if (K == 3 && S == 1) depthwisePlanes<3, 1>(g, x, w, b, y, scratch, perThread);
  else if (K == 3) depthwisePlanes<3, 2>(g, x, w, b, y, scratch, perThread);
  else if (S == 1) depthwisePlanes<5, 1>(g, x, w, b, y, scratch, perThread);
  else depthwisePlanes<5, 2>(g, x, w, b, y, scratch, perThread);
}
#else
void runNchwDepthwise(const Geometry&, const float*, const float*, const float*, float*) {
  throwInternal("NCHW depthwise conv is not built for this target");
}
#endif

// ---------------------------------------------------------------------------------- the kernel
class ConvKernel : public Kernel {
 public:
  ConvKernel(const KernelBuildContext& ctx, ConvAttrs attrs, ConvFusion fusion = {})
      : attrs_(std::move(attrs)), describe_(ctx.describe()), fusion_(std::move(fusion)) {
    if (const ir::Tensor* w = ctx.constInput(1)) constW_ = *w;
    hasBias_ = ctx.numInputs() > 2 && ctx.input(2) != nullptr;
    if (const ir::Tensor* b = hasBias_ ? ctx.constInput(2) : nullptr) constB_ = *b;
    if (fusion_.weights) constW_ = *fusion_.weights;
    if (fusion_.bias) constB_ = *fusion_.bias, hasBias_ = true;
    if (fusion_.weights) wView_ = viewOf(*constW_);
    if (fusion_.bias) bView_ = viewOf(*constB_);
    for (size_t i = 0; i < std::min<size_t>(ctx.numInputs(), 3); ++i) {
      const ir::Value* v = ctx.input(i);
      if (!v) continue;
      ir::DataType t = v->type().elemType;
      if (t != ir::DataType::kUndefined && t != ir::DataType::kFloat && t != ir::DataType::kDouble)
        ctx.unsupported(std::string(ir::dtypeName(t)) + " inputs (effdl's runtime computes Conv in float32 and float64)");
    }
    if (constW_ && constW_->dtype() != ir::DataType::kFloat && constW_->dtype() != ir::DataType::kDouble)
      ctx.unsupported(std::string(ir::dtypeName(constW_->dtype())) + " weights");
    // Make the primitive now when the input shape is known (a symbolic batch is taken as 1: the
    // weights' layout does not depend on it), so weights are reordered at build, not in the
    // first run. A shape error with a fully static shape is the model's error; with a guessed
    // batch it is left for run time to report.
    if (!constW_ || constW_->dtype() != ir::DataType::kFloat) return;
    const ir::ValueType& xt = ctx.input(0)->type();
    if (!xt.shape || xt.shape->size() < 3) return;
    Shape x;
    bool guessed = false;
    for (size_t d = 0; d < xt.shape->size(); ++d) {
      const auto& dim = (*xt.shape)[d];
      if (dim.value) x.push_back(*dim.value);
      else if (d == 0) x.push_back(1), guessed = true;
      else return;
    }
    DnnlThreadScope threads(ctx.threads);
    try {
      planFor(x, constW_->dims(), ir::DataType::kFloat);
    } catch (const Error&) {
      if (!guessed) throw;
      plans_.clear();
    } catch (const dnnl::error& e) {
      throwDnnlError(describe_, e);
    }
  }

  void run(KernelIo& io) override {
    const RtTensor* x = io.input(0);
    const RtTensor* w = fusion_.weights ? &wView_ : io.input(1);
    const RtTensor* b = fusion_.bias ? &bView_ : io.numInputs() > 2 ? io.input(2) : nullptr;
    const RtTensor* r = fusion_.residual ? io.input(3) : nullptr;
    if (!x || !w) throwRunError(io, "input X and weight W are required");
    if (x->dtype != w->dtype || (b && b->dtype != x->dtype))
      throwRunError(io, "inputs have different types (" + std::string(ir::dtypeName(x->dtype)) + ", " +
                            std::string(ir::dtypeName(w->dtype)) + (b ? ", " + std::string(ir::dtypeName(b->dtype)) : "") + ")");
    if (x->dtype != ir::DataType::kFloat && x->dtype != ir::DataType::kDouble)
      throwUnsupported(io.describe() + ": " + std::string(ir::dtypeName(x->dtype)) + " inputs");
    try {
      Plan& p = planFor(x->dims, w->dims, x->dtype);
      const Geometry& g = p.geo;
      if (b && (b->rank() != 1 || b->dims[0] != g.y[1]))
        throwRunError(io, "bias shape " + shapeString(b->dims) + " does not match " + std::to_string(g.y[1]) +
                              " output channels");
      if (fused() && x->dtype != ir::DataType::kFloat) throwUnsupported(io.describe() + ": a fused conv on float64");
      if (fusion_.residual && (!r || r->dtype != x->dtype || r->dims != g.y))
        throwRunError(io, "the residual added to the conv's output has shape " + (r ? shapeString(r->dims) : "none") +
                              ", not the output's " + shapeString(g.y));
      // The residual's buffer becomes the output when oneDNN adds into it in the same layout.
      const bool inPlace = r && p.dnnl && p.postOps && fusion_.residualChannelsLast == fusion_.dstChannelsLast;
      RtTensor& y = inPlace ? io.allocOutputInPlace(0, 3, x->dtype, g.y) : io.allocOutput(0, x->dtype, g.y);
      if (y.nbytes == 0) return;
      if (p.dnnl) {
        execute(p, *x, *w, b, r, y);
      } else if (x->dtype == ir::DataType::kFloat && (fused() || fusion_.srcChannelsLast || fusion_.dstChannelsLast)) {
        runFusedFallback(p, *x, *w, b, r, y);
      } else if (p.depthwise) {
        runNchwDepthwise(g, x->as<float>(), w->as<float>(), b ? b->as<float>() : nullptr, y.as<float>());
      } else if (x->dtype == ir::DataType::kFloat) {
        referenceConv<float>(g, attrs_.transposed, x->as<float>(), w->as<float>(), b ? b->as<float>() : nullptr,
                             y.as<float>());
      } else {
        referenceConv<double>(g, attrs_.transposed, x->as<double>(), w->as<double>(), b ? b->as<double>() : nullptr,
                              y.as<double>());
      }
    } catch (const dnnl::error& e) {
      throwDnnlError(io.describe(), e);
    }
  }

 private:
  struct Plan {
    Shape x, w;
    int threads = 0;
    ir::DataType dtype = ir::DataType::kFloat;
    Geometry geo;
    bool depthwise = false;  // the NCHW depthwise loop
    bool dnnl = false;       // neither: the plain C++ path
    bool postOps = false;    // the fusion's residual and clamp run inside the primitive
    dnnl::primitive prim;
    memory::desc srcDesc, dstDesc, weightsDesc;  // what the primitive wants
    bool reorderSrc = false, reorderDst = false;
    memory srcUser, srcPrim, dstUser, dstPrim, weightsUser, weightsPrim, bias, residualUser;
    dnnl::reorder srcReorder, dstReorder, weightsReorder;  // weightsReorder: non-constant weights
    dnnl::reorder residualReorder;                         // residual → the primitive's dst, before it adds
    std::unordered_map<int, memory> args;
  };

  // The cached plan for these shapes at the current thread count, made on first use.
  Plan& planFor(const Shape& x, const Shape& w, ir::DataType dtype) {
    const int threads = dnnlThreads();
    for (Plan& p : plans_)
      if (p.x == x && p.w == w && p.threads == threads && p.dtype == dtype) return p;
    Plan p;
    p.x = x;
    p.w = w;
    p.threads = threads;
    p.dtype = dtype;
    p.geo = resolveGeometry(attrs_, x, w, describe_);
    if (dtype == ir::DataType::kFloat && x.size() >= 3 && x.size() <= 5 && numel(p.geo.y) > 0 && numel(x) > 0 &&
        numel(w) > 0) {
      p.depthwise = !fusion_.srcChannelsLast && !fusion_.dstChannelsLast && useNchwDepthwise(p.geo, attrs_.transposed);
      if (!p.depthwise) makePrimitive(p);
    }
    // A dynamic shape that keeps changing must not grow the cache without bound.
    if (plans_.size() >= 16) plans_.erase(plans_.begin());
    plans_.push_back(std::move(p));
    return plans_.back();
  }

  void makePrimitive(Plan& p) {
    const Geometry& g = p.geo;
    const size_t rank = g.x.size(), nsp = rank - 2;
    const auto& eng = dnnlEngine();
    bool pointwise = g.group == 1;
    for (size_t i = 0; i < nsp; ++i)
      pointwise = pointwise && g.kernel[i] == 1 && g.padBegin[i] == 0 && g.padEnd[i] == 0;
    // Weights as stored in ONNX, in oneDNN's logical order (grouped: g, O/g, I/g, k…).
    memory::dims wDims;
    Tag wTag;
    const int64_t G = g.group;
    const int64_t C = g.x[1], M = g.y[1];
    if (G > 1) wDims = {G, M / G, C / G};
    else wDims = {M, C};
    for (int64_t k : g.kernel) wDims.push_back(k);
    if (!attrs_.transposed) {
      wTag = G > 1 ? plainTag(rank + 1) : plainTag(rank);
    } else {  // stored [C, M/g, k…] = (g, I/g, O/g, k…): the first two logical dims swapped
      static const Tag giox[] = {Tag::acbd, Tag::acbde, Tag::acbdef};
      static const Tag iox[] = {Tag::bac, Tag::bacd, Tag::bacde};
      wTag = G > 1 ? giox[nsp - 1] : iox[nsp - 1];
    }
    memory::desc wUser(wDims, memory::data_type::f32, wTag);
    memory::desc wAny(wDims, memory::data_type::f32, Tag::any);
    memory::desc bDesc({M}, memory::data_type::f32, Tag::a);
    memory::dims strides(g.strides.begin(), g.strides.end()), dil, padL(g.padBegin.begin(), g.padBegin.end()),
        padR(g.padEnd.begin(), g.padEnd.end());
    for (int64_t d : g.dilations) dil.push_back(d - 1);  // oneDNN counts the gaps
    const memory::desc xPlain = userDesc(g.x, fusion_.srcChannelsLast), yPlain = userDesc(g.y, fusion_.dstChannelsLast);
    std::optional<dnnl::primitive_desc> pd;
    dnnl::primitive_attr attr;
    if (fused()) {
      dnnl::post_ops po;
      if (fusion_.residual) po.append_sum(1.f);
      if (fusion_.clamp && fusion_.lo == 0.f && fusion_.hi == std::numeric_limits<float>::infinity())
        po.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
      else if (fusion_.clamp)
        po.append_eltwise(1.f, dnnl::algorithm::eltwise_clip, fusion_.lo, fusion_.hi);
      attr.set_post_ops(po);
    }
    auto tryCreate = [&](Tag act, const dnnl::primitive_attr& a) {
      memory::desc xd = f32Desc(g.x, act), yd = f32Desc(g.y, act);
      try {
        if (!attrs_.transposed) {
          dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, xd,
                                            wAny, hasBias_ ? bDesc : memory::desc(), yd, strides, dil, padL, padR);
          dnnl::convolution_forward::primitive_desc cpd(d, a, eng);
          p.prim = dnnl::convolution_forward(cpd);
          pd = cpd;
        } else {
          dnnl::deconvolution_forward::desc d(dnnl::prop_kind::forward_inference, dnnl::algorithm::deconvolution_direct,
                                              xd, wAny, hasBias_ ? bDesc : memory::desc(), yd, strides, dil, padL,
                                              padR);
          dnnl::deconvolution_forward::primitive_desc dpd(d, a, eng);
          p.prim = dnnl::deconvolution_forward(dpd);
          pd = dpd;
        }
        return true;
      } catch (const dnnl::error&) {
        return false;
      }
    };
    // Channels-last activations stay so; NCHW ones go channels-last around the primitive unless it
    // is a plain GEMM on NCHW data.
    const bool preferChannelsLast = fusion_.srcChannelsLast || fusion_.dstChannelsLast || !pointwise;
    auto create = [&](const dnnl::primitive_attr& a) {
      return (preferChannelsLast && tryCreate(channelsLastTag(rank), a)) || tryCreate(plainTag(rank), a);
    };
    p.postOps = fused() && create(attr);
    if (!p.postOps && !create(dnnl::primitive_attr())) return;  // plain C++ path
    p.dnnl = true;
    p.srcDesc = pd->src_desc();
    p.dstDesc = pd->dst_desc();
    p.weightsDesc = pd->weights_desc();
    p.reorderSrc = p.srcDesc != xPlain;
    p.reorderDst = p.dstDesc != yPlain;
    p.srcUser = memory(xPlain, eng, DNNL_MEMORY_NONE);
    p.dstUser = memory(yPlain, eng, DNNL_MEMORY_NONE);
    p.srcPrim = p.reorderSrc ? memory(p.srcDesc, eng, DNNL_MEMORY_NONE) : p.srcUser;
    p.dstPrim = p.reorderDst ? memory(p.dstDesc, eng, DNNL_MEMORY_NONE) : p.dstUser;
    if (p.reorderSrc) p.srcReorder = dnnl::reorder(p.srcUser, p.srcPrim);
    if (p.reorderDst) p.dstReorder = dnnl::reorder(p.dstPrim, p.dstUser);
    if (fusion_.residual && p.postOps) {
      p.residualUser = memory(userDesc(g.y, fusion_.residualChannelsLast), eng, DNNL_MEMORY_NONE);
      p.residualReorder = dnnl::reorder(p.residualUser, p.dstPrim);
    }
    if (constW_) {
      p.weightsPrim = constantWeights(wUser, p.weightsDesc);
    } else {
      p.weightsUser = memory(wUser, eng, DNNL_MEMORY_NONE);
      if (p.weightsDesc != wUser) {
        p.weightsPrim = memory(p.weightsDesc, eng);  // reordered into at every run
        p.weightsReorder = dnnl::reorder(p.weightsUser, p.weightsPrim);
      } else {
        p.weightsPrim = p.weightsUser;
      }
    }
    p.args = {{DNNL_ARG_SRC, p.srcPrim}, {DNNL_ARG_WEIGHTS, p.weightsPrim}, {DNNL_ARG_DST, p.dstPrim}};
    if (hasBias_) {
      p.bias = memory(bDesc, eng, constB_ ? const_cast<uint8_t*>(constB_->data()) : DNNL_MEMORY_NONE);
      p.args[DNNL_ARG_BIAS] = p.bias;
    }
  }

  // The constant weights in the layout `want`, reordered once per layout.
  memory constantWeights(const memory::desc& user, const memory::desc& want) {
    for (auto& [desc, mem] : weights_)
      if (desc == want) return mem;
    const auto& eng = dnnlEngine();
    memory src(user, eng, const_cast<uint8_t*>(constW_->data()));
    if (want == user) {  // already the right layout: use the model's bytes
      weights_.emplace_back(want, src);
      return src;
    }
    memory dst(want, eng);
    dnnl::reorder(src, dst).execute(dnnlStream(), src, dst);
    dnnlStream().wait();
    weights_.emplace_back(want, dst);
    return dst;
  }

  void execute(Plan& p, const RtTensor& x, const RtTensor& w, const RtTensor* b, const RtTensor* r, RtTensor& y) {
    dnnl::stream& s = dnnlStream();
    p.srcUser.set_data_handle(const_cast<void*>(x.data));
    p.dstUser.set_data_handle(y.data);
    if (p.reorderSrc) p.srcPrim.set_data_handle(dnnlScratch(0, p.srcDesc.get_size()));
    if (p.reorderDst) p.dstPrim.set_data_handle(dnnlScratch(1, p.dstDesc.get_size()));
    if (!constW_) {
      p.weightsUser.set_data_handle(const_cast<void*>(w.data));
      if (p.weightsPrim != p.weightsUser) p.weightsReorder.execute(s, p.weightsUser, p.weightsPrim);
    }
    if (b && !constB_) p.bias.set_data_handle(const_cast<void*>(b->data));
    if (p.reorderSrc) p.srcReorder.execute(s, p.srcUser, p.srcPrim);
    // The sum post-op adds into what the destination holds: the residual, unless it is there already.
    if (r && p.postOps && (p.reorderDst || r->data != y.data)) {
      p.residualUser.set_data_handle(const_cast<void*>(r->data));
      p.residualReorder.execute(s, p.residualUser, p.dstPrim);
    }
    p.prim.execute(s, p.args);
    if (p.reorderDst) p.dstReorder.execute(s, p.dstPrim, p.dstUser);
    s.wait();
    if (fused() && !p.postOps) applyFusionInPlace(y, r, fusion_.dstChannelsLast);
  }

  bool fused() const { return fusion_.residual || fusion_.clamp; }

  static memory::desc userDesc(const Shape& s, bool channelsLast) {
    return f32Desc(s, channelsLast ? channelsLastTag(s.size()) : plainTag(s.size()));
  }
  // y += residual, then the clamp, on y's buffer in its layout (paths without oneDNN's post-ops).
  void applyFusionInPlace(RtTensor& y, const RtTensor* r, bool yChannelsLast) const {
    float* yp = y.as<float>();
    const size_t n = static_cast<size_t>(y.numel());
    if (r) {
      const float* rp = fusion_.residualChannelsLast == yChannelsLast
                            ? r->as<float>()
                            : static_cast<const float*>(dnnlRelayoutToScratch(*r, fusion_.residualChannelsLast, 3));
      for (size_t i = 0; i < n; ++i) yp[i] += rp[i];
    }
    if (fusion_.clamp)
      for (size_t i = 0; i < n; ++i) yp[i] = std::min(std::max(yp[i], fusion_.lo), fusion_.hi);
  }
  // The NCHW depthwise loop or the plain C++ conv for a fused or channels-last float conv (oneDNN
  // refused it): computed in NCHW, then the residual and clamp, then converted to y's layout.
  void runFusedFallback(Plan& p, const RtTensor& x, const RtTensor& w, const RtTensor* b, const RtTensor* r,
                        RtTensor& y) {
    const float* xp = fusion_.srcChannelsLast ? static_cast<const float*>(dnnlRelayoutToScratch(x, true, 0)) : x.as<float>();
    RtTensor yn = y;
    if (fusion_.dstChannelsLast) yn.data = dnnlScratch(1, y.nbytes);
    const float* bp = b ? b->as<float>() : nullptr;
    if (p.depthwise) runNchwDepthwise(p.geo, xp, w.as<float>(), bp, yn.as<float>());
    else referenceConv<float>(p.geo, attrs_.transposed, xp, w.as<float>(), bp, yn.as<float>());
    applyFusionInPlace(yn, r, false);
    if (fusion_.dstChannelsLast) dnnlRelayout(yn, false, y.data);
  }

  ConvAttrs attrs_;
  std::string describe_;
  ConvFusion fusion_;
  RtTensor wView_, bView_;  // the folded weight and bias, as run-time tensors
  // Constant weight and bias: views sharing the model's bytes (the copies keep them alive).
  std::optional<ir::Tensor> constW_, constB_;
  bool hasBias_ = false;
  std::vector<Plan> plans_;
  std::vector<std::pair<memory::desc, memory>> weights_;  // constant weights per layout
};

std::unique_ptr<Kernel> makeConv(const KernelBuildContext& ctx) {
  return std::make_unique<ConvKernel>(ctx, parseConvAttrs(ctx, false));
}
std::unique_ptr<Kernel> makeConvTranspose(const KernelBuildContext& ctx) {
  return std::make_unique<ConvKernel>(ctx, parseConvAttrs(ctx, true));
}

}  // namespace

std::unique_ptr<Kernel> makeFusedConv(const KernelBuildContext& ctx, ConvFusion fusion) {
  return std::make_unique<ConvKernel>(ctx, parseConvAttrs(ctx, false), std::move(fusion));
}

void registerMatMulKernels(KernelRegistry& r);  // kernels/matmul.cpp

// The oneDNN-backed families, under one entry in families.h.
void registerConvMatMulKernels(KernelRegistry& r) {
  r.add(KernelEntry{"", "Conv", 1, 1000, float16ViaFloat(makeConv)});
  r.add(KernelEntry{"", "ConvTranspose", 1, 1000, float16ViaFloat(makeConvTranspose)});
  registerMatMulKernels(r);
}

}  // namespace effdl::runtime
