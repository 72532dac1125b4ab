// Gradient (ai.onnx.preview.training, opset 1): dy/dx for each x in `xs`, by reverse-mode
// differentiation of the nodes between xs and y, with dy seeded with ones (the gradient of sum(y),
// as ONNX Runtime). The kernel recomputes that forward part from its own inputs (xs, then zs) in
// double precision, then runs it backwards; the differentiable ops are the elementwise ones the
// training cases use (Add, Sub, Mul, Div, Neg, Identity, with broadcasting: a gradient is summed
// over the axes its operand was broadcast along). Any other op on the path, or a value the path
// reads that is neither in xs/zs nor a constant, is refused when the session is built.
#include <map>
#include <set>

#include "runtime/kernel_registry.h"
#include "runtime/kernels/families.h"
#include "runtime/kernels/shape_util.h"

namespace effdl::runtime {
namespace {

struct Val {
  Shape dims;
  std::vector<double> v;
};

// Element strides of `dims` seen from an output of rank `rank` (numpy broadcasting: leading
// axes added, size-1 axes get stride 0).
std::vector<int64_t> broadcastStrides(const Shape& dims, size_t rank) {
  std::vector<int64_t> s(rank, 0);
  int64_t stride = 1;
  for (size_t k = 0; k < dims.size(); ++k) {
    const size_t d = dims.size() - 1 - k, o = rank - 1 - k;
    s[o] = dims[d] == 1 ? 0 : stride;
    stride *= dims[d];
  }
  return s;
}

// Calls f(outIndex, aIndex, bIndex) over the broadcast shape `out`.
template <typename F>
void forEachBroadcast(const Shape& out, const Shape& a, const Shape& b, F f) {
  const auto sa = broadcastStrides(a, out.size()), sb = broadcastStrides(b, out.size());
  int64_t n = 1;
  for (int64_t d : out) n *= d;
  std::vector<int64_t> idx(out.size(), 0);
  int64_t ia = 0, ib = 0;
  for (int64_t i = 0; i < n; ++i) {
    f(i, ia, ib);
    for (size_t k = out.size(); k-- > 0;) {
      ++idx[k];
      ia += sa[k];
      ib += sb[k];
      if (idx[k] < out[k]) break;
      ia -= sa[k] * idx[k];
      ib -= sb[k] * idx[k];
      idx[k] = 0;
    }
  }
}

Shape broadcastShape(const KernelIo& io, const Shape& a, const Shape& b) {
  Shape out(std::max(a.size(), b.size()), 1);
  for (size_t k = 0; k < out.size(); ++k) {
    const int64_t da = k < a.size() ? a[a.size() - 1 - k] : 1, db = k < b.size() ? b[b.size() - 1 - k] : 1;
    if (da != db && da != 1 && db != 1) throwRunError(io, "shapes " + shapeString(a) + " and " + shapeString(b) + " do not broadcast");
    out[out.size() - 1 - k] = da == 1 ? db : da;
  }
  return out;
}

enum class Op { kAdd, kSub, kMul, kDiv, kNeg, kIdentity };

struct Step {
  Op op;
  std::vector<int> in;  // value ids
  int out;
};

class GradientKernel : public Kernel {
 public:
  explicit GradientKernel(const KernelBuildContext& ctx) {
    const ir::Attribute* xs = ctx.node.attr("xs");
    const ir::Attribute* y = ctx.node.attr("y");
    if (!xs || xs->strings.empty() || !y || y->s.empty()) ctx.invalid("Gradient needs the xs and y attributes");
    std::vector<std::string> leaves = xs->strings;
    if (const ir::Attribute* zs = ctx.node.attr("zs")) leaves.insert(leaves.end(), zs->strings.begin(), zs->strings.end());
    if (leaves.size() != ctx.numInputs()) ctx.invalid("Gradient's inputs must be the values named by xs, then zs");
    if (ctx.node.numOutputs() != xs->strings.size()) ctx.invalid("Gradient has one output per value in xs");
    numXs_ = xs->strings.size();
    numLeaves_ = leaves.size();
    for (size_t i = 0; i < leaves.size(); ++i) {
      if (!ctx.input(i) || ctx.input(i)->name() != leaves[i])
        ctx.invalid("input " + std::to_string(i) + " must be '" + leaves[i] + "'");
      ids_[ctx.input(i)] = static_cast<int>(i);
    }
    const ir::Graph* g = ctx.node.graph();
    const ir::Value* yv = g ? g->findValue(y->s) : nullptr;
    if (!yv) ctx.invalid("y '" + y->s + "' is not a value of the graph");
    yId_ = visit(ctx, yv);
    valueCount_ = ids_.size();
  }

