// classifyType: parses the TypeProto the IR keeps for non-tensor types.
#include "runtime/value_types.h"

#include <onnx/onnx_pb.h>

namespace effdl::runtime {
namespace {

bool isTensorType(const onnx::TypeProto& t) { return t.has_tensor_type(); }

}  // namespace

TypeClass classifyType(const ir::ValueType& t) {
  switch (t.kind) {
    case ir::ValueType::Kind::kTensor:
    case ir::ValueType::Kind::kUnknown: return TypeClass::kTensor;
    case ir::ValueType::Kind::kSparseTensor: return TypeClass::kUnsupported;
    case ir::ValueType::Kind::kOther: break;
  }
  onnx::TypeProto p;
  if (!p.ParseFromString(t.opaque)) return TypeClass::kUnsupported;
  if (p.has_sequence_type())
    return isTensorType(p.sequence_type().elem_type()) ? TypeClass::kSequence : TypeClass::kUnsupported;
  if (p.has_optional_type()) {
    const onnx::TypeProto& e = p.optional_type().elem_type();
    if (isTensorType(e) || (e.has_sequence_type() && isTensorType(e.sequence_type().elem_type())))
      return TypeClass::kOptional;
  }
  return TypeClass::kUnsupported;
}

}  // namespace effdl::runtime
