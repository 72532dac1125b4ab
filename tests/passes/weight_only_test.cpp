// passes/quantize/weight_only.cpp: int8 weights dequantized in front of the float op (per channel,
// per tensor, per block), int8 Gather tables dequantized after the Gather, exclusions, and what
// it declines. Golden ONNX text with weights chosen so the int8 values are exact by hand.
#include <gtest/gtest.h>

#include "quantize_test_util.h"

namespace effdl::test {
namespace {

// Per column n of w: s[n] = max_k |w[k, n]| / 127 = {1, 2, 4} / 127; 0.5 / (1/127) = 63.5 -> 64.
TEST(QuantizeWeightOnly, MatMulGetsPerChannelDequantizeLinear) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,2] x) => (float[1,3] y) <float[2,3] w = {1.0, 2.0, -4.0, 0.5, -1.0, 2.0}>
    {
      y = MatMul (x, w)
    })");
  auto r = runFirst(*m, "quantize{mode=weight-only},eliminate-dead");
  EXPECT_EQ(print(*m), canonical(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,2] x) => (float[1,3] y)
       <int8[2,3] w_q = {127, 127, -127, 64, -64, 64},
        float[3] w_scale = {0.00787401572, 0.0157480314, 0.0314960629}, int8[3] w_zp = {0, 0, 0}>
    {
      w_dq = DequantizeLinear <axis = 1> (w_q, w_scale, w_zp)
      y = MatMul (x, w_dq)
    })"));
  EXPECT_EQ(r.counter("weights int8 per channel"), 1);
}

// Rows {1,-2}, {0.5,0.25}, {4,8}: s = {2, 0.5, 8} / 127; only the gathered rows are dequantized.
TEST(QuantizeWeightOnly, GatherTableIsInt8PerRowDequantizedAfterTheGather) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (int64[2] ids) => (float[2,2] y) <float[3,2] t = {1.0, -2.0, 0.5, 0.25, 4.0, 8.0}>
    {
      y = Gather (t, ids)
    })");
  auto r = runFirst(*m, "quantize{mode=weight-only},eliminate-dead");
  EXPECT_EQ(print(*m), canonical(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (int64[2] ids) => (float[2,2] y)
       <int8[3,2] t_q = {64, -127, 127, 64, 64, 127},
        float[3,1] t_row_scale = {0.0157480314, 0.00393700786, 0.0629921257}>
    {
      t_rows_q = Gather (t_q, ids)
      t_rows_scale = Gather (t_row_scale, ids)
      t_rows_f = Cast <to = 1> (t_rows_q)
      y = Mul (t_rows_f, t_rows_scale)
    })"));
  EXPECT_EQ(r.counter("embedding tables int8 per row"), 1);
}

// Reduce-range: 7-bit weights, s[n] = max|w| / 63 (0.5 / float(1/63) is just under 31.5).
TEST(QuantizeWeightOnly, ReduceRangeUsesSevenBits) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,2] x) => (float[1,3] y) <float[2,3] w = {1.0, 2.0, -4.0, 0.5, -1.0, 2.0}>
    {
      y = MatMul (x, w)
    })");
  runFirst(*m, "quantize{mode=weight-only,reduce-range=true}");
  auto q = m->graph->findValue("w_q")->initializer().values<int8_t>();
  EXPECT_EQ(std::vector<int8_t>(q.begin(), q.end()), (std::vector<int8_t>{63, 63, -63, 31, -31, 31}));
}

// Blocks of 2 along K: {1,-2} s = 2/127, {0.5,0.25} s = 0.5/127. DequantizeLinear of opset 17
// has no blocks, so Cast/Mul/Reshape.
TEST(QuantizeWeightOnly, BlockSizeGivesOneScalePerBlockAlongK) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,4] x) => (float[1,1] y) <float[4,1] w = {1.0, -2.0, 0.5, 0.25}>
    {
      y = MatMul (x, w)
    })");
  auto r = runFirst(*m, "quantize{mode=weight-only,block-size=2},eliminate-dead");
  EXPECT_EQ(print(*m), canonical(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,4] x) => (float[1,1] y)
       <int8[1,2,2,1] w_q = {64, -127, 127, 64}, float[1,2,1,1] w_scale = {0.0157480314, 0.00393700786},
        int64[2] w_shape = {4, 1}>
    {
      w_f = Cast <to = 1> (w_q)
      w_blocks = Mul (w_f, w_scale)
      w_dq = Reshape (w_blocks, w_shape)
      y = MatMul (x, w_dq)
    })"));
  EXPECT_EQ(r.counter("weights int8 per block"), 1);
}

