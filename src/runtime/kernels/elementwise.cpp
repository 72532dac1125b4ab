// Shared helpers of the elementwise kernel files (see elementwise.h).
#include "runtime/kernels/elementwise.h"

#include <cstdlib>

#include "runtime/kernels/families.h"

namespace effdl::runtime::elementwise {

SimdLevel detectSimdLevel() {
#if EFFDL_EW_WIDE
  __builtin_cpu_init();  // may run before libgcc's own constructor has
  SimdLevel level = SimdLevel::kBaseline;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) level = SimdLevel::kAvx2;
  if (level == SimdLevel::kAvx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
    level = SimdLevel::kAvx512;
  if (const char* cap = std::getenv("EFFDL_ELEMENTWISE_SIMD")) {
    const std::string c = cap;
    if (c == "baseline") level = SimdLevel::kBaseline;
    else if (c == "avx2" && level == SimdLevel::kAvx512) level = SimdLevel::kAvx2;
  }
  return level;
#else
  return SimdLevel::kBaseline;
#endif
}

std::string dtypeSetString(uint32_t set) {
  std::string s;
  for (int t = 1; t <= 16; ++t) {
    if (!(set & (1u << t))) continue;
    if (!s.empty()) s += ", ";
    s += ir::dtypeName(static_cast<ir::DataType>(t));
  }
  return s;
}

const RtTensor& requireInput(const KernelIo& io, size_t i, ir::DataType want) {
  const RtTensor* t = io.input(i);
  if (!t) throwRunError(io, "input " + std::to_string(i) + " is missing");
  if (t->dtype != want)
    throwRunError(io, "input " + std::to_string(i) + " is " + std::string(ir::dtypeName(t->dtype)) + ", expected " +
                          std::string(ir::dtypeName(want)));
  return *t;
}

namespace {

std::string dtypesMessage(ir::DataType a, ir::DataType b, uint32_t supported) {
  std::string s = "dtype " + std::string(ir::dtypeName(a));
  if (b != ir::DataType::kUndefined) s += " with " + std::string(ir::dtypeName(b));
  s += " is not supported";
  if (supported) s += " (supported: " + dtypeSetString(supported) + ")";
  return s;
}

// Picks the typed kernel when the first run shows the dtypes.
class DeferredKernel final : public Kernel {
 public:
  DeferredKernel(uint32_t supported, TypedFactory factory, int key, int second)
      : supported_(supported), factory_(std::move(factory)), key_(key), second_(second) {}
  void run(KernelIo& io) override {
    const ir::DataType a = typeOf(io, key_);
    const ir::DataType b = typeOf(io, second_);
    if (!kernel_ || a != a_ || b != b_) {
      kernel_ = factory_(a, b);
      if (!kernel_) throwUnsupported(io.describe() + ": " + dtypesMessage(a, b, supported_));
      a_ = a;
      b_ = b;
    }
    kernel_->run(io);
  }

 private:
  static ir::DataType typeOf(const KernelIo& io, int i) {
    if (i < 0) return ir::DataType::kUndefined;
    const RtTensor* t = io.input(static_cast<size_t>(i));
    if (!t) throwRunError(io, "input " + std::to_string(i) + " is missing");
    return t->dtype;
  }
  uint32_t supported_;
  TypedFactory factory_;
  int key_, second_;
  std::unique_ptr<Kernel> kernel_;
  ir::DataType a_ = ir::DataType::kUndefined, b_ = ir::DataType::kUndefined;
};

}  // namespace

std::unique_ptr<Kernel> makeTypedKernel(const KernelBuildContext& ctx, uint32_t supported, TypedFactory factory,
                                        int key, int second) {
  auto declared = [&](int i) {
    if (i < 0) return ir::DataType::kUndefined;
    const ir::Value* v = ctx.input(static_cast<size_t>(i));
    if (!v) ctx.invalid("input " + std::to_string(i) + " is missing");
    return v->type().elemType;
  };
  const ir::DataType a = declared(key);
  const ir::DataType b = declared(second);
  if (a == ir::DataType::kUndefined || (second >= 0 && b == ir::DataType::kUndefined))
    return std::make_unique<DeferredKernel>(supported, std::move(factory), key, second);
  auto kernel = factory(a, b);
  if (!kernel) ctx.unsupported(dtypesMessage(a, b, supported));
  return kernel;
}

}  // namespace effdl::runtime::elementwise

namespace effdl::runtime {

void registerElementwiseKernels(KernelRegistry& r) {
  elementwise::registerElementwiseUnaryKernels(r);
  elementwise::registerElementwiseBinaryKernels(r);
  elementwise::registerActivationKernels(r);
  elementwise::registerWhereKernels(r);
}

}  // namespace effdl::runtime
