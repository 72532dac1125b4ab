// fold-constants: nodes on constants are evaluated by the runtime's kernels; guarded cases decline.
#include <gtest/gtest.h>

#include "passes/pipeline.h"
#include "test_util.h"

namespace effdl::test {
namespace {

TEST(FoldConstants, EvaluatesNodeOnConstants) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2] x) => (float[2] y) <float[2] w = {1.5, -2.0}>
    { t = Identity(w)  y = Add(x, t) })");
  auto r = runPass(*m, "fold-constants");
  EXPECT_EQ(r.counter("nodes folded"), 1);
  runPass(*m, "eliminate-dead");
  EXPECT_EQ(print(*m), canonical(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2] x) => (float[2] y) <float[2] t_folded = {1.5, -2.0}>
    { y = Add(x, t_folded) })"));
}

TEST(FoldConstants, DeclinesLargeResultsAndKeepsDequantize) {
  const char* text = R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[8] x, float[4] x2) => (float[8] y, float[4] z)
       <float[8] w = {1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0}, int8[4] q = {1, 2, 3, 4}, float s = {0.5}>
    { t = Identity(w)  y = Add(x, t)  d = DequantizeLinear(q, s)  z = Add(x2, d) })";
  auto m = parse(text);
  auto r = runPass(*m, "fold-constants{max-bytes=16}");
  EXPECT_EQ(r.counter("nodes folded"), 0);
  EXPECT_EQ(r.declined["result too large"], 1);
  EXPECT_EQ(print(*m), canonical(text));
}

TEST(FoldConstants, GraphOutputAndMissingKernelDecline) {
  const char* text = R"(
    <ir_version: 8, opset_import: ["" : 17, "com.example" : 1]>
    g (float[2] x) => (float[2] y, float[2] c) <float[2] w = {1.0, 2.0}>
    { c = Identity(w)  u = com.example.Thing(w)  y = Add(x, u) })";
  auto m = parse(text);
  auto r = runPass(*m, "fold-constants");
  EXPECT_EQ(r.counter("nodes folded"), 0);
  EXPECT_EQ(r.declined["output is a graph output"], 1);
  EXPECT_EQ(r.declined["op of another domain"], 1);
}

}  // namespace
}  // namespace effdl::test
