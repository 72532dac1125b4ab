#include "runtime/kernels/float16_via_float.h"

#include <memory>
#include <optional>

#include "ir/attribute_copy.h"
#include "runtime/kernels/half.h"

namespace effdl::runtime {
namespace {

bool isHalf(ir::DataType t) { return t == ir::DataType::kFloat16; }

ir::Tensor widen(const ir::Tensor& t) {
  std::vector<float> f(static_cast<size_t>(t.numel()));
  halfToFloat(reinterpret_cast<const uint16_t*>(t.data()), f.data(), f.size());
  return ir::Tensor::fromVector(ir::DataType::kFloat, t.dims(), f);
}

// Runs the float32 kernel: float16 inputs are widened into scratch buffers (constants were
// widened at build), float16 outputs are computed in scratch and rounded into the real outputs.
class Float16ViaFloat final : public Kernel {
 public:
  Float16ViaFloat(std::unique_ptr<ir::Graph> g, std::unique_ptr<Kernel> inner, std::vector<const ir::Tensor*> consts,
                  std::vector<bool> halfOut)
      : g_(std::move(g)), inner_(std::move(inner)), consts_(std::move(consts)), halfOut_(std::move(halfOut)) {}

  void run(KernelIo& io) override {
    Io wrapped(*this, io);
    inner_->run(wrapped);
    for (size_t i = 0; i < wrapped.outs.size(); ++i) {
      const auto& o = wrapped.outs[i];
      if (!o) continue;
      RtTensor& y = io.allocOutput(i, ir::DataType::kFloat16, o->dims);
      floatToHalf(o->as<float>(), y.as<uint16_t>(), static_cast<size_t>(o->numel()));
    }
  }

 private:
  class Io final : public KernelIo {
   public:
    Io(Float16ViaFloat& k, KernelIo& io) : k_(k), io_(io), ins(io.numInputs()), outs(io.numOutputs()) {
      k_.inBufs_.resize(io.numInputs());
      k_.outBufs_.resize(io.numOutputs());
      for (size_t i = 0; i < io.numInputs(); ++i) {
        const RtTensor* t = io.input(i);
        if (!t || !isHalf(t->dtype)) continue;
        RtTensor f{ir::DataType::kFloat, t->dims, nullptr, static_cast<size_t>(t->numel()) * sizeof(float)};
        if (i < k_.consts_.size() && k_.consts_[i] && k_.consts_[i]->numel() == t->numel()) {
          f.data = const_cast<uint8_t*>(k_.consts_[i]->data());
        } else {
          auto& buf = k_.inBufs_[i];
          buf.resize(static_cast<size_t>(t->numel()));
          halfToFloat(t->as<uint16_t>(), buf.data(), buf.size());
          f.data = buf.data();
        }
        ins[i] = f;
      }
    }
    size_t numInputs() const override { return io_.numInputs(); }
    const RtTensor* input(size_t i) const override { return ins[i] ? &*ins[i] : io_.input(i); }
    size_t numOutputs() const override { return io_.numOutputs(); }
    bool hasOutput(size_t i) const override { return io_.hasOutput(i); }
    RtTensor& allocOutput(size_t i, ir::DataType dtype, const Shape& dims) override {
      if (i >= k_.halfOut_.size() || !k_.halfOut_[i] || dtype != ir::DataType::kFloat)
        return io_.allocOutput(i, dtype, dims);
      auto& buf = k_.outBufs_[i];
      buf.resize(checkedOutputBytes(io_, dtype, dims) / sizeof(float));
      outs[i] = RtTensor{dtype, dims, buf.data(), buf.size() * sizeof(float)};
      return *outs[i];
    }
    RtTensor& allocOutputInPlace(size_t i, size_t, ir::DataType dtype, const Shape& dims) override {
      return allocOutput(i, dtype, dims);
    }
    const RtTensor* implicitInput(size_t i) const override { return io_.implicitInput(i); }
    const std::string& describe() const override { return io_.describe(); }

