// Softmax, LogSoftmax and Hardmax. Before opset 13 the input is coerced to 2-D at `axis`
// (default 1) and each row of the flattened [prod(dims[:axis]), prod(dims[axis:])] is normalised;
// from opset 13 on, one axis (default -1) is normalised and the others are independent.
// Numerically stable: each row's maximum is subtracted before exp. float32 uses vector_math.h's
// polynomial exp, which the compiler vectorises (std::exp does not without -ffast-math).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include "runtime/kernel_registry.h"
#include "runtime/kernels/families.h"
#include "runtime/kernels/half.h"
#include "runtime/kernels/vector_math.h"

// `omp simd` asks for vectorisation; clang warns where it cannot comply (always under ASan's
// instrumentation), and -Werror would make that warning a failed build.
#if defined(__clang__)
#pragma clang diagnostic ignored "-Wpass-failed"
#endif

namespace effdl::runtime {
namespace {

enum class SoftmaxOp { kSoftmax, kLogSoftmax, kHardmax };

inline float expOf(float x) { return fastExp(x); }
inline double expOf(double x) { return std::exp(x); }

// ------------------------------------------------------------------------------------- rows
// The maximum of a row. 16 partial maxima in a plain loop: GCC vectorises this (maxps), but not
// an `omp simd reduction(max)`.
template <typename T>
[[gnu::always_inline]] inline T rowMax(const T* x, int64_t n) {
  constexpr int kLanes = 16;
  T part[kLanes];
  std::fill(part, part + kLanes, -std::numeric_limits<T>::infinity());
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
#pragma omp simd
    for (int j = 0; j < kLanes; ++j) part[j] = std::max(part[j], x[i + j]);
  }
  for (; i < n; ++i) part[0] = std::max(part[0], x[i]);
  T m = part[0];
  for (int j = 1; j < kLanes; ++j) m = std::max(m, part[j]);
  return m;
}

// One contiguous row of n elements (the normalised axis is innermost).
template <SoftmaxOp Op, typename T>
[[gnu::always_inline]] inline void rowKernel(const T* x, T* y, int64_t n) {
  if constexpr (Op == SoftmaxOp::kHardmax) {
    int64_t arg = 0;
    for (int64_t i = 1; i < n; ++i)
      if (x[i] > x[arg]) arg = i;
    std::fill(y, y + n, T(0));
    if (n > 0) y[arg] = T(1);
  } else {
    T m = rowMax(x, n);
    if (!std::isfinite(m)) m = 0;  // all -inf (or inf/NaN present): let the arithmetic say so
    T sum = 0;
    if constexpr (Op == SoftmaxOp::kSoftmax) {
#pragma omp simd reduction(+ : sum)
      for (int64_t i = 0; i < n; ++i) {
        T e = expOf(x[i] - m);
        y[i] = e;
        sum += e;
      }
      const T inv = T(1) / sum;
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) y[i] *= inv;
    } else {
#pragma omp simd reduction(+ : sum)
      for (int64_t i = 0; i < n; ++i) sum += expOf(x[i] - m);
      const T shift = m + std::log(sum);
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) y[i] = x[i] - shift;
    }
  }
}

// One [n, inner] block normalised along n, vectorised across `inner`. `scratch` holds 2*inner.
template <SoftmaxOp Op, typename T>
[[gnu::always_inline]] inline void blockKernel(const T* x, T* y, int64_t n, int64_t inner, T* scratch) {
  T* m = scratch;
  T* sum = scratch + inner;
  if constexpr (Op == SoftmaxOp::kHardmax) {
    // m holds the best value, sum (reused) the index of the first maximum.
    std::copy(x, x + inner, m);
    std::fill(sum, sum + inner, T(0));
    for (int64_t a = 1; a < n; ++a) {
      const T* row = x + a * inner;
      for (int64_t i = 0; i < inner; ++i)
        if (row[i] > m[i]) {
          m[i] = row[i];
          sum[i] = static_cast<T>(a);
        }
    }
    std::fill(y, y + n * inner, T(0));
    for (int64_t i = 0; i < inner; ++i) y[static_cast<int64_t>(sum[i]) * inner + i] = T(1);
    return;
  } else {
    std::fill(m, m + inner, -std::numeric_limits<T>::infinity());
    for (int64_t a = 0; a < n; ++a) {
      const T* row = x + a * inner;
#pragma omp simd
      for (int64_t i = 0; i < inner; ++i) m[i] = std::max(m[i], row[i]);
    }
    for (int64_t i = 0; i < inner; ++i)
      if (!std::isfinite(m[i])) m[i] = 0;
    std::fill(sum, sum + inner, T(0));
    for (int64_t a = 0; a < n; ++a) {
      const T* row = x + a * inner;
      T* out = y + a * inner;
      if constexpr (Op == SoftmaxOp::kSoftmax) {
#pragma omp simd
        for (int64_t i = 0; i < inner; ++i) {
          T e = expOf(row[i] - m[i]);
          out[i] = e;
          sum[i] += e;
        }
      } else {
#pragma omp simd
        for (int64_t i = 0; i < inner; ++i) sum[i] += expOf(row[i] - m[i]);
      }
    }
    if constexpr (Op == SoftmaxOp::kSoftmax) {
      for (int64_t i = 0; i < inner; ++i) sum[i] = T(1) / sum[i];
      for (int64_t a = 0; a < n; ++a) {
        T* out = y + a * inner;
#pragma omp simd
        for (int64_t i = 0; i < inner; ++i) out[i] *= sum[i];
      }
    } else {
      for (int64_t i = 0; i < inner; ++i) m[i] += std::log(sum[i]);
      for (int64_t a = 0; a < n; ++a) {
        const T* row = x + a * inner;
        T* out = y + a * inner;
#pragma omp simd
        for (int64_t i = 0; i < inner; ++i) out[i] = row[i] - m[i];
      }
    }
  }
}

