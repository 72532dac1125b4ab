// Reductions over a set of axes: ReduceSum, ReduceMean, ReduceMax, ReduceMin, ReduceProd,
// ReduceL1, ReduceL2, ReduceLogSum, ReduceLogSumExp, ReduceSumSquare.
// Axes come from the attribute, or from input 1 for ReduceSum since opset 13 and for all of them
// since opset 18. The input's dims are first coalesced (size-1 dims dropped, neighbouring dims that
// are both reduced or both kept merged), so every reduction becomes a walk over contiguous rows:
// a reduced innermost run is a horizontal reduction of one row, a kept one an element-wise
// accumulation of a row into the output (both vectorise).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#include "runtime/kernel_registry.h"
#include "runtime/kernels/families.h"
#include "runtime/kernels/half.h"

// `omp simd` asks for vectorisation; clang warns where it cannot comply (always under ASan's
// instrumentation), and -Werror would make that warning a failed build.
#if defined(__clang__)
#pragma clang diagnostic ignored "-Wpass-failed"
#endif

namespace effdl::runtime {
namespace {

enum class ReduceOp { kSum, kMean, kMax, kMin, kProd, kL1, kL2, kLogSum, kLogSumExp, kSumSquare };

// How partial results combine (the map applied to each element is separate).
enum class Combine { kAdd, kMul, kMax, kMin };

constexpr Combine combineOf(ReduceOp op) {
  switch (op) {
    case ReduceOp::kProd: return Combine::kMul;
    case ReduceOp::kMax: return Combine::kMax;
    case ReduceOp::kMin: return Combine::kMin;
    default: return Combine::kAdd;
  }
}

// ------------------------------------------------------------------------------------ the plan
// The input's dims after coalescing: size-1 dims dropped, neighbours of the same kind merged.
struct Plan {
  std::vector<int64_t> dims;
  std::vector<bool> reduced;
  std::vector<int64_t> outStride;  // per coalesced dim: stride in the output (0 when reduced)
  int64_t outNumel = 1;
  int64_t count = 1;  // input elements per output element
};

Plan makePlan(const Shape& in, const std::vector<bool>& reduceAxis) {
  Plan p;
  for (size_t d = 0; d < in.size(); ++d) {
    if (reduceAxis[d]) p.count *= in[d];
    else p.outNumel *= in[d];
    if (in[d] == 1) continue;
    if (!p.dims.empty() && p.reduced.back() == reduceAxis[d]) {
      p.dims.back() *= in[d];
    } else {
      p.dims.push_back(in[d]);
      p.reduced.push_back(reduceAxis[d]);
    }
  }
  p.outStride.assign(p.dims.size(), 0);
  int64_t s = 1;
  for (size_t d = p.dims.size(); d-- > 0;) {
    if (p.reduced[d]) continue;
    p.outStride[d] = s;
    s *= p.dims[d];
  }
  return p;
}

// ------------------------------------------------------------------------------------ the math
template <ReduceOp Op, typename Acc>
Acc initValue() {
  if constexpr (combineOf(Op) == Combine::kMul) return Acc(1);
  if constexpr (combineOf(Op) == Combine::kMax) {
    if constexpr (std::numeric_limits<Acc>::has_infinity) return -std::numeric_limits<Acc>::infinity();
    else return std::numeric_limits<Acc>::lowest();
  }
  if constexpr (combineOf(Op) == Combine::kMin) {
    if constexpr (std::numeric_limits<Acc>::has_infinity) return std::numeric_limits<Acc>::infinity();
    else return std::numeric_limits<Acc>::max();
  }
  return Acc(0);
}

// A double result (exp, sqrt, log) as Acc; for integer types NaN gives 0 and out-of-range values
// saturate (a plain cast would be undefined behaviour).
template <typename Acc>
inline Acc fromDouble(double d) {
  if constexpr (std::is_integral_v<Acc>) {
    if (std::isnan(d)) return Acc(0);
    if (d <= static_cast<double>(std::numeric_limits<Acc>::lowest())) return std::numeric_limits<Acc>::lowest();
    if (d >= static_cast<double>(std::numeric_limits<Acc>::max())) return std::numeric_limits<Acc>::max();
  }
  return static_cast<Acc>(d);
}

// Signed integer sums and products wrap around (as in ONNX Runtime) rather than overflow, which
// would be undefined behaviour on hostile data: they are computed in the unsigned type.
template <typename A>
inline A wrapAdd(A a, A b) {
  if constexpr (std::is_integral_v<A> && std::is_signed_v<A>) {
    using U = std::make_unsigned_t<A>;
    return static_cast<A>(static_cast<U>(a) + static_cast<U>(b));
  } else {
    return a + b;
  }
}

template <typename A>
inline A wrapMul(A a, A b) {
  if constexpr (std::is_integral_v<A> && std::is_signed_v<A>) {
    using U = std::make_unsigned_t<A>;
    return static_cast<A>(static_cast<U>(a) * static_cast<U>(b));
  } else {
    return a * b;
  }
}

// The per-element map. `shift` is LogSumExp's per-output maximum (0 for the other ops).
template <ReduceOp Op, typename Acc>
inline Acc mapValue(Acc v, Acc shift) {
  if constexpr (Op == ReduceOp::kL1) {
    if constexpr (std::is_unsigned_v<Acc>) return v;
    else return v < 0 ? wrapMul(v, Acc(-1)) : v;
  } else if constexpr (Op == ReduceOp::kL2 || Op == ReduceOp::kSumSquare) {
    return wrapMul(v, v);
  } else if constexpr (Op == ReduceOp::kLogSumExp) {
    return fromDouble<Acc>(std::exp(static_cast<double>(v) - static_cast<double>(shift)));
  } else {
    (void)shift;
    return v;
  }
}

template <Combine C, typename Acc>
inline Acc combine(Acc a, Acc b) {
  if constexpr (C == Combine::kAdd) return wrapAdd(a, b);
  if constexpr (C == Combine::kMul) return wrapMul(a, b);
  if constexpr (C == Combine::kMax) return a < b ? b : a;
  if constexpr (C == Combine::kMin) return b < a ? b : a;
}

// Horizontal reduction of one contiguous row of n elements. 16 independent partial results, so
// the vectorised loop is not bound by the latency of one accumulator chain.
template <ReduceOp Op, typename T, typename Acc>
Acc reduceRow(const T* x, int64_t n, Acc shift) {
  constexpr Combine C = combineOf(Op);
  constexpr int kLanes = 16;
  Acc part[kLanes];
  std::fill(part, part + kLanes, initValue<Op, Acc>());
  int64_t i = 0;
  if constexpr (Op != ReduceOp::kLogSumExp) {
    for (; i + kLanes <= n; i += kLanes) {
#pragma omp simd
      for (int j = 0; j < kLanes; ++j) part[j] = combine<C, Acc>(part[j], mapValue<Op, Acc>(static_cast<Acc>(x[i + j]), shift));
    }
  }
  for (; i < n; ++i) part[0] = combine<C, Acc>(part[0], mapValue<Op, Acc>(static_cast<Acc>(x[i]), shift));
  Acc acc = part[0];
  for (int j = 1; j < kLanes; ++j) acc = combine<C, Acc>(acc, part[j]);
  return acc;
}

// Walks the coalesced input: the first coalesced dim over [begin0, end0), the last (when kept)
// over [beginJ, endJ), everything else whole. Threads get disjoint output elements.
template <ReduceOp Op, typename T, typename Acc>
void accumulate(const Plan& p, const T* x, Acc* acc, const Acc* shift, int64_t begin0, int64_t end0, int64_t beginJ,
                int64_t endJ) {
  constexpr Combine C = combineOf(Op);
  const size_t m = p.dims.size();
  const int64_t last = p.dims[m - 1];
  const bool lastReduced = p.reduced[m - 1];
  // Odometer over dims [0, m-1); dim 0 restricted to [begin0, end0) when m > 1.
  std::vector<int64_t> idx(m, 0);
  int64_t outerCount = 1;
  for (size_t d = 1; d + 1 < m; ++d) outerCount *= p.dims[d];
  if (m == 1) {
    begin0 = 0;
    end0 = 1;
  }
  for (int64_t i0 = begin0; i0 < end0; ++i0) {
    std::fill(idx.begin(), idx.end(), 0);
    // Input offset of the row start and output offset, maintained incrementally.
    int64_t inOff = 0, outOff = 0;
    if (m > 1) {
      int64_t inner = 1;
      for (size_t d = 1; d < m; ++d) inner *= p.dims[d];
      inOff = i0 * inner;
      outOff = i0 * p.outStride[0];
    }
    for (int64_t o = 0; o < outerCount; ++o) {
      const T* row = x + inOff;
      if (lastReduced) {
        Acc r = reduceRow<Op, T, Acc>(row, last, shift ? shift[outOff] : Acc(0));
        acc[outOff] = combine<C, Acc>(acc[outOff], r);
      } else {
        Acc* out = acc + outOff;
        const Acc* sh = shift ? shift + outOff : nullptr;
        if (sh) {
          for (int64_t j = beginJ; j < endJ; ++j)
            out[j] = combine<C, Acc>(out[j], mapValue<Op, Acc>(static_cast<Acc>(row[j]), sh[j]));
        } else {
#pragma omp simd
          for (int64_t j = beginJ; j < endJ; ++j)
            out[j] = combine<C, Acc>(out[j], mapValue<Op, Acc>(static_cast<Acc>(row[j]), Acc(0)));
        }
      }
      // Advance the odometer over dims [1, m-1).
      inOff += last;
      for (size_t d = m - 1; d-- > 1;) {
        outOff += p.outStride[d];
        if (++idx[d] < p.dims[d]) break;
        idx[d] = 0;
        outOff -= p.outStride[d] * p.dims[d];
      }
    }
  }
}

// One pass over the input into acc (initialised by the caller), split across threads when large.
template <ReduceOp Op, typename T, typename Acc>
void accumulateAll(const Plan& p, const T* x, Acc* acc, const Acc* shift, int64_t total) {
  const size_t m = p.dims.size();
  [[maybe_unused]] const bool big = total >= (1 << 15);
  if (m > 1 && !p.reduced[0]) {
    const int64_t n0 = p.dims[0];
    const int64_t lastEnd = p.reduced[m - 1] ? 0 : p.dims[m - 1];
#pragma omp parallel for if (big && n0 > 1) schedule(static)
    for (int64_t i0 = 0; i0 < n0; ++i0) accumulate<Op, T, Acc>(p, x, acc, shift, i0, i0 + 1, 0, lastEnd);
  } else if (!p.reduced[m - 1]) {
    // Leading dim reduced, last kept: threads take slices of the last dim.
    const int64_t n = p.dims[m - 1];
    const int64_t chunk = 256;
    const int64_t chunks = (n + chunk - 1) / chunk;
    const int64_t n0 = m > 1 ? p.dims[0] : 1;
#pragma omp parallel for if (big && chunks > 1) schedule(static)
    for (int64_t c = 0; c < chunks; ++c)
      accumulate<Op, T, Acc>(p, x, acc, shift, 0, n0, c * chunk, std::min(n, (c + 1) * chunk));
  } else {
    accumulate<Op, T, Acc>(p, x, acc, shift, 0, m > 1 ? p.dims[0] : 1, 0, 0);
  }
}

template <ReduceOp Op, typename Acc>
inline Acc finish(Acc v, int64_t count, Acc shift) {
  if constexpr (Op == ReduceOp::kMean) {
    if constexpr (std::is_integral_v<Acc>) {
      // Divided in 64 bits: count may not fit Acc.
      if (count <= 0) return Acc(0);
      if constexpr (std::is_signed_v<Acc>) return static_cast<Acc>(static_cast<int64_t>(v) / count);
      else return static_cast<Acc>(static_cast<uint64_t>(v) / static_cast<uint64_t>(count));
    } else {
      return count > 0 ? v / static_cast<Acc>(count) : std::numeric_limits<Acc>::quiet_NaN();
    }
  } else if constexpr (Op == ReduceOp::kL2) {
    return fromDouble<Acc>(std::sqrt(static_cast<double>(v)));
  } else if constexpr (Op == ReduceOp::kLogSum) {
    return fromDouble<Acc>(std::log(static_cast<double>(v)));
  } else if constexpr (Op == ReduceOp::kLogSumExp) {
    return fromDouble<Acc>(std::log(static_cast<double>(v)) + static_cast<double>(shift));
  } else {
    (void)count;
    (void)shift;
    return v;
  }
}

// Reduces x (of type T, already in memory as T) into y (of type Out); Acc is the working type.
template <ReduceOp Op, typename T, typename Acc, typename Out>
void reduceTyped(const Plan& p, const T* x, int64_t total, Out* y, Acc* scratch) {
  Acc* acc = scratch;
  std::fill(acc, acc + p.outNumel, initValue<Op, Acc>());
  std::vector<Acc> shift;
  if (total > 0 && !p.dims.empty()) {
    if constexpr (Op == ReduceOp::kLogSumExp) {
      // Subtract each output's maximum before exp, so large inputs do not overflow.
      shift.assign(static_cast<size_t>(p.outNumel), initValue<ReduceOp::kMax, Acc>());
      accumulateAll<ReduceOp::kMax, T, Acc>(p, x, shift.data(), nullptr, total);
      for (Acc& s : shift)
        if (!std::isfinite(static_cast<double>(s))) s = Acc(0);
    }
    accumulateAll<Op, T, Acc>(p, x, acc, shift.empty() ? nullptr : shift.data(), total);
  } else if (total > 0) {
    // Every dim has size 1: one element per output.
    for (int64_t i = 0; i < p.outNumel; ++i) {
      Acc v = static_cast<Acc>(x[i]);
      if constexpr (Op == ReduceOp::kLogSumExp) shift.push_back(v);
      acc[i] = mapValue<Op, Acc>(v, Op == ReduceOp::kLogSumExp ? v : Acc(0));
    }
  }
  for (int64_t i = 0; i < p.outNumel; ++i)
    y[i] = static_cast<Out>(finish<Op, Acc>(acc[i], p.count, shift.empty() ? Acc(0) : shift[static_cast<size_t>(i)]));
}

template <ReduceOp Op, typename T, typename Acc>
void reduceSame(const Plan& p, const RtTensor& x, RtTensor& y) {
  // When T and Acc agree, accumulate straight into the output.
  if constexpr (std::is_same_v<T, Acc>) {
    reduceTyped<Op, T, Acc, T>(p, x.as<T>(), x.numel(), y.as<T>(), y.as<T>());
  } else {
    std::vector<Acc> scratch(static_cast<size_t>(p.outNumel));
    reduceTyped<Op, T, Acc, T>(p, x.as<T>(), x.numel(), y.as<T>(), scratch.data());
  }
}

template <ReduceOp Op>
void reduceDispatch(const KernelIo& io, const Plan& p, const RtTensor& x, RtTensor& y) {
  using DT = ir::DataType;
  switch (x.dtype) {
    case DT::kFloat: return reduceSame<Op, float, float>(p, x, y);
    case DT::kDouble: return reduceSame<Op, double, double>(p, x, y);
    case DT::kInt32: return reduceSame<Op, int32_t, int32_t>(p, x, y);
    case DT::kInt64: return reduceSame<Op, int64_t, int64_t>(p, x, y);
    case DT::kUint32: return reduceSame<Op, uint32_t, uint32_t>(p, x, y);
    case DT::kUint64: return reduceSame<Op, uint64_t, uint64_t>(p, x, y);
    case DT::kFloat16: {
      const int64_t n = x.numel();
      std::vector<float> wide(static_cast<size_t>(n)), acc(static_cast<size_t>(p.outNumel)),
          out(static_cast<size_t>(p.outNumel));
      const uint16_t* h = x.as<uint16_t>();
      for (int64_t i = 0; i < n; ++i) wide[static_cast<size_t>(i)] = halfToFloat(h[i]);
      reduceTyped<Op, float, float, float>(p, wide.data(), n, out.data(), acc.data());
      uint16_t* yh = y.as<uint16_t>();
      for (int64_t i = 0; i < p.outNumel; ++i) yh[i] = floatToHalf(out[static_cast<size_t>(i)]);
      return;
    }
    default: break;
  }
  if constexpr (Op == ReduceOp::kMax || Op == ReduceOp::kMin) {
    if (x.dtype == DT::kInt8) return reduceSame<Op, int8_t, int8_t>(p, x, y);
    if (x.dtype == DT::kUint8) return reduceSame<Op, uint8_t, uint8_t>(p, x, y);
  }
  throwRunError(io, "unsupported input type " + std::string(ir::dtypeName(x.dtype)));
}

bool dtypeSupported(ReduceOp op, ir::DataType t) {
  using DT = ir::DataType;
  switch (t) {
    case DT::kFloat:
    case DT::kDouble:
    case DT::kFloat16:
    case DT::kInt32:
    case DT::kInt64:
    case DT::kUint32:
    case DT::kUint64: return true;
    case DT::kInt8:
    case DT::kUint8: return op == ReduceOp::kMax || op == ReduceOp::kMin;
    default: return false;
  }
}

// ---------------------------------------------------------------------------------- the kernel
class ReduceKernel : public Kernel {
 public:
  ReduceKernel(const KernelBuildContext& ctx, ReduceOp op) : op_(op) {
    const ir::Node& n = ctx.node;
    keepdims_ = n.attrInt("keepdims", 1) != 0;
    noopWithEmptyAxes_ = n.attrInt("noop_with_empty_axes", 0) != 0;
    axesFromInput_ = (n.opType() == "ReduceSum" && ctx.opset >= 13) || ctx.opset >= 18;
    if (axesFromInput_) {
      if (n.attr("axes")) ctx.invalid("'axes' is an input since this opset, not an attribute");
    } else {
      axes_ = n.attrInts("axes");
    }
    if (ctx.numInputs() < 1 || !ctx.input(0)) ctx.invalid("needs an input");
    const ir::ValueType& t = ctx.input(0)->type();
    if (t.kind == ir::ValueType::Kind::kTensor && t.elemType != ir::DataType::kUndefined &&
        !dtypeSupported(op, t.elemType))
      ctx.unsupported("input type " + std::string(ir::dtypeName(t.elemType)) + " is not supported");
  }