  void run(KernelIo& io) override {
    std::vector<Val> vals(valueCount_);
    for (size_t i = 0; i < numLeaves_; ++i) {
      const RtTensor& t = shape_detail::requireInput(io, i);
      vals[i] = load(io, t);
      if (i < numXs_) xTypes_[i] = t.dtype;
    }
    for (const auto& [id, t] : constants_) vals[static_cast<size_t>(id)] = load(io, viewOf(*t));
    for (const Step& s : steps_) forward(io, s, vals);
    // Backward: seed dy = 1, then each step in reverse adds its operands' gradients.
    std::vector<Val> grads(valueCount_);
    grads[static_cast<size_t>(yId_)] = Val{vals[static_cast<size_t>(yId_)].dims,
                                           std::vector<double>(vals[static_cast<size_t>(yId_)].v.size(), 1.0)};
    for (auto it = steps_.rbegin(); it != steps_.rend(); ++it) backward(*it, vals, grads);
    for (size_t i = 0; i < numXs_; ++i) {
      if (!io.hasOutput(i)) continue;
      const Val& x = vals[i];
      const Val& gx = grads[i];
      RtTensor& o = io.allocOutput(i, xTypes_[i], x.dims);
      for (size_t k = 0; k < x.v.size(); ++k) {
        const double d = gx.v.empty() ? 0.0 : gx.v[k];
        if (o.dtype == ir::DataType::kFloat) o.as<float>()[k] = static_cast<float>(d);
        else o.as<double>()[k] = d;
      }
    }
  }

 private:
  // Value id of v, adding the steps that compute it (depth first, so steps_ is in order).
  int visit(const KernelBuildContext& ctx, const ir::Value* v) {
    if (auto it = ids_.find(v); it != ids_.end()) return it->second;
    const int id = static_cast<int>(ids_.size());
    if (v->isConstant()) {
      constants_.emplace_back(id, &v->initializer());
      ids_[v] = id;
      valueCount_ = ids_.size();
      return id;
    }
    const ir::Node* n = v->producer();
    if (!n) ctx.unsupported("'" + v->name() + "' is on the path to y but is neither in xs/zs nor a constant");
    static const std::map<std::string, std::pair<Op, size_t>> kOps = {
        {"Add", {Op::kAdd, 2}}, {"Sub", {Op::kSub, 2}},       {"Mul", {Op::kMul, 2}},
        {"Div", {Op::kDiv, 2}}, {"Neg", {Op::kNeg, 1}}, {"Identity", {Op::kIdentity, 1}}};
    auto op = kOps.find(n->opType());
    if (!n->domain().empty() || op == kOps.end() || n->numInputs() != op->second.second)
      ctx.unsupported("no gradient for node '" + n->name() + "' (" + n->opType() +
                      "): effdl differentiates Add, Sub, Mul, Div, Neg and Identity");
    Step s{op->second.first, {}, 0};
    for (const ir::Value* in : n->inputs()) s.in.push_back(visit(ctx, in));
    s.out = static_cast<int>(ids_.size());
    ids_[v] = s.out;
    valueCount_ = ids_.size();
    steps_.push_back(std::move(s));
    return steps_.back().out;
  }

  static Val load(const KernelIo& io, const RtTensor& t) {
    Val r{t.dims, std::vector<double>(static_cast<size_t>(t.numel()))};
    if (t.dtype == ir::DataType::kFloat) {
      for (size_t k = 0; k < r.v.size(); ++k) r.v[k] = t.as<float>()[k];
    } else if (t.dtype == ir::DataType::kDouble) {
      for (size_t k = 0; k < r.v.size(); ++k) r.v[k] = t.as<double>()[k];
    } else {
      throwUnsupported(io.describe() + ": Gradient supports float and double tensors, not " + std::string(ir::dtypeName(t.dtype)));
    }
    return r;
  }