// ------------------------------------------------------------------------ float32 dispatch
// GCC also builds the float32 Softmax/LogSoftmax loops for AVX2 and AVX-512 and picks one when
// the library loads: the build targets baseline x86-64 (4 floats per instruction), exp dominates
// the work, and ONNX Runtime's kernels use the widest vectors the CPU has. Clang builds (the
// sanitizer tree) keep the baseline loops.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define EFFDL_SOFTMAX_CLONES __attribute__((target_clones("default", "avx2", "arch=x86-64-v4")))
#else
#define EFFDL_SOFTMAX_CLONES
#endif

// Inlined (with the row kernels above) into each target clone below, so each clone's loops are
// compiled for its instruction set.
template <SoftmaxOp Op, typename T>
[[gnu::always_inline]] inline void rowRange(const T* x, T* y, int64_t rows, int64_t n) {
  for (int64_t r = 0; r < rows; ++r) rowKernel<Op, T>(x + r * n, y + r * n, n);
}

template <SoftmaxOp Op, typename T>
[[gnu::always_inline]] inline void blockRange(const T* x, T* y, int64_t blocks, int64_t n, int64_t inner, T* scratch) {
  for (int64_t b = 0; b < blocks; ++b) blockKernel<Op, T>(x + b * n * inner, y + b * n * inner, n, inner, scratch);
}

EFFDL_SOFTMAX_CLONES void softmaxRowsF32(const float* x, float* y, int64_t rows, int64_t n) {
  rowRange<SoftmaxOp::kSoftmax, float>(x, y, rows, n);
}
EFFDL_SOFTMAX_CLONES void logSoftmaxRowsF32(const float* x, float* y, int64_t rows, int64_t n) {
  rowRange<SoftmaxOp::kLogSoftmax, float>(x, y, rows, n);
}
EFFDL_SOFTMAX_CLONES void softmaxBlocksF32(const float* x, float* y, int64_t blocks, int64_t n, int64_t inner,
                                           float* scratch) {
  blockRange<SoftmaxOp::kSoftmax, float>(x, y, blocks, n, inner, scratch);
}
EFFDL_SOFTMAX_CLONES void logSoftmaxBlocksF32(const float* x, float* y, int64_t blocks, int64_t n, int64_t inner,
                                              float* scratch) {
  blockRange<SoftmaxOp::kLogSoftmax, float>(x, y, blocks, n, inner, scratch);
}

template <SoftmaxOp Op, typename T>
void rows(const T* x, T* y, int64_t count, int64_t n) {
  if constexpr (std::is_same_v<T, float> && Op == SoftmaxOp::kSoftmax) softmaxRowsF32(x, y, count, n);
  else if constexpr (std::is_same_v<T, float> && Op == SoftmaxOp::kLogSoftmax) logSoftmaxRowsF32(x, y, count, n);
  else rowRange<Op, T>(x, y, count, n);
}

template <SoftmaxOp Op, typename T>
void blocks(const T* x, T* y, int64_t count, int64_t n, int64_t inner, T* scratch) {
  if constexpr (std::is_same_v<T, float> && Op == SoftmaxOp::kSoftmax) softmaxBlocksF32(x, y, count, n, inner, scratch);
  else if constexpr (std::is_same_v<T, float> && Op == SoftmaxOp::kLogSoftmax)
    logSoftmaxBlocksF32(x, y, count, n, inner, scratch);
  else blockRange<Op, T>(x, y, count, n, inner, scratch);
}