  void run(KernelIo& io) override {
    const RtTensor* x = io.input(0);
    if (!x) throwRunError(io, "input 0 is missing");
    const int64_t rank = static_cast<int64_t>(x->rank());
    std::vector<int64_t> axes = axes_;
    if (axesFromInput_) {
      const RtTensor* a = io.numInputs() > 1 ? io.input(1) : nullptr;
      if (a) {
        if (a->dtype != ir::DataType::kInt64 || a->rank() > 1)
          throwRunError(io, "axes must be a 1-D int64 tensor, got " + std::string(ir::dtypeName(a->dtype)) + " " +
                                shapeString(a->dims));
        axes.assign(a->as<int64_t>(), a->as<int64_t>() + a->numel());
      }
    }
    std::vector<bool> reduceAxis(static_cast<size_t>(rank), false);
    if (axes.empty()) {
      // No axes: all of them, unless noop_with_empty_axes asks for a reduction over none.
      if (!(axesFromInput_ && noopWithEmptyAxes_)) std::fill(reduceAxis.begin(), reduceAxis.end(), true);
    }
    for (int64_t a : axes) {
      int64_t k = a < 0 ? a + rank : a;
      if (k < 0 || k >= rank)
        throwRunError(io, "axis " + std::to_string(a) + " is out of range for input of rank " + std::to_string(rank));
      if (reduceAxis[static_cast<size_t>(k)]) throwRunError(io, "axis " + std::to_string(a) + " is repeated");
      reduceAxis[static_cast<size_t>(k)] = true;
    }
    Shape outDims;
    for (int64_t d = 0; d < rank; ++d) {
      if (!reduceAxis[static_cast<size_t>(d)]) outDims.push_back(x->dims[static_cast<size_t>(d)]);
      else if (keepdims_) outDims.push_back(1);
    }
    if (!dtypeSupported(op_, x->dtype))
      throwRunError(io, "unsupported input type " + std::string(ir::dtypeName(x->dtype)));
    RtTensor& y = io.allocOutput(0, x->dtype, outDims);
    Plan p = makePlan(x->dims, reduceAxis);
    switch (op_) {
      case ReduceOp::kSum: return reduceDispatch<ReduceOp::kSum>(io, p, *x, y);
      case ReduceOp::kMean: return reduceDispatch<ReduceOp::kMean>(io, p, *x, y);
      case ReduceOp::kMax: return reduceDispatch<ReduceOp::kMax>(io, p, *x, y);
      case ReduceOp::kMin: return reduceDispatch<ReduceOp::kMin>(io, p, *x, y);
      case ReduceOp::kProd: return reduceDispatch<ReduceOp::kProd>(io, p, *x, y);
      case ReduceOp::kL1: return reduceDispatch<ReduceOp::kL1>(io, p, *x, y);
      case ReduceOp::kL2: return reduceDispatch<ReduceOp::kL2>(io, p, *x, y);
      case ReduceOp::kLogSum: return reduceDispatch<ReduceOp::kLogSum>(io, p, *x, y);
      case ReduceOp::kLogSumExp: return reduceDispatch<ReduceOp::kLogSumExp>(io, p, *x, y);
      case ReduceOp::kSumSquare: return reduceDispatch<ReduceOp::kSumSquare>(io, p, *x, y);
    }
  }

