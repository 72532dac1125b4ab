// Building the step list (kernels, slots, liveness) and running it.
#include "runtime/graph_executor.h"

#include "ir/sparse.h"

#include <algorithm>
#include <climits>
#include <cstring>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "core/checked_math.h"
#include "runtime/kernel_registry.h"
#include "runtime/limits.h"
#include "runtime/bitmask_decode_fold.h"
#include "runtime/conv_fusion.h"
#include "runtime/fold_buffers.h"
#include "runtime/qdq_fusion.h"

namespace effdl::runtime {

std::string shapeString(const Shape& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? "," : "") + std::to_string(s[i]);
  return r + "]";
}

std::string KernelBuildContext::describe() const {
  std::string s = "node '" + node.name() + "' (";
  if (!node.domain().empty()) s += node.domain() + ".";
  return s + node.opType() + ", opset " + std::to_string(opset) + ")";
}

void KernelBuildContext::unsupported(const std::string& what) const {
  throwUnsupported(describe() + ": " + what);
}

void KernelBuildContext::invalid(const std::string& what) const { throwInvalid(describe() + ": " + what); }

void throwRunError(const KernelIo& io, const std::string& what) { throwInvalid(io.describe() + ": " + what); }

size_t checkedOutputBytes(const KernelIo& io, ir::DataType dtype, const Shape& dims) {
  auto n = checkedElementCount(dims);
  if (!n) throwRunError(io, "output shape " + shapeString(dims) + " is invalid or too large");
  auto bytes = checkedMul(*n, static_cast<int64_t>(std::max<size_t>(1, ir::dtypeSize(dtype))));
  if (!bytes || *bytes > runtimeMaxTensorBytes())
    throwRunError(io, "output shape " + shapeString(dims) + " (" + std::string(ir::dtypeName(dtype)) +
                          ") exceeds the runtime's tensor size limit of " + std::to_string(runtimeMaxTensorBytes()) +
                          " bytes");
  return static_cast<size_t>(*n) * ir::dtypeSize(dtype);
}

