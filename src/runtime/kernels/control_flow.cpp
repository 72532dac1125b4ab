// If and Loop: run a subgraph with its own executor. Values the body reads from enclosing scopes
// arrive as the node's implicit inputs; the body's outputs are copied out because they live in
// the body's buffer pool, which its next run reuses.
#include <cstring>

#include "runtime/graph_executor.h"
#include "runtime/kernel_registry.h"
#include "runtime/kernels/families.h"
#include "runtime/limits.h"

namespace effdl::runtime {
namespace {

struct Owned {
  RtTensor view;
  std::vector<uint8_t> bytes;
  void assign(const RtTensor& t) {
    bytes.assign(static_cast<const uint8_t*>(t.data), static_cast<const uint8_t*>(t.data) + t.nbytes);
    view = RtTensor{t.dtype, t.dims, bytes.data(), t.nbytes};
  }
};

// A subgraph plus where each of its captures comes from among the node's implicit inputs.
struct Body {
  std::unique_ptr<GraphExecutor> executor;
  std::vector<size_t> captureIndex;

  Body(const KernelBuildContext& ctx, const ir::Model& model, const ir::Graph& g) {
    executor = std::make_unique<GraphExecutor>(model, g, ExecOptions{ctx.threads});
    const auto& implicit = ctx.node.implicitInputs();
    for (const ir::Value* c : g.captures()) {
      size_t k = 0;
      while (k < implicit.size() && implicit[k] != c->outer()) ++k;
      if (k == implicit.size()) ctx.invalid("subgraph '" + g.name() + "' reads '" + c->name() + "' from nowhere");
      captureIndex.push_back(k);
    }
  }
  std::vector<const RtTensor*> run(KernelIo& io, const std::vector<const RtTensor*>& inputs) {
    std::vector<const RtTensor*> caps;
    caps.reserve(captureIndex.size());
    for (size_t k : captureIndex) caps.push_back(io.implicitInput(k));
    return executor->run(inputs, caps);
  }
};

void copyOut(KernelIo& io, size_t i, const RtTensor& t) {
  if (!io.hasOutput(i)) return;
  RtTensor& o = io.allocOutput(i, t.dtype, t.dims);
  if (t.nbytes) std::memcpy(o.data, t.data, t.nbytes);
}

const ir::Model* modelOf(const KernelBuildContext& ctx) { return ctx.model; }

class IfKernel : public Kernel {
 public:
  explicit IfKernel(const KernelBuildContext& ctx) {
    const ir::Attribute* t = ctx.node.attr("then_branch");
    const ir::Attribute* e = ctx.node.attr("else_branch");
    if (!t || !t->g || !e || !e->g) ctx.invalid("If needs then_branch and else_branch graphs");
    then_ = std::make_unique<Body>(ctx, *modelOf(ctx), *t->g);
    else_ = std::make_unique<Body>(ctx, *modelOf(ctx), *e->g);
  }
  void run(KernelIo& io) override {
    const RtTensor* cond = io.input(0);
    if (!cond || cond->numel() != 1 || cond->dtype != ir::DataType::kBool)
      throwRunError(io, "the condition must be a single bool");
    Body& b = *static_cast<const uint8_t*>(cond->data) ? *then_ : *else_;
    auto outs = b.run(io, {});
    if (outs.size() != io.numOutputs()) throwRunError(io, "the branch has a different number of outputs than the node");
    for (size_t i = 0; i < outs.size(); ++i) copyOut(io, i, *outs[i]);
  }

