// Cast and CastLike between every numeric type, float16, bfloat16, bool and string (string
// conversions: string_cast.h). Float → integer truncates toward zero, as
// ONNX Runtime; out-of-range values, where the spec leaves the result to the implementation,
// saturate at the target's limits and NaN becomes 0, so no input reaches C++'s undefined
// float-to-int conversion.
#include <cstring>

#include "runtime/kernel_registry.h"
#include "runtime/kernels/families.h"
#include "runtime/kernels/shape_numeric.h"
#include "runtime/kernels/shape_util.h"
#include "runtime/kernels/string_cast.h"

namespace effdl::runtime {
namespace {

using namespace shape_detail;

template <typename T>
constexpr bool kIsFloatLike = std::is_floating_point_v<T> || std::is_same_v<T, Float16> || std::is_same_v<T, BFloat16>;

template <typename D, typename S>
D castValue(S s) {
  if constexpr (std::is_same_v<D, S>) {
    return s;
  } else if constexpr (kIsFloatLike<S>) {
    const auto v = Arith<S>::load(s);  // float or double
    if constexpr (std::is_same_v<D, bool>)
      return v != 0;
    else if constexpr (std::is_integral_v<D>)
      return fromDouble<D>(static_cast<double>(v));
    else if constexpr (std::is_floating_point_v<D>)
      return static_cast<D>(v);
    else
      return Arith<D>::store(static_cast<float>(v));
  } else {  // integers and bool
    if constexpr (std::is_same_v<D, bool>)
      return s != 0;
    else if constexpr (std::is_integral_v<D> || std::is_floating_point_v<D>)
      return static_cast<D>(s);
    else
      return Arith<D>::store(static_cast<float>(s));
  }
}

bool isCastable(ir::DataType dt) {
  return dispatchNumeric(
      dt, [](auto) {}, true);
}

void castBuffer(const KernelIo& io, const RtTensor& x, RtTensor& y) {
  const int64_t n = x.numel();
  bool ok = false;
  dispatchNumeric(
      x.dtype,
      [&](auto srcTag) {
        using S = decltype(srcTag);
        ok = dispatchNumeric(
            y.dtype,
            [&](auto dstTag) {
              using D = decltype(dstTag);
              const S* in = static_cast<const S*>(x.data);
              D* out = static_cast<D*>(y.data);
              for (int64_t i = 0; i < n; ++i) out[i] = castValue<D>(in[i]);
            },
            true);
      },
      true);
  if (!ok)
    throwRunError(io, "cast from " + std::string(ir::dtypeName(x.dtype)) + " to " +
                          std::string(ir::dtypeName(y.dtype)) + " is not supported");
}

class CastKernel : public Kernel {
 public:
  explicit CastKernel(ir::DataType to) : to_(to) {}
  void run(KernelIo& io) override {
    const RtTensor& x = requireInput(io, 0);
    ir::DataType to = to_;
    if (to == ir::DataType::kUndefined) to = requireInput(io, 1).dtype;  // CastLike
    if (to == x.dtype) {
      if (to == ir::DataType::kString) return io.setOutputValue(0, io.inputValue(0));
      RtTensor& y = io.allocOutputInPlace(0, 0, to, x.dims);
      copyUnlessSame(y, x);
      return;
    }
    if (to == ir::DataType::kString) return castToStrings(io, x, io.allocStringOutput(0, x.dims));
    RtTensor& y = io.allocOutput(0, to, x.dims);
    if (x.dtype == ir::DataType::kString) return castFromStrings(io, x, y);
    castBuffer(io, x, y);
  }

 private:
  ir::DataType to_;  // kUndefined: CastLike, the type of input 1
};

// Cast-1 spelled the target type as a string.
ir::DataType dtypeFromName(const std::string& s) {
  static const std::pair<const char*, ir::DataType> kNames[] = {
      {"FLOAT", ir::DataType::kFloat},     {"UINT8", ir::DataType::kUint8},      {"INT8", ir::DataType::kInt8},
      {"UINT16", ir::DataType::kUint16},   {"INT16", ir::DataType::kInt16},      {"INT32", ir::DataType::kInt32},
      {"INT64", ir::DataType::kInt64},     {"STRING", ir::DataType::kString},    {"BOOL", ir::DataType::kBool},
      {"FLOAT16", ir::DataType::kFloat16}, {"DOUBLE", ir::DataType::kDouble},    {"UINT32", ir::DataType::kUint32},
      {"UINT64", ir::DataType::kUint64},   {"BFLOAT16", ir::DataType::kBfloat16}};
  for (const auto& [name, dt] : kNames)
    if (s == name) return dt;
  return ir::DataType::kUndefined;
}

std::unique_ptr<Kernel> makeCast(const KernelBuildContext& ctx) {
  const ir::Attribute* a = ctx.node.attr("to");
  if (!a) ctx.invalid("the to attribute is missing");
  ir::DataType to = ir::DataType::kUndefined;
  if (a->type == ir::AttrType::kString) {
    to = dtypeFromName(a->s);
  } else if (a->type == ir::AttrType::kInt && a->i > 0 && a->i <= INT32_MAX &&
             ir::isKnownDtype(static_cast<int32_t>(a->i))) {
    to = static_cast<ir::DataType>(a->i);
  }
  if (to == ir::DataType::kUndefined) ctx.invalid("the to attribute is not a known type");
  if (to != ir::DataType::kString && !isCastable(to)) ctx.unsupported("cast to " + std::string(ir::dtypeName(to)));
  return std::make_unique<CastKernel>(to);
}

std::unique_ptr<Kernel> makeCastLike(const KernelBuildContext&) {
  return std::make_unique<CastKernel>(ir::DataType::kUndefined);
}

}  // namespace

void registerCastKernels(KernelRegistry& r) {
  r.add(KernelEntry{"", "Cast", 1, 1000, makeCast});
  r.add(KernelEntry{"", "CastLike", 15, 1000, makeCastLike});
}

}  // namespace effdl::runtime
