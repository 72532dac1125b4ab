// Constant nodes → initializers; see the header.
#include "passes/cleanup/constants_to_initializers.h"

#include <optional>

namespace effdl::passes {
namespace {

bool isDefaultDomain(const std::string& d) { return d.empty() || d == "ai.onnx"; }

// The Constant's value as a dense tensor, or nullopt with the reason it is kept.
std::optional<ir::Tensor> constantValue(const ir::Node& n, std::string& why) {
  if (n.attributes().size() != 1) {
    why = "Constant without exactly one value attribute";
    return std::nullopt;
  }
  const ir::Attribute& a = n.attributes()[0];
  if (!a.refAttrName.empty()) {
    why = "Constant value refers to a function attribute";
    return std::nullopt;
  }
  using ir::AttrType;
  using ir::DataType;
  auto dims1 = [](size_t n) { return std::vector<int64_t>{static_cast<int64_t>(n)}; };
  if (a.name == "sparse_value") {
    why = "sparse Constant kept";
    return std::nullopt;
  }
  if (a.name == "value" && a.type == AttrType::kTensor) return a.t;
  if (a.name == "value_float" && a.type == AttrType::kFloat)
    return ir::Tensor::fromVector(DataType::kFloat, {}, std::vector<float>{a.f});
  if (a.name == "value_floats" && a.type == AttrType::kFloats)
    return ir::Tensor::fromVector(DataType::kFloat, dims1(a.floats.size()), a.floats);
  if (a.name == "value_int" && a.type == AttrType::kInt)
    return ir::Tensor::fromVector(DataType::kInt64, {}, std::vector<int64_t>{a.i});
  if (a.name == "value_ints" && a.type == AttrType::kInts)
    return ir::Tensor::fromVector(DataType::kInt64, dims1(a.ints.size()), a.ints);
  if (a.name == "value_string" && a.type == AttrType::kString) return ir::Tensor::fromStrings({}, {a.s});
  if (a.name == "value_strings" && a.type == AttrType::kStrings)
    return ir::Tensor::fromStrings(dims1(a.strings.size()), a.strings);
  why = "Constant attribute not understood";
  return std::nullopt;
}

struct Conversion {
  ir::Node* node;
  ir::Tensor value;
  std::string name;
  ir::Value* temporary = nullptr;
};

void convert(ir::Graph& g, PassResult& r) {
  for (ir::Node* n : g.nodes()) {
    for (auto& a : n->attributes()) {
      if (a.g) convert(*a.g, r);
      for (auto& sg : a.graphs) convert(*sg, r);
    }
  }
  std::vector<Conversion> todo;
  for (ir::Node* n : g.nodes()) {
    if (n->opType() != "Constant" || !isDefaultDomain(n->domain())) continue;
    ir::Value* out = n->output(0);
    if (!out) continue;
    std::string why;
    std::optional<ir::Tensor> value = constantValue(*n, why);
    if (!value) {
      r.decline(why);
      continue;
    }
    if (out->isGraphOutput()) {
      r.decline("Constant output is a graph output");
      continue;
    }
    todo.push_back(Conversion{n, std::move(*value), out->name()});
  }
  if (todo.empty()) return;

  // The initializer takes the Constant output's name, which stays taken until that value is
  // collected; so the uses go to a temporary initializer first and then to the final one.
  // Batched, so that a model with thousands of Constants is collected twice, not per Constant.
  for (Conversion& c : todo) {
    c.temporary = g.addInitializer(c.name, c.value, /*fresh=*/true);
    g.replaceAllUsesWith(c.node->output(0), c.temporary);
    g.eraseNode(c.node);
  }
  g.collectGarbage();
  for (Conversion& c : todo) {
    c.value.setName(c.name);
    ir::Value* init = g.addInitializer(c.name, std::move(c.value));
    g.replaceAllUsesWith(c.temporary, init);
    g.removeInitializer(c.temporary);
    g.names().remove(c.temporary->name());
    r.count("constants converted");
  }
  g.collectGarbage();
}

}  // namespace

PassResult ConstantsToInitializers::run(ir::Model& model, PassContext&) {
  PassResult r;
  // Before IR 4 initializers were also graph inputs; the writer raises such a model to IR 4.
  convert(*model.graph, r);
  r.changed = r.counter("constants converted") > 0;
  return r;
}

PassInfo constantsToInitializersInfo() {
  return PassInfo{"constants-to-initializers",
                  "turn Constant nodes into initializers (sparse Constants and graph outputs are kept)",
                  {},
                  [](const PassOptions&) { return std::make_unique<ConstantsToInitializers>(); }};
}

}  // namespace effdl::passes