 private:
  std::unique_ptr<Body> then_, else_;
};

class LoopKernel : public Kernel {
 public:
  explicit LoopKernel(const KernelBuildContext& ctx) {
    const ir::Attribute* b = ctx.node.attr("body");
    if (!b || !b->g) ctx.invalid("Loop needs a body graph");
    body_ = std::make_unique<Body>(ctx, *modelOf(ctx), *b->g);
    numCarried_ = ctx.numInputs() >= 2 ? ctx.numInputs() - 2 : 0;
    if (b->g->inputs().size() != numCarried_ + 2) ctx.invalid("the body's inputs do not match the loop-carried values");
    if (b->g->outputs().size() < numCarried_ + 1) ctx.invalid("the body has too few outputs");
    numScan_ = b->g->outputs().size() - 1 - numCarried_;
  }
  void run(KernelIo& io) override {
    int64_t maxTrips = INT64_MAX;
    if (const RtTensor* m = io.input(0)) {
      if (m->numel() != 1 || m->dtype != ir::DataType::kInt64) throwRunError(io, "M must be one int64");
      maxTrips = *m->as<int64_t>();
    }
    bool cond = true;
    if (const RtTensor* c = io.numInputs() > 1 ? io.input(1) : nullptr) {
      if (c->numel() != 1 || c->dtype != ir::DataType::kBool) throwRunError(io, "cond must be one bool");
      cond = *static_cast<const uint8_t*>(c->data) != 0;
    }
    std::vector<Owned> carried(numCarried_);
    for (size_t k = 0; k < numCarried_; ++k) {
      const RtTensor* v = io.input(2 + k);
      if (!v) throwRunError(io, "loop-carried input " + std::to_string(k) + " is missing");
      carried[k].assign(*v);
    }
    std::vector<std::vector<uint8_t>> scans(numScan_);
    std::vector<RtTensor> scanShape(numScan_);
    int64_t trips = 0;
    int64_t iter = 0;
    uint8_t condByte = 1;
    RtTensor iterT{ir::DataType::kInt64, {}, &iter, 8};
    RtTensor condT{ir::DataType::kBool, {}, &condByte, 1};
    for (; trips < maxTrips && cond; ++trips) {
      iter = trips;
      condByte = 1;
      std::vector<const RtTensor*> inputs{&iterT, &condT};
      for (auto& c : carried) inputs.push_back(&c.view);
      auto outs = body_->run(io, inputs);
      const RtTensor& condOut = *outs[0];
      if (condOut.numel() != 1 || condOut.dtype != ir::DataType::kBool) throwRunError(io, "the body's cond output must be one bool");
      cond = *static_cast<const uint8_t*>(condOut.data) != 0;
      for (size_t k = 0; k < numCarried_; ++k) carried[k].assign(*outs[1 + k]);
      for (size_t s = 0; s < numScan_; ++s) {
        const RtTensor& t = *outs[1 + numCarried_ + s];
        if (trips == 0) scanShape[s] = RtTensor{t.dtype, t.dims, nullptr, t.nbytes};
        else if (t.dims != scanShape[s].dims || t.dtype != scanShape[s].dtype)
          throwRunError(io, "scan output " + std::to_string(s) + " changes shape between iterations");
        if (scans[s].size() + t.nbytes > static_cast<uint64_t>(runtimeMaxTensorBytes()))
          throwRunError(io, "scan output " + std::to_string(s) + " grows past the tensor limit of " +
                                std::to_string(runtimeMaxTensorBytes()) + " bytes (--max-tensor-bytes)");
        const uint8_t* p = static_cast<const uint8_t*>(t.data);
        scans[s].insert(scans[s].end(), p, p + t.nbytes);
      }
    }
    for (size_t k = 0; k < numCarried_; ++k) copyOut(io, k, carried[k].view);
    for (size_t s = 0; s < numScan_; ++s) {
      if (!io.hasOutput(numCarried_ + s)) continue;
      Shape dims{trips};
      dims.insert(dims.end(), scanShape[s].dims.begin(), scanShape[s].dims.end());
      ir::DataType dt = trips > 0 ? scanShape[s].dtype : ir::DataType::kFloat;
      RtTensor& o = io.allocOutput(numCarried_ + s, dt, dims);
      if (!scans[s].empty()) std::memcpy(o.data, scans[s].data(), scans[s].size());
    }
  }

 private:
  std::unique_ptr<Body> body_;
  size_t numCarried_ = 0, numScan_ = 0;
};

}  // namespace

void registerControlFlowKernels(KernelRegistry& r) {
  r.add(KernelEntry{"", "If", 1, 1000, [](const KernelBuildContext& c) { return std::make_unique<IfKernel>(c); }});
  r.add(KernelEntry{"", "Loop", 1, 1000, [](const KernelBuildContext& c) { return std::make_unique<LoopKernel>(c); }});
}

}  // namespace effdl::runtime
