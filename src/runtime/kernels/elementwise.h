// What the elementwise kernel files (elementwise_unary, elementwise_binary, activations, where)
// share: dtype sets and dispatch to C++ storage types, float16/bfloat16 computed in float, the
// contiguous loops (vectorised by the compiler; float32 ones also built for AVX2 and AVX-512,
// picked once at run time), and a factory that defers the dtype choice to the first run when shape
// inference left a dtype unknown.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <type_traits>

#include "runtime/kernel.h"
#include "runtime/kernel_registry.h"
#include "runtime/kernels/broadcast.h"
#include "runtime/kernels/half.h"
#include "runtime/kernels/vector_math.h"

// The float32 loops are also compiled for AVX2+FMA and for AVX-512 and picked at run time (the
// build targets baseline x86-64, where a loop handles 4 floats at a time and never fuses a*b+c).
#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
#define EFFDL_EW_WIDE 1
#define EFFDL_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define EFFDL_TARGET_AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")))
#else
#define EFFDL_EW_WIDE 0
#endif

namespace effdl::runtime::elementwise {

// ------------------------------------------------------------------------------ dtype sets
constexpr uint32_t dtypeBit(ir::DataType t) { return 1u << static_cast<unsigned>(t); }
constexpr uint32_t kFloatTypes = dtypeBit(ir::DataType::kFloat) | dtypeBit(ir::DataType::kDouble) |
                                 dtypeBit(ir::DataType::kFloat16) | dtypeBit(ir::DataType::kBfloat16);
constexpr uint32_t kSignedInts = dtypeBit(ir::DataType::kInt8) | dtypeBit(ir::DataType::kInt16) |
                                 dtypeBit(ir::DataType::kInt32) | dtypeBit(ir::DataType::kInt64);
constexpr uint32_t kUnsignedInts = dtypeBit(ir::DataType::kUint8) | dtypeBit(ir::DataType::kUint16) |
                                   dtypeBit(ir::DataType::kUint32) | dtypeBit(ir::DataType::kUint64);
constexpr uint32_t kIntTypes = kSignedInts | kUnsignedInts;
constexpr uint32_t kNumeric = kFloatTypes | kIntTypes;
constexpr uint32_t kBoolType = dtypeBit(ir::DataType::kBool);

// "float, double, int32" for messages.
std::string dtypeSetString(uint32_t set);

template <typename T>
struct TypeTag {
  using type = T;
};

template <typename T>
constexpr ir::DataType dtypeOf() {
  if constexpr (std::is_same_v<T, float>) return ir::DataType::kFloat;
  else if constexpr (std::is_same_v<T, double>) return ir::DataType::kDouble;
  else if constexpr (std::is_same_v<T, Half>) return ir::DataType::kFloat16;
  else if constexpr (std::is_same_v<T, BFloat16>) return ir::DataType::kBfloat16;
  else if constexpr (std::is_same_v<T, bool>) return ir::DataType::kBool;
  else if constexpr (std::is_same_v<T, int8_t>) return ir::DataType::kInt8;
  else if constexpr (std::is_same_v<T, int16_t>) return ir::DataType::kInt16;
  else if constexpr (std::is_same_v<T, int32_t>) return ir::DataType::kInt32;
  else if constexpr (std::is_same_v<T, int64_t>) return ir::DataType::kInt64;
  else if constexpr (std::is_same_v<T, uint8_t>) return ir::DataType::kUint8;
  else if constexpr (std::is_same_v<T, uint16_t>) return ir::DataType::kUint16;
  else if constexpr (std::is_same_v<T, uint32_t>) return ir::DataType::kUint32;
  else if constexpr (std::is_same_v<T, uint64_t>) return ir::DataType::kUint64;
  else static_assert(sizeof(T) == 0, "no ONNX dtype for this type");
}

// Calls f(TypeTag<T>{}) with the storage type T of dtype `t` when t is in `Allowed`; R{} when not.
// Only the allowed types are instantiated.
template <uint32_t Allowed, typename R, typename F>
R dispatchDtype(ir::DataType t, F&& f) {
#define EFFDL_EW_CASE(DT, T)                                                 \
  case ir::DataType::DT:                                                     \
    if constexpr ((Allowed & dtypeBit(ir::DataType::DT)) != 0) return f(TypeTag<T>{}); \
    else return R{};
  switch (t) {
    EFFDL_EW_CASE(kFloat, float)
    EFFDL_EW_CASE(kDouble, double)
    EFFDL_EW_CASE(kFloat16, Half)
    EFFDL_EW_CASE(kBfloat16, BFloat16)
    EFFDL_EW_CASE(kBool, bool)
    EFFDL_EW_CASE(kInt8, int8_t)
    EFFDL_EW_CASE(kInt16, int16_t)
    EFFDL_EW_CASE(kInt32, int32_t)
    EFFDL_EW_CASE(kInt64, int64_t)
    EFFDL_EW_CASE(kUint8, uint8_t)
    EFFDL_EW_CASE(kUint16, uint16_t)
    EFFDL_EW_CASE(kUint32, uint32_t)
    EFFDL_EW_CASE(kUint64, uint64_t)
    default: return R{};
  }
#undef EFFDL_EW_CASE
}

// ------------------------------------------------------------------------ compute types
// 16-bit floats are stored as Half/BFloat16 and computed in float; other types as themselves.
template <typename T>
constexpr bool kConverted = std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>;
template <typename T>
using Compute = std::conditional_t<kConverted<T>, float, T>;

template <typename T>
inline Compute<T> toCompute(T v) {
  if constexpr (kConverted<T>) return toFloat(v);
  else return v;
}
template <typename T>
inline T fromCompute(Compute<T> v) {
  if constexpr (kConverted<T>) return fromFloat<T>(v);
  else return v;
}

template <typename T>
constexpr bool kIsFloat = std::is_floating_point_v<Compute<T>>;

// A float → integer conversion that is defined for every input: NaN gives 0, out-of-range values
// saturate (a plain cast would be undefined behaviour).
template <typename I, typename F>
inline I saturatingCast(F v) {
  if (!(v == v)) return 0;
  if (v <= static_cast<F>(std::numeric_limits<I>::lowest())) return std::numeric_limits<I>::lowest();
  if (v >= static_cast<F>(std::numeric_limits<I>::max())) return std::numeric_limits<I>::max();
  return static_cast<I>(v);
}

// -x for integers without the undefined behaviour of negating the minimum value (it wraps).
template <typename C>
C wrapNeg(C x) {
  using U = std::make_unsigned_t<C>;
  return static_cast<C>(static_cast<U>(U{0} - static_cast<U>(x)));
}

// ------------------------------------------------------------------------------- loops
// The widest loop flavour this CPU runs; EFFDL_ELEMENTWISE_SIMD=baseline|avx2 caps it (to test
// the narrower paths on a wide machine).
enum class SimdLevel { kBaseline, kAvx2, kAvx512 };
SimdLevel detectSimdLevel();
// Read per row of a broadcast loop, so it is a variable, not a call (kBaseline until set).
inline const SimdLevel kSimdLevel = detectSimdLevel();
inline SimdLevel simdLevel() { return kSimdLevel; }

// A functor may offer `template <bool kFma> C eval(C) const` (vector_math.h's functions take the
// same flag); the wide loops call eval<true>, the baseline ones eval<false> or operator().
template <bool kFma, typename Op, typename C>
[[gnu::always_inline]] inline auto applyUnary(const Op& op, C x) {
  if constexpr (requires { op.template eval<kFma>(x); }) return op.template eval<kFma>(x);
  else return op(x);
}

namespace detail {

template <bool kFma, typename TI, typename TO, typename Op>
[[gnu::always_inline]] inline void unaryLoopImpl(const TI* __restrict x, TO* __restrict y, int64_t n, const Op& op) {
  for (int64_t i = 0; i < n; ++i) y[i] = applyUnary<kFma>(op, x[i]);
}

// av/bv: whether a/b advance along the run (else they are one value repeated).
template <typename TA, typename TB, typename TO, typename Op>
[[gnu::always_inline]] inline void binaryLoopImpl(const TA* __restrict a, const TB* __restrict b, TO* __restrict o,
                                                  int64_t n, bool av, bool bv, const Op& op) {
  if (av && bv) {
    for (int64_t i = 0; i < n; ++i) o[i] = op(a[i], b[i]);
  } else if (av) {
    const TB s = b[0];
    for (int64_t i = 0; i < n; ++i) o[i] = op(a[i], s);
  } else if (bv) {
    const TA s = a[0];
    for (int64_t i = 0; i < n; ++i) o[i] = op(s, b[i]);
  } else {
    const TO v = op(a[0], b[0]);
    for (int64_t i = 0; i < n; ++i) o[i] = v;
  }
}

// The loops run in functions of their own, never inlined into the caller: there __restrict
// holds, so the compiler vectorises without versioning the loop on a run-time overlap check.
// In-place runs (y == x) are safe: every element is read before it is written.
template <typename TI, typename TO, typename Op>
[[gnu::noinline]] void unaryLoopBase(const TI* __restrict x, TO* __restrict y, int64_t n, const Op& op) {
  unaryLoopImpl<false>(x, y, n, op);
}
template <typename TA, typename TB, typename TO, typename Op>
[[gnu::noinline]] void binaryLoopBase(const TA* __restrict a, const TB* __restrict b, TO* __restrict o, int64_t n,
                                      bool av, bool bv, const Op& op) {
  binaryLoopImpl(a, b, o, n, av, bv, op);
}

// Rows [r0, r1) of a broadcast whose collapsed shape is [rows, cols]: one call for many short
// rows (a [n, 8] + [n, 1] Add would otherwise make a call, and an odometer step, per 8 elements).
// aRow/bRow: each input's element stride from one row to the next (0 when broadcast along rows).
template <typename TA, typename TB, typename TO, typename Op>
[[gnu::noinline]] void binaryRowsLoopBase(const TA* __restrict a, const TB* __restrict b, TO* __restrict o,
                                          int64_t r0, int64_t r1, int64_t cols, int64_t aRow, int64_t bRow,
                                          bool av, bool bv, const Op& op) {
  for (int64_t r = r0; r < r1; ++r) binaryLoopImpl(a + r * aRow, b + r * bRow, o + r * cols, cols, av, bv, op);
}

#if EFFDL_EW_WIDE
template <typename Op>
EFFDL_TARGET_AVX2 void unaryLoopAvx2(const float* __restrict x, float* __restrict y, int64_t n, const Op& op) {
  unaryLoopImpl<true>(x, y, n, op);
}
template <typename Op>
EFFDL_TARGET_AVX512 void unaryLoopAvx512(const float* __restrict x, float* __restrict y, int64_t n, const Op& op) {
  unaryLoopImpl<true>(x, y, n, op);
}
template <typename Op>
EFFDL_TARGET_AVX2 void binaryLoopAvx2(const float* __restrict a, const float* __restrict b, float* __restrict o,
                                      int64_t n, bool av, bool bv, const Op& op) {
  binaryLoopImpl(a, b, o, n, av, bv, op);
}
template <typename Op>
EFFDL_TARGET_AVX512 void binaryLoopAvx512(const float* __restrict a, const float* __restrict b, float* __restrict o,
                                          int64_t n, bool av, bool bv, const Op& op) {
  binaryLoopImpl(a, b, o, n, av, bv, op);
}
#endif

constexpr int64_t kBlock = 256;  // elements converted at a time for 16-bit floats

}  // namespace detail

// An op may bring its own loop over arrays of its compute type, `op.array(x, y, n)`, when the
// compiler cannot vectorise the elementwise form (Sqrt).
template <typename TI, typename TO, typename Op>
void unaryLoop(const TI* x, TO* y, int64_t n, const Op& op) {
  using CI = Compute<TI>;
  using CO = Compute<TO>;
  constexpr bool kHasArray = requires(const CI* a, CO* b) { op.array(a, b, n); };
  if constexpr (kConverted<TI> || kConverted<TO>) {
    CI xb[detail::kBlock];
    CO yb[detail::kBlock];
    for (int64_t s = 0; s < n; s += detail::kBlock) {
      const int64_t m = std::min(detail::kBlock, n - s);
      for (int64_t i = 0; i < m; ++i) xb[i] = toCompute(x[s + i]);
      if constexpr (kHasArray) op.array(xb, yb, m);
      else detail::unaryLoopImpl<false>(xb, yb, m, op);
      for (int64_t i = 0; i < m; ++i) y[s + i] = fromCompute<TO>(yb[i]);
    }
  } else if constexpr (kHasArray) {
    op.array(x, y, n);
  } else if constexpr (EFFDL_EW_WIDE && std::is_same_v<TI, float> && std::is_same_v<TO, float>) {
#if EFFDL_EW_WIDE
    switch (simdLevel()) {
      case SimdLevel::kAvx512: return detail::unaryLoopAvx512(x, y, n, op);
      case SimdLevel::kAvx2: return detail::unaryLoopAvx2(x, y, n, op);
      case SimdLevel::kBaseline: return detail::unaryLoopBase(x, y, n, op);
    }
#endif
  } else {
    detail::unaryLoopBase(x, y, n, op);
  }
}

// o[i] = op(a[i or 0], b[i or 0]) over a run of n elements (see BroadcastPlan::forRange).
template <typename TA, typename TB, typename TO, typename Op>
void binaryLoop(const TA* a, const TB* b, TO* o, int64_t n, bool av, bool bv, const Op& op) {
  using CA = Compute<TA>;
  using CB = Compute<TB>;
  using CO = Compute<TO>;
  if constexpr (kConverted<TA> || kConverted<TB> || kConverted<TO>) {
    CA ab[detail::kBlock];
    CB bb[detail::kBlock];
    CO ob[detail::kBlock];
    if (!av) ab[0] = toCompute(a[0]);
    if (!bv) bb[0] = toCompute(b[0]);
    for (int64_t s = 0; s < n; s += detail::kBlock) {
      const int64_t m = std::min(detail::kBlock, n - s);
      if (av)
        for (int64_t i = 0; i < m; ++i) ab[i] = toCompute(a[s + i]);
      if (bv)
        for (int64_t i = 0; i < m; ++i) bb[i] = toCompute(b[s + i]);
      detail::binaryLoopImpl(ab, bb, ob, m, av, bv, op);
      for (int64_t i = 0; i < m; ++i) o[s + i] = fromCompute<TO>(ob[i]);
    }
  } else if constexpr (EFFDL_EW_WIDE && std::is_same_v<TA, float> && std::is_same_v<TB, float> &&
                       std::is_same_v<TO, float>) {
#if EFFDL_EW_WIDE
    switch (simdLevel()) {
      case SimdLevel::kAvx512: return detail::binaryLoopAvx512(a, b, o, n, av, bv, op);
      case SimdLevel::kAvx2: return detail::binaryLoopAvx2(a, b, o, n, av, bv, op);
      case SimdLevel::kBaseline: return detail::binaryLoopBase(a, b, o, n, av, bv, op);
    }
#endif
  } else {
    detail::binaryLoopBase(a, b, o, n, av, bv, op);
  }
}

// --------------------------------------------------------------------------- kernel helpers
// Input i, present and of dtype `want`; otherwise a run error naming the node.
const RtTensor& requireInput(const KernelIo& io, size_t i, ir::DataType want);

// A kernel for concrete dtypes: (dtype of the key input, dtype of a second input or kUndefined)
// → kernel, or nullptr when the op does not support them.
using TypedFactory = std::function<std::unique_ptr<Kernel>(ir::DataType, ir::DataType)>;

// Builds the kernel for the dtypes the model declares for inputs `key` and `second` (-1: none).
// An unsupported dtype is rejected here (ctx.unsupported, listing `supported`, the key input's
// allowed set). When shape inference left a dtype unknown, the choice is made at the first run
// (and again whenever the dtypes change).
std::unique_ptr<Kernel> makeTypedKernel(const KernelBuildContext& ctx, uint32_t supported, TypedFactory factory,
                                        int key = 0, int second = -1);

// y = op(x) elementwise, in x's buffer when the runtime allows. TO is TI, or bool (IsNaN, IsInf).
template <typename TI, typename TO, typename Op>
class UnaryKernel final : public Kernel {
 public:
  explicit UnaryKernel(Op op) : op_(std::move(op)) {}
  void run(KernelIo& io) override {
    const RtTensor& x = requireInput(io, 0, dtypeOf<TI>());
    RtTensor& y = sizeof(TI) == sizeof(TO) ? io.allocOutputInPlace(0, 0, dtypeOf<TO>(), x.dims)
                                           : io.allocOutput(0, dtypeOf<TO>(), x.dims);
    const TI* xp = x.as<TI>();
    TO* yp = y.as<TO>();
    parallelChunks(x.numel(), [&](int64_t b, int64_t e) { unaryLoop(xp + b, yp + b, e - b, op_); });
  }

 private:
  Op op_;
};

// The kernel for a unary op whose functor is made by `make(TypeTag<T>)` (T the input storage
// type; the functor works on Compute<T>), for the dtypes in `Allowed`.
template <uint32_t Allowed, typename Make>
std::unique_ptr<Kernel> makeUnary(const KernelBuildContext& ctx, Make make) {
  return makeTypedKernel(ctx, Allowed, [make](ir::DataType t, ir::DataType) {
    return dispatchDtype<Allowed, std::unique_ptr<Kernel>>(t, [&](auto tag) -> std::unique_ptr<Kernel> {
      using T = typename decltype(tag)::type;
      using Op = decltype(make(tag));
      return std::make_unique<UnaryKernel<T, T, Op>>(make(tag));
    });
  });
}

// The family's files register through these; families.h lists registerElementwiseKernels.
void registerElementwiseUnaryKernels(KernelRegistry& r);
void registerElementwiseBinaryKernels(KernelRegistry& r);
void registerActivationKernels(KernelRegistry& r);
void registerWhereKernels(KernelRegistry& r);

}  // namespace effdl::runtime::elementwise
