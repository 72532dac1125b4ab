// Ops that pass their input through: Identity, and Dropout wherever it drops nothing (mask output
// all true): inference mode, and training mode with ratio 0. Training mode with ratio > 0 samples
// a random mask; effdl's runtime is for inference and refuses it (unsupported) rather than draw a
// mask no other framework would reproduce.
// This file is also the smallest example of a kernel family.
#include <cstring>

#include "core/error.h"
#include "runtime/kernels/half.h"

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

// Dropout (opset >= 12) whose training_mode is computed: checks at each run that it drops nothing.
class TrainingDropoutKernel final : public IdentityKernel {
 public:
  void run(KernelIo& io) override {
    const RtTensor* t = io.input(2);
    if (t && t->numel() == 1 && t->dtype == ir::DataType::kBool && t->as<uint8_t>()[0] != 0) {
      const double ratio = ratioValue(io);
      if (ratio != 0)
        throwUnsupported(io.describe() + ": training-mode Dropout with ratio > 0 draws a random mask (no runtime "
                         "reproduces another's RNG); effdl's runtime runs Dropout only where it drops nothing");
    }
    IdentityKernel::run(io);
  }

 private:
  static double ratioValue(const KernelIo& io) {
    const RtTensor* r = io.numInputs() > 1 ? io.input(1) : nullptr;
    if (!r) return 0.5;  // ONNX's default
    if (r->numel() != 1) throwRunError(io, "ratio must be a scalar, is " + shapeString(r->dims));
    switch (r->dtype) {
      case ir::DataType::kFloat: return r->as<float>()[0];
      case ir::DataType::kDouble: return r->as<double>()[0];
      case ir::DataType::kFloat16: return halfToFloat(r->as<uint16_t>()[0]);
      default: throwRunError(io, "ratio has unsupported type " + std::string(ir::dtypeName(r->dtype)));
    }
  }
};

std::unique_ptr<Kernel> makeIdentity(const KernelBuildContext&) { return std::make_unique<IdentityKernel>(); }

std::unique_ptr<Kernel> makeDropout(const KernelBuildContext& ctx) {
  // Before opset 7, is_test = 0 means training (ratio from an attribute, default 0.5).
  if (ctx.opset < 7 && ctx.node.attrInt("is_test", 0) == 0 && ctx.node.attrFloat("ratio", 0.5f) != 0)
    ctx.unsupported("training-mode Dropout (is_test = 0) draws a random mask; not supported");
  if (ctx.opset < 12 || ctx.numInputs() < 3 || !ctx.input(2)) return std::make_unique<IdentityKernel>();
  const ir::Tensor* t = ctx.constInput(2);
  if (t && t->nbytes() == 1 && t->data()[0] == 0) return std::make_unique<IdentityKernel>();
  return std::make_unique<TrainingDropoutKernel>();
}

}  // namespace

void registerIdentityKernels(KernelRegistry& r) {
  r.add(KernelEntry{"", "Identity", 1, 1000, makeIdentity});
  r.add(KernelEntry{"", "Dropout", 1, 1000, makeDropout});
}

}  // namespace effdl::runtime
