// --quantize-latency-guard: times each quantized layer in effdl's runtime, int8 against float, on
// the shapes seen during calibration, and says which layers to keep float. Timings vary between
// runs and machines, so the decisions are written into the model's metadata and the report, and
// a report can be replayed (`effdl optimize --decisions REPORT.json`) to give the same bytes again.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "passes/pass.h"

namespace effdl::passes::quant {

struct LayerTiming {
  double fp32Ms = 0, int8Ms = 0;
};
// Times one layer given a run of each variant; the default interleaves them and takes the fastest.
// Tests inject their own to force a layer slower.
using LayerTimer = std::function<LayerTiming(const std::string& layer, const std::function<void()>& runFp32,
                                             const std::function<void()>& runInt8)>;
LayerTiming fastestTiming(const std::string& layer, const std::function<void()>& runFp32,
                          const std::function<void()>& runInt8);

struct GuardLayer {
  std::string name;          // as in the report: the node's name, else its output's
  const ir::Node* core;      // Conv/ConvTranspose/Gemm/MatMul
  const ir::Node* folded;    // the Relu/Clip folded into its output range, or null
};

struct GuardOptions {
  double margin = 0.05;  // int8 stays only when at least this fraction faster
  int threads = 0;
  LayerTimer timer;            // empty: fastestTiming
  std::string decisionsFile;   // non-empty: replay this report's decisions instead of timing
};

// Decides for each of `layers` whether it stays int8: times its one-layer model (float, activation
// inputs of the shapes in `shapes`, keyed by value name) against the int8 twin `quantizeLayer`
// makes of it, or replays the decisions of `o.decisionsFile`. Records the decisions in `r` (a note
// naming the reverted layers with their times; layer columns fp32_ms, int8_ms, reverted) and in
// the model's metadata "effdl.quantize.latency_guard". Returns, per layer, whether to keep float.
std::vector<bool> guardLayers(ir::Model& model, const std::vector<GuardLayer>& layers,
                              const std::map<std::string, std::vector<int64_t>>& shapes,
                              const std::function<void(ir::Model&)>& quantizeLayer, const GuardOptions& o,
                              PassResult& r);

// Layer name -> keep float, read from an `effdl optimize` JSON report of a guarded run (the
// quantize pass's "reverted" layer column). Throws kUsage/kIo naming the file.
std::map<std::string, bool> readGuardDecisions(const std::string& reportFile);

}  // namespace effdl::passes::quant
