// Binary and variadic elementwise ops with broadcasting: Add, Sub, Mul, Div, Pow, Mod, BitShift,
// And, Or, Xor, Equal, Greater, Less, GreaterOrEqual, LessOrEqual, PRelu, and Max, Min, Sum,
// Mean. Opset < 7 models state broadcasting with `broadcast=1, axis=k` attributes (and PRelu's
// slope is per channel there); those rules are applied as the opset asks.
#include <cmath>
#include <cstring>

#include "runtime/kernel_registry.h"
#include "runtime/kernels/elementwise.h"
#include "runtime/kernels/families.h"

namespace effdl::runtime {
namespace {

using namespace elementwise;

// ----------------------------------------------------------------------------- shape rules
enum class ShapeRule {
  kNumpy,        // multidirectional (opset >= 7)
  kLegacy,       // opset < 7 broadcast=1: B fits into A from `axis`
  kToFirst,      // B broadcasts to A (PRelu's slope)
  kPReluLegacy,  // opset < 7 PRelu: a slope of C values is per channel (dim 1)
};

struct BroadcastRule {
  ShapeRule kind = ShapeRule::kNumpy;
  std::optional<int64_t> axis;
};

BroadcastRule ruleFor(const KernelBuildContext& ctx) {
  BroadcastRule rule;
  if (ctx.opset < 7 && ctx.node.attrInt("broadcast", 0) != 0) {
    rule.kind = ShapeRule::kLegacy;
    if (const ir::Attribute* a = ctx.node.attr("axis")) rule.axis = a->i;
  }
  // Opset < 7 without broadcast=1 asks for equal shapes; numpy broadcasting accepts those too.
  return rule;
}

// The output dims, and B's dims as laid against them (the legacy rules reshape B).
void resolveShapes(const KernelIo& io, const BroadcastRule& rule, const Shape& a, const Shape& b, Shape& out,
                   Shape& bAs) {
  auto fail = [&](const std::string& how) {
    throwRunError(io, "inputs of shapes " + shapeString(a) + " and " + shapeString(b) + " do not broadcast" + how);
  };
  switch (rule.kind) {
    case ShapeRule::kNumpy: {
      auto s = broadcastShapes(a, b);
      if (!s) fail("");
      out = *s;
      bAs = b;
      return;
    }
    case ShapeRule::kLegacy: {
      auto s = legacyBroadcastShape(a, b, rule.axis);
      if (!s || !broadcastsTo(*s, a))
        fail(" (opset < 7 broadcast=1" + (rule.axis ? ", axis=" + std::to_string(*rule.axis) : std::string()) + ")");
      out = a;
      bAs = *s;
      return;
    }
    case ShapeRule::kPReluLegacy: {
      int64_t n = 1;
      for (int64_t d : b) n *= d;
      out = a;
      if (n == 1) {
        bAs = Shape(a.size(), 1);
        return;
      }
      if (b.size() == 1 && a.size() >= 2 && b[0] == a[1]) {
        bAs = Shape(a.size(), 1);
        bAs[1] = b[0];
        return;
      }
      if (!broadcastsTo(b, a)) fail(" (the slope must be a scalar, per channel, or broadcast to the input)");
      bAs = b;
      return;
    }
    case ShapeRule::kToFirst:
      if (!broadcastsTo(b, a)) fail(" (the second must broadcast to the first)");
      out = a;
      bAs = b;
      return;
  }
}

// An output of `dims` in input 0's or input 1's buffer when the dtype and shape allow and the
// runtime can reuse that buffer; otherwise a new one.
template <typename TA, typename TB, typename TO>
RtTensor& allocBinaryOutput(KernelIo& io, const RtTensor& a, const RtTensor& b, const Shape& dims) {
  constexpr ir::DataType t = dtypeOf<TO>();
  if constexpr (std::is_same_v<TA, TO>) {
    if (a.dims == dims) {
      RtTensor& y = io.allocOutputInPlace(0, 0, t, dims);
      if (y.data == a.data) return y;
    }
  }
  if constexpr (std::is_same_v<TB, TO>) {
    if (b.dims == dims) return io.allocOutputInPlace(0, 1, t, dims);
  }
  return io.allocOutput(0, t, dims);
}

// Rows shorter than this run through one loop over rows rather than one call per row.
constexpr int64_t kShortRow = 64;

// Integer Div and Mod check their divisors before the loop (a zero would trap).
template <typename Op>
constexpr bool needsNonzeroB() {
  if constexpr (requires { Op::kNeedsNonzeroB; }) return Op::kNeedsNonzeroB;
  else return false;
}

// y = op(a, b) with broadcasting. The plan is kept while the input shapes stay the same.
template <typename TA, typename TB, typename TO, typename Op>
class BinaryKernel final : public Kernel {
 public:
  BinaryKernel(Op op, BroadcastRule rule) : op_(std::move(op)), rule_(rule) {}

