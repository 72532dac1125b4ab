// MACs/FLOPs per node, hand-computed on tiny models (conventions in analysis/flops.h).
#include <gtest/gtest.h>

#include "analysis/flops.h"
#include "ir/onnx_import.h"
#include "test_util.h"

namespace effdl::test {
namespace {

using analysis::CostStatus;
using analysis::FlopsSummary;

// Cost of the node producing `output`.
analysis::NodeCost costOf(const ir::Model& m, const std::string& output) {
  const ir::Value* v = m.graph->findValue(output);
  EXPECT_NE(v, nullptr) << output;
  if (!v || !v->producer()) return {CostStatus::kUnmodeled, -1, -1};
  return analysis::nodeCost(*v->producer());
}

std::string zeros(int n) {
  std::string s = "{";
  for (int i = 0; i < n; ++i) s += i ? ", 0.0" : "0.0";
  return s + "}";
}

TEST(AnalysisFlops, Conv) {
  // 4 filters 3x3 over 3 channels, pad 1: MACs = 1*4*8*8 * 3*9 = 6912; the bias adds 1*4*8*8.
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,3,8,8] x) => (float[1,4,8,8] y, float[1,4,8,8] z)
       <float[4,3,3,3] w = )" + zeros(108) + R"(, float[4] b = {0.0, 0.0, 0.0, 0.0}>
    {
      y = Conv<pads = [1, 1, 1, 1]>(x, w)
      z = Conv<pads = [1, 1, 1, 1]>(x, w, b)
    })");
  auto y = costOf(*m, "y");
  EXPECT_EQ(y.status, CostStatus::kKnown);
  EXPECT_EQ(y.macs, 6912);
  EXPECT_EQ(y.flops, 2 * 6912);
  auto z = costOf(*m, "z");
  EXPECT_EQ(z.macs, 6912);
  EXPECT_EQ(z.flops, 2 * 6912 + 256);

  FlopsSummary s = analysis::computeFlops(*m);
  EXPECT_EQ(s.totalMacs, 2 * 6912);
  EXPECT_EQ(s.totalFlops, 4 * 6912 + 256);
  EXPECT_EQ(s.knownNodes, 2);
  EXPECT_EQ(s.unknownShapeNodes, 0);
  ASSERT_EQ(s.byOpType.size(), 1u);
  EXPECT_EQ(s.byOpType[0].opType, "Conv");
  EXPECT_EQ(s.byOpType[0].nodes, 2);
}

TEST(AnalysisFlops, GroupedStridedDilatedConv) {
  // group 2: each output reads C_in/group = 2 channels. Out 1x4x4x4 (stride 2, pad 1):
  // 1*4*16 * 2*9 = 1152. Dilation changes the output size, not the per-output count:
  // 1x4x2x2 out (dilation 2, stride 2, no pad, 8x8 in) → 1*4*4 * 2*9 = 288.
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,4,8,8] x) => (float[1,4,4,4] y, float[1,4,2,2] z)
       <float[4,2,3,3] w = )" + zeros(72) + R"(>
    {
      y = Conv<group = 2, strides = [2, 2], pads = [1, 1, 1, 1]>(x, w)
      z = Conv<group = 2, strides = [2, 2], dilations = [2, 2]>(x, w)
    })");
  EXPECT_EQ(costOf(*m, "y").macs, 1152);
  EXPECT_EQ(costOf(*m, "z").macs, 288);
}

TEST(AnalysisFlops, ConvTranspose) {
  // MACs = N * C_in * prod(in_spatial) * (C_out/group) * prod(kernel) = 1*2*16 * 3*9 = 864;
  // output 1x3x9x9, bias adds 243.
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,2,4,4] x) => (float[1,3,9,9] y)
       <float[2,3,3,3] w = )" + zeros(54) + R"(, float[3] b = {0.0, 0.0, 0.0}>
    {
      y = ConvTranspose<strides = [2, 2]>(x, w, b)
    })");
  auto c = costOf(*m, "y");
  EXPECT_EQ(c.macs, 864);
  EXPECT_EQ(c.flops, 2 * 864 + 243);
}

TEST(AnalysisFlops, MatMulBatchedBroadcastAndVectors) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2,3,4] a, float[4,5] b, float[4] v, float[2,1,3,4] p, float[5,4,6] q, float[3,4] r)
      => (float[2,3,5] y, float[5] vy, float[2,5,3,6] pq, float[3] rv)
    {
      y = MatMul(a, b)
      vy = MatMul(v, b)
      pq = MatMul(p, q)
      rv = MatMul(r, v)
    })");
  EXPECT_EQ(costOf(*m, "y").macs, 2 * 3 * 5 * 4);  // 120
  EXPECT_EQ(costOf(*m, "y").flops, 240);
  EXPECT_EQ(costOf(*m, "vy").macs, 5 * 4);         // [4] is a 1x4 row
  EXPECT_EQ(costOf(*m, "pq").macs, 2 * 5 * 3 * 6 * 4);  // batch broadcasts to 2x5
  EXPECT_EQ(costOf(*m, "rv").macs, 3 * 4);         // [4] is a 4x1 column
}

