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


// v = 3 trips of v + 1 from 0.5, then y = x + v.
const char* kLoopText = R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1] x) => (float[1] y) <int64 n = {TRIPS}, float[1] v0 = {0.5}, bool c0 = {1}>
    {
      v = Loop <body = body (int64 i, bool c, float[1] v_in) => (bool c_out, float[1] v_out)
                 <float[1] one = {1.0}> { c_out = Identity(c)  v_out = Add(v_in, one) }> (n, c0, v0)
      y = Add(x, v)
    })";

std::string loopText(int64_t trips) {
  std::string t = kLoopText;
  t.replace(t.find("TRIPS"), 5, std::to_string(trips));
  return t;
}

TEST(FoldConstants, FoldsALoopWithFewTrips) {
  auto m = parse(loopText(3));
  auto r = runPass(*m, "fold-constants");
  EXPECT_EQ(r.counter("nodes folded"), 1) << (r.declined.empty() ? "" : r.declined.begin()->first);
  runPass(*m, "eliminate-dead");
  EXPECT_EQ(print(*m), canonical(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1] x) => (float[1] y) <float[1] v_folded = {3.5}>
    { y = Add(x, v_folded) })"));
}

TEST(FoldConstants, KeepsALoopAboveTheWorkBudget) {
  // 10^9 trips never start; 3 trips of a 2-node body (6) are above a budget of 5.
  for (auto [trips, spec] : {std::pair<int64_t, const char*>{1000000000, "fold-constants"},
                             {3, "fold-constants{max-loop-work=5}"}}) {
    auto m = parse(loopText(trips));
    const std::string before = print(*m);
    auto r = runPass(*m, spec);
    EXPECT_EQ(r.counter("nodes folded"), 0);
    EXPECT_EQ(r.declined["Loop above the folding work budget kept"], 1);
    EXPECT_EQ(print(*m), before);
  }
}

TEST(FoldConstants, FoldsAnIfOnAConstantCondition) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2] x) => (float[2] y) <bool c = {0}, float[2] w = {1.0, 2.0}>
    {
      t = If (c) <then_branch = th () => (float[2] a) { a = Neg(w) },
                  else_branch = el () => (float[2] b) { b = Identity(w) }>
      y = Add(x, t)
    })");
  auto r = runPass(*m, "fold-constants");
  EXPECT_EQ(r.counter("nodes folded"), 1);
  runPass(*m, "eliminate-dead");
  EXPECT_EQ(print(*m), canonical(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2] x) => (float[2] y) <float[2] t_folded = {1.0, 2.0}>
    { y = Add(x, t_folded) })"));
}

TEST(FoldConstants, LoopBodiesRunUnderTheFoldingBudget) {
  // Two trips, but each builds a 4 MiB tensor: the body's allocation fails under the 1 MiB
  // budget before anything that large is made, and the Loop stays.
  const char* text = R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1] x) => (float[1] y) <int64 n = {2}, float[1] v0 = {0.5}, bool c0 = {1}, int64[1] big = {1048576}>
    {
      v = Loop <body = body (int64 i, bool c, float[1] v_in) => (bool c_out, float[1] v_out)
                 <float[1] one = {1.0}>
                 { c_out = Identity(c)  e = Expand(one, big)  s = ReduceSum <keepdims = 1> (e)  v_out = Add(v_in, s) }>
               (n, c0, v0)
      y = Add(x, v)
    })";
  auto m = parse(text);
  auto r = runPass(*m, "fold-constants");
  EXPECT_EQ(r.counter("nodes folded"), 0);
  EXPECT_EQ(r.declined["kernel failed on the constants"], 1);
  auto ok = runPass(*m, "fold-constants{max-bytes=8388608}");
  EXPECT_EQ(ok.counter("nodes folded"), 1) << "with a budget above 4 MiB the same Loop folds";
}

}  // namespace
}  // namespace effdl::test
