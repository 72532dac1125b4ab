// dedup-initializers: golden before/after in ONNX text syntax.
#include <gtest/gtest.h>

#include "ir/verify.h"
#include "passes/registry.h"
#include "test_util.h"

namespace effdl::test {
namespace {

TEST(DedupInitializers, LaterCopiesPointToTheFirst) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2] x) => (float[2] y)
       <float[2] a = {1.0, 2.0}, float[2] other = {1.0, 3.0}, float[2] b = {1.0, 2.0}, float[2] c = {1.0, 2.0}>
    {
      t = Add(x, c)
      u = Mul(t, b)
      v = Sub(u, other)
      y = Div(v, a)
    })");
  auto r = runPass(*m, "dedup-initializers");
  EXPECT_EQ(print(*m), canonical(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2] x) => (float[2] y)
       <float[2] a = {1.0, 2.0}, float[2] other = {1.0, 3.0}>
    {
      t = Add(x, a)
      u = Mul(t, a)
      v = Sub(u, other)
      y = Div(v, a)
    })"));
  EXPECT_EQ(r.counter("initializers merged"), 2);
  EXPECT_EQ(r.counter("bytes saved"), 16);
  EXPECT_TRUE(r.changed);
  EXPECT_NO_THROW(ir::verifyModel(*m, /*strict=*/true));
}

TEST(DedupInitializers, SameBytesButDifferentTypeOrShapeStayApart) {
  // 0.0f and int32 0 have the same bytes; [2] and [1,2] too.
  const char* text = R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,2] x, int32[2] i) => (float[1,2] y, int32[2] j)
       <float[2] a = {0.0, 0.0}, float[1,2] b = {0.0, 0.0}, int32[2] c = {0, 0}>
    {
      t = Add(x, a)
      y = Add(t, b)
      j = Add(i, c)
    })";
  auto m = parse(text);
  auto r = runPass(*m, "dedup-initializers");
  EXPECT_EQ(print(*m), canonical(text));
  EXPECT_TRUE(r.counters.empty());
  EXPECT_FALSE(r.changed);
}

TEST(DedupInitializers, OverridableInputsAreNeverMerged) {
  // `a` is a graph input with a default: a caller may feed another value, so it is not a constant.
  const char* text = R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2] x, float[2] a = {1.0, 2.0}) => (float[2] y)
       <float[2] b = {1.0, 2.0}>
    {
      t = Add(x, a)
      y = Mul(t, b)
    })";
  auto m = parse(text);
  auto r = runPass(*m, "dedup-initializers");
  EXPECT_EQ(print(*m), canonical(text));
  EXPECT_FALSE(r.changed);
}

TEST(DedupInitializers, DeclinesAnInitializerThatIsAGraphOutput) {
  const char* text = R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2] x) => (float[2] y, float[2] b)
       <float[2] a = {1.0, 2.0}, float[2] b = {1.0, 2.0}>
    {
      y = Add(x, a)
    })";
  auto m = parse(text);
  auto r = runPass(*m, "dedup-initializers");
  EXPECT_EQ(print(*m), canonical(text));
  EXPECT_EQ(r.declined["initializer is a graph output"], 1);
  EXPECT_FALSE(r.changed);
}

TEST(DedupInitializers, StringsAndEmptyTensors) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[0] x) => (string[2] s, string[2] t, float[0] y)
       <string[2] a = {"p", "q"}, string[2] b = {"p", "q"}, string[2] c = {"p", "r"},
        float[0] e1 = {}, float[0] e2 = {}>
    {
      s = Identity(b)
      t = Identity(c)
      u = Add(x, e1)
      y = Add(u, e2)
    })");
  auto r = runPass(*m, "dedup-initializers");
  EXPECT_EQ(print(*m), canonical(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[0] x) => (string[2] s, string[2] t, float[0] y)
       <string[2] a = {"p", "q"}, string[2] c = {"p", "r"}, float[0] e1 = {}>
    {
      s = Identity(a)
      t = Identity(c)
      u = Add(x, e1)
      y = Add(u, e1)
    })"));
  EXPECT_EQ(r.counter("initializers merged"), 2);
  EXPECT_EQ(r.counter("bytes saved"), 2);  // "p" + "q"; the empty tensor has no bytes
  EXPECT_NO_THROW(ir::verifyModel(*m, /*strict=*/true));
}

TEST(DedupInitializers, WithinEachSubgraphAndAcrossCaptures) {
  // Inside the branch, k2 merges into k1. The outer `a` and the branch's `k1` are not merged:
  // each scope is deduplicated on its own.
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (bool cond, float[2] x) => (float[2] y)
       <float[2] a = {1.0, 2.0}, float[2] a2 = {1.0, 2.0}>
    {
      y = If(cond) <
        then_branch = then_g () => (float[2] r) <float[2] k1 = {1.0, 2.0}, float[2] k2 = {1.0, 2.0}> {
          t = Add(x, k1)
          u = Add(t, a2)
          r = Mul(u, k2)
        },
        else_branch = else_g () => (float[2] q) { q = Add(x, a) }
      >
    })");
  auto r = runPass(*m, "dedup-initializers");
  EXPECT_EQ(print(*m), canonical(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (bool cond, float[2] x) => (float[2] y)
       <float[2] a = {1.0, 2.0}>
    {
      y = If(cond) <
        then_branch = then_g () => (float[2] r) <float[2] k1 = {1.0, 2.0}> {
          t = Add(x, k1)
          u = Add(t, a)
          r = Mul(u, k1)
        },
        else_branch = else_g () => (float[2] q) { q = Add(x, a) }
      >
    })"));
  EXPECT_EQ(r.counter("initializers merged"), 2);
  ir::Node* ifNode = m->graph->findValue("y")->producer();
  // The If reads x and a (a2's capture was redirected to a).
  EXPECT_EQ(ifNode->implicitInputs().size(), 2u);
  EXPECT_NO_THROW(ir::verifyModel(*m, /*strict=*/true));
}

TEST(DedupInitializers, LargeTensorsAreComparedInFullNotBySample) {
  // The bucket key hashes a sample of a large tensor's bytes; the merge decision compares all of
  // them. b differs from a at one element that no sample window covers; c equals a.
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[16384] x) => (float[16384] y, float[16384] z, float[16384] u) {
      y = Add(x, x)
      z = Add(x, x)
      u = Add(x, x)
    })");
  ir::Graph& g = *m->graph;
  std::vector<float> a(16384);
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<float>(i);
  std::vector<float> b = a;
  b[1100] = -1.0f;  // byte 4400: past the first 4 KiB window, before the second
  g.addInitializer("a", ir::Tensor::fromVector(ir::DataType::kFloat, {16384}, a));
  g.addInitializer("b", ir::Tensor::fromVector(ir::DataType::kFloat, {16384}, b));
  g.addInitializer("c", ir::Tensor::fromVector(ir::DataType::kFloat, {16384}, a));
  const char* reader[] = {"y", "z", "u"};
  const char* init[] = {"a", "b", "c"};
  for (int i = 0; i < 3; ++i) g.findValue(reader[i])->producer()->setInput(1, g.findValue(init[i]));
  auto r = runPass(*m, "dedup-initializers");
  EXPECT_EQ(r.counter("initializers merged"), 1);
  EXPECT_EQ(g.findValue("u")->producer()->input(1)->name(), "a");
  EXPECT_EQ(g.findValue("z")->producer()->input(1)->name(), "b");
  EXPECT_EQ(g.findValue("c"), nullptr);
}

}  // namespace
}  // namespace effdl::test