  void run(KernelIo& io) override {
    const RtTensor& a = requireInput(io, 0, dtypeOf<TA>());
    const RtTensor& b = requireInput(io, 1, dtypeOf<TB>());
    if (!planned_ || a.dims != aDims_ || b.dims != bDims_) {
      Shape bAs;
      resolveShapes(io, rule_, a.dims, b.dims, outDims_, bAs);
      const Shape* ins[] = {&a.dims, &bAs};
      if (!plan_.init(outDims_, ins)) throwInternal(io.describe() + ": broadcast plan failed");
      aDims_ = a.dims;
      bDims_ = b.dims;
      planned_ = true;
    }
    if constexpr (needsNonzeroB<Op>()) {
      const TB* bp = b.as<TB>();
      const int64_t n = b.numel();
      bool zero = false;
      for (int64_t i = 0; i < n; ++i) zero |= bp[i] == 0;
      if (zero) throwRunError(io, "integer division by zero");
    }
    RtTensor& y = allocBinaryOutput<TA, TB, TO>(io, a, b, outDims_);
    const TA* ap = a.as<TA>();
    const TB* bp = b.as<TB>();
    TO* yp = y.as<TO>();
    const bool av = plan_.innerVaries(0), bv = plan_.innerVaries(1);
    const auto& pd = plan_.dims();
    if constexpr (!kConverted<TA> && !kConverted<TB> && !kConverted<TO>) {
      if (pd.size() == 2 && pd[1] < kShortRow) {
        const int64_t cols = pd[1], aRow = plan_.stride(0, 0), bRow = plan_.stride(1, 0);
        parallelRows(pd[0], cols, [&](int64_t r0, int64_t r1) {
          detail::binaryRowsLoopBase(ap, bp, yp, r0, r1, cols, aRow, bRow, av, bv, op_);
        });
        return;
      }
    }
    plan_.run([&](int64_t o, const int64_t* in, int64_t len) {
      binaryLoop(ap + in[0], bp + in[1], yp + o, len, av, bv, op_);
    });
  }

