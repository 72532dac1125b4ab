// If, Loop and Scan: run a subgraph with its own executor. Values the body reads from enclosing scopes
// arrive as the node's implicit inputs; the body's outputs are copied out because they live in
// the body's buffer pool, which its next run reuses.
#include <algorithm>
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
  // For bodies that may carry sequences or optionals (If, Loop).
  std::vector<RtValue> runValues(KernelIo& io, const std::vector<RtValue>& inputs) {
    std::vector<RtValue> caps;
    caps.reserve(captureIndex.size());
    for (size_t k : captureIndex) caps.push_back(io.implicitInputValue(k));
    return executor->runValues(inputs, caps);
  }
};

// A loop-carried value copied out of the body's buffers (they are reused by the next iteration).
struct OwnedValue {
  RtValue view;
  std::vector<uint8_t> bytes;
  std::vector<std::string> strings;
  void assign(const RtValue& v) {
    view.kind = v.kind;
    view.seq = v.seq;
    view.t = RtTensor{};
    if (v.kind != ValueKind::kTensor) return;
    const RtTensor& t = v.t;
    if (t.dtype == ir::DataType::kString) {
      const auto* src = t.as<std::string>();
      strings.assign(src, src + t.numel());
      view.t = RtTensor{t.dtype, t.dims, strings.data(), 0};
      return;
    }
    bytes.assign(static_cast<const uint8_t*>(t.data), static_cast<const uint8_t*>(t.data) + t.nbytes);
    view.t = RtTensor{t.dtype, t.dims, bytes.data(), t.nbytes};
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
    auto outs = b.runValues(io, {});
    if (outs.size() != io.numOutputs()) throwRunError(io, "the branch has a different number of outputs than the node");
    for (size_t i = 0; i < outs.size(); ++i)
      if (io.hasOutput(i)) io.setOutputValue(i, outs[i]);
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
    std::vector<OwnedValue> carried(numCarried_);
    for (size_t k = 0; k < numCarried_; ++k) carried[k].assign(io.inputValue(2 + k));
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
      std::vector<RtValue> inputs{RtValue{ValueKind::kTensor, iterT, nullptr}, RtValue{ValueKind::kTensor, condT, nullptr}};
      for (auto& c : carried) inputs.push_back(c.view);
      auto outs = body_->runValues(io, inputs);
      const RtTensor& condOut = outs[0].t;
      if (outs[0].kind != ValueKind::kTensor || condOut.numel() != 1 || condOut.dtype != ir::DataType::kBool)
        throwRunError(io, "the body's cond output must be one bool");
      cond = *static_cast<const uint8_t*>(condOut.data) != 0;
      for (size_t k = 0; k < numCarried_; ++k) carried[k].assign(outs[1 + k]);
      for (size_t s = 0; s < numScan_; ++s) {
        if (outs[1 + numCarried_ + s].kind != ValueKind::kTensor || outs[1 + numCarried_ + s].t.dtype == ir::DataType::kString)
          throwUnsupported(io.describe() + ": scan output " + std::to_string(s) + " is not a numeric tensor");
        const RtTensor& t = outs[1 + numCarried_ + s].t;
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
    for (size_t k = 0; k < numCarried_; ++k)
      if (io.hasOutput(k)) io.setOutputValue(k, carried[k].view);
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

// Scan: N state values carried through the body, M scan inputs sliced along their axis (forward
// or reverse), K scan outputs stacked along their axis (forward or reverse). Opset 8 has a leading
// batch axis on every input and output, optional int64 sequence_lens per batch row (scan outputs
// past a row's length are zero) and only `directions`; each batch row is scanned on its own.
class ScanKernel : public Kernel {
 public:
  explicit ScanKernel(const KernelBuildContext& ctx) : batched_(ctx.opset < 9) {
    const ir::Attribute* b = ctx.node.attr("body");
    if (!b || !b->g) ctx.invalid("Scan needs a body graph");
    body_ = std::make_unique<Body>(ctx, *modelOf(ctx), *b->g);
    const int64_t m = ctx.node.attrInt("num_scan_inputs", -1);
    const size_t first = batched_ ? 1 : 0;  // opset 8's input 0 is sequence_lens
    if (m < 1 || static_cast<size_t>(m) + first > ctx.numInputs())
      ctx.invalid("num_scan_inputs must be in [1, number of inputs]");
    numScanIn_ = static_cast<size_t>(m);
    numState_ = ctx.numInputs() - first - numScanIn_;
    if (b->g->inputs().size() != numState_ + numScanIn_) ctx.invalid("the body's inputs do not match the node's");
    if (b->g->outputs().size() < numState_) ctx.invalid("the body has fewer outputs than state variables");
    numScanOut_ = b->g->outputs().size() - numState_;
    if (ctx.node.numOutputs() > numState_ + numScanOut_) ctx.invalid("more outputs than the body produces");
    inDir_ = listAttr(ctx, batched_ ? "directions" : "scan_input_directions", numScanIn_, 0);
    inAxis_ = batched_ ? std::vector<int64_t>(numScanIn_, 0) : listAttr(ctx, "scan_input_axes", numScanIn_, 0);
    outDir_ = batched_ ? std::vector<int64_t>(numScanOut_, 0) : listAttr(ctx, "scan_output_directions", numScanOut_, 0);
    outAxis_ = batched_ ? std::vector<int64_t>(numScanOut_, 0) : listAttr(ctx, "scan_output_axes", numScanOut_, 0);
    for (int64_t d : inDir_)
      if (d != 0 && d != 1) ctx.invalid("scan input directions must be 0 or 1");
    for (int64_t d : outDir_)
      if (d != 0 && d != 1) ctx.invalid("scan_output_directions must be 0 or 1");
  }

  void run(KernelIo& io) override {
    if (batched_) return runBatched(io);
    std::vector<Owned> state(numState_);
    for (size_t k = 0; k < numState_; ++k) state[k].assign(requireIn(io, k, "state input"));
    std::vector<const RtTensor*> ins(numScanIn_);
    for (size_t j = 0; j < numScanIn_; ++j) ins[j] = &requireIn(io, numState_ + j, "scan input");
    Result r = scan(io, state, ins, -1);
    for (size_t k = 0; k < numState_; ++k) copyOut(io, k, state[k].view);
    for (size_t s = 0; s < numScanOut_; ++s) {
      if (numState_ + s >= io.numOutputs() || !io.hasOutput(numState_ + s)) continue;
      if (r.len <= 0) throwRunError(io, "scan output " + std::to_string(s) + " of an empty sequence has no known shape");
      const Shape& e = r.shape[s].dims;
      const int64_t rank = static_cast<int64_t>(e.size()) + 1;
      const int64_t a = outAxis_[s] < 0 ? outAxis_[s] + rank : outAxis_[s];
      if (a < 0 || a >= rank) throwRunError(io, "scan output " + std::to_string(s) + ": axis out of range");
      Shape dims = e;
      dims.insert(dims.begin() + a, r.len);
      RtTensor& o = io.allocOutput(numState_ + s, r.shape[s].dtype, dims);
      int64_t outer = 1;
      for (int64_t d = 0; d < a; ++d) outer *= e[static_cast<size_t>(d)];
      stack(r, s, outer, r.len, static_cast<uint8_t*>(o.data));
    }
  }

 private:
  struct Result {
    int64_t len = 0;
    std::vector<std::vector<uint8_t>> elems;  // per scan output: the iterations' elements, in order
    std::vector<RtTensor> shape;              // per scan output: one element's dtype, dims, bytes
  };

  static const RtTensor& requireIn(const KernelIo& io, size_t i, const char* what) {
    const RtTensor* t = io.input(i);
    if (!t) throwRunError(io, std::string(what) + " " + std::to_string(i) + " is missing");
    return *t;
  }

  // Runs the body over the scan inputs (their axes and directions from the attributes); `state`
  // holds the final states afterwards. maxLen >= 0 stops after that many steps (sequence_lens).
  Result scan(KernelIo& io, std::vector<Owned>& state, const std::vector<const RtTensor*>& ins, int64_t maxLen) {
    Result r;
    int64_t len = -1;
    std::vector<int64_t> axis(numScanIn_);
    for (size_t j = 0; j < numScanIn_; ++j) {
      const int64_t rank = static_cast<int64_t>(ins[j]->rank());
      axis[j] = inAxis_[j] < 0 ? inAxis_[j] + rank : inAxis_[j];
      if (axis[j] < 0 || axis[j] >= rank) throwRunError(io, "scan input " + std::to_string(j) + ": axis out of range");
      const int64_t l = ins[j]->dims[static_cast<size_t>(axis[j])];
      if (len >= 0 && l != len) throwRunError(io, "scan inputs have different sequence lengths");
      len = l;
    }
    if (maxLen >= 0) {
      if (maxLen > len) throwRunError(io, "sequence_lens exceeds the scan inputs' length");
      len = maxLen;
    }
    r.len = len;
    r.elems.resize(numScanOut_);
    r.shape.resize(numScanOut_);
    std::vector<Owned> slices(numScanIn_);
    for (int64_t t = 0; t < len; ++t) {
      std::vector<const RtTensor*> inputs;
      for (auto& st : state) inputs.push_back(&st.view);
      for (size_t j = 0; j < numScanIn_; ++j) {
        slice(*ins[j], axis[j], inDir_[j] ? len - 1 - t : t, slices[j]);
        inputs.push_back(&slices[j].view);
      }
      auto res = body_->run(io, inputs);
      for (size_t k = 0; k < numState_; ++k) state[k].assign(*res[k]);
      for (size_t s = 0; s < numScanOut_; ++s) {
        const RtTensor& e = *res[numState_ + s];
        if (t == 0) r.shape[s] = RtTensor{e.dtype, e.dims, nullptr, e.nbytes};
        else if (e.dims != r.shape[s].dims || e.dtype != r.shape[s].dtype)
          throwRunError(io, "scan output " + std::to_string(s) + " changes shape between iterations");
        if (r.elems[s].size() + e.nbytes > (uint64_t{1} << 34)) throwRunError(io, "scan outputs exceed 16 GiB");
        const uint8_t* p = static_cast<const uint8_t*>(e.data);
        r.elems[s].insert(r.elems[s].end(), p, p + e.nbytes);
      }
    }
    return r;
  }

  // Writes scan output s's elements into dst, laid out [outer, slots, inner] (slots >= r.len
  // positions along the stacking axis; the caller zeroes unused ones).
  void stack(const Result& r, size_t s, int64_t outer, int64_t slots, uint8_t* dst) const {
    const size_t bytes = r.shape[s].nbytes;
    if (outer <= 0 || bytes == 0) return;
    const size_t inner = bytes / static_cast<size_t>(outer);
    for (int64_t t = 0; t < r.len; ++t) {
      const int64_t pos = outDir_[s] ? r.len - 1 - t : t;
      const uint8_t* src = r.elems[s].data() + static_cast<size_t>(t) * bytes;
      for (int64_t q = 0; q < outer; ++q)
        std::memcpy(dst + static_cast<size_t>(q * slots + pos) * inner, src + static_cast<size_t>(q) * inner, inner);
    }
  }

  void runBatched(KernelIo& io) {
    const RtTensor* lens = io.input(0);
    std::vector<const RtTensor*> states(numState_), ins(numScanIn_);
    for (size_t k = 0; k < numState_; ++k) states[k] = &requireIn(io, 1 + k, "state input");
    for (size_t j = 0; j < numScanIn_; ++j) ins[j] = &requireIn(io, 1 + numState_ + j, "scan input");
    const RtTensor& first = numState_ ? *states[0] : *ins[0];
    if (first.rank() < 1) throwRunError(io, "Scan-8 inputs need a batch axis");
    const int64_t batch = first.dims[0];
    int64_t seq = -1;
    for (const RtTensor* t : ins) {
      if (t->rank() < 2 || t->dims[0] != batch) throwRunError(io, "scan inputs must be [batch, sequence, ...]");
      if (seq >= 0 && t->dims[1] != seq) throwRunError(io, "scan inputs have different sequence lengths");
      seq = t->dims[1];
    }
    for (const RtTensor* t : states)
      if (t->rank() < 1 || t->dims[0] != batch) throwRunError(io, "state inputs must have the batch axis first");
    if (lens && (lens->dtype != ir::DataType::kInt64 || lens->numel() != batch))
      throwRunError(io, "sequence_lens must be int64 [batch]");
    std::vector<Result> results;
    std::vector<std::vector<Owned>> finals;
    std::vector<Owned> rowIns(numScanIn_);
    for (int64_t b = 0; b < batch; ++b) {
      std::vector<Owned> state(numState_);
      for (size_t k = 0; k < numState_; ++k) slice(*states[k], 0, b, state[k]);
      std::vector<const RtTensor*> rowPtrs;
      for (size_t j = 0; j < numScanIn_; ++j) {
        slice(*ins[j], 0, b, rowIns[j]);
        rowPtrs.push_back(&rowIns[j].view);
      }
      const int64_t l = lens ? lens->as<int64_t>()[b] : seq;
      if (l < 0) throwRunError(io, "sequence_lens has a negative value");
      results.push_back(scan(io, state, rowPtrs, l));
      finals.push_back(std::move(state));
    }
    for (size_t k = 0; k < numState_; ++k) {
      if (!io.hasOutput(k)) continue;
      Shape dims = states[k]->dims;
      RtTensor& o = io.allocOutput(k, states[k]->dtype, dims);
      const size_t row = batch ? o.nbytes / static_cast<size_t>(batch) : 0;
      for (int64_t b = 0; b < batch; ++b)
        if (row) std::memcpy(static_cast<uint8_t*>(o.data) + static_cast<size_t>(b) * row, finals[static_cast<size_t>(b)][k].view.data, row);
    }
    for (size_t s = 0; s < numScanOut_; ++s) {
      if (numState_ + s >= io.numOutputs() || !io.hasOutput(numState_ + s)) continue;
      const Result* known = nullptr;
      for (const Result& r : results)
        if (r.len > 0) known = &r;
      if (!known) throwRunError(io, "scan output " + std::to_string(s) + " of empty sequences has no known shape");
      Shape dims{batch, seq};
      dims.insert(dims.end(), known->shape[s].dims.begin(), known->shape[s].dims.end());
      RtTensor& o = io.allocOutput(numState_ + s, known->shape[s].dtype, dims);
      if (o.nbytes) std::memset(o.data, 0, o.nbytes);
      const size_t row = batch ? o.nbytes / static_cast<size_t>(batch) : 0;
      for (int64_t b = 0; b < batch; ++b) {
        const Result& r = results[static_cast<size_t>(b)];
        if (r.len > 0 && (r.shape[s].dims != known->shape[s].dims || r.shape[s].dtype != known->shape[s].dtype))
          throwRunError(io, "scan output " + std::to_string(s) + " differs in shape between batch rows");
        stack(r, s, 1, seq, static_cast<uint8_t*>(o.data) + static_cast<size_t>(b) * row);
      }
    }
  }

  static std::vector<int64_t> listAttr(const KernelBuildContext& ctx, const char* name, size_t n, int64_t def) {
    std::vector<int64_t> v = ctx.node.attrInts(name);
    if (v.empty()) return std::vector<int64_t>(n, def);
    if (v.size() != n) ctx.invalid(std::string(name) + " has " + std::to_string(v.size()) + " values, expected " + std::to_string(n));
    return v;
  }
  // x's slice at `index` along `axis`, that axis removed, as a contiguous tensor.
  static void slice(const RtTensor& x, int64_t axis, int64_t index, Owned& out) {
    Shape dims = x.dims;
    const int64_t len = dims[static_cast<size_t>(axis)];
    dims.erase(dims.begin() + axis);
    int64_t outer = 1;
    for (int64_t d = 0; d < axis; ++d) outer *= x.dims[static_cast<size_t>(d)];
    const size_t total = x.nbytes / static_cast<size_t>(std::max<int64_t>(len, 1));
    const size_t inner = outer > 0 ? total / static_cast<size_t>(outer) : 0;
    out.bytes.resize(total);
    const uint8_t* src = static_cast<const uint8_t*>(x.data);
    for (int64_t q = 0; q < outer && inner > 0; ++q)
      std::memcpy(out.bytes.data() + static_cast<size_t>(q) * inner, src + static_cast<size_t>(q * len + index) * inner, inner);
    out.view = RtTensor{x.dtype, dims, out.bytes.data(), total};
  }

  bool batched_;
  std::unique_ptr<Body> body_;
  size_t numState_ = 0, numScanIn_ = 0, numScanOut_ = 0;
  std::vector<int64_t> inDir_, inAxis_, outDir_, outAxis_;
};

// SequenceMap (opset 17): the body runs once per item of the input sequence; additional inputs
// that are sequences give their i-th item, tensors are passed whole. Each body output is
// collected into an output sequence.
class SequenceMapKernel : public Kernel {
 public:
  explicit SequenceMapKernel(const KernelBuildContext& ctx) {
    const ir::Attribute* b = ctx.node.attr("body");
    if (!b || !b->g) ctx.invalid("SequenceMap needs a body graph");
    if (b->g->inputs().size() != ctx.numInputs()) ctx.invalid("the body's inputs do not match the node's");
    if (b->g->outputs().size() != ctx.node.numOutputs()) ctx.invalid("the body's outputs do not match the node's");
    body_ = std::make_unique<Body>(ctx, *modelOf(ctx), *b->g);
  }
  void run(KernelIo& io) override {
    std::vector<RtValue> ins(io.numInputs());
    for (size_t j = 0; j < ins.size(); ++j) ins[j] = io.inputValue(j);
    if (ins.empty() || ins[0].kind != ValueKind::kSequence) throwRunError(io, "input 0 must be a sequence");
    const size_t n = ins[0].seq->items.size();
    for (size_t j = 1; j < ins.size(); ++j) {
      if (ins[j].kind == ValueKind::kNone) throwRunError(io, "input " + std::to_string(j) + " is missing");
      if (ins[j].kind == ValueKind::kSequence && ins[j].seq->items.size() != n)
        throwRunError(io, "input " + std::to_string(j) + " is a sequence of a different length");
    }
    std::vector<std::shared_ptr<Sequence>> outs(io.numOutputs());
    for (auto& o : outs) o = std::make_shared<Sequence>();
    std::vector<RtValue> args(ins.size());
    for (size_t i = 0; i < n; ++i) {
      for (size_t j = 0; j < ins.size(); ++j)
        args[j] = ins[j].kind == ValueKind::kSequence ? RtValue{ValueKind::kTensor, viewOf(ins[j].seq->items[i]), nullptr}
                                                      : ins[j];
      auto res = body_->runValues(io, args);
      for (size_t k = 0; k < outs.size(); ++k) {
        if (res[k].kind != ValueKind::kTensor) throwUnsupported(io.describe() + ": body output " + std::to_string(k) + " is not a tensor");
        outs[k]->elemType = res[k].t.dtype;
        outs[k]->items.push_back(ownedCopy(res[k].t));
      }
    }
    for (size_t k = 0; k < outs.size(); ++k)
      if (io.hasOutput(k)) io.setOutputValue(k, RtValue{ValueKind::kSequence, {}, outs[k]});
  }

 private:
  std::unique_ptr<Body> body_;
};

}  // namespace

void registerControlFlowKernels(KernelRegistry& r) {
  r.add(KernelEntry{"", "SequenceMap", 17, 1000, [](const KernelBuildContext& c) { return std::make_unique<SequenceMapKernel>(c); }});
  r.add(KernelEntry{"", "If", 1, 1000, [](const KernelBuildContext& c) { return std::make_unique<IfKernel>(c); }});
  r.add(KernelEntry{"", "Loop", 1, 1000, [](const KernelBuildContext& c) { return std::make_unique<LoopKernel>(c); }});
  r.add(KernelEntry{"", "Scan", 8, 1000, [](const KernelBuildContext& c) { return std::make_unique<ScanKernel>(c); }});
}

}  // namespace effdl::runtime
