// Options, node selection and mode dispatch of the `quantize` pass.
#include "passes/quantize/quantize.h"

#include <algorithm>

#include "core/error.h"
#include "core/log.h"
#include "runtime/cpu_int8.h"

namespace effdl::passes {
namespace quant {

bool NodeFilter::eligible(const ir::Node& n, PassResult& r) const {
  if (!n.name().empty() && o_.excludeNodes.count(n.name())) {
    r.count("nodes kept float (--quantize-exclude-nodes)");
    return false;
  }
  if (o_.excludeOpTypes.count(n.opType())) {
    r.count("nodes kept float (--quantize-exclude-op-types)");
    return false;
  }
  if (o_.keepIoFloat) {
    bool io = false;
    for (const ir::Value* v : n.inputs()) io = io || (v && v->isGraphInput() && !v->isInitializer());
    for (const ir::Value* v : n.outputs()) io = io || (v && v->isGraphOutput());
    if (io) {
      r.count("nodes kept float (--quantize-keep-io-float)");
      return false;
    }
  }
  return true;
}

}  // namespace quant

PassResult Quantize::run(ir::Model& model, PassContext& ctx) {
  const int64_t opset = model.opsetFor("").value_or(1);
  // QuantizeLinear/DequantizeLinear with `axis` (per channel) need opset 13.
  if (opset < 13)
    throwUnsupported("quantize: the model imports opset " + std::to_string(opset) +
                     "; per-channel QuantizeLinear/DequantizeLinear need opset >= 13");
  // Already-quantized parts and other domains are left as they are; say so instead of declining
  // each op with a generic reason.
  int64_t quantizedOps = 0, otherDomain = 0;
  ir::forEachNodeRecursive(*model.graph, [&](const ir::Node& n) {
    if (!n.domain().empty() && n.domain() != "ai.onnx") ++otherDomain;
    else if (n.opType() == "QuantizeLinear" || n.opType() == "DequantizeLinear" ||
             n.opType() == "DynamicQuantizeLinear" || n.opType().rfind("QLinear", 0) == 0 ||
             n.opType() == "MatMulInteger" || n.opType() == "ConvInteger")
      ++quantizedOps;
  });
  quant::QuantizeOptions o = o_;
  if (o.latencyGuard && !ctx.decisionsFile.empty()) o.guardDecisions = ctx.decisionsFile;  // --decisions
  quant::NodeFilter filter(o);
  PassResult r;
  if (o.mode == "weight-only") r = quant::quantizeWeightOnly(model, o, filter);
  else if (o.mode == "dynamic") r = quant::quantizeDynamic(model, o, filter, ctx);
  else if (o.mode == "static") r = quant::quantizeStatic(model, o, filter, ctx);
  else if (o.mode == "fp16") r = quant::quantizeFp16(model, o, filter, ctx);
  else throwUsage("quantize: unknown mode '" + o_.mode + "' (static, dynamic, weight-only, fp16)");
  if (quantizedOps > 0)
    r.notes.push_back("the model was already (partly) quantized: " + std::to_string(quantizedOps) +
                      " quantization ops left as they are; ops fed by DequantizeLinear are not quantized again");
  if (otherDomain > 0)
    r.notes.push_back(std::to_string(otherDomain) + " nodes of other domains (e.g. com.microsoft) left untouched");
  // Counters of nodes the user kept float are not changes.
  r.changed = std::any_of(r.counters.begin(), r.counters.end(),
                          [](const auto& c) { return c.second > 0 && c.first.rfind("nodes kept float", 0) != 0; });
  if (r.changed && (o_.mode == "static" || o_.mode == "dynamic")) {
    // Whether int8 pays off on this machine (the one the model is probably tuned for).
    const runtime::Int8Support& cpu = runtime::int8Support();
    if (cpu.vnni()) {
      r.notes.push_back("this CPU has " + cpu.describe() + ": int8 dot products run natively");
    } else {
      std::string msg = "this CPU has " + cpu.describe() + ": int8 may not be faster than fp32 here";
      if (!o_.reduceRange) msg += "; --quantize-reduce-range avoids int16 saturation on such CPUs";
      r.notes.push_back(msg);
      logWarn("quantize: " + msg);
    }
  }
  if (r.changed) model.setMetadata("effdl.quantize", o_.mode);
  return r;
}

PassInfo quantizeInfo() {
  PassInfo info{
      "quantize",
      "int8 quantization (static QDQ with calibration, dynamic, weight-only) or fp16",
      {{"mode", OptionType::kEnum, "static", "what to quantize and how", {"static", "dynamic", "weight-only", "fp16"}},
       {"calib-method", OptionType::kEnum, "percentile", "static: activation range observer",
        {"minmax", "percentile", "entropy"}},
       {"percentile", OptionType::kFloat, "99.99", "static, percentile observer: percent of |x| kept in range", {}},
       {"activation-type", OptionType::kEnum, "u8", "static: u8 asymmetric or s8 symmetric activations",
        {"u8", "s8"}},
       {"per-channel", OptionType::kBool, "true", "one weight scale per output channel (false: per tensor)", {}},
       {"reduce-range", OptionType::kBool, "false", "7-bit weights, for CPUs without VNNI (int16 saturation)", {}},
       {"keep-io-float", OptionType::kBool, "false", "keep layers that read graph inputs or write graph outputs float",
        {}},
       {"block-size", OptionType::kInt, "0", "weight-only: one scale per block of this many weights (0: per channel)",
        {}},
       {"exclude-nodes", OptionType::kStringList, "", "node names kept float", {}},
       {"exclude-op-types", OptionType::kStringList, "", "op types kept float", {}},
       {"auto-exclude", OptionType::kInt, "0", "static: keep the K layers with the worst SQNR float", {}},
       {"latency-guard", OptionType::kBool, "false",
        "static, dynamic: time each quantized layer int8 vs float in effdl's runtime; keep float where int8 is not faster "
        "(timing-dependent: decisions go to the report and metadata; --decisions REPORT.json replays them)",
        {}},
       {"latency-guard-margin", OptionType::kFloat, "0.05",
        "latency guard: int8 stays only when at least this fraction faster than float", {}}},
      [](const PassOptions& p) {
        quant::QuantizeOptions o;
        o.mode = p.getString("mode");
        const std::string m = p.getString("calib-method");
        o.calibMethod = m == "minmax" ? quant::CalibMethod::kMinMax
                        : m == "entropy" ? quant::CalibMethod::kEntropy
                                         : quant::CalibMethod::kPercentile;
        o.percentile = p.getFloat("percentile");
        if (!(o.percentile > 50.0 && o.percentile <= 100.0))
          throwUsage("quantize: percentile must be in (50, 100], got " + p.getString("percentile"));
        o.activationU8 = p.getString("activation-type") == "u8";
        o.perChannel = p.getBool("per-channel");
        o.reduceRange = p.getBool("reduce-range");
        o.keepIoFloat = p.getBool("keep-io-float");
        o.blockSize = p.getInt("block-size");
        if (o.blockSize < 0 || o.blockSize == 1)
          throwUsage("quantize: block-size must be 0 (per channel) or >= 2, got " + p.getString("block-size"));
        o.autoExclude = p.getInt("auto-exclude");
        if (o.autoExclude < 0) throwUsage("quantize: auto-exclude must be >= 0");
        for (auto& s : p.getList("exclude-nodes")) o.excludeNodes.insert(s);
        for (auto& s : p.getList("exclude-op-types")) o.excludeOpTypes.insert(s);
        o.latencyGuard = p.getBool("latency-guard");
        o.guardMargin = p.getFloat("latency-guard-margin");
        if (!(o.guardMargin >= 0.0 && o.guardMargin < 1.0))
          throwUsage("quantize: latency-guard-margin must be in [0, 1), got " + p.getString("latency-guard-margin"));
        if (o.latencyGuard && o.mode != "static" && o.mode != "dynamic")
          throwUsage("quantize: the latency guard applies to --quantize static and dynamic (got mode " + o.mode + ")");
        return std::make_unique<Quantize>(std::move(o));
      }};
  info.cliFlag = "quantize";
  info.primaryOption = "mode";
  info.fixedOrder = 3;
  return info;
}

}  // namespace effdl::passes
