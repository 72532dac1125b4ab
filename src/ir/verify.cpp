// Checker + shape inference on an exported copy of the model.
#include "ir/verify.h"

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include "core/error.h"
#include "ir/onnx_export.h"

namespace effdl::ir {
namespace {
std::string firstLine(const std::string& s) { return s.substr(0, s.find('\n')); }
}  // namespace

void verifyModel(const Model& model, bool strict) {
  onnx::ModelProto proto;
  modelToProto(model, &proto, TensorPayload::kFull);
  try {
    onnx::ShapeInferenceOptions opts(/*check_type=*/strict, /*error_mode=*/strict ? 1 : 0, /*data_prop=*/true);
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

}  // namespace effdl::ir
