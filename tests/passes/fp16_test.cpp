// passes/quantize/fp16.cpp: fp16 regions with Casts at their edges (float32 interface unchanged),
// fp16 weights bit-exact, ops kept fp32 for precision or range.
#include <gtest/gtest.h>

#include "quantize_test_util.h"

namespace effdl::test {
namespace {

// MatMul runs in fp16 (W stored as fp16: 1, 2, -4, 0.5 are exact), Softmax stays fp32, and the
// graph's float32 interface is unchanged: Casts at the edges, the output Cast takes its name.
TEST(QuantizeFp16, Fp16RegionWithCastsAtTheEdgesAndSoftmaxKeptFp32) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,2] x) => (float[1,2] z, float[1,2] y) <float[2,2] w = {1.0, 2.0, -4.0, 0.5}>
    {
      y = MatMul (x, w)
      z = Softmax (y)
    })");
  auto r = runFirst(*m, "quantize{mode=fp16},eliminate-dead");
  // libonnx's parser cannot read float16 literals: compare the printed text, then the bits.
  EXPECT_EQ(print(*m), R"(<
  ir_version: 8,
  opset_import: ["" : 17]
>
g (float[1,2] x) => (float[1,2] z, float[1,2] y)
   <float16[2,2] w_fp16 = {...}>
{
  x_fp16 = Cast <to = 10> (x)
  y_replaced = MatMul(x_fp16, w_fp16)
  y_fp32 = Cast <to = 1> (y_replaced)
  z = Softmax(y_fp32)
  y = Cast <to = 1> (y_replaced)
}
)");
  const ir::Value* w = m->graph->findValue("w_fp16");
  ASSERT_TRUE(w && w->isInitializer());
  auto bits = w->initializer().values<uint16_t>();
  EXPECT_EQ(std::vector<uint16_t>(bits.begin(), bits.end()), (std::vector<uint16_t>{0x3C00, 0x4000, 0xC400, 0x3800}));

  EXPECT_EQ(r.counter("nodes computed in fp16"), 1);
  EXPECT_EQ(r.declined.count("Softmax kept fp32 (precision)"), 1u);
}

TEST(QuantizeFp16, ConstantsBeyondTheFp16RangeKeepTheirNodeFp32) {
  const char* text = R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,2] x) => (float[1,2] y) <float[2,2] w = {1.0, 2.0, 70000.0, 0.5}>
    {
      y = MatMul (x, w)
    })";
  auto r = runExpectingNoChange(text, "quantize{mode=fp16}");
  EXPECT_EQ(r.declined.count("constant beyond fp16 range"), 1u);
}


// A chain of fp16 ops keeps its activations in fp16 between them: one Cast in, one Cast out, both
// weights stored as fp16, and the note says effdl's runtime computes them in fp32.
TEST(QuantizeFp16, ChainsStayFp16BetweenOpsWithOneCastAtEachEdge) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,2] x) => (float[1,2] y)
       <float[2,2] w1 = {1.0, 2.0, -4.0, 0.5}, float[2,2] w2 = {0.25, 1.0, 2.0, -1.0}>
    {
      h = MatMul (x, w1)
      r = Relu (h)
      y = MatMul (r, w2)
    })");
  auto r = runFirst(*m, "quantize{mode=fp16},eliminate-dead");
  const std::string out = print(*m);
  EXPECT_EQ(countOf(out, "Cast <to = 10>"), 1u) << out;
  EXPECT_EQ(countOf(out, "Cast <to = 1>"), 1u) << out;
  EXPECT_EQ(countOf(out, "float16[2,2]"), 2u) << out;
  EXPECT_EQ(r.counter("weights stored as fp16"), 2);
  EXPECT_EQ(r.counter("nodes computed in fp16"), 3);
  EXPECT_EQ(r.counter("casts inserted"), 2);
  ASSERT_FALSE(r.notes.empty());
  EXPECT_NE(r.notes.back().find("computes float16 models in fp32"), std::string::npos) << r.notes.back();
}

}  // namespace
}  // namespace effdl::test
