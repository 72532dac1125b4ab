// cleanup: its steps run together until nothing changes, so a chain that needs several steps
// (a Constant becomes an initializer, then folds, then the dead rest goes) ends tidy in one pass.
#include <gtest/gtest.h>

#include "passes/cleanup/cleanup.h"
#include "passes/registry.h"
#include "test_util.h"

namespace effdl::test {
namespace {

TEST(Cleanup, RunsItsStepsToAFixedPoint) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2] x) => (float[2] y)
    {
      c = Constant <value = float[2] {1.0, 2.0}> ()
      i = Identity(c)
      unused = Neg(x)
      y = Add(x, i)
    })");
  auto r = runPass(*m, "cleanup");
  EXPECT_GE(r.counter("rounds"), 2);
  EXPECT_LE(r.counter("rounds"), 5);
  EXPECT_EQ(print(*m), canonical(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2] x) => (float[2] y) <float[2] c = {1.0, 2.0}>
    {
      y = Add(x, c)
    })"));
}

TEST(Cleanup, LeavesATidyModelUnchanged) {
  const char* text = R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2] x) => (float[2] y) <float[2] b = {1.0, 2.0}> { y = Add(x, b) })";
  auto m = parse(text);
  auto r = runPass(*m, "cleanup");
  EXPECT_EQ(r.counter("rounds"), 1);
  EXPECT_FALSE(r.changed);
  EXPECT_EQ(print(*m), canonical(text));
}

TEST(Cleanup, EveryStepIsARegisteredPass) {
  for (const auto& name : passes::cleanupSteps()) EXPECT_NE(passes::findPass(name), nullptr) << name;
}

}  // namespace
}  // namespace effdl::test
