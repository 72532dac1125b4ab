// Peak activation memory by liveness, hand-computed on small graphs (model in analysis/memory.h).
#include <gtest/gtest.h>

#include "analysis/memory.h"
#include "test_util.h"

namespace effdl::test {
namespace {

using analysis::estimateActivationMemory;
using analysis::MemoryEstimate;

TEST(AnalysisMemory, ThreeNodeChain) {
  // x 1024 B → a 2048 B → b 2048 B → y 4 B.
  // step 0 (Concat): x + a = 3072; step 1 (Relu): a + b = 4096 (x is dead); step 2: b + y = 2052.
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[256] x) => (float[] y)
    {
      a = Concat<axis = 0>(x, x)
      b = Relu(a)
      y = ReduceSum<keepdims = 0>(b)
    })");
  MemoryEstimate e = estimateActivationMemory(*m);
  EXPECT_EQ(e.peakBytes, 4096);
  EXPECT_EQ(e.peakStep, 1);
  EXPECT_EQ(e.peakNodeOp, "Relu");
  ASSERT_EQ(e.liveAtPeak.size(), 2u);
  EXPECT_EQ(e.liveAtPeak[0].name, "a");  // equal sizes: by name
  EXPECT_EQ(e.liveAtPeak[1].name, "b");
  EXPECT_EQ(e.inputBytes, 1024);
  EXPECT_EQ(e.outputBytes, 4);
  EXPECT_EQ(e.totalActivationBytes, 1024 + 2048 + 2048 + 4);
  EXPECT_EQ(e.activationValues, 4);
  EXPECT_EQ(e.unknownValues, 0);
}

TEST(AnalysisMemory, SkipConnectionKeepsInputAliveAndWeightsAreNotActivations) {
  // x (1024 B) is read again by the last node. w is an initializer, k a Constant: weights.
  // step 0: x + a = 2048; step 1: x + a + b = 3072; step 2: x + b + y = 3072 (first max wins).
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[256] x) => (float[256] y)
       <float[256] w = )" + [] {
    std::string s = "{";
    for (int i = 0; i < 256; ++i) s += i ? ", 1.0" : "1.0";
    return s + "}";
  }() + R"(>
    {
      k = Constant<value_float = 2.0>()
      a = Mul(x, w)
      b = Mul(a, k)
      y = Add(b, x)
    })");
  MemoryEstimate e = estimateActivationMemory(*m);
  EXPECT_EQ(e.peakBytes, 3072);
  EXPECT_EQ(e.peakStep, 2);  // node 0 is the Constant
  EXPECT_EQ(e.activationValues, 4);
  EXPECT_EQ(e.totalActivationBytes, 4 * 1024);
}

TEST(AnalysisMemory, UnknownSizesAreCounted) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[N,256] x, float[4] s) => (float[N,256] y, float[4] t)
    {
      y = Relu(x)
      t = Relu(s)
    })");
  MemoryEstimate e = estimateActivationMemory(*m);
  EXPECT_EQ(e.unknownValues, 2);
  EXPECT_EQ(e.activationValues, 4);
  // step 0: s (16 B) and the unknown x, y; step 1: s + t = 32 B, and y (an output, kept to the
  // end) of unknown size: the peak is a lower bound.
  EXPECT_EQ(e.peakBytes, 32);
  EXPECT_EQ(e.peakStep, 1);
  EXPECT_EQ(e.unknownLiveAtPeak, 1);
}

TEST(AnalysisMemory, SubgraphPeakIsAddedAtItsNode) {
  // Outer step 0: cond (1 B) + x (1024) + y (1024), plus the larger branch's own peak: in the
  // then branch u + a = 2048 (x is captured, counted outside).
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (bool cond, float[256] x) => (float[256] y)
    {
      y = If(cond) <
        then_branch = then_g () => (float[256] a) { u = Relu(x)  a = Relu(u) },
        else_branch = else_g () => (float[256] b) { b = Neg(x) }
      >
    })");
  MemoryEstimate e = estimateActivationMemory(*m);
  EXPECT_EQ(e.subgraphBytesAtPeak, 2048);
  EXPECT_EQ(e.peakBytes, 1 + 1024 + 1024 + 2048);
}

}  // namespace
}  // namespace effdl::test
