// One-node evaluation over owned buffers (see node_evaluator.h).
#include "runtime/node_evaluator.h"

#include "runtime/kernel_registry.h"

namespace effdl::runtime {
namespace {

class OwnedIo final : public KernelIo {
 public:
  OwnedIo(const ir::Node& node, std::vector<RtTensor> inputs, std::vector<RtTensor> implicit, std::string description)
      : node_(node), inputs_(std::move(inputs)), implicit_(std::move(implicit)), outputs_(node.numOutputs()),
        buffers_(node.numOutputs()), description_(std::move(description)) {}
  size_t numInputs() const override { return inputs_.size(); }
  const RtTensor* input(size_t i) const override {
    return i < inputs_.size() && inputs_[i].dtype != ir::DataType::kUndefined ? &inputs_[i] : nullptr;
  }
  size_t numOutputs() const override { return outputs_.size(); }
  bool hasOutput(size_t i) const override { return i < outputs_.size() && node_.output(i) != nullptr; }
  RtTensor& allocOutput(size_t i, ir::DataType dtype, const Shape& dims) override {
    const size_t bytes = checkedOutputBytes(*this, dtype, dims);
    buffers_[i].assign(bytes + 1, 0);
    outputs_[i] = RtTensor{dtype, dims, buffers_[i].data(), bytes};
    return outputs_[i];
  }
  RtTensor& allocOutputInPlace(size_t i, size_t, ir::DataType dtype, const Shape& dims) override {
    return allocOutput(i, dtype, dims);
  }
  const RtTensor* implicitInput(size_t i) const override { return i < implicit_.size() ? &implicit_[i] : nullptr; }
  const std::string& describe() const override { return description_; }
  const RtTensor& output(size_t i) const { return outputs_[i]; }

 private:
  const ir::Node& node_;
  std::vector<RtTensor> inputs_;
  std::vector<RtTensor> implicit_;  // values a subgraph reads from the enclosing scope
  std::vector<RtTensor> outputs_;
  std::vector<std::vector<uint8_t>> buffers_;
  std::string description_;
};

}  // namespace

bool hasKernel(const ir::Model& model, const ir::Node& node) {
  auto opset = model.opsetFor(node.domain());
  return kernelRegistry().find(node.domain(), node.opType(), opset ? *opset : 1) != nullptr;
}

std::vector<ir::Tensor> evaluateNode(const ir::Model& model, const ir::Node& node) {
  auto opset = model.opsetFor(node.domain());
  int64_t version = opset ? *opset : 1;
  KernelBuildContext ctx{node, version, 1, &model, {}};
  std::vector<RtTensor> inputs;
  for (const ir::Value* in : node.inputs()) {
    if (!in) {
      ctx.constInputs.push_back(nullptr);
      inputs.emplace_back();
      continue;
    }
    if (!in->isConstant()) throwInternal(ctx.describe() + ": evaluateNode needs constant inputs");
    const ir::Tensor& t = in->initializer();
    if (t.dtype() == ir::DataType::kString) ctx.unsupported("string tensors");
    ctx.constInputs.push_back(&t);
    inputs.push_back(RtTensor{t.dtype(), t.dims(), const_cast<uint8_t*>(t.data()), t.nbytes()});
  }
  std::vector<RtTensor> implicit;
  for (const ir::Value* v : node.implicitInputs()) {
    if (!v->isConstant()) throwInternal(ctx.describe() + ": evaluateNode needs constant implicit inputs");
    const ir::Tensor& t = v->initializer();
    if (t.dtype() == ir::DataType::kString) ctx.unsupported("string tensors");
    implicit.push_back(RtTensor{t.dtype(), t.dims(), const_cast<uint8_t*>(t.data()), t.nbytes()});
  }
  const KernelEntry* e = kernelRegistry().find(node.domain(), node.opType(), version);
  if (!e) ctx.unsupported("no kernel in effdl's runtime");
  auto kernel = e->factory(ctx);
  OwnedIo io(node, std::move(inputs), std::move(implicit), ctx.describe());
  kernel->run(io);
  std::vector<ir::Tensor> out;
  for (size_t i = 0; i < node.numOutputs(); ++i) {
    const RtTensor& t = io.output(i);
    out.push_back(ir::Tensor::fromBytes(t.dtype, t.dims, t.data, t.nbytes));
  }
  return out;
}

}  // namespace effdl::runtime
