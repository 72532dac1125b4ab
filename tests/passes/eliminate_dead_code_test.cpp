// eliminate-dead: golden before/after in ONNX text syntax.
#include <gtest/gtest.h>

#include "test_util.h"

namespace effdl::test {
namespace {

TEST(EliminateDeadCode, RemovesUnusedNodesAndInitializers) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2] x) => (float[2] y)
       <float[2] unused = {1.0, 2.0}, float[2] b = {3.0, 4.0}>
    {
      t = Exp(x)
      u = Add(t, unused)
      y = Add(x, b)
    })");
  runPass(*m, "eliminate-dead");
  EXPECT_EQ(print(*m), canonical(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2] x) => (float[2] y)
       <float[2] b = {3.0, 4.0}>
    {
      y = Add(x, b)
    })"));
}

TEST(EliminateDeadCode, KeepsUnusedInputsUnlessAsked) {
  const char* text = R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2] x, float[2] unused) => (float[2] y)
    {
      y = Relu(x)
    })";
  auto m = parse(text);
  runPass(*m, "eliminate-dead");
  EXPECT_EQ(print(*m), canonical(text));
  runPass(*m, "eliminate-dead{inputs=true}");
  EXPECT_EQ(print(*m), canonical(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2] x) => (float[2] y)
    {
      y = Relu(x)
    })"));
}

TEST(EliminateDeadCode, KeepsValuesReadOnlyBySubgraphs) {
  // `c` is used only inside the If's branches: it must survive; `dead` must not.
  const char* text = R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (bool cond, float[2] x) => (float[2] y)
    {
      c = Exp(x)
      dead = Neg(x)
      y = If(cond) <
        then_branch = then_g () => (float[2] a) { a = Relu(c) },
        else_branch = else_g () => (float[2] b) { b = Identity(x) }
      >
    })";
  auto m = parse(text);
  runPass(*m, "eliminate-dead");
  std::string out = print(*m);
  EXPECT_NE(out.find("c = Exp(x)"), std::string::npos) << out;
  EXPECT_EQ(out.find("Neg"), std::string::npos) << out;
}

TEST(EliminateDeadCode, DropsDeadCodeInsideSubgraphsAndTheirCaptures) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (bool cond, float[2] x) => (float[2] y)
    {
      c = Exp(x)
      y = If(cond) <
        then_branch = then_g () => (float[2] a) { unused = Relu(c)  a = Identity(x) },
        else_branch = else_g () => (float[2] b) { b = Identity(x) }
      >
    })");
  runPass(*m, "eliminate-dead");
  std::string out = print(*m);
  // Nothing reads c any more once the branch's dead Relu is gone, so its Exp goes too.
  EXPECT_EQ(out.find("Relu"), std::string::npos) << out;
  EXPECT_EQ(out.find("Exp"), std::string::npos) << out;
}

}  // namespace
}  // namespace effdl::test
