// ir::Model → ONNX file. Writes through a temp file + rename; large weights (or all, when asked)
// go to an external-data file beside the output.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "ir/graph.h"

namespace onnx {
class ModelProto;
}

namespace effdl::ir {

enum class ExternalDataMode { kAuto, kAlways, kNever };

struct SaveOptions {
  // kAuto: external data only when the weights would push the file past protobuf's 2 GiB limit.
  ExternalDataMode externalData = ExternalDataMode::kAuto;
  // File name (in the output's folder) of the external data; default "<output name>.data".
  std::string externalDataName;
  // With external data, tensors smaller than this stay inside the model file.
  uint64_t externalMinBytes = 1024;
};

struct SaveResult {
  uint64_t modelBytes = 0;
  uint64_t externalBytes = 0;
  std::filesystem::path externalPath;  // empty when no external data was written
};

SaveResult saveModel(const Model& model, const std::filesystem::path& path, const SaveOptions& options = {});

// How tensor payloads appear in an exported proto.
enum class TensorPayload {
  kFull,        // all bytes copied into raw_data
  kOmitLarge,   // large tensors become external placeholders: enough for checker/shape inference
};
void modelToProto(const Model& model, onnx::ModelProto* out, TensorPayload payload = TensorPayload::kFull);

// Serialized model bytes (small models: tests, fuzzing, --verify).
std::string serializeModel(const Model& model);

}  // namespace effdl::ir
