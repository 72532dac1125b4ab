// Fuzz target (c): the readers of files a user hands effdl besides models. The first byte picks
// the reader, the rest is the file: .npy, .npz, ONNX TensorProto .pb, a JSON recipe, a pipeline
// spec. An effdl::Error is the expected answer to a bad file; anything else is a bug.
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>

#include "core/error.h"
#include "fuzz_limits.h"
#include "io/npy.h"
#include "io/npz.h"
#include "io/tensor_proto_file.h"
#include "passes/pipeline.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace effdl;
  if (size == 0) return 0;
  fuzz::applyLimits();
  const std::span<const uint8_t> bytes(data + 1, size - 1);
  const std::string text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  try {
    switch (data[0] % 5) {
      case 0: io::readNpyBytes(bytes, "fuzz.npy", fuzz::kMaxTensorBytes); break;
      case 1: io::readNpzBytes(bytes, "fuzz.npz", fuzz::kMaxTensorBytes); break;
      case 2: io::readTensorProtoBytes(bytes, "fuzz.pb", fuzz::kMaxTensorBytes); break;
      case 3: passes::parseRecipeJson(text, "fuzz.json"); break;
      case 4: passes::parsePipelineSpec(text); break;
    }
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::kInternal) {
      std::fprintf(stderr, "fuzz_tensor_files: internal error: %s\n", e.what());
      std::abort();
    }
    fuzz::noteError("fuzz_tensor_files", e.what());
  }
  return 0;
}