// --------------------------------------------------------------------------------------- StepIo
class GraphExecutor::StepIo final : public KernelIo {
 public:
  StepIo(GraphExecutor& ex, size_t stepIndex) : ex_(ex), index_(stepIndex), step_(ex.steps_[stepIndex]) {}
  size_t numInputs() const override { return step_.inputs.size(); }
  const RtTensor* input(size_t i) const override {
    if (i >= step_.inputs.size() || step_.inputs[i] < 0) return nullptr;
    const Slot& s = ex_.slots_[static_cast<size_t>(step_.inputs[i])];
    if (s.kind != ValueKind::kTensor) notTensor(i, s.kind);
    return &s.t;
  }
  ValueKind inputKind(size_t i) const override {
    if (i >= step_.inputs.size() || step_.inputs[i] < 0) return ValueKind::kNone;
    return ex_.slots_[static_cast<size_t>(step_.inputs[i])].kind;
  }
  RtValue inputValue(size_t i) const override {
    if (i >= step_.inputs.size() || step_.inputs[i] < 0) return RtValue{ValueKind::kNone, {}, nullptr};
    const Slot& s = ex_.slots_[static_cast<size_t>(step_.inputs[i])];
    return RtValue{s.kind, s.t, s.seq};
  }
  RtValue implicitInputValue(size_t i) const override {
    if (i >= step_.implicitInputs.size()) return RtValue{ValueKind::kNone, {}, nullptr};
    const Slot& s = ex_.slots_[static_cast<size_t>(step_.implicitInputs[i])];
    return RtValue{s.kind, s.t, s.seq};
  }
  void setOutputValue(size_t i, const RtValue& v) override {
    if (v.kind == ValueKind::kTensor) return KernelIo::setOutputValue(i, v);
    Slot& s = outputSlot(i);
    if (s.buffer >= 0) ex_.pool_.release(s.buffer);
    s.buffer = -1;
    s.t = RtTensor{};
    s.kind = v.kind;
    s.seq = v.kind == ValueKind::kSequence ? v.seq : nullptr;
  }
  RtTensor& allocStringOutput(size_t i, const Shape& dims) override {
    checkedOutputBytes(*this, ir::DataType::kString, dims);
    Slot& s = outputSlot(i);
    if (s.buffer >= 0) ex_.pool_.release(s.buffer);
    s.buffer = -1;
    s.kind = ValueKind::kTensor;
    s.strings.assign(static_cast<size_t>(RtTensor{ir::DataType::kString, dims, nullptr, 0}.numel()), std::string());
    s.t = RtTensor{ir::DataType::kString, dims, s.strings.data(), 0};
    return s.t;
  }
  size_t numOutputs() const override { return step_.outputs.size(); }
  // An output nothing reads (neither a later node nor the graph's outputs) is not wanted: the
  // kernel may skip it, and may still write it (then it is released at once).
  bool hasOutput(size_t i) const override {
    return i < step_.outputs.size() && step_.outputs[i] >= 0 && ex_.slots_[static_cast<size_t>(step_.outputs[i])].lastUse >= 0;
  }
  RtTensor& allocOutput(size_t i, ir::DataType dtype, const Shape& dims) override {
    if (dtype == ir::DataType::kString) throwUnsupported(step_.description + ": this kernel does not handle string tensors");
    Slot& s = outputSlot(i);
    s.kind = ValueKind::kTensor;
    size_t bytes = byteSize(dtype, dims);
    if (s.buffer >= 0) ex_.pool_.release(s.buffer);  // a kernel asking twice
    s.buffer = ex_.pool_.acquire(bytes);
    s.t.dtype = dtype;
    s.t.dims = dims;
    s.t.data = ex_.pool_.data(s.buffer);
    s.t.nbytes = bytes;
    return s.t;
  }
  RtTensor& allocOutputInPlace(size_t i, size_t j, ir::DataType dtype, const Shape& dims) override {
    if (dtype != ir::DataType::kString && j < step_.inputs.size() && step_.inputs[j] >= 0) {
      Slot& in = ex_.slots_[static_cast<size_t>(step_.inputs[j])];
      size_t bytes = byteSize(dtype, dims);
      // Only a pool buffer that nothing reads after this node, read once by this node.
      int readers = 0;
      for (int s : step_.inputs) readers += s == step_.inputs[j];
      for (int s : step_.implicitInputs) readers += s == step_.inputs[j];
      if (in.buffer >= 0 && in.lastUse == static_cast<int64_t>(index_) && readers == 1 && in.t.nbytes >= bytes &&
          ex_.slotValues_[static_cast<size_t>(step_.inputs[j])] != nullptr) {
        Slot& s = outputSlot(i);
        if (s.buffer >= 0) ex_.pool_.release(s.buffer);
        s.kind = ValueKind::kTensor;
        s.buffer = in.buffer;
        in.buffer = -1;  // moved: the input slot no longer owns it
        s.t.dtype = dtype;
        s.t.dims = dims;
        s.t.data = in.t.data;
        s.t.nbytes = bytes;
        return s.t;
      }
    }
    return allocOutput(i, dtype, dims);
  }
  const RtTensor* implicitInput(size_t i) const override {
    if (i >= step_.implicitInputs.size()) return nullptr;
    const Slot& s = ex_.slots_[static_cast<size_t>(step_.implicitInputs[i])];
    if (s.kind != ValueKind::kTensor) notTensor(i, s.kind);
    return &s.t;
  }
  const std::string& describe() const override { return step_.description; }

 private:
  [[noreturn]] void notTensor(size_t i, ValueKind k) const {
    throwRunError(*this, "input " + std::to_string(i) + " is a " + kindName(k) + " where a tensor is expected");
  }
  Slot& outputSlot(size_t i) {
    if (i >= step_.outputs.size() || step_.outputs[i] < 0)
      throwInternal(step_.description + ": kernel wrote output " + std::to_string(i) + " which the node omits");
    return ex_.slots_[static_cast<size_t>(step_.outputs[i])];
  }
  size_t byteSize(ir::DataType dtype, const Shape& dims) const { return checkedOutputBytes(*this, dtype, dims); }
  GraphExecutor& ex_;
  size_t index_;
  Step& step_;
};