TEST(QuantizeWeightOnly, BlockSizeThatDoesNotDivideFallsBackToPerChannel) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,3] x) => (float[1,1] y) <float[3,1] w = {1.0, -2.0, 0.5}>
    {
      y = MatMul (x, w)
    })");
  auto r = runPass(*m, "quantize{mode=weight-only,block-size=2}");
  EXPECT_EQ(r.counter("weights int8 per channel"), 1);
  EXPECT_EQ(r.declined.count("block size does not divide the reduction axis: per-channel used"), 1u);
}

TEST(QuantizeWeightOnly, ExcludedNodesAndOpTypesStayFloat) {
  const char* text = R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,2] x, int64[1] ids) => (float[1,2] y, float[1,2] e)
       <float[2,2] w = {1.0, 2.0, 3.0, 4.0}, float[3,2] t = {1.0, 2.0, 3.0, 4.0, 5.0, 6.0}>
    {
      y = MatMul (x, w)
      e = Gather (t, ids)
    })";
  auto r = runExpectingNoChange(text, "quantize{mode=weight-only,exclude-op-types=[Gather;MatMul]}");
  EXPECT_EQ(r.counter("nodes kept float (--quantize-exclude-op-types)"), 2);
}

TEST(QuantizeWeightOnly, KeepIoFloatKeepsTheFirstAndLastLayers) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,2] x) => (float[1,2] y)
       <float[2,2] w1 = {1.0, 2.0, 3.0, 4.0}, float[2,2] w2 = {1.0, 2.0, 3.0, 4.0},
        float[2,2] w3 = {1.0, 0.0, 0.0, 1.0}>
    {
      h = MatMul (x, w1)
      k = MatMul (h, w2)
      y = MatMul (k, w3)
    })");
  auto r = runFirst(*m, "quantize{mode=weight-only,keep-io-float=true}");
  EXPECT_EQ(r.counter("nodes kept float (--quantize-keep-io-float)"), 2);
  EXPECT_EQ(r.counter("weights int8 per channel"), 1);
  const std::string out = print(*m);
  EXPECT_NE(out.find("MatMul(x, w1)"), std::string::npos) << out;
  EXPECT_NE(out.find("MatMul(h, w2_dq)"), std::string::npos) << out;
  EXPECT_NE(out.find("MatMul(k, w3)"), std::string::npos) << out;
}


// Only constant weights are rewritten; a MatMul of two activations is declined and, with nothing
// else to do, the model is unchanged and no weight-only note is added.
TEST(QuantizeWeightOnly, ComputedWeightsAreDeclinedAndNothingChanges) {
  const char* text = R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,2] x, float[2,3] w) => (float[1,3] y)
    {
      y = MatMul (x, w)
    })";
  auto r = runExpectingNoChange(text, "quantize{mode=weight-only}");
  EXPECT_EQ(r.declined.count("MatMul weight not a float constant"), 1u);
  EXPECT_TRUE(r.notes.empty());
}

// per-channel=false: one scale for the whole weight, max|w| / 127 = 4 / 127, and the note says
// compute stays float.
TEST(QuantizeWeightOnly, PerTensorScaleAndTheNoteThatComputeStaysFloat) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,2] x) => (float[1,3] y) <float[2,3] w = {1.0, 2.0, -4.0, 0.5, -1.0, 2.0}>
    {
      y = MatMul (x, w)
    })");
  auto r = runFirst(*m, "quantize{mode=weight-only,per-channel=false}");
  EXPECT_EQ(r.counter("weights int8 per tensor"), 1);
  auto q = m->graph->findValue("w_q")->initializer().values<int8_t>();
  EXPECT_EQ(std::vector<int8_t>(q.begin(), q.end()), (std::vector<int8_t>{32, 64, -127, 16, -32, 64}));
  ASSERT_EQ(r.notes.size(), 1u);
  EXPECT_NE(r.notes[0].find("weight-only: compute stays float"), std::string::npos) << r.notes[0];
}

}  // namespace
}  // namespace effdl::test
