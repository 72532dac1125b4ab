#include "ir/rank_preinference.h"

#include <onnx/shape_inference/implementation.h>

#include <cstring>
#include <map>
#include <optional>
#include <set>

namespace effdl::ir {
namespace {

// Weights up to this size keep their bytes: shape tensors (Reshape, Expand, …) are small, and
// data propagation needs their values.
constexpr size_t kKeepPayloadBytes = 64 * 1024;

void copyTensorSkeleton(const onnx::TensorProto& t, onnx::TensorProto* out) {
  if (static_cast<size_t>(t.ByteSizeLong()) <= kKeepPayloadBytes) {
    *out = t;
    return;
  }
  out->set_name(t.name());
  out->set_data_type(t.data_type());
  *out->mutable_dims() = t.dims();
  out->set_data_location(onnx::TensorProto::EXTERNAL);
  auto* e = out->add_external_data();
  e->set_key("location");
  e->set_value("effdl-skeleton-placeholder");
}

void skeletonGraph(const onnx::GraphProto& g, onnx::GraphProto* out) {
  out->set_name(g.name());
  *out->mutable_input() = g.input();
  // Declared output types and value_info are left out: the Identity stand-ins infer other dims and
  // element types than their op (same rank), and a clash would end the inference early, leaving
  // no ranks to check (a Gemm stand-in passing float where uint16 was declared; found by fuzz_model).
  *out->mutable_output() = g.output();
  for (auto& o : *out->mutable_output()) o.clear_type();
  for (const auto& t : g.initializer()) copyTensorSkeleton(t, out->add_initializer());
  std::vector<onnx::NodeProto> extra;
  for (const auto& n : g.node()) {
    auto* c = out->add_node();
    if ((inferenceTrustsRanks(n) || inferenceLoopsOverDims(n)) && n.input_size() > 0 && !n.input(0).empty()) {
      // An Identity per output: a SAME-padded MaxPool's Indices must not reach libonnx's padding
      // loop either. Stand-ins for outputs past the first go after the graph's nodes, so that
      // node i still matches node i of the original (collect() walks subgraphs by index).
      for (int o = 0; o < n.output_size(); ++o) {
        if (n.output(o).empty() && o > 0) continue;
        auto* id = o == 0 ? c : &extra.emplace_back();
        id->set_op_type("Identity");
        id->set_name(o == 0 ? n.name() : n.name() + "/output" + std::to_string(o));
        id->add_input(n.input(0));
        id->add_output(n.output(o).empty() ? n.name() + "/effdl-omitted-output" : n.output(o));
      }
      continue;
    }
    c->set_op_type(n.op_type());
    c->set_domain(n.domain());
    c->set_name(n.name());
    *c->mutable_input() = n.input();
    *c->mutable_output() = n.output();
    for (const auto& a : n.attribute()) {
      auto* ca = c->add_attribute();
      if (a.has_g()) {
        ca->set_name(a.name());
        ca->set_type(a.type());
        skeletonGraph(a.g(), ca->mutable_g());
      } else if (a.graphs_size() > 0) {
        ca->set_name(a.name());
        ca->set_type(a.type());
        for (const auto& sg : a.graphs()) skeletonGraph(sg, ca->add_graphs());
      } else {
        *ca = a;
      }
    }
  }
  for (auto& e : extra) *out->add_node() = std::move(e);
}

std::optional<std::vector<int64_t>> dimsOfType(const onnx::TypeProto& t) {
  if (!t.has_tensor_type() || !t.tensor_type().has_shape()) return std::nullopt;
  std::vector<int64_t> dims;
  for (const auto& d : t.tensor_type().shape().dim()) dims.push_back(d.has_dim_value() ? d.dim_value() : -1);
  return dims;
}

// Walks the original and the inferred skeleton in step (same structure) and records ranks.
void collect(const onnx::GraphProto& original, const onnx::GraphProto& inferred, ShapeTable& table) {
  auto& shapes = table[&original];
  for (const auto* list : {&inferred.input(), &inferred.output(), &inferred.value_info()})
    for (const auto& v : *list)
      if (auto d = dimsOfType(v.type())) shapes.emplace(v.name(), std::move(*d));
  for (const auto& t : inferred.initializer()) shapes.emplace(t.name(), std::vector<int64_t>(t.dims().begin(), t.dims().end()));
  if (inferred.node_size() < original.node_size()) return;  // stand-ins for extra outputs come last
  for (int i = 0; i < original.node_size(); ++i) {
    const auto& on = original.node(i);
    const auto& in = inferred.node(i);
    if (on.attribute_size() != in.attribute_size()) continue;
    for (int k = 0; k < on.attribute_size(); ++k) {
      const auto& oa = on.attribute(k);
      const auto& ia = in.attribute(k);
      if (oa.has_g() && ia.has_g()) collect(oa.g(), ia.g(), table);
      for (int j = 0; j < oa.graphs_size() && j < ia.graphs_size(); ++j) collect(oa.graphs(j), ia.graphs(j), table);
    }
  }
}

}  // namespace

bool inferenceTrustsRanks(const onnx::NodeProto& n) {
  static const std::set<std::string> ops = {"Gemm",          "Conv",        "ConvInteger",
                                            "ConvTranspose", "QLinearConv", "LayerNormalization"};
  return (n.domain().empty() || n.domain() == "ai.onnx") && ops.count(n.op_type()) > 0;
}

bool inferenceLoopsOverDims(const onnx::NodeProto& n) {
  static const std::set<std::string> ops = {"Conv",    "ConvInteger", "ConvTranspose", "QLinearConv",
                                            "MaxPool", "AveragePool", "LpPool"};
  if (!(n.domain().empty() || n.domain() == "ai.onnx") || !ops.count(n.op_type())) return false;
  for (const auto& a : n.attribute())
    if (a.name() == "auto_pad") return a.s() == "SAME_UPPER" || a.s() == "SAME_LOWER";
  return false;
}

ShapeTable preinferShapes(const onnx::ModelProto& proto, bool dataPropagation) {
  onnx::ModelProto sk;
  sk.set_ir_version(proto.ir_version());
  *sk.mutable_opset_import() = proto.opset_import();
  *sk.mutable_functions() = proto.functions();
  skeletonGraph(proto.graph(), sk.mutable_graph());
  ShapeTable table;
  try {
    onnx::ShapeInferenceOptions opts(/*check_type=*/false, /*error_mode=*/0, dataPropagation);
    onnx::shape_inference::InferShapes(sk, onnx::OpSchemaRegistry::Instance(), opts);
  } catch (const std::exception&) {
    return table;
  }
  collect(proto.graph(), sk.graph(), table);
  return table;
}

// libonnx 1.12's data propagation evaluates Slice on shape values itself and crashes on extreme
// steps (INT64_MAX: segfault; INT64_MIN: a huge allocation). Use it only when every Slice's steps
// are absent or small constants, and no empty integer vector is constant.
bool dataPropagationSafe(const onnx::GraphProto& g) {
  std::map<std::string, const onnx::TensorProto*> consts;
  for (const auto& t : g.initializer()) consts[t.name()] = &t;
  for (const auto& n : g.node())
    if (n.op_type() == "Constant" && n.output_size() == 1)
      for (const auto& a : n.attribute())
        if (a.name() == "value" && a.has_t()) consts[n.output(0)] = &a.t();
  // It also reads an empty int32/int64 vector as a scalar (a Concat of one with a shape fails
  // "axis must be in [-rank, rank-1]"): cleanup folds a Slice past a shape's end into one.
  for (const auto& [name, t] : consts)
    if ((t->data_type() == onnx::TensorProto::INT64 || t->data_type() == onnx::TensorProto::INT32) &&
        t->dims_size() == 1 && t->dims(0) == 0)
      return false;
  for (const auto& n : g.node()) {
    if (n.op_type() == "Constant")
      for (const auto& a : n.attribute())
        if (a.name() == "value_ints" && a.ints_size() == 0) return false;
    for (const auto& a : n.attribute()) {
      if (a.has_g() && !dataPropagationSafe(a.g())) return false;
      for (const auto& sg : a.graphs())
        if (!dataPropagationSafe(sg)) return false;
    }
    if (n.op_type() != "Slice" || n.input_size() < 5 || n.input(4).empty()) continue;
    auto it = consts.find(n.input(4));
    if (it == consts.end()) return false;
    const onnx::TensorProto& t = *it->second;
    const int64_t count = t.has_raw_data() ? static_cast<int64_t>(t.raw_data().size() / 8) : t.int64_data_size();
    if (t.data_type() != onnx::TensorProto::INT64) return false;
    for (int64_t i = 0; i < count; ++i) {
      int64_t v;
      if (t.has_raw_data()) std::memcpy(&v, t.raw_data().data() + i * 8, 8);
      else v = t.int64_data(static_cast<int>(i));
      if (v == 0 || v > (int64_t{1} << 31) || v < -(int64_t{1} << 31)) return false;
    }
  }
  return true;
}

}  // namespace effdl::ir