// -------------------------------------------------------------------------------- constant nodes
namespace {

// Runs one node on constant inputs when the executor is built; outputs go to fresh buffers that
// the resulting ir::Tensor adopts (no copy, no zero fill).
class ConstIo final : public KernelIo {
 public:
  // inputs[i] nullopt: omitted (an empty tensor, whose data may be null, is present).
  ConstIo(std::vector<std::optional<RtTensor>> inputs, size_t outputs, std::string what, FoldBuffers& pool)
      : in_(std::move(inputs)), out_(outputs), bufs_(outputs), caps_(outputs), what_(std::move(what)), pool_(pool) {}
  ~ConstIo() override {
    for (size_t i = 0; i < bufs_.size(); ++i) pool_.release(std::move(bufs_[i]), caps_[i]);
  }
  size_t numInputs() const override { return in_.size(); }
  const RtTensor* input(size_t i) const override { return i < in_.size() && in_[i] ? &*in_[i] : nullptr; }
  size_t numOutputs() const override { return out_.size(); }
  bool hasOutput(size_t i) const override { return i < out_.size(); }
  RtTensor& allocOutput(size_t i, ir::DataType dtype, const Shape& dims) override {
    const size_t bytes = checkedOutputBytes(*this, dtype, dims);
    if (bufs_.at(i)) pool_.release(std::move(bufs_[i]), caps_[i]);  // a kernel asking twice
    bufs_[i] = pool_.acquire(bytes, &caps_[i]);
    out_[i] = RtTensor{dtype, dims, bufs_[i].get(), bytes};
    return out_[i];
  }
  RtTensor& allocOutputInPlace(size_t i, size_t, ir::DataType dtype, const Shape& dims) override {
    return allocOutput(i, dtype, dims);
  }
  const RtTensor* implicitInput(size_t) const override { return nullptr; }
  const std::string& describe() const override { return what_; }
  bool wrote(size_t i) const { return bufs_[i] && out_[i].dtype != ir::DataType::kString; }
  ir::Tensor take(size_t i) {
    const RtTensor& r = out_[i];
    return ir::Tensor(r.dtype, r.dims, std::shared_ptr<const void>(bufs_[i], bufs_[i].get()),
                      static_cast<const uint8_t*>(r.data), r.nbytes);
  }
  // Output i's buffer and capacity, for recycling once its readers are done.
  const FoldBuffers::Buffer& buffer(size_t i) const { return bufs_[i]; }
  size_t capacity(size_t i) const { return caps_[i]; }

 private:
  std::vector<std::optional<RtTensor>> in_;
  std::vector<RtTensor> out_;
  std::vector<FoldBuffers::Buffer> bufs_;
  std::vector<size_t> caps_;
  std::string what_;
  FoldBuffers& pool_;
};

// Worth computing once: every input constant (or omitted), no subgraph, deterministic, and not
// a DequantizeLinear (QDQ fusion reads the quantized weight itself).
bool foldable(const ir::Node& n, const std::unordered_map<const ir::Value*, const ir::Tensor*>& computed) {
  static const char* kKeep[] = {"DequantizeLinear", "RandomNormalLike", "RandomUniformLike", "Bernoulli", "Multinomial"};
  // A Constant node's value is a constant too (RandomNormal and the like, also input-free, are not).
  const bool constantNode = n.opType() == "Constant" && n.numInputs() == 0;
  if ((n.numInputs() == 0 && !constantNode) || n.hasSubgraphs() || !n.implicitInputs().empty()) return false;
  if (!(n.domain().empty() || n.domain() == "ai.onnx")) return false;
  if (std::find(std::begin(kKeep), std::end(kKeep), n.opType()) != std::end(kKeep)) return false;
  for (const ir::Value* v : n.outputs())
    if (v && v->isGraphOutput()) return false;
  bool any = false;
  for (const ir::Value* v : n.inputs()) {
    if (!v) continue;
    const ir::Tensor* t = v->isConstant() ? &v->initializer() : computed.count(v) ? computed.at(v) : nullptr;
    if (!t || t->dtype() == ir::DataType::kString) return false;
    any = true;
  }
  return any || constantNode;
}

}  // namespace

