// The graph edits the quantization modes share (passes/quantize/weight_rewrite.h): which axis of
// each op's weight holds the output channels, int8 weights that dequantize to within half a
// scale step, and a weight shared by two nodes stored once.
#include "passes/quantize/weight_rewrite.h"

#include <gtest/gtest.h>

#include <cmath>

#include "test_util.h"

namespace effdl::test {
namespace {

using passes::quant::floatConstant;
using passes::quant::weightLayout;
using passes::quant::WeightRewriter;

const char* kModel = R"(<ir_version: 8, opset_import: ["" : 17]>
    g (float[1,2,3,3] x, float[2,3] a) => (float[1,4,3,3] c, float[2,2] m1, float[2,2] m2, float[2,2] gt)
       <float[4,2,1,1] wc = {1, -2, 3, 4, 0.5, 0.25, -8, 2},
        float[3,2] wm = {0.1, -1.0, 0.2, 0.5, -0.3, 0.25},
        float[2,3] wt = {1, 2, 3, -4, 5, 6}>
    {
      c = Conv (x, wc)
      m1 = MatMul(a, wm)
      m2 = MatMul(a, wm)
      gt = Gemm <transB = 1> (a, wt)
    })";

ir::Node* producerOf(ir::Graph& g, const std::string& output) { return g.findValue(output)->producer(); }

TEST(WeightRewrite, OutputChannelAxisOfEachWeightLayout) {
  auto m = parse(kModel);
  ir::Graph& g = *m->graph;
  auto conv = weightLayout(*producerOf(g, "c"), *floatConstant(producerOf(g, "c")->input(1)));
  ASSERT_TRUE(conv);
  EXPECT_EQ(conv->axis, 0);
  EXPECT_EQ(conv->channels, 4);
  auto mm = weightLayout(*producerOf(g, "m1"), *floatConstant(producerOf(g, "m1")->input(1)));
  ASSERT_TRUE(mm);
  EXPECT_EQ(mm->axis, 1);  // MatMul W [K, N]: N outputs
  EXPECT_EQ(mm->channels, 2);
  auto gt = weightLayout(*producerOf(g, "gt"), *floatConstant(producerOf(g, "gt")->input(1)));
  ASSERT_TRUE(gt);
  EXPECT_EQ(gt->axis, 0);  // Gemm transB = 1: B [N, K]
  EXPECT_EQ(gt->channels, 2);
  EXPECT_EQ(floatConstant(g.findValue("a")), nullptr);  // a graph input is no constant
}

TEST(WeightRewrite, PerChannelInt8DequantizesWithinHalfAStepAndASharedWeightIsStoredOnce) {
  auto m = parse(kModel);
  ir::Graph& g = *m->graph;
  passes::PassResult r;
  WeightRewriter w(g, {}, r);
  ir::Node* m1 = producerOf(g, "m1");
  ir::Node* m2 = producerOf(g, "m2");
  auto layout = weightLayout(*m1, *floatConstant(m1->input(1)));
  ASSERT_TRUE(layout);
  const std::vector<float> original = {0.1f, -1.0f, 0.2f, 0.5f, -0.3f, 0.25f};  // [K=3, N=2]
  std::vector<float> s1 = w.dequantizeWeight(*m1, *layout);
  std::vector<float> s2 = w.dequantizeWeight(*m2, *layout);
  ASSERT_EQ(s1.size(), 2u);
  EXPECT_FLOAT_EQ(s1[0], 0.3f / 127);  // max |column 0| = 0.3
  EXPECT_FLOAT_EQ(s1[1], 1.0f / 127);
  EXPECT_EQ(s1, s2);
  ir::Node* dq1 = m1->input(1)->producer();
  ir::Node* dq2 = m2->input(1)->producer();
  ASSERT_TRUE(dq1 && dq2);
  EXPECT_EQ(dq1->opType(), "DequantizeLinear");
  EXPECT_EQ(dq1->input(0), dq2->input(0));  // one int8 copy for both users
  const ir::Tensor& q = dq1->input(0)->initializer();
  ASSERT_EQ(q.dtype(), ir::DataType::kInt8);
  auto qv = q.values<int8_t>();
  for (size_t i = 0; i < original.size(); ++i) {
    const float scale = s1[i % 2];
    EXPECT_LE(std::fabs(qv[i] * scale - original[i]), scale / 2 + 1e-7f) << "element " << i;
  }
  EXPECT_EQ(qv[4], -127);  // the column's largest magnitude maps to the end of the range
  EXPECT_EQ(qv[1], -127);
}

}  // namespace
}  // namespace effdl::test
