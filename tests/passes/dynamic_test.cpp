// passes/quantize/dynamic.cpp: MatMul/Gemm become DynamicQuantizeLinear + MatMulInteger with the
// scale arithmetic after them, shared inputs are quantized once, Conv stays float, and what it
// declines (golden ONNX text).
#include <gtest/gtest.h>

#include "quantize_test_util.h"

namespace effdl::test {
namespace {

// Gemm transB=1, alpha=2: W^T = {{1,-4},{2,0.5}}; columns {1,2}, {-4,0.5} -> s = {2, 4} / 127,
// times alpha in the output scale; C is added after.
TEST(QuantizeDynamic, GemmBecomesMatMulIntegerWithScaleArithmetic) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,2] x) => (float[1,2] y) <float[2,2] w = {1.0, 2.0, -4.0, 0.5}, float[2] c = {1.0, 2.0}>
    {
      y = Gemm <transB = 1, alpha = 2.0> (x, w, c)
    })");
  auto r = runFirst(*m, "quantize{mode=dynamic},eliminate-dead");
  EXPECT_EQ(print(*m), canonical(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,2] x) => (float[1,2] y)
       <float[2] c = {1.0, 2.0}, int8[2,2] w_q = {64, -127, 127, 16}, float[2] y_wscale = {0.0314960629, 0.0629921257}>
    {
      x_q, x_scale, x_zp = DynamicQuantizeLinear (x)
      y_i32 = MatMulInteger (x_q, w_q, x_zp)
      y_f = Cast <to = 1> (y_i32)
      y_scale = Mul (x_scale, y_wscale)
      y_deq = Mul (y_f, y_scale)
      y = Add (y_deq, c)
    })"));
  EXPECT_EQ(r.counter("Gemm -> MatMulInteger"), 1);
}

TEST(QuantizeDynamic, SharedInputIsQuantizedOnceAndConvStaysFloat) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,1,2,2] x, float[1,2] h) => (float[1,1,2,2] c, float[1,2] a, float[1,2] b)
       <float[1,1,1,1] k = {1.0}, float[2,2] w = {1.0, 2.0, 3.0, 4.0}, float[2,2] v = {1.0, 0.0, 0.0, 1.0}>
    {
      c = Conv (x, k)
      a = MatMul (h, w)
      b = MatMul (h, v)
    })");
  auto r = runPass(*m, "quantize{mode=dynamic}");
  const std::string out = print(*m);
  EXPECT_EQ(countOf(out, "DynamicQuantizeLinear"), 1u);
  EXPECT_EQ(countOf(out, "MatMulInteger"), 2u);
  EXPECT_EQ(countOf(out, "Conv"), 1u);
  EXPECT_EQ(r.counter("activations quantized at run time"), 1);
  ASSERT_GE(r.notes.size(), 1u);
  EXPECT_NE(r.notes[0].find("1 Conv/ConvTranspose kept float"), std::string::npos);
  // The last note says whether this CPU has int8 dot products (VNNI) or not.
  EXPECT_NE(r.notes.back().find("this CPU has "), std::string::npos);
}


// What dynamic quantization cannot rewrite is declined with the reason, and left as it was.
TEST(QuantizeDynamic, DeclinesTransAComputedWeightsAndRank3Weights) {
  const char* text = R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2,1] xt, float[1,2] x, float[2,2] wc) => (float[1,2] a, float[1,2] b, float[2,1,2] c)
       <float[2,2] w = {1.0, 2.0, 3.0, 4.0}, float[2,2,2] w3 = {1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0}>
    {
      a = Gemm <transA = 1> (xt, w)
      b = MatMul (x, wc)
      c = MatMul (x, w3)
    })";
  auto r = runExpectingNoChange(text, "quantize{mode=dynamic}");
  EXPECT_EQ(r.declined.count("Gemm: Gemm transA"), 1u);
  EXPECT_EQ(r.declined.count("MatMul: weight not a float constant"), 1u);
  EXPECT_EQ(r.declined.count("MatMul: weight not rank 2"), 1u);
  EXPECT_EQ(r.counter("MatMul -> MatMulInteger") + r.counter("Gemm -> MatMulInteger"), 0);
}

}  // namespace
}  // namespace effdl::test
