// The quantization modes behind the `quantize` pass, and the options they share.
#pragma once

#include <set>
#include <string>

#include "ir/graph.h"
#include "passes/pass.h"
#include "passes/quantize/latency_guard.h"

namespace effdl::passes::quant {

enum class CalibMethod { kMinMax, kPercentile, kEntropy };

struct QuantizeOptions {
  std::string mode = "static";  // static | dynamic | weight-only | fp16
  CalibMethod calibMethod = CalibMethod::kPercentile;
  double percentile = 99.99;
  bool activationU8 = true;
  bool perChannel = true;
  bool reduceRange = false;
  bool keepIoFloat = false;
  int64_t blockSize = 0;
  int64_t autoExclude = 0;
  std::set<std::string> excludeNodes, excludeOpTypes;
  // static, dynamic: time each quantized layer int8 vs float and keep float where int8 is not
  // `guardMargin` faster; or, with `guardDecisions` (--decisions), replay an earlier run's report.
  bool latencyGuard = false;
  double guardMargin = 0.05;
  std::string guardDecisions;
  LayerTimer guardTimer;  // empty: fastestTiming (tests inject their own)
};

inline GuardOptions guardOptions(const QuantizeOptions& o, const PassContext& ctx) {
  return GuardOptions{o.guardMargin, ctx.threads, o.guardTimer, o.guardDecisions};
}

// Which nodes the user left eligible (--quantize-exclude-nodes, -exclude-op-types, -keep-io-float).
class NodeFilter {
 public:
  explicit NodeFilter(const QuantizeOptions& o) : o_(o) {}
  // Records the reason in `r` when a node is kept float by the user's choice.
  bool eligible(const ir::Node& n, PassResult& r) const;

 private:
  const QuantizeOptions& o_;
};

PassResult quantizeWeightOnly(ir::Model& model, const QuantizeOptions& o, const NodeFilter& f);
PassResult quantizeDynamic(ir::Model& model, const QuantizeOptions& o, const NodeFilter& f, PassContext& ctx);
PassResult quantizeStatic(ir::Model& model, const QuantizeOptions& o, const NodeFilter& f, PassContext& ctx);
PassResult quantizeFp16(ir::Model& model, const QuantizeOptions& o, const NodeFilter& f, PassContext& ctx);

}  // namespace effdl::passes::quant
