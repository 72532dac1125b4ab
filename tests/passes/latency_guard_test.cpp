// --quantize-latency-guard: a layer whose int8 twin is timed slower (an injected timer) is kept
// float, the report and metadata say so, the margin decides borderline layers, and a report's
// decisions replay to the same model without timing. The default timer is checked on closures
// of known relative cost.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <thread>

#include <nlohmann/json.hpp>

#include "eval/sample_set.h"
#include "passes/pipeline.h"
#include "passes/quantize/latency_guard.h"
#include "passes/quantize/quantize.h"
#include "test_util.h"

namespace effdl::test {
namespace {

constexpr const char* kTwoConvs = R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,1,4,4] x) => (float[1,2,4,4] y)
       <float[2,1,1,1] w1 = {1.0, -0.5}, float[2] b1 = {0.25, 0.5},
        float[2,2,1,1] w2 = {1.0, 2.0, -1.0, 0.5}, float[2] b2 = {0.0, 1.0}>
    {
      c = Conv (x, w1, b1)
      r = Relu (c)
      y = Conv (r, w2, b2)
    })";

// Runs static quantization with the guard on; `int8Ms` gives each layer's int8 time against a
// fp32 time of 1 ms. Both one-layer sessions are run once, so a model the runtime cannot build or
// run fails here.
passes::PassResult guarded(ir::Model& m, std::map<std::string, double> int8Ms, double margin = 0.05,
                           std::vector<std::string>* timed = nullptr) {
  passes::quant::QuantizeOptions o;
  o.latencyGuard = true;
  o.guardMargin = margin;
  o.guardTimer = [&](const std::string& layer, const std::function<void()>& fp32, const std::function<void()>& int8) {
    fp32();
    int8();
    if (timed) timed->push_back(layer);
    return passes::quant::LayerTiming{1.0, int8Ms.at(layer)};
  };
  auto calib = eval::SampleSet::open("random:3", 1 << 20, 7);
  passes::PassContext ctx;
  ctx.calib = &calib;
  ctx.threads = 1;
  return passes::Quantize(o).run(m, ctx);
}

TEST(LatencyGuard, LayerSlowerInInt8IsKeptFloatAndReported) {
  auto m = parse(kTwoConvs);
  std::vector<std::string> timed;
  auto r = guarded(*m, {{"c", 1.4}, {"y", 0.5}}, 0.05, &timed);
  EXPECT_EQ(timed, (std::vector<std::string>{"c", "y"}));
  const std::string out = print(*m);
  // c reads x and w1 unquantized; y keeps int8 weights and its input r gets Q/DQ (Relu stays).
  EXPECT_NE(out.find("c = Conv(x, w1, b1)"), std::string::npos) << out;
  EXPECT_NE(out.find("int8[2,2,1,1] w2_q"), std::string::npos) << out;
  EXPECT_EQ(out.find("w1_q"), std::string::npos) << out;
  EXPECT_NE(out.find("Relu"), std::string::npos) << out;
  // r's range is the one calibrated for c's Relu-folded output, not a default.
  EXPECT_EQ(out.find("r_scale = {1.0}"), std::string::npos) << out;
  EXPECT_EQ(r.counter("layers kept float (--quantize-latency-guard)"), 1);
  EXPECT_EQ(r.counter("weights int8 per channel"), 1);
  const std::string* meta = m->findMetadata("effdl.quantize.latency_guard");
  ASSERT_NE(meta, nullptr);
  EXPECT_EQ(*meta, "float: c (1 of 2 layers)");
  bool noted = false;
  for (const auto& n : r.notes) noted = noted || n.find("c (int8 1.4 ms vs fp32 1 ms)") != std::string::npos;
  EXPECT_TRUE(noted) << ::testing::PrintToString(r.notes);
  ASSERT_EQ(r.layerColumns, (std::vector<std::string>{"sqnr_db", "fp32_ms", "int8_ms", "reverted"}));
  ASSERT_EQ(r.layers.size(), 2u);
  EXPECT_EQ(r.layers[0].first, "c");
  EXPECT_EQ(r.layers[0].second[3], 1.0);
  EXPECT_EQ(r.layers[1].second[2], 0.5);
  EXPECT_EQ(r.layers[1].second[3], 0.0);
}

TEST(LatencyGuard, MarginDecidesLayersOnlySlightlyFaster) {
  auto kept = parse(kTwoConvs);
  auto r = guarded(*kept, {{"c", 0.9}, {"y", 0.9}}, 0.05);  // 10% faster, 5% needed
  EXPECT_EQ(r.counter("layers kept float (--quantize-latency-guard)"), 0);
  EXPECT_EQ(*kept->findMetadata("effdl.quantize.latency_guard"), "float: none (0 of 2 layers)");
  auto reverted = parse(kTwoConvs);
  r = guarded(*reverted, {{"c", 0.9}, {"y", 0.9}}, 0.2);  // 20% needed
  EXPECT_EQ(r.counter("layers kept float (--quantize-latency-guard)"), 2);
  EXPECT_EQ(r.counter("weights int8 per channel"), 0);
}