   private:
    Float16ViaFloat& k_;
    KernelIo& io_;

   public:
    std::vector<std::optional<RtTensor>> ins, outs;
  };

  std::unique_ptr<ir::Graph> g_;  // the float32 twin of the node the inner kernel was built for
  std::unique_ptr<Kernel> inner_;
  std::vector<const ir::Tensor*> consts_;  // widened constant inputs (views into g_), by input index
  std::vector<bool> halfOut_;
  std::vector<std::vector<float>> inBufs_, outBufs_;
};

}  // namespace

KernelFactory float16ViaFloat(KernelFactory inner) {
  return [inner](const KernelBuildContext& ctx) -> std::unique_ptr<Kernel> {
    const ir::Node& n = ctx.node;
    bool half = false;
    for (size_t i = 0; i < n.numInputs(); ++i) {
      const ir::Value* v = n.input(i);
      half = half || (v && isHalf(v->type().elemType)) || (ctx.constInput(i) && isHalf(ctx.constInput(i)->dtype()));
    }
    for (const ir::Value* v : n.outputs()) half = half || (v && isHalf(v->type().elemType));
    if (!half) return inner(ctx);
    // The float32 twin: same names, shapes and attributes; float16 constants widened.
    auto g = std::make_unique<ir::Graph>();
    std::vector<ir::Value*> ins;
    std::vector<const ir::Tensor*> consts;
    for (size_t i = 0; i < n.numInputs(); ++i) {
      const ir::Value* v = n.input(i);
      const ir::Tensor* c = ctx.constInput(i);
      if (!v) {
        ins.push_back(nullptr);
        consts.push_back(nullptr);
      } else if (ir::Value* seen = g->findValue(v->name())) {
        ins.push_back(seen);
        consts.push_back(seen->isInitializer() ? &seen->initializer() : nullptr);
      } else if (c) {
        ir::Value* w = g->addInitializer(v->name(), isHalf(c->dtype()) ? widen(*c) : *c);
        ins.push_back(w);
        consts.push_back(&w->initializer());
      } else {
        ir::ValueType t = v->type();
        if (isHalf(t.elemType)) t.elemType = ir::DataType::kFloat;
        ins.push_back(g->addInput(v->name(), t));
        consts.push_back(nullptr);
      }
    }
    std::vector<std::string> outNames;
    std::vector<bool> halfOut;
    for (const ir::Value* v : n.outputs()) {
      outNames.push_back(v ? v->name() : "");
      halfOut.push_back(v && isHalf(v->type().elemType));
    }
    ir::Node* twin = g->createNode(n.opType(), ins, outNames, nullptr, n.domain());
    twin->setName(n.name());
    for (const ir::Attribute& a : n.attributes()) twin->setAttr(ir::copyWithoutSubgraphs(a));
    for (size_t i = 0; i < n.numOutputs(); ++i) {
      if (!n.output(i) || !twin->output(i)) continue;
      ir::ValueType t = n.output(i)->type();
      if (isHalf(t.elemType)) t.elemType = ir::DataType::kFloat;
      twin->output(i)->setType(t);
    }
    KernelBuildContext inner_ctx{*twin, ctx.opset, ctx.threads, ctx.model, {}};
    for (ir::Value* v : ins) inner_ctx.constInputs.push_back(v && v->isConstant() ? &v->initializer() : nullptr);
    std::unique_ptr<Kernel> k = inner(inner_ctx);
    // Only float16 constants need the widened view at run time.
    for (size_t i = 0; i < consts.size(); ++i)
      if (!(ctx.constInput(i) && isHalf(ctx.constInput(i)->dtype()))) consts[i] = nullptr;
    return std::make_unique<Float16ViaFloat>(std::move(g), std::move(k), std::move(consts), std::move(halfOut));
  };
}

}  // namespace effdl::runtime
