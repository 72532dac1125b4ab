// What the loader is allowed to do with an untrusted model: limits and opt-ins.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace effdl::ir {

// Range of ONNX versions this build of effdl (libonnx 1.12) understands. Kept as data so a
// newer libonnx can be swapped in without touching the passes.
struct SupportedVersions {
  int64_t maxIrVersion = 8;
  int64_t maxDefaultOpset = 17;
  int64_t maxMlOpset = 3;
  int64_t minDefaultOpset = 1;
};
const SupportedVersions& supportedVersions();

struct LoadOptions {
  // Symbolic input dims bound to a value before shape inference (--dim name=value).
  std::vector<std::pair<std::string, int64_t>> dimBindings;
  // Binds every other symbolic input dim to this value (inspect's FLOPs and memory need numbers).
  // Bound dims keep their name in Dim::param, so reports can still show them as symbolic.
  std::optional<int64_t> defaultDimValue;
  bool runChecker = true;
  bool inferShapes = true;
  // Parse the protobuf from the file's map (in chunks whose pages are dropped once parsed) rather
  // than through read() into a block buffer: optimize's load-back of a 256 MiB inline output took
  // about half the time.
  bool parseFromMap = false;
  // External data may resolve (through symlinks) inside this folder too (--allow-data-root).
  std::optional<std::filesystem::path> allowDataRoot;
  // Largest tensor effdl materialises itself (typed-field conversion, densified sparse data).
  // 0: derived from the machine's RAM.
  uint64_t maxTensorBytes = 0;
  int maxSubgraphDepth = 32;
};

uint64_t defaultMaxTensorBytes();

}  // namespace effdl::ir
