// Activation functions: Relu, LeakyRelu, Elu, Selu, Celu, Sigmoid, HardSigmoid, HardSwish, Tanh,
// Softplus, Softsign, ThresholdedRelu, Shrink, and Clip (attributes before opset 11, optional
// min/max inputs from 11). float32 Sigmoid/Tanh/Elu/Selu/Celu use vector_math.h so their loops
// vectorise; conditionals on floats are written as selectBits for the same reason.
#include <cmath>
#include <limits>

#include "runtime/kernel_registry.h"
#include "runtime/kernels/elementwise.h"
#include "runtime/kernels/families.h"

namespace effdl::runtime {
namespace {

using namespace elementwise;

template <bool kFma, typename C>
C expm1Of(C x) {
  if constexpr (std::is_same_v<C, float>) return fastExpm1<kFma>(x);
  else return std::expm1(x);
}

template <typename C>
struct ReluOp {
  C operator()(C x) const { return std::max(x, C(0)); }
};
template <typename C>
struct LeakyReluOp {
  C alpha;
  C operator()(C x) const { return selectBits(x < 0, x * alpha, x); }
};
// Functors with eval<kFma> use vector_math.h for float (see applyUnary in elementwise.h).
template <typename C>
struct EluOp {
  C alpha;
  template <bool kFma>
  C eval(C x) const {
    return selectBits(x < 0, alpha * expm1Of<kFma>(x), x);
  }
};
template <typename C>
struct SeluOp {
  C alpha, gamma;
  template <bool kFma>
  C eval(C x) const {
    return gamma * selectBits(x <= 0, alpha * expm1Of<kFma>(x), x);
  }
};
template <typename C>
struct CeluOp {
  C alpha;
  template <bool kFma>
  C eval(C x) const {
    return selectBits(x < 0, alpha * expm1Of<kFma>(x / alpha), x);
  }
};
template <typename C>
struct SigmoidOp {
  template <bool kFma>
  C eval(C x) const {
    if constexpr (std::is_same_v<C, float>) return fastSigmoid<kFma>(x);
    else return C(1) / (C(1) + std::exp(-x));
  }
};
template <typename C>
struct TanhOp {
  template <bool kFma>
  C eval(C x) const {
    if constexpr (std::is_same_v<C, float>) return fastTanh<kFma>(x);
    else return std::tanh(x);
  }
};
// max(0, min(1, alpha * x + beta)); NaN stays NaN.
template <typename C>
C hardSigmoid(C x, C alpha, C beta) {
  C t = alpha * x + beta;
  t = selectBits(t < 0, C(0), t);
  return selectBits(t > 1, C(1), t);
}
template <typename C>
struct HardSigmoidOp {
  C alpha, beta;
  C operator()(C x) const { return hardSigmoid(x, alpha, beta); }
};
template <typename C>
struct HardSwishOp {
  C operator()(C x) const { return x * hardSigmoid(x, C(1) / C(6), C(0.5)); }
};
// log(1 + e^x) without overflow for large x.
template <typename C>
struct SoftplusOp {
  C operator()(C x) const { return std::max(x, C(0)) + std::log1p(std::exp(-std::fabs(x))); }
};
template <typename C>
struct SoftsignOp {
  C operator()(C x) const { return x / (C(1) + std::fabs(x)); }
};
template <typename C>
struct ThresholdedReluOp {
  C alpha;
  C operator()(C x) const { return selectBits(x > alpha, x, C(0)); }
};
template <typename C>
struct ShrinkOp {
  float bias, lambd;
  C operator()(C x) const {
    if constexpr (std::is_floating_point_v<C>) {
      const C b = static_cast<C>(bias), l = static_cast<C>(lambd);
      return selectBits(x < -l, x + b, selectBits(x > l, x - b, C(0)));
    } else {
      // Integers: compare and shift in double, then back (saturating) to the input type.
      const double v = static_cast<double>(x);
      if (v < -static_cast<double>(lambd)) return saturatingCast<C>(v + bias);
      if (v > static_cast<double>(lambd)) return saturatingCast<C>(v - bias);
      return 0;
    }
  }
};

template <template <typename> class OpT, uint32_t Allowed>
KernelFactory plain() {
  return [](const KernelBuildContext& ctx) {
    return makeUnary<Allowed>(ctx, [](auto tag) { return OpT<Compute<typename decltype(tag)::type>>{}; });
  };
}

// Ops with one float attribute `alpha`.
template <template <typename> class OpT>
KernelFactory withAlpha(float def) {
  return [def](const KernelBuildContext& ctx) {
    const float alpha = ctx.node.attrFloat("alpha", def);
    return makeUnary<kFloatTypes>(ctx, [alpha](auto tag) {
      using C = Compute<typename decltype(tag)::type>;
      return OpT<C>{static_cast<C>(alpha)};
    });
  };
}

std::unique_ptr<Kernel> makeSelu(const KernelBuildContext& ctx) {
  const float alpha = ctx.node.attrFloat("alpha", 1.67326319217681884765625f);
  const float gamma = ctx.node.attrFloat("gamma", 1.05070102214813232421875f);
  return makeUnary<kFloatTypes>(ctx, [=](auto tag) {
    using C = Compute<typename decltype(tag)::type>;
    return SeluOp<C>{static_cast<C>(alpha), static_cast<C>(gamma)};
  });
}

std::unique_ptr<Kernel> makeCelu(const KernelBuildContext& ctx) {
  const float alpha = ctx.node.attrFloat("alpha", 1.0f);
  if (alpha == 0) ctx.invalid("alpha must not be 0");
  return makeUnary<kFloatTypes>(ctx, [=](auto tag) {
    using C = Compute<typename decltype(tag)::type>;
    return CeluOp<C>{static_cast<C>(alpha)};
  });
}

std::unique_ptr<Kernel> makeHardSigmoid(const KernelBuildContext& ctx) {
  const float alpha = ctx.node.attrFloat("alpha", 0.2f);
  const float beta = ctx.node.attrFloat("beta", 0.5f);
  return makeUnary<kFloatTypes>(ctx, [=](auto tag) {
    using C = Compute<typename decltype(tag)::type>;
    return HardSigmoidOp<C>{static_cast<C>(alpha), static_cast<C>(beta)};
  });
}

std::unique_ptr<Kernel> makeShrink(const KernelBuildContext& ctx) {
  const float bias = ctx.node.attrFloat("bias", 0.0f);
  const float lambd = ctx.node.attrFloat("lambd", 0.5f);
  return makeUnary<kNumeric>(ctx, [=](auto tag) {
    return ShrinkOp<Compute<typename decltype(tag)::type>>{bias, lambd};
  });
}

// ------------------------------------------------------------------------------------ Clip
template <typename C>
struct ClipOp {
  C lo, hi;
  // lo > hi gives hi everywhere, as ONNX specifies.
  C operator()(C x) const { return std::min(std::max(x, lo), hi); }
};

// Before opset 11 the bounds are attributes; from 11 they are optional scalar inputs, read at
// each run (they may be computed).
template <typename T>
class ClipKernel final : public Kernel {
 public:
  using C = Compute<T>;
  ClipKernel(bool boundsAsInputs, float attrMin, float attrMax)
      : boundsAsInputs_(boundsAsInputs), attrMin_(attrMin), attrMax_(attrMax) {}

