// Checker + shape inference on an exported copy of the model.
#include "ir/verify.h"

#include <map>

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include "core/error.h"
#include "ir/onnx_export.h"
#include "ir/rank_preinference.h"

namespace effdl::ir {
namespace {
std::string firstLine(const std::string& s) { return s.substr(0, s.find('\n')); }

std::string shapeText(const onnx::TypeProto& t) {
  const auto& s = t.tensor_type().shape();
  std::string out = "[";
  for (int i = 0; i < s.dim_size(); ++i) {
    if (i) out += ",";
    const auto& d = s.dim(i);
    out += d.has_dim_value() ? std::to_string(d.dim_value()) : d.has_dim_param() ? d.dim_param() : "?";
  }
  return out + "]";
}

// True when both shapes are known and cannot describe the same tensor.
bool contradicts(const onnx::TypeProto& declared, const onnx::TypeProto& inferred) {
  if (!declared.has_tensor_type() || !inferred.has_tensor_type()) return false;
  if (!declared.tensor_type().has_shape() || !inferred.tensor_type().has_shape()) return false;
  const auto& a = declared.tensor_type().shape();
  const auto& b = inferred.tensor_type().shape();
  if (a.dim_size() != b.dim_size()) return true;
  for (int i = 0; i < a.dim_size(); ++i)
    if (a.dim(i).has_dim_value() && b.dim(i).has_dim_value() && a.dim(i).dim_value() != b.dim(i).dim_value())
      return true;
  return false;
}
}  // namespace

void verifyModel(const Model& model, bool strict) {
  onnx::ModelProto proto;
  modelToProto(model, &proto, TensorPayload::kFull);
  try {
    onnx::ShapeInferenceOptions opts(/*check_type=*/strict, /*error_mode=*/strict ? 1 : 0,
                                     /*data_prop=*/dataPropagationSafe(proto.graph()));
    onnx::shape_inference::InferShapes(proto, onnx::OpSchemaRegistry::Instance(), opts);
  } catch (const std::exception& e) {
    throwInvalid("shape inference: " + firstLine(e.what()));
  }
  try {
    onnx::checker::check_model(proto);
  } catch (const std::exception& e) {
    throwInvalid("ONNX checker: " + firstLine(e.what()));
  }
}

namespace {
// libonnx's message when an inferred type clashes with a declared one (its shape, element type
// or kind: a sparse tensor declared for a Split's dense output, found by fuzz_model): the
// declaration's fault. Other failures are left to the reload (a pass's bug, or what the loader
// reports).
void blameDeclaredTypes(const std::string& what) {
  if (what.find("existing shape differ") == std::string::npos &&
      what.find("differs from existing elem type") == std::string::npos &&
      what.find("type case mismatch") == std::string::npos)
    return;
  throwInvalid("the model's declared shapes or types contradict each other once the graph is simplified (" + what +
               "): a declared graph output or value_info type is wrong");
}
}  // namespace

void checkDeclaredShapes(const Model& model) {
  onnx::ModelProto proto;
  modelToProto(model, &proto, TensorPayload::kOmitLarge);
  // The loader's own inference, on the model as it will be saved (declared shapes kept).
  onnx::ModelProto asSaved = proto;
  auto* g = proto.mutable_graph();
  // Declared shapes are taken out, inferred without them, and compared with what was declared.
  std::map<std::string, onnx::TypeProto> declared;
  for (auto& o : *g->mutable_output()) {
    if (!o.type().has_tensor_type()) continue;
    declared[o.name()] = o.type();
    o.mutable_type()->mutable_tensor_type()->clear_shape();
  }
  for (const auto& v : g->value_info()) declared.emplace(v.name(), v.type());
  g->clear_value_info();
  try {
    onnx::ShapeInferenceOptions opts(/*check_type=*/false, /*error_mode=*/0, /*data_prop=*/false);
    onnx::shape_inference::InferShapes(proto, onnx::OpSchemaRegistry::Instance(), opts);
  } catch (const std::exception& e) {
    blameDeclaredTypes(firstLine(e.what()));  // a declared element type clashes already
    return;
  }
  auto check = [&](const onnx::ValueInfoProto& v, const char* what) {
    auto it = declared.find(v.name());
    if (it == declared.end() || !contradicts(it->second, v.type())) return;
    throwInvalid(std::string("the model declares ") + what + " '" + v.name() + "' with shape " +
                 shapeText(it->second) + ", but it computes " + shapeText(v.type()) +
                 " once constants are folded: the declared shape is wrong");
  };
  for (const auto& o : g->output()) check(o, "graph output");
  for (const auto& v : g->value_info()) check(v, "value");
  // A declared shape also reaches the nodes that read its value: once cleanup removes
  // `out = Identity(x)`, x's other readers read `out` and its declared shape, which the input
  // model never showed them (found by fuzz_model: a NegativeLogLikelihoodLoss whose declared
  // input and output shapes disagree).
  try {
    onnx::ShapeInferenceOptions opts(/*check_type=*/false, /*error_mode=*/0,
                                     /*data_prop=*/dataPropagationSafe(asSaved.graph()));
    onnx::shape_inference::InferShapes(asSaved, onnx::OpSchemaRegistry::Instance(), opts);
  } catch (const std::exception& e) {
    blameDeclaredTypes(firstLine(e.what()));
  }
}

}  // namespace effdl::ir
