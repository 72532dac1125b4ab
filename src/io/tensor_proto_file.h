// ONNX TensorProto files (.pb): one serialized onnx.TensorProto, as in the input_N.pb /
// output_N.pb files of ONNX's test data. The tensor's name is the proto's name field.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>

#include "io/named_tensor.h"

namespace effdl::io {

// Reads and validates (dims, dtype, payload size) the tensor in `path`. Errors name the file:
// kIo when it cannot be opened, kInvalidModel when malformed, kUnsupported for a file that holds
// an onnx-data SequenceProto / OptionalProto / MapProto instead of a tensor, for external data,
// and when the tensor (or the parsed proto) would need more than `maxBytes`.
NamedTensor readTensorProto(const std::filesystem::path& path, uint64_t maxBytes);
// The same for bytes in memory; `display` names them in errors.
NamedTensor readTensorProtoBytes(std::span<const uint8_t> bytes, const std::string& display, uint64_t maxBytes);

// Writes `t` (raw_data, or string_data for strings) named `t.name`, atomically.
void writeTensorProto(const std::filesystem::path& path, const NamedTensor& t);

}  // namespace effdl::io