  void run(KernelIo& io) override {
    const RtTensor& x = requireInput(io, 0, dtypeOf<T>());
    C lo = std::numeric_limits<C>::lowest(), hi = std::numeric_limits<C>::max();
    if (boundsAsInputs_) {
      bound(io, 1, lo);
      bound(io, 2, hi);
    } else if constexpr (std::is_floating_point_v<C>) {
      lo = static_cast<C>(attrMin_);
      hi = static_cast<C>(attrMax_);
    }
    RtTensor& y = io.allocOutputInPlace(0, 0, x.dtype, x.dims);
    const T* xp = x.as<T>();
    T* yp = y.as<T>();
    const ClipOp<C> op{lo, hi};
    parallelChunks(x.numel(), [&](int64_t b, int64_t e) { unaryLoop(xp + b, yp + b, e - b, op); });
  }

 private:
  static void bound(const KernelIo& io, size_t i, C& value) {
    if (i >= io.numInputs() || !io.input(i)) return;  // omitted: no bound on that side
    const RtTensor& t = requireInput(io, i, dtypeOf<T>());
    if (t.numel() != 1) throwRunError(io, (i == 1 ? "min" : "max") + std::string(" must be a scalar, got shape ") +
                                              shapeString(t.dims));
    value = toCompute(t.as<T>()[0]);
  }
  bool boundsAsInputs_;
  float attrMin_, attrMax_;
};

std::unique_ptr<Kernel> makeClip(const KernelBuildContext& ctx) {
  const bool asInputs = ctx.opset >= 11;
  const float lo = ctx.node.attrFloat("min", std::numeric_limits<float>::lowest());
  const float hi = ctx.node.attrFloat("max", std::numeric_limits<float>::max());
  // Integer types arrive with opset 12; attribute bounds (opset < 11) are floats only.
  constexpr uint32_t kAllowed = kNumeric;
  const uint32_t allowed = asInputs ? kAllowed : kFloatTypes;
  return makeTypedKernel(ctx, allowed, [=](ir::DataType t, ir::DataType) -> std::unique_ptr<Kernel> {
    if (!asInputs && !isFloatingPoint(t)) return nullptr;
    return dispatchDtype<kAllowed, std::unique_ptr<Kernel>>(t, [&](auto tag) -> std::unique_ptr<Kernel> {
      return std::make_unique<ClipKernel<typename decltype(tag)::type>>(asInputs, lo, hi);
    });
  });
}

}  // namespace

void elementwise::registerActivationKernels(KernelRegistry& r) {
  r.add({"Relu"}, 1, 1000, plain<ReluOp, kFloatTypes | kSignedInts>());
  r.add({"LeakyRelu"}, 1, 1000, withAlpha<LeakyReluOp>(0.01f));
  r.add({"Elu"}, 1, 1000, withAlpha<EluOp>(1.0f));
  r.add({"Selu"}, 1, 1000, makeSelu);
  r.add({"Celu"}, 1, 1000, makeCelu);
  r.add({"Sigmoid"}, 1, 1000, plain<SigmoidOp, kFloatTypes>());
  r.add({"HardSigmoid"}, 1, 1000, makeHardSigmoid);
  r.add({"HardSwish"}, 1, 1000, plain<HardSwishOp, kFloatTypes>());
  r.add({"Tanh"}, 1, 1000, plain<TanhOp, kFloatTypes>());
  r.add({"Softplus"}, 1, 1000, plain<SoftplusOp, kFloatTypes>());
  r.add({"Softsign"}, 1, 1000, plain<SoftsignOp, kFloatTypes>());
  r.add({"ThresholdedRelu"}, 1, 1000, withAlpha<ThresholdedReluOp>(1.0f));
  r.add({"Shrink"}, 1, 1000, makeShrink);
  r.add({"Clip"}, 1, 1000, makeClip);
}

}  // namespace effdl::runtime