 private:
  Op op_;
  BroadcastRule rule_;
  bool planned_ = false;
  Shape aDims_, bDims_, outDims_;
  BroadcastPlan plan_;
};

void checkSameDtypes(const KernelBuildContext& ctx) {
  ir::DataType first = ir::DataType::kUndefined;
  for (size_t i = 0; i < ctx.numInputs(); ++i) {
    const ir::Value* v = ctx.input(i);
    if (!v) ctx.invalid("input " + std::to_string(i) + " is missing");
    const ir::DataType t = v->type().elemType;
    if (t == ir::DataType::kUndefined) continue;
    if (first == ir::DataType::kUndefined) first = t;
    else if (t != first)
      ctx.invalid("inputs have different dtypes (" + std::string(ir::dtypeName(first)) + " and " +
                  std::string(ir::dtypeName(t)) + ")");
  }
}

// A binary op with both inputs of one dtype T in `Allowed`; output T, or bool when ToBool.
// make(TypeTag<T>) returns the functor (on Compute<T>).
template <uint32_t Allowed, bool ToBool, typename Make>
std::unique_ptr<Kernel> makeBinary(const KernelBuildContext& ctx, BroadcastRule rule, Make make) {
  if (ctx.numInputs() != 2) ctx.invalid("expects 2 inputs, got " + std::to_string(ctx.numInputs()));
  checkSameDtypes(ctx);
  return makeTypedKernel(ctx, Allowed, [rule, make](ir::DataType t, ir::DataType) {
    return dispatchDtype<Allowed, std::unique_ptr<Kernel>>(t, [&](auto tag) -> std::unique_ptr<Kernel> {
      using T = typename decltype(tag)::type;
      using TO = std::conditional_t<ToBool, bool, T>;
      using Op = decltype(make(tag));
      return std::make_unique<BinaryKernel<T, T, TO, Op>>(make(tag), rule);
    });
  });
}

template <template <typename> class OpT, uint32_t Allowed, bool ToBool = false>
KernelFactory binary() {
  return [](const KernelBuildContext& ctx) {
    return makeBinary<Allowed, ToBool>(ctx, ruleFor(ctx),
                                       [](auto tag) { return OpT<Compute<typename decltype(tag)::type>>{}; });
  };
}

// ------------------------------------------------------------------------------ the ops
// Integer +, -, * wrap (as ONNX Runtime's do) instead of being undefined on overflow.
template <typename C>
struct AddOp {
  C operator()(C a, C b) const {
    if constexpr (std::is_integral_v<C>) {
      using U = std::make_unsigned_t<C>;
      return static_cast<C>(static_cast<U>(static_cast<U>(a) + static_cast<U>(b)));
    } else {
      return a + b;
    }
  }
};
template <typename C>
struct SubOp {
  C operator()(C a, C b) const {
    if constexpr (std::is_integral_v<C>) {
      using U = std::make_unsigned_t<C>;
      return static_cast<C>(static_cast<U>(static_cast<U>(a) - static_cast<U>(b)));
    } else {
      return a - b;
    }
  }
};
template <typename C>
struct MulOp {
  C operator()(C a, C b) const {
    if constexpr (std::is_integral_v<C>) {
      // uint16 * uint16 would promote to int and could overflow it: multiply in 64 bits.
      using U = std::conditional_t<(sizeof(C) < 8), uint64_t, std::make_unsigned_t<C>>;
      return static_cast<C>(static_cast<U>(a) * static_cast<U>(b));
    } else {
      return a * b;
    }
  }
};
// Integer division truncates toward zero (C++ and ONNX Runtime); a zero divisor is an error
// (checked before the loop), and MIN / -1 wraps instead of trapping.
template <typename C>
struct DivOp {
  static constexpr bool kNeedsNonzeroB = std::is_integral_v<C>;
  C operator()(C a, C b) const {
    if constexpr (std::is_floating_point_v<C>) return a / b;
    else if constexpr (std::is_signed_v<C>) return b == -1 ? wrapNeg(a) : static_cast<C>(a / b);
    else return static_cast<C>(a / b);
  }
};
// fmod=0: the result takes the divisor's sign (Python's %); fmod=1: the dividend's (C's fmod).
template <typename C>
struct ModOp {
  static constexpr bool kNeedsNonzeroB = std::is_integral_v<C>;
  bool fmod;
  C operator()(C a, C b) const {
    if constexpr (std::is_floating_point_v<C>) {
      return std::fmod(a, b);
    } else if constexpr (std::is_unsigned_v<C>) {
      return static_cast<C>(a % b);
    } else {
      C r = b == -1 ? C(0) : static_cast<C>(a % b);
      if (!fmod && r != 0 && ((r < 0) != (b < 0))) r = static_cast<C>(r + b);
      return r;
    }
  }
};
template <typename C>
struct BitShiftOp {
  bool left;
  C operator()(C a, C b) const {
    // Shifting by the width or more is undefined in C++; every bit is shifted out.
    if (b >= static_cast<C>(sizeof(C) * 8)) return 0;
    return static_cast<C>(left ? a << b : a >> b);
  }
};
template <typename C>
struct MaxOp {
  C operator()(C a, C b) const { return std::max(a, b); }
};
template <typename C>
struct MinOp {
  C operator()(C a, C b) const { return std::min(a, b); }
};
template <typename C>
struct EqualOp {
  bool operator()(C a, C b) const { return a == b; }
};
template <typename C>
struct GreaterOp {
  bool operator()(C a, C b) const { return a > b; }
};
template <typename C>
struct LessOp {
  bool operator()(C a, C b) const { return a < b; }
};
template <typename C>
struct GreaterOrEqualOp {
  bool operator()(C a, C b) const { return a >= b; }
};
template <typename C>
struct LessOrEqualOp {
  bool operator()(C a, C b) const { return a <= b; }
};
template <typename C>
struct AndOp {
  bool operator()(bool a, bool b) const { return a && b; }
};
template <typename C>
struct OrOp {
  bool operator()(bool a, bool b) const { return a || b; }
};
template <typename C>
struct XorOp {
  bool operator()(bool a, bool b) const { return a != b; }
};
template <typename C>
struct PReluOp {
  C operator()(C x, C slope) const {
    if constexpr (std::is_floating_point_v<C>) return selectBits(x < 0, x * slope, x);
    else if constexpr (std::is_unsigned_v<C>) return x;
    else return x < 0 ? MulOp<C>{}(x, slope) : x;
  }
};

std::unique_ptr<Kernel> makeMod(const KernelBuildContext& ctx) {
  const bool fmod = ctx.node.attrInt("fmod", 0) != 0;
  const ir::Value* in = ctx.input(0);
  if (!fmod && in && isFloatingPoint(in->type().elemType))
    ctx.invalid("fmod must be 1 for floating-point inputs");
  return makeBinary<kNumeric, false>(ctx, BroadcastRule{}, [fmod](auto tag) {
    using T = typename decltype(tag)::type;
    return ModOp<Compute<T>>{fmod};
  });
}

std::unique_ptr<Kernel> makeBitShift(const KernelBuildContext& ctx) {
  const std::string dir = ctx.node.attrString("direction", "");
  if (dir != "LEFT" && dir != "RIGHT") ctx.invalid("direction must be LEFT or RIGHT, got '" + dir + "'");
  const bool left = dir == "LEFT";
  return makeBinary<kUnsignedInts, false>(ctx, BroadcastRule{}, [left](auto tag) {
    return BitShiftOp<Compute<typename decltype(tag)::type>>{left};
  });
}

std::unique_ptr<Kernel> makePRelu(const KernelBuildContext& ctx) {
  BroadcastRule rule{ctx.opset < 7 ? ShapeRule::kPReluLegacy : ShapeRule::kToFirst, std::nullopt};
  return makeBinary<kNumeric, false>(ctx, rule, [](auto tag) { return PReluOp<Compute<typename decltype(tag)::type>>{}; });
}

// ------------------------------------------------------------------------------------ Pow
// The result has the base's type. Integer bases with integer exponents are exact (wrapping on
// overflow); a negative exponent gives the truncated 1 / base^-e.
template <typename I, typename E>
I intPow(I base, E exp) {
  if constexpr (std::is_signed_v<E>) {
    if (exp < 0) {
      if (base == 1) return 1;
      if (base == -1) return (exp & 1) ? -1 : 1;
      return 0;
    }
  }
  using U = std::make_unsigned_t<I>;
  U result = 1, b = static_cast<U>(base);
  auto e = static_cast<std::make_unsigned_t<E>>(exp);
  while (e) {
    if (e & 1) result = static_cast<U>(result * b);
    b = static_cast<U>(b * b);
    e >>= 1;
  }
  return static_cast<I>(result);
}

template <typename CA, typename CB>
struct PowOp {
  CA operator()(CA a, CB b) const {
    if constexpr (std::is_floating_point_v<CA>) {
      return std::pow(a, static_cast<CA>(b));
    } else if constexpr (std::is_floating_point_v<CB>) {
      return saturatingCast<CA>(std::pow(static_cast<double>(a), static_cast<double>(b)));
    } else {
      return intPow(a, b);
    }
  }
};

// A scalar exponent of 1, 2 or 3 (x*x in LayerNorm decompositions) multiplies instead of calling
// pow, so the loop vectorises. Returns false for other exponents.
template <typename C, int E>
struct SmallPowOp {
  C operator()(C x) const {
    if constexpr (E == 2) return x * x;
    else if constexpr (E == 3) return x * x * x;
    else return x;
  }
};

template <typename TA, int E>
void runSmallPow(KernelIo& io, const RtTensor& a) {
  RtTensor& y = io.allocOutputInPlace(0, 0, dtypeOf<TA>(), a.dims);
  const TA* x = a.as<TA>();
  TA* yp = y.as<TA>();
  parallelChunks(a.numel(), [&](int64_t b, int64_t e) { unaryLoop(x + b, yp + b, e - b, SmallPowOp<Compute<TA>, E>{}); });
}

template <typename TA>
bool runSmallIntegerPow(KernelIo& io, const RtTensor& a, double e) {
  if (e == 1.0) runSmallPow<TA, 1>(io, a);
  else if (e == 2.0) runSmallPow<TA, 2>(io, a);
  else if (e == 3.0) runSmallPow<TA, 3>(io, a);
  else return false;
  return true;
}

template <typename TA, typename TB>
class PowKernel final : public Kernel {
 public:
  explicit PowKernel(BroadcastRule rule) : general_(PowOp<Compute<TA>, Compute<TB>>{}, rule) {}
  void run(KernelIo& io) override {
    if constexpr (kIsFloat<TA>) {
      const RtTensor& a = requireInput(io, 0, dtypeOf<TA>());
      const RtTensor& b = requireInput(io, 1, dtypeOf<TB>());
      // Only when the output keeps a's shape (b's rank could otherwise add dims).
      if (b.numel() == 1 && b.rank() <= a.rank() &&
          runSmallIntegerPow<TA>(io, a, static_cast<double>(toCompute(b.as<TB>()[0]))))
        return;
    }
    general_.run(io);
  }

