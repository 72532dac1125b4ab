// Tensor files by extension, and ONNX test-data folders (see tensor_file.h).
#include "io/tensor_file.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <system_error>

#include "core/error.h"
#include "io/byte_limit.h"
#include "io/npy.h"
#include "io/npz.h"
#include "io/tensor_proto_file.h"

namespace fs = std::filesystem;

namespace effdl::io {
namespace {

// More digits than this is no test-data numbering, and would overflow.
constexpr size_t kMaxIndexDigits = 9;

}  // namespace

std::optional<TensorFileFormat> tensorFileFormat(const fs::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  if (ext == ".npy") return TensorFileFormat::kNpy;
  if (ext == ".npz") return TensorFileFormat::kNpz;
  if (ext == ".pb") return TensorFileFormat::kTensorProto;
  return std::nullopt;
}

std::vector<NamedTensor> readTensorFile(const fs::path& path, uint64_t maxBytes) {
  auto format = tensorFileFormat(path);
  if (!format)
    throwUsage(path.string() + ": unknown tensor file type '" + path.extension().string() +
               "' (effdl reads .npy, .npz and .pb)");
  switch (*format) {
    case TensorFileFormat::kNpy: {
      std::vector<NamedTensor> out;
      out.push_back({path.stem().string(), readNpy(path, maxBytes)});
      return out;
    }
    case TensorFileFormat::kNpz: return readNpz(path, maxBytes);
    case TensorFileFormat::kTensorProto: {
      std::vector<NamedTensor> out;
      out.push_back(readTensorProto(path, maxBytes));
      return out;
    }
  }
  throwInternal(path.string() + ": unhandled tensor file format");
}

void writeTensorFile(const fs::path& path, const std::vector<NamedTensor>& tensors) {
  auto format = tensorFileFormat(path);
  if (!format)
    throwUsage(path.string() + ": unknown tensor file type '" + path.extension().string() +
               "' (effdl writes .npy, .npz and .pb)");
  if (*format != TensorFileFormat::kNpz && tensors.size() != 1)
    throwUsage(path.string() + ": a " + path.extension().string() + " file holds exactly one tensor, not " +
               std::to_string(tensors.size()) + " (use .npz for several)");
  switch (*format) {
    case TensorFileFormat::kNpy: return writeNpy(path, tensors[0].tensor);
    case TensorFileFormat::kNpz: return writeNpz(path, tensors);
    case TensorFileFormat::kTensorProto: return writeTensorProto(path, tensors[0]);
  }
}

std::vector<fs::path> listOnnxTestDataFiles(const fs::path& folder, std::string_view prefix) {
  const std::string head = std::string(prefix) + "_";
  std::map<uint64_t, fs::path> byIndex;
  std::error_code ec;
  fs::directory_iterator it(folder, ec);
  if (ec) throwIo(folder.string() + ": cannot list the folder: " + ec.message());
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!name.starts_with(head) || !name.ends_with(".pb")) continue;
    const std::string digits = name.substr(head.size(), name.size() - head.size() - 3);
    if (digits.empty() || !std::all_of(digits.begin(), digits.end(), [](unsigned char c) { return std::isdigit(c); }))
      continue;  // input_x.pb and the like are not test data
    if (digits.size() > kMaxIndexDigits || (digits.size() > 1 && digits[0] == '0'))
      throwInvalid(it->path().string() + ": test-data files are numbered " + head + "0.pb, " + head +
                   "1.pb, … (no leading zeros, at most " + std::to_string(kMaxIndexDigits) + " digits)");
    byIndex[std::stoull(digits)] = it->path();
  }
  if (ec) throwIo(folder.string() + ": cannot list the folder: " + ec.message());
  std::vector<fs::path> out;
  for (const auto& [index, path] : byIndex) {
    if (index != out.size())
      throwInvalid(folder.string() + ": " + head + std::to_string(out.size()) + ".pb is missing (the folder has " +
                   path.filename().string() + ")");
    out.push_back(path);
  }
  return out;
}

OnnxTestDataSet readOnnxTestDataSet(const fs::path& folder, uint64_t maxBytes) {
  auto inputs = listOnnxTestDataFiles(folder, "input");
  auto outputs = listOnnxTestDataFiles(folder, "output");
  if (inputs.empty() && outputs.empty())
    throwUsage(folder.string() + ": not an ONNX test-data folder (no input_N.pb or output_N.pb files)");
  OnnxTestDataSet set;
  uint64_t used = 0;
  auto readAll = [&](const std::vector<fs::path>& files, std::vector<NamedTensor>& into) {
    for (const auto& f : files) {
      into.push_back(readTensorProto(f, maxBytes - used));
      used += materializedBytes(into.back().tensor);
    }
  };
  readAll(inputs, set.inputs);
  readAll(outputs, set.outputs);
  return set;
}

}  // namespace effdl::io
