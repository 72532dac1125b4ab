// Optional values (opset 15+): Optional, OptionalHasElement, OptionalGetElement. At run time an
// optional holding something is that tensor or sequence itself and an empty one is kNone
// (runtime/rt_value.h), so these kernels only pass values through or test for none.
#include "runtime/kernel_registry.h"
#include "runtime/kernels/families.h"

namespace effdl::runtime {
namespace {

// Optional(x) is x; Optional() (its `type` attribute says of what) is empty.
class OptionalKernel : public Kernel {
 public:
  void run(KernelIo& io) override {
    if (io.numInputs() == 0) return io.setOutputValue(0, RtValue{ValueKind::kNone, {}, nullptr});
    io.setOutputValue(0, io.inputValue(0));
  }
};

// Opset 18 also accepts a plain tensor or sequence (true) and an omitted input (false).
class OptionalHasElementKernel : public Kernel {
 public:
  void run(KernelIo& io) override {
    const bool has = io.numInputs() > 0 && io.inputKind(0) != ValueKind::kNone;
    RtTensor& y = io.allocOutput(0, ir::DataType::kBool, {});
    *y.as<uint8_t>() = has ? 1 : 0;
  }
};

class OptionalGetElementKernel : public Kernel {
 public:
  void run(KernelIo& io) override {
    if (io.numInputs() == 0 || io.inputKind(0) == ValueKind::kNone)
      throwRunError(io, "the optional input is empty");
    io.setOutputValue(0, io.inputValue(0));
  }
};

template <typename K>
std::unique_ptr<Kernel> make(const KernelBuildContext&) {
  return std::make_unique<K>();
}

}  // namespace

void registerOptionalKernels(KernelRegistry& r) {
  r.add(KernelEntry{"", "Optional", 15, 1000, make<OptionalKernel>});
  r.add(KernelEntry{"", "OptionalHasElement", 15, 1000, make<OptionalHasElementKernel>});
  r.add(KernelEntry{"", "OptionalGetElement", 15, 1000, make<OptionalGetElementKernel>});
}

}  // namespace effdl::runtime