 private:
  BinaryKernel<TA, TB, TA, PowOp<Compute<TA>, Compute<TB>>> general_;
};

std::unique_ptr<Kernel> makePow(const KernelBuildContext& ctx) {
  if (ctx.numInputs() != 2) ctx.invalid("expects 2 inputs, got " + std::to_string(ctx.numInputs()));
  constexpr uint32_t kBases = kFloatTypes | dtypeBit(ir::DataType::kInt32) | dtypeBit(ir::DataType::kInt64);
  const BroadcastRule rule = ruleFor(ctx);
  return makeTypedKernel(
      ctx, kBases,
      [rule](ir::DataType ta, ir::DataType tb) {
        return dispatchDtype<kBases, std::unique_ptr<Kernel>>(ta, [&](auto baseTag) {
          return dispatchDtype<kNumeric, std::unique_ptr<Kernel>>(tb, [&](auto expTag) -> std::unique_ptr<Kernel> {
            using TA = typename decltype(baseTag)::type;
            using TB = typename decltype(expTag)::type;
            return std::make_unique<PowKernel<TA, TB>>(rule);
          });
        });
      },
      0, 1);
}

// ------------------------------------------------------------------------- variadic ops
// Max, Min, Sum, Mean over any number of inputs, all broadcast to one shape: the output starts
// as op(in0, in1), then folds in each further input.
template <typename T, typename Op, bool kMean>
class VariadicKernel final : public Kernel {
 public:
  void run(KernelIo& io) override {
    const size_t n = io.numInputs();
    if (n == 0) throwRunError(io, "needs at least one input");
    std::vector<const RtTensor*> ins(n);
    std::vector<const Shape*> shapes(n);
    for (size_t i = 0; i < n; ++i) {
      ins[i] = &requireInput(io, i, dtypeOf<T>());
      shapes[i] = &ins[i]->dims;
    }
    auto out = broadcastShapes(shapes);
    if (!out) throwRunError(io, "inputs of shapes " + shapesString(shapes) + " do not broadcast");
    const RtTensor& first = *ins[0];
    if (n == 1) {
      RtTensor& y = io.allocOutputInPlace(0, 0, first.dtype, first.dims);
      if (y.data != first.data && first.nbytes) std::memcpy(y.data, first.data, first.nbytes);
      return;
    }
    // Only input 0 may share the output's buffer: the others are read after the first write.
    RtTensor& y = first.dims == *out ? io.allocOutputInPlace(0, 0, first.dtype, *out) : io.allocOutput(0, first.dtype, *out);
    T* yp = y.as<T>();
    BroadcastPlan plan;
    for (size_t k = 1; k < n; ++k) {
      const T* ap = k == 1 ? first.as<T>() : yp;
      const Shape* pair[] = {k == 1 ? &first.dims : &*out, &ins[k]->dims};
      if (!plan.init(*out, pair)) throwInternal(io.describe() + ": broadcast plan failed");
      const T* bp = ins[k]->as<T>();
      const bool av = plan.innerVaries(0), bv = plan.innerVaries(1);
      plan.run([&](int64_t o, const int64_t* off, int64_t len) {
        binaryLoop(ap + off[0], bp + off[1], yp + o, len, av, bv, op_);
      });
    }
    if constexpr (kMean) {
      using C = Compute<T>;
      const C count = static_cast<C>(n);
      parallelChunks(y.numel(), [&](int64_t b, int64_t e) {
        unaryLoop(yp + b, yp + b, e - b, [count](C x) { return x / count; });
      });
    }
  }