// ------------------------------------------------------------------------------------- building
GraphExecutor::GraphExecutor(const ir::Model& model, const ir::Graph& graph, const ExecOptions& options)
    : graph_(graph), options_(options) {
  std::unordered_map<const ir::Value*, int> index;
  auto addSlot = [&](const ir::Value* v) {
    auto it = index.find(v);
    if (it != index.end()) return it->second;
    int id = static_cast<int>(slots_.size());
    slots_.emplace_back();
    slotValues_.push_back(v);
    index[v] = id;
    return id;
  };
  for (const ir::Value* v : graph.initializers()) {
    int id = addSlot(v);
    Slot& s = slots_[static_cast<size_t>(id)];
    s.t = viewOf(v->initializer());
    s.isWeight = true;
  }
  // Sparse initializers (COO) are densified once, here: kernels see ordinary constant weights.
  std::unordered_map<const ir::Value*, const ir::Tensor*> densified;
  for (const ir::Value* v : graph.sparseInitializers()) {
    densified_.push_back(std::make_unique<ir::Tensor>(ir::densify(v->sparseInitializer(), v->name(), 0)));
    const ir::Tensor& t = *densified_.back();
    densified[v] = &t;
    Slot& s = slots_[static_cast<size_t>(addSlot(v))];
    s.t.dtype = t.dtype();
    s.t.dims = t.dims();
    s.t.data = const_cast<uint8_t*>(t.data());
    s.t.nbytes = t.nbytes();
    s.isWeight = true;
  }
  // Nodes that read only constants (an in-graph weight decode such as sparse-storage's bitmask, a
  // Cast of fp16 weights) run once here, as ONNX Runtime folds them at session load: inferences
  // then see ordinary weights, which conv/matmul kernels prepare once. A node whose kernel
  // refuses is left to run, and report, at inference.
  // Intermediate results (a decode's bits, ranks, indices) are freed once every reader is folded.
  std::unordered_set<const ir::Node*> folded;
  struct Computed {
    std::unique_ptr<ir::Tensor> tensor;
    size_t readersLeft = 0;
    FoldBuffers::Buffer buffer;  // the tensor's storage, recycled when the last reader is folded
    size_t capacity = 0;
  };
  std::unordered_map<const ir::Value*, Computed> computed;
  FoldBuffers pool;
  // A folded node's reads: intermediates whose last reader it was are freed.
  auto consumed = [&](const ir::Node& n) {
    for (const ir::Value* in : n.inputs()) {
      auto it = in ? computed.find(in) : computed.end();
      if (it != computed.end() && --it->second.readersLeft == 0) {
        densified.erase(in);
        it->second.tensor.reset();
        pool.release(std::move(it->second.buffer), it->second.capacity);
        computed.erase(it);
      }
    }
  };
  auto constantOf = [&](const ir::Value* v) -> const ir::Tensor* {
    if (v->isConstant()) return &v->initializer();
    auto it = densified.find(v);
    return it == densified.end() ? nullptr : it->second;
  };
  for (const ir::Node* n : graph.nodes()) {
    if (folded.count(n) || !foldable(*n, densified)) continue;
    if (options.foldBitmaskDecode && n->opType() == "Cast") {
      if (auto f = foldBitmaskDecode(model, *n, constantOf, options.threads)) {
        folded.insert(f->nodes.begin(), f->nodes.end());
        ++bitmaskDecodesFolded_;
        if (f->output->hasUses()) {
          auto& c = computed[f->output];
          c = {std::make_unique<ir::Tensor>(std::move(f->result)), f->output->uses().size(), nullptr, 0};
          densified[f->output] = c.tensor.get();
        }
        for (const ir::Node* d : f->nodes) consumed(*d);
        continue;
      }
    }
    auto opset = model.opsetFor(n->domain());
    KernelBuildContext ctx{*n, opset ? *opset : 1, options.threads, &model, {}};
    std::vector<std::optional<RtTensor>> ins;
    for (const ir::Value* in : n->inputs()) {
      const ir::Tensor* t = !in ? nullptr : in->isConstant() ? &in->initializer() : densified.at(in);
      ctx.constInputs.push_back(t);
      ins.push_back(t ? std::optional<RtTensor>(viewOf(*t)) : std::nullopt);
    }
    const KernelEntry* e = kernelRegistry().find(n->domain(), n->opType(), ctx.opset);
    if (!e) continue;
    ConstIo io(std::move(ins), n->numOutputs(), ctx.describe(), pool);
    try {
      e->factory(ctx)->run(io);
    } catch (const Error&) {
      continue;
    }
    bool ok = true;
    for (size_t o = 0; o < n->numOutputs(); ++o) ok = ok && (!n->output(o) || io.wrote(o));
    if (!ok) continue;
    folded.insert(n);
    for (size_t o = 0; o < n->numOutputs(); ++o) {
      const ir::Value* v = n->output(o);
      if (!v || !v->hasUses()) continue;
      auto& c = computed[v];
      c = {std::make_unique<ir::Tensor>(io.take(o)), v->uses().size(), io.buffer(o), io.capacity(o)};
      densified[v] = c.tensor.get();
    }
    consumed(*n);
  }
  for (auto& [v, c] : computed) {
    Slot& s = slots_[static_cast<size_t>(addSlot(v))];
    const ir::Tensor& t = *c.tensor;
    s.t = RtTensor{t.dtype(), t.dims(), const_cast<uint8_t*>(t.data()), t.nbytes()};
    s.isWeight = true;
    densified_.push_back(std::move(c.tensor));
  }
  for (const ir::Value* v : graph.inputs()) inputSlots_.push_back(addSlot(v));
  for (const ir::Value* v : graph.captures()) captureSlots_.push_back(addSlot(v));

  auto slotFor = [&](const ir::Value* v) -> int {
    if (!v) return -1;
    auto it = index.find(v);
    if (it == index.end()) throwInternal("value '" + v->name() + "' has no slot");
    return it->second;
  };
  const auto nodes = graph.nodes();
  steps_.reserve(nodes.size());
  // Fused groups run at the place of their last node; their other nodes have no step.
  std::vector<FusedGroup> groups;
  if (options.fuseQdq) groups = findQdqGroups(model, graph, options.threads, densified);
  if (options.fuseConv) {
    std::unordered_set<const ir::Node*> taken;
    for (const FusedGroup& g : groups) taken.insert(g.nodes.begin(), g.nodes.end());
    for (FusedGroup& g : findConvGroups(model, graph, options.threads, densified, taken)) groups.push_back(std::move(g));
  }
  std::unordered_map<const ir::Node*, FusedGroup*> groupOf;
  for (FusedGroup& g : groups)
    for (const ir::Node* n : g.nodes) groupOf[n] = &g;
  for (const ir::Node* n : nodes) {
    if (folded.count(n)) continue;
    if (auto it = groupOf.find(n); it != groupOf.end()) {
      FusedGroup& g = *it->second;
      if (n != g.last) continue;
      Step st;
      st.node = g.anchor;
      for (const ir::Value* out : g.outputs) st.outputs.push_back(addSlot(out));
      for (const ir::Value* in : g.inputs) st.inputs.push_back(slotFor(in));
      st.description = g.description;
      st.kernel = std::move(g.kernel);
      steps_.push_back(std::move(st));
      continue;
    }
    Step st;
    st.node = n;
    for (const ir::Value* out : n->outputs()) st.outputs.push_back(out ? addSlot(out) : -1);
    for (const ir::Value* in : n->inputs()) st.inputs.push_back(slotFor(in));
    for (const ir::Value* in : n->implicitInputs()) st.implicitInputs.push_back(slotFor(in));
    auto opset = model.opsetFor(n->domain());
    int64_t version = opset ? *opset : 1;
    KernelBuildContext ctx{*n, version, options.threads, &model, {}};
    for (const ir::Value* in : n->inputs()) {
      auto d = densified.find(in);
      ctx.constInputs.push_back(in && in->isConstant() ? &in->initializer() : d != densified.end() ? d->second : nullptr);
    }
    st.description = ctx.describe();
    const KernelEntry* e = kernelRegistry().find(n->domain(), n->opType(), version);
    if (!e) ctx.unsupported("no kernel in effdl's runtime");
    st.kernel = e->factory(ctx);
    steps_.push_back(std::move(st));
  }
  // Liveness: the last step reading each slot; graph outputs live to the end.
  for (size_t i = 0; i < steps_.size(); ++i) {
    for (int s : steps_[i].inputs)
      if (s >= 0) slots_[static_cast<size_t>(s)].lastUse = static_cast<int64_t>(i);
    for (int s : steps_[i].implicitInputs) slots_[static_cast<size_t>(s)].lastUse = static_cast<int64_t>(i);
  }
  for (const ir::Value* v : graph.outputs()) {
    int s = slotFor(v);
    outputSlots_.push_back(s);
    slots_[static_cast<size_t>(s)].lastUse = INT64_MAX;
  }
  outputCopies_.resize(outputSlots_.size());
}

