// Unary math ops: Abs, Neg, Sign, Exp, Log, Sqrt, Reciprocal, Floor, Ceil, Round, the
// trigonometric and hyperbolic functions, Erf, Not, IsNaN, IsInf. float16/bfloat16 are computed
// in float; Exp and Erf on float32 use vector_math.h so their loops vectorise.
#include <cmath>

#include "runtime/kernel_registry.h"
#include "runtime/kernels/elementwise.h"
#include "runtime/kernels/families.h"

namespace effdl::runtime {
namespace {

using namespace elementwise;

template <typename C>
struct AbsOp {
  C operator()(C x) const {
    if constexpr (std::is_floating_point_v<C>) return std::fabs(x);
    else if constexpr (std::is_unsigned_v<C>) return x;
    else return x < 0 ? wrapNeg(x) : x;
  }
};
template <typename C>
struct NegOp {
  C operator()(C x) const {
    if constexpr (std::is_floating_point_v<C>) return -x;
    else return wrapNeg(x);
  }
};
template <typename C>
struct SignOp {
  C operator()(C x) const {
    // NaN stays NaN (x * 0), as numpy's sign.
    if constexpr (std::is_floating_point_v<C>) return selectBits(x > 0, C(1), selectBits(x < 0, C(-1), x * C(0)));
    else if constexpr (std::is_unsigned_v<C>) return static_cast<C>(x > 0);
    else return static_cast<C>((x > 0) - (x < 0));
  }
};
template <typename C>
struct ExpOp {
  template <bool kFma>
  C eval(C x) const {
    if constexpr (std::is_same_v<C, float>) return fastExp<kFma>(x);
    else return std::exp(x);
  }
};
template <typename C>
struct ErfOp {
  template <bool kFma>
  C eval(C x) const {
    if constexpr (std::is_same_v<C, float>) return fastErf<kFma>(x);
    else return std::erf(x);
  }
};
template <typename C>
struct SqrtOp {
  C operator()(C x) const { return std::sqrt(x); }
  void array(const C* x, C* y, int64_t n) const { sqrtArray(x, y, n); }
};
template <typename C>
struct ReciprocalOp {
  C operator()(C x) const { return C(1) / x; }
};

// Ops that are one libm call.
#define EFFDL_LIBM_OP(Name, fn)                \
  template <typename C>                        \
  struct Name {                                \
    C operator()(C x) const { return fn(x); } \
  };
EFFDL_LIBM_OP(LogOp, std::log)
EFFDL_LIBM_OP(FloorOp, std::floor)
EFFDL_LIBM_OP(CeilOp, std::ceil)
EFFDL_LIBM_OP(RoundOp, std::nearbyint)  // ties to even in the default rounding mode, as ONNX asks
EFFDL_LIBM_OP(SinOp, std::sin)
EFFDL_LIBM_OP(CosOp, std::cos)
EFFDL_LIBM_OP(TanOp, std::tan)
EFFDL_LIBM_OP(AsinOp, std::asin)
EFFDL_LIBM_OP(AcosOp, std::acos)
EFFDL_LIBM_OP(AtanOp, std::atan)
EFFDL_LIBM_OP(SinhOp, std::sinh)
EFFDL_LIBM_OP(CoshOp, std::cosh)
EFFDL_LIBM_OP(AsinhOp, std::asinh)
EFFDL_LIBM_OP(AcoshOp, std::acosh)
EFFDL_LIBM_OP(AtanhOp, std::atanh)
#undef EFFDL_LIBM_OP

struct NotOp {
  bool operator()(bool x) const { return !x; }
};
template <typename C>
struct IsNaNOp {
  bool operator()(C x) const { return x != x; }
};
template <typename C>
struct IsInfOp {
  bool positive, negative;
  bool operator()(C x) const {
    return (positive && x == std::numeric_limits<C>::infinity()) ||
           (negative && x == -std::numeric_limits<C>::infinity());
  }
};

// A factory for ops whose functor has no parameters: OpT<Compute<T>>.
template <template <typename> class OpT, uint32_t Allowed>
KernelFactory simple() {
  return [](const KernelBuildContext& ctx) {
    return makeUnary<Allowed>(ctx, [](auto tag) { return OpT<Compute<typename decltype(tag)::type>>{}; });
  };
}

// Unary ops whose output is bool.
template <typename Make>
std::unique_ptr<Kernel> makeToBool(const KernelBuildContext& ctx, Make make) {
  return makeTypedKernel(ctx, kFloatTypes, [make](ir::DataType t, ir::DataType) {
    return dispatchDtype<kFloatTypes, std::unique_ptr<Kernel>>(t, [&](auto tag) -> std::unique_ptr<Kernel> {
      using T = typename decltype(tag)::type;
      using Op = decltype(make(tag));
      return std::make_unique<UnaryKernel<T, bool, Op>>(make(tag));
    });
  });
}

std::unique_ptr<Kernel> makeNot(const KernelBuildContext& ctx) {
  return makeTypedKernel(ctx, kBoolType, [](ir::DataType t, ir::DataType) -> std::unique_ptr<Kernel> {
    if (t != ir::DataType::kBool) return nullptr;
    return std::make_unique<UnaryKernel<bool, bool, NotOp>>(NotOp{});
  });
}

std::unique_ptr<Kernel> makeIsNaN(const KernelBuildContext& ctx) {
  return makeToBool(ctx, [](auto tag) { return IsNaNOp<Compute<typename decltype(tag)::type>>{}; });
}

std::unique_ptr<Kernel> makeIsInf(const KernelBuildContext& ctx) {
  const bool positive = ctx.node.attrInt("detect_positive", 1) != 0;
  const bool negative = ctx.node.attrInt("detect_negative", 1) != 0;
  return makeToBool(ctx, [=](auto tag) {
    return IsInfOp<Compute<typename decltype(tag)::type>>{positive, negative};
  });
}

}  // namespace

void elementwise::registerElementwiseUnaryKernels(KernelRegistry& r) {
  r.add({"Abs"}, 1, 1000, simple<AbsOp, kNumeric>());
  r.add({"Neg"}, 1, 1000, simple<NegOp, kFloatTypes | kSignedInts>());
  r.add({"Sign"}, 1, 1000, simple<SignOp, kNumeric>());
  r.add({"Exp"}, 1, 1000, simple<ExpOp, kFloatTypes>());
  r.add({"Log"}, 1, 1000, simple<LogOp, kFloatTypes>());
  r.add({"Sqrt"}, 1, 1000, simple<SqrtOp, kFloatTypes>());
  r.add({"Reciprocal"}, 1, 1000, simple<ReciprocalOp, kFloatTypes>());
  r.add({"Floor"}, 1, 1000, simple<FloorOp, kFloatTypes>());
  r.add({"Ceil"}, 1, 1000, simple<CeilOp, kFloatTypes>());
  r.add({"Round"}, 1, 1000, simple<RoundOp, kFloatTypes>());
  r.add({"Sin"}, 1, 1000, simple<SinOp, kFloatTypes>());
  r.add({"Cos"}, 1, 1000, simple<CosOp, kFloatTypes>());
  r.add({"Tan"}, 1, 1000, simple<TanOp, kFloatTypes>());
  r.add({"Asin"}, 1, 1000, simple<AsinOp, kFloatTypes>());
  r.add({"Acos"}, 1, 1000, simple<AcosOp, kFloatTypes>());
  r.add({"Atan"}, 1, 1000, simple<AtanOp, kFloatTypes>());
  r.add({"Sinh"}, 1, 1000, simple<SinhOp, kFloatTypes>());
  r.add({"Cosh"}, 1, 1000, simple<CoshOp, kFloatTypes>());
  r.add({"Asinh"}, 1, 1000, simple<AsinhOp, kFloatTypes>());
  r.add({"Acosh"}, 1, 1000, simple<AcoshOp, kFloatTypes>());
  r.add({"Atanh"}, 1, 1000, simple<AtanhOp, kFloatTypes>());
  r.add({"Erf"}, 1, 1000, simple<ErfOp, kFloatTypes>());
  r.add({"Not"}, 1, 1000, makeNot);
  r.add({"IsNaN"}, 1, 1000, makeIsNaN);
  r.add({"IsInf"}, 1, 1000, makeIsInf);
}

}  // namespace effdl::runtime
