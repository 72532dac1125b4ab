// The pipeline: spec and recipe parsing (validated before any work), canonical spec strings,
// per-pass statistics, and --verify naming the pass that breaks a model with a reproducer.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/error.h"
#include "passes/pipeline.h"
#include "test_util.h"

namespace fs = std::filesystem;

namespace effdl::test {
namespace {

TEST(Pipeline, SpecRoundTripsToCanonicalForm) {
  auto p = passes::parsePipelineSpec(" cleanup , eliminate-dead{ inputs = true }");
  ASSERT_EQ(p.steps.size(), 2u);
  EXPECT_EQ(p.toSpec(), "cleanup,eliminate-dead{inputs=true}");
  EXPECT_TRUE(p.steps[1].options.getBool("inputs"));
  EXPECT_FALSE(passes::parsePipelineSpec("eliminate-dead").steps[0].options.getBool("inputs"));
}

TEST(Pipeline, BadSpecsAreUsageErrors) {
  std::string m;
  EXPECT_EQ(kindOf([] { passes::parsePipelineSpec("cleanup,,eliminate-dead"); }, &m), ErrorKind::kUsage);
  EXPECT_EQ(kindOf([] { passes::parsePipelineSpec("nope"); }, &m), ErrorKind::kUsage);
  EXPECT_NE(m.find("unknown pass 'nope' (known: cleanup"), std::string::npos) << m;
  EXPECT_EQ(kindOf([] { passes::parsePipelineSpec("eliminate-dead{inputs}"); }, &m), ErrorKind::kUsage);
  EXPECT_NE(m.find("needs =value"), std::string::npos) << m;
  EXPECT_EQ(kindOf([] { passes::parsePipelineSpec("eliminate-dead{inputs=true"); }, &m), ErrorKind::kUsage);
  EXPECT_EQ(kindOf([] { passes::parsePipelineSpec("fold-constants{max-bytes=1.5}"); }, &m), ErrorKind::kUsage);
  EXPECT_NE(m.find("is not an integer"), std::string::npos) << m;
}

TEST(Pipeline, RecipeJson) {
  auto p = passes::parseRecipeJson(
      R"({"schema_version": 1, "passes": ["cleanup", {"name": "fold-constants", "options": {"max-bytes": 64}}]})",
      "r.json");
  EXPECT_EQ(p.toSpec(), "cleanup,fold-constants{max-bytes=64}");
  std::string m;
  EXPECT_EQ(kindOf([] { passes::parseRecipeJson(R"({"schema_version": 2, "passes": []})", "r.json"); }, &m),
            ErrorKind::kUsage);
  EXPECT_NE(m.find("unsupported recipe schema_version"), std::string::npos) << m;
  EXPECT_EQ(kindOf([] { passes::parseRecipeJson(R"({"passes": [42]})", "r.json"); }, &m), ErrorKind::kUsage);
  // Misspelt keys are refused, not ignored; a description is free text.
  EXPECT_EQ(kindOf([] { passes::parseRecipeJson(R"({"passes": [], "fail_if": "size>0.5x"})", "r.json"); }, &m),
            ErrorKind::kUsage);
  EXPECT_NE(m.find("r.json: unknown recipe key 'fail_if'"), std::string::npos) << m;
  EXPECT_EQ(kindOf([] { passes::parseRecipeJson(R"({"passes": [{"name": "cleanup", "option": {}}]})", "r.json"); }, &m),
            ErrorKind::kUsage);
  EXPECT_NE(m.find("pass 'cleanup': unknown key 'option'"), std::string::npos) << m;
  EXPECT_EQ(passes::parseRecipeJson(R"({"description": "CI", "passes": ["cleanup"]})", "r.json").toSpec(), "cleanup");
}

// A deliberately broken pass: drops the second input of every Add.
class BreakAdds : public passes::Pass {
 public:
  passes::PassResult run(ir::Model& m, passes::PassContext&) override {
    for (ir::Node* n : m.graph->nodes())
      if (n->opType() == "Add") n->truncateInputs(1);
    return {};
  }
};

TEST(Pipeline, VerifyNamesTheBreakingPassAndLeavesAReproducer) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2] x, float[2] z) => (float[2] y) { t = Relu(x)  y = Add(t, z) })");
  passes::PassInfo info{"break-adds", "test only", {}, [](const passes::PassOptions&) {
                          return std::make_unique<BreakAdds>();
                        }};
  passes::Pipeline p = passes::parsePipelineSpec("eliminate-dead");
  p.steps.push_back(passes::PipelineStep{&info, passes::PassOptions(&info.options, {})});
  TempDir dir;
  passes::PassContext ctx;
  passes::RunOptions ro;
  ro.verify = true;
  ro.reproducerDir = dir.path();
  std::string msg;
  EXPECT_EQ(kindOf([&] { passes::runPipeline(*m, p, ctx, ro); }, &msg), ErrorKind::kInternal);
  EXPECT_NE(msg.find("pass 'break-adds' broke the model"), std::string::npos) << msg;
  EXPECT_NE(msg.find("pipeline: eliminate-dead,break-adds"), std::string::npos) << msg;
  fs::path repro = dir / "effdl-reproducer-break-adds.onnx";
  ASSERT_TRUE(fs::exists(repro)) << msg;
  // The reproducer is the model the pass received: it still loads and has both Add inputs.
  std::string text = readFile(repro);
  EXPECT_FALSE(text.empty());
}

TEST(Pipeline, StatisticsAndTimingPerPass) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2] x) => (float[2] y) { t = Identity(x)  u = Neg(x)  y = Relu(t) })");
  auto p = passes::parsePipelineSpec("eliminate-noop,eliminate-dead");
  passes::PassContext ctx;
  auto reports = passes::runPipeline(*m, p, ctx);
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[0].nodesBefore, 3u);
  EXPECT_EQ(reports[1].nodesAfter, 1u);
  EXPECT_EQ(reports[1].result.counter("nodes removed"), 1);
  EXPECT_GE(reports[0].seconds, 0.0);
}

}  // namespace
}  // namespace effdl::test

namespace effdl::test {
namespace {

TEST(Pipeline, FixedOrderWrapsFlaggedPassesInCleanups) {
  auto p = passes::fixedOrderPipeline({{"eliminate-noop", {}}});
  EXPECT_EQ(p.toSpec(), "cleanup,fold-batchnorm,eliminate-noop,cleanup");
  EXPECT_EQ(passes::fixedOrderPipeline({}).toSpec(), "cleanup,fold-batchnorm,cleanup");
  expectError([] { passes::fixedOrderPipeline({{"nope", {}}}); }, ErrorKind::kUsage, "unknown pass 'nope'");
}

}  // namespace
}  // namespace effdl::test
