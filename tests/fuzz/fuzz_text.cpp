// Fuzz target (b): ONNX text syntax (onnx::OnnxParser) → effdl's loader → a runtime Session →
// one run on seeded inputs. Symbolic dims are bound small and inputs above kMaxInputElements
// are not run, so one input stays cheap; Loops are compiled but not run (a trip count of 10^9
// is a valid model, and a time-out would hide real findings).
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/checked_math.h"
#include "core/error.h"
#include "fuzz_limits.h"
#include "ir/onnx_import.h"
#include "runtime/random_inputs.h"
#include "runtime/session.h"

namespace {

bool hasOp(const effdl::ir::Graph& g, const std::string& op) {
  for (const effdl::ir::Node* n : g.nodes()) {
    if (n->opType() == op) return true;
    for (const auto& a : n->attributes()) {
      if (a.g && hasOp(*a.g, op)) return true;
      for (const auto& sg : a.graphs)
        if (hasOp(*sg, op)) return true;
    }
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace effdl;
  fuzz::applyLimits();
  const std::string text(reinterpret_cast<const char*>(data), size);
  ir::LoadOptions options;
  options.maxTensorBytes = fuzz::kMaxTensorBytes;
  options.defaultDimValue = fuzz::kSymbolicDim;
  try {
    auto model = ir::loadModelFromText(text, options);
    runtime::Session session(*model, runtime::SessionOptions{1});
    if (hasOp(*model->graph, "Loop") || hasOp(*model->graph, "Scan")) return 0;
    runtime::RandomInputOptions ro;
    ro.seed = 1;
    auto inputs = runtime::makeRandomInputs(*model, ro);
    std::vector<runtime::NamedInput> named;
    for (const auto& [name, t] : inputs) {
      auto n = checkedElementCount(t.dims());
      if (!n || *n > fuzz::kMaxInputElements) return 0;
      named.push_back({name, &t});
    }
    session.run(named);
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::kInternal) {
      std::fprintf(stderr, "fuzz_text: internal error: %s\n", e.what());
      std::abort();
    }
    fuzz::noteError("fuzz_text", e.what());
  }
  return 0;
}