  static void forward(const KernelIo& io, const Step& s, std::vector<Val>& vals) {
    Val& out = vals[static_cast<size_t>(s.out)];
    const Val& a = vals[static_cast<size_t>(s.in[0])];
    if (s.op == Op::kNeg || s.op == Op::kIdentity) {
      out = a;
      if (s.op == Op::kNeg)
        for (double& x : out.v) x = -x;
      return;
    }
    const Val& b = vals[static_cast<size_t>(s.in[1])];
    out.dims = broadcastShape(io, a.dims, b.dims);
    int64_t n = 1;
    for (int64_t d : out.dims) n *= d;
    out.v.assign(static_cast<size_t>(n), 0.0);
    forEachBroadcast(out.dims, a.dims, b.dims, [&](int64_t i, int64_t ia, int64_t ib) {
      const double x = a.v[static_cast<size_t>(ia)], y = b.v[static_cast<size_t>(ib)];
      double r = 0;
      switch (s.op) {
        case Op::kAdd: r = x + y; break;
        case Op::kSub: r = x - y; break;
        case Op::kMul: r = x * y; break;
        default: r = x / y; break;
      }
      out.v[static_cast<size_t>(i)] = r;
    });
  }

  // Adds `value` at index k of grads[id] (created as zeros of that value's shape on first use).
  static void accumulate(std::vector<Val>& grads, const std::vector<Val>& vals, int id, int64_t k, double value) {
    Val& g = grads[static_cast<size_t>(id)];
    if (g.v.empty()) g = Val{vals[static_cast<size_t>(id)].dims, std::vector<double>(vals[static_cast<size_t>(id)].v.size(), 0.0)};
    g.v[static_cast<size_t>(k)] += value;
  }

  static void backward(const Step& s, const std::vector<Val>& vals, std::vector<Val>& grads) {
    const Val& gout = grads[static_cast<size_t>(s.out)];
    if (gout.v.empty()) return;  // y does not depend on this step's output
    const Val gcopy = gout;      // a copy: accumulate() may create other entries' gradients meanwhile
    const int ia = s.in[0];
    if (s.op == Op::kNeg || s.op == Op::kIdentity) {
      for (size_t k = 0; k < gcopy.v.size(); ++k)
        accumulate(grads, vals, ia, static_cast<int64_t>(k), s.op == Op::kNeg ? -gcopy.v[k] : gcopy.v[k]);
      return;
    }
    const int ib = s.in[1];
    const Val& a = vals[static_cast<size_t>(ia)];
    const Val& b = vals[static_cast<size_t>(ib)];
    forEachBroadcast(gcopy.dims, a.dims, b.dims, [&](int64_t i, int64_t ka, int64_t kb) {
      const double g = gcopy.v[static_cast<size_t>(i)], x = a.v[static_cast<size_t>(ka)], y = b.v[static_cast<size_t>(kb)];
      double da = 0, db = 0;
      switch (s.op) {
        case Op::kAdd: da = g, db = g; break;
        case Op::kSub: da = g, db = -g; break;
        case Op::kMul: da = g * y, db = g * x; break;
        default: da = g / y, db = -g * x / (y * y); break;
      }
      accumulate(grads, vals, ia, ka, da);
      accumulate(grads, vals, ib, kb, db);
    });
  }

  std::map<const ir::Value*, int> ids_;  // xs then zs first (ids = input index), then the rest
  std::vector<std::pair<int, const ir::Tensor*>> constants_;
  std::vector<Step> steps_;
  size_t valueCount_ = 0, numXs_ = 0, numLeaves_ = 0;
  int yId_ = -1;
  std::map<size_t, ir::DataType> xTypes_;
};

}  // namespace

void registerGradientKernels(KernelRegistry& r) {
  r.add(KernelEntry{"ai.onnx.preview.training", "Gradient", 1, 1000,
                    [](const KernelBuildContext& c) { return std::make_unique<GradientKernel>(c); }});
}

}  // namespace effdl::runtime