GraphExecutor::~GraphExecutor() = default;

int GraphExecutor::slotOf(const ir::Value* v) const {
  for (size_t i = 0; i < slotValues_.size(); ++i)
    if (slotValues_[i] == v) return static_cast<int>(i);
  return -1;
}

void GraphExecutor::releaseAfter(size_t stepIndex) {
  const Step& st = steps_[stepIndex];
  auto release = [&](int id) {
    if (id < 0) return;
    Slot& s = slots_[static_cast<size_t>(id)];
    if (s.lastUse != static_cast<int64_t>(stepIndex)) return;
    if (s.buffer >= 0) {
      pool_.release(s.buffer);
      s.buffer = -1;
    }
    s.seq.reset();  // a sequence no later node reads
  };
  for (int id : st.inputs) release(id);
  for (int id : st.implicitInputs) release(id);
  // Outputs nobody reads (lastUse -1) are released at once.
  for (int id : st.outputs) {
    if (id < 0) continue;
    Slot& s = slots_[static_cast<size_t>(id)];
    if (s.lastUse < 0 && s.buffer >= 0) {
      pool_.release(s.buffer);
      s.buffer = -1;
    }
  }
}

// -------------------------------------------------------------------------------------- running
void GraphExecutor::bindInput(size_t i, const RtTensor* t) {
  Slot& s = slots_[static_cast<size_t>(inputSlots_[i])];
  s.kind = ValueKind::kTensor;
  if (t) {
    s.t = *t;
  } else if (!s.isWeight) {
    throwInternal("GraphExecutor::run: input " + std::to_string(i) + " missing");
  } else {
    s.t = viewOf(slotValues_[static_cast<size_t>(inputSlots_[i])]->initializer());
  }
}

