// Fuzz target (a): untrusted bytes through everything `effdl inspect` and `effdl optimize` do:
// load (protobuf limits, validation, external data, checker, shape inference) → inspect's
// statistics and JSON report → the default optimize pipeline → serialize → load again.
// An effdl::Error is the expected answer to a bad input; anything else (a crash, a sanitizer
// report, another exception, an internal error, a saved model that does not load) is a bug.
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "analysis/model_stats.h"
#include "core/error.h"
#include "fuzz_limits.h"
#include "ir/onnx_export.h"
#include "ir/onnx_import.h"
#include "passes/pipeline.h"
#include "report/inspect_report.h"
#include "runtime/run_failure.h"

namespace {

// External data resolves against this folder, which holds no files.
const std::filesystem::path& emptyDir() {
  static const std::filesystem::path dir = [] {
    auto p = std::filesystem::temp_directory_path() / "effdl-fuzz-empty";
    std::filesystem::create_directories(p);
    return p;
  }();
  return dir;
}

[[noreturn]] void bug(const char* stage, const std::string& what) {
  std::fprintf(stderr, "fuzz_model: %s: %s\n", stage, what.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace effdl;
  fuzz::applyLimits();
  ir::LoadOptions options;
  options.maxTensorBytes = fuzz::kMaxTensorBytes;
  options.defaultDimValue = fuzz::kSymbolicDim;
  std::unique_ptr<ir::Model> model;
  try {
    model = ir::loadModelFromBytes(data, size, emptyDir(), "fuzz.onnx", options);
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::kInternal) bug("load", e.what());
    fuzz::noteError("load", e.what());
    return 0;
  }
  const char* stage = "inspect";
  try {
    report::InspectReport r;
    r.path = "fuzz.onnx";
    r.stats = analysis::computeModelStats(*model);
    std::ostringstream os;
    report::renderInspectJson(r, os);
    report::renderInspectText(r, os);

    stage = "optimize";
    passes::PassContext ctx;
    ctx.limits = options;
    passes::runPipeline(*model, passes::parsePipelineSpec("cleanup,fold-batchnorm,cleanup"), ctx);
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::kInternal) bug(stage, e.what());
    fuzz::noteError(stage, e.what());
    return 0;
  }
  // What effdl writes must load again.
  std::string bytes;
  try {
    bytes = ir::serializeModel(*model);
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::kInternal) bug("save", e.what());
    fuzz::noteError("save", e.what());
    return 0;
  }
  try {
    ir::loadModelFromBytes(bytes.data(), bytes.size(), emptyDir(), "fuzz.opt.onnx", options);
  } catch (const Error& e) {
    // Allowed only when the input itself fails when run (effdl optimize then says so, exit 2).
    auto input = ir::loadModelFromBytes(data, size, emptyDir(), "fuzz.onnx", options);
    if (auto why = runtime::invalidWhenRun(*input)) {
      fuzz::noteError("run", why->c_str());
      return 0;
    }
    bug("reload of the optimized model", e.what());
  }
  return 0;
}