TEST(LatencyGuard, ReportDecisionsReplayToTheSameModel) {
  auto a = parse(kTwoConvs);
  auto r = guarded(*a, {{"c", 2.0}, {"y", 0.5}});
  // The report JSON as effdl optimize writes it (NaN/absent timings are null there).
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& [name, v] : r.layers) rows.push_back({{"name", name}, {"values", v}});
  nlohmann::json report = {
      {"passes", {{{"name", "cleanup"}}, {{"name", "quantize"}, {"layers", {{"columns", r.layerColumns}, {"rows", rows}}}}}}};
  TempDir dir;
  writeFile(dir / "report.json", report.dump());

  passes::quant::QuantizeOptions o;
  o.latencyGuard = true;
  o.guardDecisions = (dir / "report.json").string();  // what --decisions sets
  o.guardTimer = [](const std::string& layer, const std::function<void()>&, const std::function<void()>&)
      -> passes::quant::LayerTiming { ADD_FAILURE() << "replay timed " << layer; return {}; };
  auto calib = eval::SampleSet::open("random:3", 1 << 20, 7);
  passes::PassContext ctx;
  ctx.calib = &calib;
  ctx.threads = 1;
  auto b = parse(kTwoConvs);
  auto rb = passes::Quantize(o).run(*b, ctx);
  EXPECT_EQ(print(*b), print(*a));
  EXPECT_EQ(*b->findMetadata("effdl.quantize.latency_guard"), *a->findMetadata("effdl.quantize.latency_guard"));
  EXPECT_TRUE(std::isnan(rb.layers[0].second[1]));  // not timed
  EXPECT_EQ(rb.layers[0].second[3], 1.0);

  // A report without a decision for one of the layers is refused, naming the layer.
  report["passes"][1]["layers"]["rows"].erase(1);
  writeFile(dir / "partial.json", report.dump());
  o.guardDecisions = (dir / "partial.json").string();
  auto c = parse(kTwoConvs);
  expectError([&] { passes::Quantize(o).run(*c, ctx); }, ErrorKind::kUsage, "no latency-guard decision for layer 'y'");
  // Not a guarded report at all.
  writeFile(dir / "plain.json", R"({"passes": [{"name": "quantize", "layers": {"columns": ["sqnr_db"], "rows": []}}]})");
  o.guardDecisions = (dir / "plain.json").string();
  expectError([&] { passes::Quantize(o).run(*c, ctx); }, ErrorKind::kUsage, "no latency-guard decisions");
}

TEST(LatencyGuard, DefaultTimerTakesTheFastestOfInterleavedRuns) {
  int fp32Runs = 0, int8Runs = 0;
  auto t = passes::quant::fastestTiming(
      "layer", [&] { ++fp32Runs; },
      [&] {
        ++int8Runs;
        std::this_thread::sleep_for(std::chrono::microseconds(300));
      });
  EXPECT_EQ(fp32Runs, int8Runs);
  EXPECT_GE(fp32Runs, 11);  // 2 warm-up + at least 9 timed pairs
  EXPECT_GE(t.int8Ms, 0.3);
  EXPECT_LT(t.fp32Ms, t.int8Ms);
}

TEST(LatencyGuard, RealTimingOfOneLayerModelsDecidesEveryLayer) {
  auto m = parse(kTwoConvs);
  passes::quant::QuantizeOptions o;
  o.latencyGuard = true;
  auto calib = eval::SampleSet::open("random:2", 1 << 20, 7);
  passes::PassContext ctx;
  ctx.calib = &calib;
  ctx.threads = 1;
  auto r = passes::Quantize(o).run(*m, ctx);
  ASSERT_EQ(r.layers.size(), 2u);
  for (const auto& [name, v] : r.layers) {
    EXPECT_GT(v[1], 0.0) << name;  // measured fp32 and int8 times
    EXPECT_GT(v[2], 0.0) << name;
    EXPECT_EQ(v[3], v[2] > v[1] * 0.95 ? 1.0 : 0.0) << name;
  }
  EXPECT_EQ(r.counter("layers kept float (--quantize-latency-guard)") + r.counter("weights int8 per channel"), 2);
}

TEST(LatencyGuard, DynamicModeKeepsSlowerMatMulsFloat) {
  constexpr const char* kTwoMatMuls = R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2,3] x) => (float[2,2] y)
       <float[3,4] w1 = {1.0, 2.0, -1.0, 0.5, 0.25, -2.0, 1.0, 1.5, -0.5, 1.0, 2.0, -1.0},
        float[4,2] w2 = {1.0, -1.0, 0.5, 2.0, -0.25, 1.0, 1.5, 0.75}>
    {
      h = MatMul (x, w1)
      y = MatMul (h, w2)
    })";
  auto m = parse(kTwoMatMuls);
  passes::quant::QuantizeOptions o;
  o.mode = "dynamic";
  o.latencyGuard = true;
  std::vector<std::string> timed;
  o.guardTimer = [&](const std::string& layer, const std::function<void()>& fp32, const std::function<void()>& int8) {
    fp32();
    int8();
    timed.push_back(layer);
    return passes::quant::LayerTiming{1.0, layer == "h" ? 0.5 : 1.2};
  };
  passes::PassContext ctx;  // no --calib: the shapes come from one seeded random run
  ctx.threads = 1;
  auto r = passes::Quantize(o).run(*m, ctx);
  EXPECT_EQ(timed, (std::vector<std::string>{"h", "y"}));
  EXPECT_EQ(r.counter("MatMul -> MatMulInteger"), 1);
  EXPECT_EQ(r.counter("layers kept float (--quantize-latency-guard)"), 1);
  const std::string out = print(*m);
  EXPECT_NE(out.find("y = MatMul(h_deq, w2)"), std::string::npos) << out;
  EXPECT_EQ(*m->findMetadata("effdl.quantize.latency_guard"), "float: y (1 of 2 layers)");
}

TEST(LatencyGuard, NotForWeightOnlyOrFp16) {
  auto m = parse(kTwoConvs);
  passes::PassContext ctx;
  expectError(
      [&] { passes::runPipeline(*m, passes::parsePipelineSpec("quantize{mode=weight-only,latency-guard=true}"), ctx); },
      ErrorKind::kUsage, "latency guard applies to --quantize static and dynamic");
}

}  // namespace
}  // namespace effdl::test
