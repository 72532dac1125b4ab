// Ops that pass their input through: Identity, inference-mode Dropout (mask output all true).
// This file is also the smallest example of a kernel family.
#include <cstring>

#include "runtime/kernel_registry.h"
#include "runtime/kernels/families.h"

namespace effdl::runtime {
namespace {

class IdentityKernel : public Kernel {
 public:
  void run(KernelIo& io) override {
    // Identity also passes sequences and optionals (opset 14, 16) and string tensors through.
    if (io.inputKind(0) != ValueKind::kTensor) return io.setOutputValue(0, io.inputValue(0));
    const RtTensor* x = io.input(0);
    if (!x) throwRunError(io, "input 0 is missing");
    if (x->dtype == ir::DataType::kString) return io.setOutputValue(0, io.inputValue(0));
    RtTensor& y = io.allocOutputInPlace(0, 0, x->dtype, x->dims);
    if (y.data != x->data && x->nbytes) std::memcpy(y.data, x->data, x->nbytes);
    if (io.numOutputs() > 1 && io.hasOutput(1)) {  // Dropout's mask: nothing dropped
      RtTensor& mask = io.allocOutput(1, ir::DataType::kBool, x->dims);
      std::memset(mask.data, 1, mask.nbytes);
    }
  }
};

std::unique_ptr<Kernel> makeIdentity(const KernelBuildContext&) { return std::make_unique<IdentityKernel>(); }

std::unique_ptr<Kernel> makeDropout(const KernelBuildContext& ctx) {
  // Inference only: training_mode (opset >= 12) must be absent or a constant false; is_test (< 7)
  // must be set.
  if (ctx.opset >= 12 && ctx.numInputs() >= 3 && ctx.input(2)) {
    const ir::Tensor* t = ctx.constInput(2);
    if (!t || t->nbytes() != 1 || t->data()[0] != 0) ctx.unsupported("training-mode Dropout is not supported");
  }
  if (ctx.opset < 7 && ctx.node.attrInt("is_test", 0) == 0) ctx.unsupported("training-mode Dropout is not supported");
  return std::make_unique<IdentityKernel>();
}

}  // namespace

void registerIdentityKernels(KernelRegistry& r) {
  r.add(KernelEntry{"", "Identity", 1, 1000, makeIdentity});
  r.add(KernelEntry{"", "Dropout", 1, 1000, makeDropout});
}

}  // namespace effdl::runtime