TEST(AnalysisFlops, Gemm) {
  // A 3x4, B^T 4x5: 60 MACs. With C and beta 1: +15 adds. alpha 0.5 and beta 2: +15 scale,
  // +15 scale of C, +15 add.
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[3,4] a) => (float[3,5] y, float[3,5] z, float[3,5] n)
       <float[5,4] b = )" + zeros(20) + R"(, float[5] c = {0.0, 0.0, 0.0, 0.0, 0.0}>
    {
      y = Gemm<transB = 1>(a, b, c)
      z = Gemm<transB = 1, alpha = 0.5, beta = 2.0>(a, b, c)
      n = Gemm<transB = 1>(a, b)
    })");
  EXPECT_EQ(costOf(*m, "y").macs, 60);
  EXPECT_EQ(costOf(*m, "y").flops, 120 + 15);
  EXPECT_EQ(costOf(*m, "z").flops, 120 + 45);
  EXPECT_EQ(costOf(*m, "n").flops, 120);
}

TEST(AnalysisFlops, ElementwisePoolingNormalizationReduction) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,2,4,4] x, float[1,2,4,4] x2) => (float[1,2,1,1] out)
       <float[2] s = {1.0, 1.0}, float[2] bias = {0.0, 0.0}, float[2] mean = {0.0, 0.0}, float[2] var = {1.0, 1.0},
        float[4] ls = {1.0, 1.0, 1.0, 1.0}>
    {
      a = Add(x, x2)
      r = Relu(a)
      sg = Sigmoid(r)
      sm = Softmax<axis = 1>(sg)
      bn = BatchNormalization(sm, s, bias, mean, var)
      ln = LayerNormalization<axis = -1>(bn, ls)
      sum3 = Sum(ln, x, x2)
      mp = MaxPool<kernel_shape = [2, 2], strides = [2, 2]>(sum3)
      gp = GlobalAveragePool(sum3)
      rm = ReduceMean<keepdims = 1>(sum3)
      shape = Constant<value_ints = [1, 2, 2, 2]>()
      rs = Reshape(mp, shape)
      out = Add(gp, rm)
    })");
  // 32 elements per full-size tensor.
  EXPECT_EQ(costOf(*m, "a").flops, 32);
  EXPECT_EQ(costOf(*m, "a").macs, 0);
  EXPECT_EQ(costOf(*m, "r").flops, 32);
  EXPECT_EQ(costOf(*m, "sg").flops, 4 * 32);
  EXPECT_EQ(costOf(*m, "sm").flops, 3 * 32);
  EXPECT_EQ(costOf(*m, "bn").flops, 2 * 32);
  EXPECT_EQ(costOf(*m, "ln").flops, 5 * 32);
  EXPECT_EQ(costOf(*m, "sum3").flops, 2 * 32);  // three inputs: two adds per element
  EXPECT_EQ(costOf(*m, "mp").flops, 4 * 8);     // 2x2 kernel, 1x2x2x2 out
  EXPECT_EQ(costOf(*m, "gp").flops, 32);        // every input element once
  EXPECT_EQ(costOf(*m, "rm").flops, 32);
  EXPECT_EQ(costOf(*m, "rs").status, CostStatus::kKnown);
  EXPECT_EQ(costOf(*m, "rs").flops, 0);
  EXPECT_EQ(costOf(*m, "out").flops, 2);
}

TEST(AnalysisFlops, UnboundSymbolicBatchIsUnknownUntilBound) {
  const std::string text = R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[N,3,8,8] x) => (float[N,4,8,8] y)
       <float[4,3,3,3] w = )" + zeros(108) + R"(>
    {
      c = Conv<pads = [1, 1, 1, 1]>(x, w)
      y = Relu(c)
    })";
  auto m = parse(text);
  EXPECT_EQ(costOf(*m, "c").status, CostStatus::kUnknownShape);
  FlopsSummary s = analysis::computeFlops(*m);
  EXPECT_EQ(s.unknownShapeNodes, 2);
  EXPECT_EQ(s.knownNodes, 0);
  EXPECT_EQ(s.totalMacs, 0);
  EXPECT_EQ(s.byOpType[0].unknownNodes, 1);

  ir::LoadOptions opts;
  opts.dimBindings = {{"N", 2}};
  auto bound = ir::loadModelFromText(text, opts);
  FlopsSummary b = analysis::computeFlops(*bound);
  EXPECT_EQ(b.unknownShapeNodes, 0);
  EXPECT_EQ(b.totalMacs, 2 * 6912);
  EXPECT_EQ(b.totalFlops, 4 * 6912 + 2 * 256);
}

TEST(AnalysisFlops, UnmodeledOpsAreCountedApart) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2,3] a, float[3,4] b) => (float[2,4] y)
    {
      y = Einsum<equation = "ij,jk->ik">(a, b)
    })");
  FlopsSummary s = analysis::computeFlops(*m);
  EXPECT_EQ(s.unmodeledNodes, 1);
  EXPECT_EQ(s.knownNodes, 0);
  ASSERT_EQ(s.unmodeledOps.size(), 1u);
  EXPECT_EQ(s.unmodeledOps[0].first, "Einsum");
  EXPECT_EQ(s.unmodeledOps[0].second, 1);
}

TEST(AnalysisFlops, SubgraphBodiesAreCountedOnce) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (bool cond, float[8] x) => (float[8] y)
    {
      y = If(cond) <
        then_branch = then_g () => (float[8] a) { a = Relu(x) },
        else_branch = else_g () => (float[8] b) { b = Sigmoid(x) }
      >
    })");
  FlopsSummary s = analysis::computeFlops(*m);
  EXPECT_EQ(s.subgraphNodes, 2);
  EXPECT_EQ(s.knownNodes, 3);
  EXPECT_EQ(s.totalFlops, 8 + 4 * 8);  // both branches, each once
  ASSERT_EQ(s.nodes.size(), 3u);
  EXPECT_EQ(s.nodes[0].opType, "If");
  EXPECT_EQ(s.nodes[1].subgraphDepth, 1);
}

}  // namespace
}  // namespace effdl::test
