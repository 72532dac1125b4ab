// Structural checks of an untrusted ModelProto that must happen before the ONNX checker, shape
// inference or our importer touch it: versions, subgraph depth, function-call cycles, and every
// tensor's dims, dtype and payload size (checked arithmetic).
#pragma once

#include <cstdint>
#include <string>

#include "ir/load_options.h"

namespace onnx {
class ModelProto;
class TensorProto;
class SparseTensorProto;
}  // namespace onnx

namespace effdl::ir {

// Throws kInvalidModel / kUnsupported with `display` (the file name) in the message.
void validateModelProto(const onnx::ModelProto& model, const std::string& display, const LoadOptions& options);

// Bytes the tensor's dims and dtype call for; throws when dims are negative, the product
// overflows, the dtype is unknown, or the payload (raw or typed field) does not match.
// External tensors are checked for a well-formed reference only (the file is checked on load).
uint64_t validateTensor(const onnx::TensorProto& t, const std::string& where);
void validateSparseTensor(const onnx::SparseTensorProto& t, const std::string& where);

}  // namespace effdl::ir
