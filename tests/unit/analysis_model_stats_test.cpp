// ModelStats: identity, interface and op counts around the three analyses.
#include <gtest/gtest.h>

#include "analysis/model_stats.h"
#include "test_util.h"

namespace effdl::test {
namespace {

TEST(AnalysisModelStats, InterfaceOpCountsAndAnalyses) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17, "com.example" : 1], producer_name: "hand", producer_version: "0.1">
    g (float[batch,4] x, float[?,4] z) => (float[batch,4] y)
       <float[4] b = {1.0, 2.0, 3.0, 4.0}>
    {
      a = Relu(x)
      c = Add(a, b)
      d = Relu(c)
      e = Add(d, z)
      y = Relu(e)
    })");
  analysis::ModelStats s = analysis::computeModelStats(*m);
  EXPECT_EQ(s.irVersion, 8);
  EXPECT_EQ(s.producerName, "hand");
  EXPECT_EQ(s.producerVersion, "0.1");
  ASSERT_EQ(s.opsets.size(), 2u);
  EXPECT_EQ(s.opsets[0].version, 17);

  ASSERT_EQ(s.inputs.size(), 2u);
  EXPECT_EQ(s.inputs[0].name, "x");
  EXPECT_EQ(s.inputs[0].dtype, ir::DataType::kFloat);
  EXPECT_EQ(s.inputs[0].kind, "tensor");
  EXPECT_EQ(s.inputs[0].shapeText(), "[batch,4]");
  EXPECT_EQ(s.inputs[1].shapeText(), "[?,4]");
  ASSERT_EQ(s.outputs.size(), 1u);
  EXPECT_EQ(s.outputs[0].shapeText(), "[batch,4]");

  EXPECT_EQ(s.nodes, 5);
  EXPECT_EQ(s.subgraphNodes, 0);
  ASSERT_EQ(s.opCounts.size(), 2u);
  EXPECT_EQ(s.opCounts[0].opType, "Relu");
  EXPECT_EQ(s.opCounts[0].count, 3);
  EXPECT_EQ(s.opCounts[1].opType, "Add");

  EXPECT_EQ(s.parameters.totalParams, 4);
  EXPECT_EQ(s.flops.unknownShapeNodes, 5);  // batch is unbound
  EXPECT_EQ(s.memory.unknownValues, 7);
}

TEST(AnalysisModelStats, EqualCountsSortByName) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2] x) => (float[2] y) { b = Sigmoid(x)  a = Abs(b)  y = Neg(a) })");
  analysis::ModelStats s = analysis::computeModelStats(*m);
  ASSERT_EQ(s.opCounts.size(), 3u);
  EXPECT_EQ(s.opCounts[0].opType, "Abs");
  EXPECT_EQ(s.opCounts[1].opType, "Neg");
  EXPECT_EQ(s.opCounts[2].opType, "Sigmoid");
  EXPECT_EQ(s.flops.totalFlops, 2 + 2 + 8);
  EXPECT_EQ(s.memory.peakBytes, 16);
}

}  // namespace
}  // namespace effdl::test