std::vector<const RtTensor*> GraphExecutor::run(const std::vector<const RtTensor*>& inputs,
                                                const std::vector<const RtTensor*>& captures) {
  if (inputs.size() != inputSlots_.size()) throwInternal("GraphExecutor::run: wrong number of inputs");
  if (captures.size() != captureSlots_.size()) throwInternal("GraphExecutor::run: wrong number of captures");
  for (size_t i = 0; i < inputs.size(); ++i) bindInput(i, inputs[i]);
  for (size_t i = 0; i < captures.size(); ++i) {
    Slot& s = slots_[static_cast<size_t>(captureSlots_[i])];
    s.kind = ValueKind::kTensor;
    s.t = *captures[i];
  }
  runSteps();
  std::vector<const RtTensor*> outs;
  outs.reserve(outputSlots_.size());
  for (int id : outputSlots_) {
    const Slot& s = slots_[static_cast<size_t>(id)];
    if (s.kind != ValueKind::kTensor)
      throwUnsupported("graph output '" + slotValues_[static_cast<size_t>(id)]->name() + "' is a " + kindName(s.kind) +
                       ", not a tensor");
    outs.push_back(&s.t);
  }
  return outs;
}

std::vector<RtValue> GraphExecutor::runValues(const std::vector<RtValue>& inputs, const std::vector<RtValue>& captures) {
  if (inputs.size() != inputSlots_.size()) throwInternal("GraphExecutor::runValues: wrong number of inputs");
  if (captures.size() != captureSlots_.size()) throwInternal("GraphExecutor::runValues: wrong number of captures");
  auto bind = [&](int id, const RtValue& v) {
    Slot& s = slots_[static_cast<size_t>(id)];
    s.kind = v.kind;
    s.t = v.t;
    s.seq = v.seq;
  };
  for (size_t i = 0; i < inputs.size(); ++i) bind(inputSlots_[i], inputs[i]);
  for (size_t i = 0; i < captures.size(); ++i) bind(captureSlots_[i], captures[i]);
  runSteps();
  std::vector<RtValue> outs;
  outs.reserve(outputSlots_.size());
  for (int id : outputSlots_) {
    const Slot& s = slots_[static_cast<size_t>(id)];
    outs.push_back(RtValue{s.kind, s.t, s.seq});
  }
  return outs;
}

void GraphExecutor::runSteps() {
  // Buffers still held from the previous run (graph outputs) go back to the pool.
  for (Slot& s : slots_) {
    if (s.buffer >= 0) {
      pool_.release(s.buffer);
      s.buffer = -1;
    }
  }
  for (size_t i = 0; i < steps_.size(); ++i) {
    for (int id : steps_[i].outputs) {
      if (id < 0) continue;
      Slot& s = slots_[static_cast<size_t>(id)];
      s.kind = ValueKind::kTensor;
      s.t.dtype = ir::DataType::kUndefined;
      s.t.data = nullptr;
      s.t.nbytes = 0;
    }
    StepIo io(*this, i);
    steps_[i].kernel->run(io);
    for (size_t o = 0; o < steps_[i].outputs.size(); ++o) {
      int id = steps_[i].outputs[o];
      if (id < 0) continue;
      const Slot& out = slots_[static_cast<size_t>(id)];
      if (out.lastUse >= 0 && out.t.dtype == ir::DataType::kUndefined && out.kind == ValueKind::kTensor)
        throwInternal(steps_[i].description + ": kernel left output " + std::to_string(o) + " unset");
    }
    releaseAfter(i);
  }
}

}  // namespace effdl::runtime