// Threads take contiguous chunks of the independent rows (or [n, inner] blocks).
template <SoftmaxOp Op, typename T>
void softmaxTyped(const T* x, T* y, int64_t outer, int64_t n, int64_t inner) {
  [[maybe_unused]] const bool big = outer * n * inner >= (1 << 14);
  const int64_t chunks = std::min<int64_t>(outer, 64);
  const int64_t per = (outer + chunks - 1) / chunks;
  const int64_t stride = n * inner;
#pragma omp parallel if (big && chunks > 1)
  {
    std::vector<T> scratch(inner > 1 ? static_cast<size_t>(2 * inner) : 0);
#pragma omp for schedule(static)
    for (int64_t c = 0; c < chunks; ++c) {
      const int64_t begin = c * per, count = std::min(outer, begin + per) - begin;
      if (count <= 0) continue;
      if (inner == 1) rows<Op, T>(x + begin * stride, y + begin * stride, count, n);
      else blocks<Op, T>(x + begin * stride, y + begin * stride, count, n, inner, scratch.data());
    }
  }
}

bool dtypeSupported(ir::DataType t) {
  return t == ir::DataType::kFloat || t == ir::DataType::kDouble || t == ir::DataType::kFloat16;
}

class SoftmaxKernel : public Kernel {
 public:
  SoftmaxKernel(const KernelBuildContext& ctx, SoftmaxOp op) : op_(op) {
    legacy_ = ctx.opset < 13;
    axis_ = ctx.node.attrInt("axis", legacy_ ? 1 : -1);
    if (ctx.numInputs() < 1 || !ctx.input(0)) ctx.invalid("needs an input");
    const ir::ValueType& t = ctx.input(0)->type();
    if (t.kind == ir::ValueType::Kind::kTensor && t.elemType != ir::DataType::kUndefined && !dtypeSupported(t.elemType))
      ctx.unsupported("input type " + std::string(ir::dtypeName(t.elemType)) + " is not supported");
  }

  void run(KernelIo& io) override {
    const RtTensor* x = io.input(0);
    if (!x) throwRunError(io, "input 0 is missing");
    const int64_t rank = static_cast<int64_t>(x->rank());
    int64_t axis = axis_ < 0 ? axis_ + rank : axis_;
    // Legacy coercion allows axis == rank (every row is one element).
    if (axis < 0 || axis > rank || (!legacy_ && axis == rank))
      throwRunError(io, "axis " + std::to_string(axis_) + " is out of range for input of rank " + std::to_string(rank));
    int64_t outer = 1, n = 1, inner = 1;
    for (int64_t d = 0; d < rank; ++d) {
      int64_t v = x->dims[static_cast<size_t>(d)];
      if (d < axis) outer *= v;
      else if (d == axis || legacy_) n *= v;
      else inner *= v;
    }
    if (!dtypeSupported(x->dtype)) throwRunError(io, "unsupported input type " + std::string(ir::dtypeName(x->dtype)));
    RtTensor& y = io.allocOutputInPlace(0, 0, x->dtype, x->dims);
    if (x->numel() == 0) return;
    switch (x->dtype) {
      case ir::DataType::kFloat: return dispatch<float>(x->as<float>(), y.as<float>(), outer, n, inner);
      case ir::DataType::kDouble: return dispatch<double>(x->as<double>(), y.as<double>(), outer, n, inner);
      default: {
        // float16: computed in float.
        const size_t total = static_cast<size_t>(x->numel());
        std::vector<float> buf(total);
        const uint16_t* h = x->as<uint16_t>();
        for (size_t i = 0; i < total; ++i) buf[i] = halfToFloat(h[i]);
        dispatch<float>(buf.data(), buf.data(), outer, n, inner);
        uint16_t* yh = y.as<uint16_t>();
        for (size_t i = 0; i < total; ++i) yh[i] = floatToHalf(buf[i]);
      }
    }
  }

 private:
  // x and y may be the same buffer (in place): each kernel reads a row before writing it.
  template <typename T>
  void dispatch(const T* x, T* y, int64_t outer, int64_t n, int64_t inner) {
    switch (op_) {
      case SoftmaxOp::kSoftmax: return softmaxTyped<SoftmaxOp::kSoftmax, T>(x, y, outer, n, inner);
      case SoftmaxOp::kLogSoftmax: return softmaxTyped<SoftmaxOp::kLogSoftmax, T>(x, y, outer, n, inner);
      case SoftmaxOp::kHardmax: return softmaxTyped<SoftmaxOp::kHardmax, T>(x, y, outer, n, inner);
    }
  }

  SoftmaxOp op_;
  bool legacy_ = false;
  int64_t axis_ = -1;
};

KernelFactory softmaxFactory(SoftmaxOp op) {
  return [op](const KernelBuildContext& ctx) -> std::unique_ptr<Kernel> { return std::make_unique<SoftmaxKernel>(ctx, op); };
}

}  // namespace

void registerSoftmaxKernels(KernelRegistry& r) {
  r.add(KernelEntry{"", "Softmax", 1, 1000, softmaxFactory(SoftmaxOp::kSoftmax)});
  r.add(KernelEntry{"", "LogSoftmax", 1, 1000, softmaxFactory(SoftmaxOp::kLogSoftmax)});
  r.add(KernelEntry{"", "Hardmax", 1, 1000, softmaxFactory(SoftmaxOp::kHardmax)});
}

}  // namespace effdl::runtime
