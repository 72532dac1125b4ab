// No-op node elimination; see the header.
#include "passes/cleanup/eliminate_noop.h"

#include <optional>

#include "core/checked_math.h"

namespace effdl::passes {
namespace {

bool isDefaultDomain(const std::string& d) { return d.empty() || d == "ai.onnx"; }

// The initializer behind `v` (following subgraph captures outwards), if it is a constant.
const ir::Tensor* constantTensor(const ir::Value* v) {
  while (v && v->outer()) v = v->outer();
  return v && v->isConstant() ? &v->initializer() : nullptr;
}

// A rewrite candidate: `out` can be replaced by `in`, or `why` says why not.
struct Noop {
  ir::Value* in = nullptr;
  ir::Value* out = nullptr;
  std::string why;
};

Noop declined(std::string why) { return Noop{nullptr, nullptr, std::move(why)}; }

bool unused(const ir::Value* v) { return !v || (!v->hasUses() && !v->isGraphOutput()); }

Noop matchDropout(const ir::Node& n, int64_t opset) {
  for (size_t i = 1; i < n.numOutputs(); ++i)
    if (!unused(n.output(i))) return declined("Dropout mask is used");
  if (opset < 7) {
    if (n.attrInt("is_test", 0) == 0) return declined("Dropout in training mode");
  } else if (opset >= 12 && n.input(2)) {
    const ir::Tensor* t = constantTensor(n.input(2));
    if (!t || t->dtype() != ir::DataType::kBool || t->numel() != 1 || t->nbytes() != 1)
      return declined("Dropout training_mode not a constant");
    if (t->values<uint8_t>()[0] != 0) return declined("Dropout in training mode");
  }
  return Noop{n.input(0), n.output(0), {}};
}

Noop matchCast(const ir::Node& n) {
  const ir::Value* in = n.input(0);
  const ir::Attribute* to = n.attr("to");
  if (!in || !to || to->type != ir::AttrType::kInt) return declined("Cast without `to`");
  const ir::ValueType& t = in->type();
  if (t.kind != ir::ValueType::Kind::kTensor || t.elemType == ir::DataType::kUndefined)
    return declined("Cast input type unknown");
  if (static_cast<int64_t>(t.elemType) != to->i) return declined("Cast changes the type");
  return Noop{n.input(0), n.output(0), {}};
}

// The shape Reshape(data of shape `in`, `target`) produces, or nullopt when it cannot be resolved.
std::optional<std::vector<int64_t>> resolveReshape(const std::vector<int64_t>& in,
                                                   std::span<const int64_t> target, bool allowZero) {
  std::vector<int64_t> out(target.begin(), target.end());
  int inferred = -1;
  int64_t known = 1;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == 0 && !allowZero) {
      if (i >= in.size()) return std::nullopt;
      out[i] = in[i];
    }
    if (out[i] == -1) {
      if (inferred >= 0) return std::nullopt;
      inferred = static_cast<int>(i);
      continue;
    }
    if (out[i] < 0) return std::nullopt;
    // Shapes come from the file: products are checked (found by fuzz_model: 3 · 8.7e18).
    auto k = checkedMul(known, out[i]);
    if (!k) return std::nullopt;
    known = *k;
  }
  int64_t total = 1;
  for (int64_t d : in) {
    auto t = d >= 0 ? checkedMul(total, d) : std::nullopt;
    if (!t) return std::nullopt;
    total = *t;
  }
  if (inferred >= 0) {
    if (known == 0 || total % known != 0) return std::nullopt;
    out[static_cast<size_t>(inferred)] = total / known;
  } else if (known != total) {
    return std::nullopt;
  }
  return out;
}

Noop matchReshape(const ir::Node& n) {
  const ir::Value* data = n.input(0);
  if (!data) return declined("Reshape without data");
  std::optional<std::vector<int64_t>> in = data->type().staticShape();
  if (!in) return declined("Reshape input shape not static");
  const ir::Tensor* shape = constantTensor(n.input(1));
  if (!shape || shape->dtype() != ir::DataType::kInt64 || shape->rank() != 1)
    return declined("Reshape shape not a constant");
  auto target = resolveReshape(*in, shape->values<int64_t>(), n.attrInt("allowzero", 0) != 0);
  if (!target || *target != *in) return declined("Reshape changes the shape");
  return Noop{n.input(0), n.output(0), {}};
}

Noop matchTranspose(const ir::Node& n) {
  const ir::Value* in = n.input(0);
  if (!in) return declined("Transpose without input");
  if (n.attr("perm")) {
    std::vector<int64_t> perm = n.attrInts("perm");
    for (size_t i = 0; i < perm.size(); ++i)
      if (perm[i] != static_cast<int64_t>(i)) return declined("Transpose permutes");
  } else {
    // No perm reverses the dims: the identity only for rank ≤ 1.
    const auto& shape = in->type().shape;
    if (in->type().kind != ir::ValueType::Kind::kTensor || !shape) return declined("Transpose rank unknown");
    if (shape->size() > 1) return declined("Transpose permutes");
  }
  return Noop{n.input(0), n.output(0), {}};
}

std::optional<Noop> match(const ir::Node& n, int64_t opset) {
  if (!isDefaultDomain(n.domain())) return std::nullopt;
  const std::string& op = n.opType();
  Noop m;
  if (op == "Identity") m = Noop{n.input(0), n.output(0), {}};
  else if (op == "Dropout") m = matchDropout(n, opset);
  else if (op == "Cast") m = matchCast(n);
  else if (op == "Reshape") m = matchReshape(n);
  else if (op == "Transpose") m = matchTranspose(n);
  else return std::nullopt;
  if (!m.why.empty()) return m;
  if (!m.in || !m.out) return declined(op + " with an omitted input or output");
  const ir::Graph& g = *n.graph();
  if (!g.canReplaceAllUses(m.out, m.in)) {
    if (m.in->outer()) return declined("output is a subgraph output fed by a capture");
    if (m.in->isGraphInput() || m.in->isInitializer()) return declined("output is a graph output fed by an input");
    if (m.in->isGraphOutput()) return declined("output and input are both graph outputs");
    return declined("output cannot be replaced by the input");
  }
  return m;
}

void eliminate(ir::Graph& g, int64_t opset, PassResult& r) {
  // Node by node (match, then change): a chain Identity(Identity(x)) sees its first link removed.
  for (ir::Node* n : g.nodes()) {
    for (auto& a : n->attributes()) {
      if (a.g) eliminate(*a.g, opset, r);
      for (auto& sg : a.graphs) eliminate(*sg, opset, r);
    }
    std::optional<Noop> m = match(*n, opset);
    if (!m) continue;
    if (!m->why.empty()) {
      r.decline(m->why);
      continue;
    }
    std::string op = n->opType();
    g.replaceAllUsesWith(m->out, m->in);
    g.eraseNode(n);
    r.count(op + " removed");
    r.changed = true;
  }
  g.collectGarbage();
}

}  // namespace

PassResult EliminateNoop::run(ir::Model& model, PassContext&) {
  PassResult r;
  eliminate(*model.graph, model.opsetFor("").value_or(1), r);
  return r;
}

PassInfo eliminateNoopInfo() {
  return PassInfo{"eliminate-noop",
                  "remove Identity, inference Dropout, and Cast/Reshape/Transpose that do not change their input",
                  {},
                  [](const PassOptions&) { return std::make_unique<EliminateNoop>(); }};
}

}  // namespace effdl::passes