 private:
  ReduceOp op_;
  bool keepdims_ = true;
  bool noopWithEmptyAxes_ = false;
  bool axesFromInput_ = false;
  std::vector<int64_t> axes_;
};

KernelFactory reduceFactory(ReduceOp op) {
  return [op](const KernelBuildContext& ctx) -> std::unique_ptr<Kernel> { return std::make_unique<ReduceKernel>(ctx, op); };
}

}  // namespace

void registerReduceKernels(KernelRegistry& r) {
  r.add(KernelEntry{"", "ReduceSum", 1, 1000, reduceFactory(ReduceOp::kSum)});
  r.add(KernelEntry{"", "ReduceMean", 1, 1000, reduceFactory(ReduceOp::kMean)});
  r.add(KernelEntry{"", "ReduceMax", 1, 1000, reduceFactory(ReduceOp::kMax)});
  r.add(KernelEntry{"", "ReduceMin", 1, 1000, reduceFactory(ReduceOp::kMin)});
  r.add(KernelEntry{"", "ReduceProd", 1, 1000, reduceFactory(ReduceOp::kProd)});
  r.add(KernelEntry{"", "ReduceL1", 1, 1000, reduceFactory(ReduceOp::kL1)});
  r.add(KernelEntry{"", "ReduceL2", 1, 1000, reduceFactory(ReduceOp::kL2)});
  r.add(KernelEntry{"", "ReduceLogSum", 1, 1000, reduceFactory(ReduceOp::kLogSum)});
  r.add(KernelEntry{"", "ReduceLogSumExp", 1, 1000, reduceFactory(ReduceOp::kLogSumExp)});
  r.add(KernelEntry{"", "ReduceSumSquare", 1, 1000, reduceFactory(ReduceOp::kSumSquare)});
}

}  // namespace effdl::runtime
