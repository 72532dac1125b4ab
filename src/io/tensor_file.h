// One entry point for tensor files, by extension: .npy (one tensor, named after the file stem),
// .npz (its members), .pb (one ONNX TensorProto, named by its name field); and the input_N.pb /
// output_N.pb folders of ONNX's test data.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string_view>
#include <vector>

#include "io/named_tensor.h"

namespace effdl::io {

enum class TensorFileFormat { kNpy, kNpz, kTensorProto };

// The format an extension names (.npy, .npz, .pb, in any case); nullopt for anything else.
std::optional<TensorFileFormat> tensorFileFormat(const std::filesystem::path& path);

// Reads every tensor in `path`; `maxBytes` bounds the tensor bytes materialized in total. Throws
// kUsage for an unknown extension, otherwise as readNpy / readNpz / readTensorProto.
std::vector<NamedTensor> readTensorFile(const std::filesystem::path& path, uint64_t maxBytes);

// Writes atomically. .npy and .pb take exactly one tensor (kUsage otherwise; a .npy does not
// store the name), .npz any number with unique names.
void writeTensorFile(const std::filesystem::path& path, const std::vector<NamedTensor>& tensors);

// The `prefix`_N.pb files of an ONNX test-data folder ("input" or "output"), ordered by N
// (input_2.pb before input_10.pb). Numbering must run 0, 1, … without a gap (kInvalidModel).
std::vector<std::filesystem::path> listOnnxTestDataFiles(const std::filesystem::path& folder, std::string_view prefix);

struct OnnxTestDataSet {
  std::vector<NamedTensor> inputs;   // input_0.pb, input_1.pb, …
  std::vector<NamedTensor> outputs;  // expected outputs, output_0.pb, …
};
// Reads a test_data_set_N folder. Tensor names are the protos' (ONNX's runner matches by
// position, so names may be empty). `maxBytes` bounds the total; kUsage when the folder holds
// no input_N.pb or output_N.pb file.
OnnxTestDataSet readOnnxTestDataSet(const std::filesystem::path& folder, uint64_t maxBytes);

}  // namespace effdl::io
