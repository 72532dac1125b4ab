// Resolves ONNX external-data references safely: the location must stay inside the model's folder
// (no absolute path, no "..", no symlink out, no hard link to a file elsewhere) and the byte
// range must lie inside the file. Each file is memory-mapped once and shared by its tensors.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "core/mapped_file.h"

namespace effdl::ir {

struct ExternalDataRef {
  std::string location;
  std::optional<std::string> offset;  // as written in the file (validated as a decimal number)
  std::optional<std::string> length;
};

struct ExternalDataView {
  std::shared_ptr<MappedFile> file;
  uint64_t offset = 0;
  uint64_t length = 0;
  std::filesystem::path resolved;
};

class ExternalDataResolver {
 public:
  ExternalDataResolver(std::filesystem::path modelDir, std::optional<std::filesystem::path> allowRoot,
                       std::string displayName);
  // Throws kInvalidModel (bad reference, escape, wrong size) or kIo (missing/unreadable file).
  ExternalDataView resolve(const std::string& tensorName, const ExternalDataRef& ref, uint64_t expectedBytes);

 private:
  std::filesystem::path modelDir_;
  std::optional<std::filesystem::path> allowRoot_;
  std::string display_;
  std::map<std::filesystem::path, std::shared_ptr<MappedFile>> files_;
};

// Whether `p` (canonical) lies inside folder `root` (canonical), component-wise.
bool pathInside(const std::filesystem::path& p, const std::filesystem::path& root);

}  // namespace effdl::ir