 private:
  Op op_;
};

template <template <typename> class OpT, uint32_t Allowed, bool kMean = false>
KernelFactory variadic() {
  return [](const KernelBuildContext& ctx) {
    checkSameDtypes(ctx);
    return makeTypedKernel(ctx, Allowed, [](ir::DataType t, ir::DataType) {
      return dispatchDtype<Allowed, std::unique_ptr<Kernel>>(t, [&](auto tag) -> std::unique_ptr<Kernel> {
        using T = typename decltype(tag)::type;
        return std::make_unique<VariadicKernel<T, OpT<Compute<T>>, kMean>>();
      });
    });
  };
}

}  // namespace

void elementwise::registerElementwiseBinaryKernels(KernelRegistry& r) {
  r.add({"Add"}, 1, 1000, binary<AddOp, kNumeric>());
  r.add({"Sub"}, 1, 1000, binary<SubOp, kNumeric>());
  r.add({"Mul"}, 1, 1000, binary<MulOp, kNumeric>());
  r.add({"Div"}, 1, 1000, binary<DivOp, kNumeric>());
  r.add({"Pow"}, 1, 1000, makePow);
  r.add({"Mod"}, 1, 1000, makeMod);
  r.add({"BitShift"}, 1, 1000, makeBitShift);
  r.add({"And"}, 1, 1000, binary<AndOp, kBoolType, true>());
  r.add({"Or"}, 1, 1000, binary<OrOp, kBoolType, true>());
  r.add({"Xor"}, 1, 1000, binary<XorOp, kBoolType, true>());
  r.add({"Equal"}, 1, 1000, binary<EqualOp, kNumeric | kBoolType, true>());
  r.add({"Greater"}, 1, 1000, binary<GreaterOp, kNumeric, true>());
  r.add({"Less"}, 1, 1000, binary<LessOp, kNumeric, true>());
  r.add({"GreaterOrEqual"}, 1, 1000, binary<GreaterOrEqualOp, kNumeric, true>());
  r.add({"LessOrEqual"}, 1, 1000, binary<LessOrEqualOp, kNumeric, true>());
  r.add({"PRelu"}, 1, 1000, makePRelu);
  r.add({"Max"}, 1, 1000, variadic<MaxOp, kNumeric>());
  r.add({"Min"}, 1, 1000, variadic<MinOp, kNumeric>());
  r.add({"Sum"}, 1, 1000, variadic<AddOp, kFloatTypes>());
  r.add({"Mean"}, 1, 1000, variadic<AddOp, kFloatTypes, true>());
}

}  // namespace effdl::runtime
