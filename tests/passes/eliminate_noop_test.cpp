// eliminate-noop: golden before/after in ONNX text syntax.
#include <gtest/gtest.h>

#include "ir/verify.h"
#include "passes/registry.h"
#include "test_util.h"

namespace effdl::test {
namespace {

// Runs eliminate-noop on `before`; expects `after`, a valid model, and returns the statistics.
passes::PassResult expectRewrite(const std::string& before, const std::string& after) {
  auto m = parse(before);
  auto r = runPass(*m, "eliminate-noop");
  EXPECT_EQ(print(*m), canonical(after));
  EXPECT_NO_THROW(ir::verifyModel(*m, /*strict=*/true));
  return r;
}

// Runs eliminate-noop on `text`; expects no change and returns the statistics.
passes::PassResult expectUnchanged(const std::string& text) {
  auto m = parse(text);
  auto r = runPass(*m, "eliminate-noop");
  EXPECT_EQ(print(*m), canonical(text));
  EXPECT_FALSE(r.changed);
  return r;
}

// ---------------------------------------------------------------- Identity

TEST(EliminateNoop, IdentityChainAndGraphOutputKeepsItsName) {
  auto r = expectRewrite(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2] x) => (float[2] y)
    {
      t = Identity(x)
      u = Relu(t)
      v = Identity(u)
      y = Identity(v)
    })",
                         R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2] x) => (float[2] y)
    {
      y = Relu(x)
    })");
  EXPECT_EQ(r.counter("Identity removed"), 3);
  EXPECT_TRUE(r.declined.empty());
  EXPECT_TRUE(r.changed);
}

TEST(EliminateNoop, DeclinesGraphOutputFedByInput) {
  auto r = expectUnchanged(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2] x) => (float[2] y)
    {
      y = Identity(x)
    })");
  EXPECT_EQ(r.declined["output is a graph output fed by an input"], 1);
}

TEST(EliminateNoop, DeclinesGraphOutputFedByInitializer) {
  auto r = expectUnchanged(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2] x) => (float[2] y, float[2] z)
       <float[2] w = {1.0, 2.0}>
    {
      y = Identity(w)
      z = Add(x, w)
    })");
  EXPECT_EQ(r.declined["output is a graph output fed by an input"], 1);
}

TEST(EliminateNoop, DeclinesWhenBothAreGraphOutputs) {
  auto r = expectUnchanged(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2] x) => (float[2] t, float[2] y)
    {
      t = Relu(x)
      y = Identity(t)
    })");
  EXPECT_EQ(r.declined["output and input are both graph outputs"], 1);
}

TEST(EliminateNoop, IdentityOfInputFeedingOtherNodes) {
  // Not a graph output: the users can read the input directly.
  expectRewrite(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2] x) => (float[2] y)
    {
      t = Identity(x)
      y = Add(t, t)
    })",
                R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2] x) => (float[2] y)
    {
      y = Add(x, x)
    })");
}

TEST(EliminateNoop, LeavesOtherDomainsAlone) {
  auto r = expectUnchanged(R"(
    <ir_version: 8, opset_import: ["" : 17, "custom" : 1]>
    g (float[2] x) => (float[2] y)
    {
      t = custom.Identity(x)
      y = Relu(t)
    })");
  EXPECT_TRUE(r.declined.empty());
}

// ---------------------------------------------------------------- Dropout

TEST(EliminateNoop, DropoutInInference) {
  auto r = expectRewrite(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2] x) => (float[2] y, float[2] z)
       <bool off = {0}>
    {
      t = Relu(x)
      y = Dropout(t)
      u = Neg(x)
      z, unusedMask = Dropout(u, , off)
    })",
                         R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2] x) => (float[2] y, float[2] z)
       <bool off = {0}>
    {
      y = Relu(x)
      z = Neg(x)
    })");
  EXPECT_EQ(r.counter("Dropout removed"), 2);
}

TEST(EliminateNoop, DropoutDeclines) {
  auto r = expectUnchanged(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2] x, bool mode) => (float[2] y, bool[2] mask, float[2] z, float[2] w)
       <bool on = {1}>
    {
      t = Relu(x)
      y, mask = Dropout(t)
      z = Dropout(t, , on)
      w = Dropout(t, , mode)
    })");
  EXPECT_EQ(r.declined["Dropout mask is used"], 1);
  EXPECT_EQ(r.declined["Dropout in training mode"], 1);
  EXPECT_EQ(r.declined["Dropout training_mode not a constant"], 1);
}

TEST(EliminateNoop, DropoutBeforeOpset7FollowsIsTest) {
  auto r = expectRewrite(R"(
    <ir_version: 3, opset_import: ["" : 6]>
    g (float[2] x) => (float[2] y, float[2] z)
    {
      t = Relu(x)
      y = Dropout <is_test = 1> (t)
      u = Neg(x)
      z = Dropout(u)
    })",
                         R"(
    <ir_version: 3, opset_import: ["" : 6]>
    g (float[2] x) => (float[2] y, float[2] z)
    {
      y = Relu(x)
      u = Neg(x)
      z = Dropout(u)
    })");
  EXPECT_EQ(r.counter("Dropout removed"), 1);
  EXPECT_EQ(r.declined["Dropout in training mode"], 1);
}

// ---------------------------------------------------------------- Cast

TEST(EliminateNoop, CastToTheSameType) {
  auto r = expectRewrite(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2] x) => (float[2] y, int64[2] z)
    {
      t = Relu(x)
      same = Cast <to = 1> (t)
      y = Neg(same)
      z = Cast <to = 7> (t)
    })",
                         R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2] x) => (float[2] y, int64[2] z)
    {
      t = Relu(x)
      y = Neg(t)
      z = Cast <to = 7> (t)
    })");
  EXPECT_EQ(r.counter("Cast removed"), 1);
  EXPECT_EQ(r.declined["Cast changes the type"], 1);
}

// ---------------------------------------------------------------- Reshape

TEST(EliminateNoop, ReshapeToTheSameShape) {
  // [2,3] → {2,3}, {0,-1} (0 copies, -1 inferred) and {-1,3} are all the identity.
  auto r = expectRewrite(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2,3] x) => (float[2,3] y)
       <int64[2] s1 = {2, 3}, int64[2] s2 = {0, -1}, int64[2] s3 = {-1, 3}>
    {
      a = Relu(x)
      b = Reshape(a, s1)
      c = Reshape(b, s2)
      y = Reshape(c, s3)
    })",
                         R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2,3] x) => (float[2,3] y)
       <int64[2] s1 = {2, 3}, int64[2] s2 = {0, -1}, int64[2] s3 = {-1, 3}>
    {
      y = Relu(x)
    })");
  EXPECT_EQ(r.counter("Reshape removed"), 3);
}

TEST(EliminateNoop, ReshapeDeclines) {
  auto r = expectUnchanged(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2,3] x, float[N,3] d, int64[2] dyn) => (float[3,2] a, float[6] b, float[N,3] c, float[P,Q] e)
       <int64[2] s32 = {3, 2}, int64[1] s6 = {6}, int64[2] s0 = {0, 3}>
    {
      a = Reshape(x, s32)
      b = Reshape(x, s6)
      c = Reshape(d, s0)
      e = Reshape(x, dyn)
    })");
  EXPECT_EQ(r.declined["Reshape changes the shape"], 2);
  EXPECT_EQ(r.declined["Reshape input shape not static"], 1);
  EXPECT_EQ(r.declined["Reshape shape not a constant"], 1);
}

TEST(EliminateNoop, ReshapeZeroHandling) {
  // allowzero = 0: a 0 copies the input dim, so [2,3] → {2,0} is the identity. allowzero = 1:
  // a 0 is a dim of size 0, so [0,3] → {0,3} is the identity but [0,3] → {3,0} is not.
  auto r = expectRewrite(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2,3] z, float[0,3] e) => (float[2,3] w, float[0,3] v, float[3,0] u)
       <int64[2] t = {2, 0}, int64[2] s = {0, 3}, int64[2] q = {3, 0}>
    {
      b = Relu(z)
      w = Reshape <allowzero = 0> (b, t)
      c = Neg(e)
      v = Reshape <allowzero = 1> (c, s)
      u = Reshape <allowzero = 1> (c, q)
    })",
                         R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2,3] z, float[0,3] e) => (float[2,3] w, float[0,3] v, float[3,0] u)
       <int64[2] t = {2, 0}, int64[2] s = {0, 3}, int64[2] q = {3, 0}>
    {
      w = Relu(z)
      v = Neg(e)
      u = Reshape <allowzero = 1> (v, q)
    })");
  EXPECT_EQ(r.counter("Reshape removed"), 2);
  EXPECT_EQ(r.declined["Reshape changes the shape"], 1);
}

// ---------------------------------------------------------------- Transpose

TEST(EliminateNoop, IdentityTranspose) {
  auto r = expectRewrite(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2,3,4] x, float[5] v) => (float[2,3,4] y, float[4,3,2] z, float[5] w, float[3,2,4] p)
    {
      a = Relu(x)
      y = Transpose <perm = [0, 1, 2]> (a)
      z = Transpose(a)
      b = Neg(v)
      w = Transpose(b)
      p = Transpose <perm = [1, 0, 2]> (a)
    })",
                         R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2,3,4] x, float[5] v) => (float[2,3,4] y, float[4,3,2] z, float[5] w, float[3,2,4] p)
    {
      y = Relu(x)
      z = Transpose(y)
      w = Neg(v)
      p = Transpose <perm = [1, 0, 2]> (y)
    })");
  EXPECT_EQ(r.counter("Transpose removed"), 2);
  EXPECT_EQ(r.declined["Transpose permutes"], 2);
}

// ---------------------------------------------------------------- subgraphs

TEST(EliminateNoop, InsideSubgraphs) {
  auto r = expectRewrite(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (bool cond, float[2] x) => (float[2] y)
    {
      c = Relu(x)
      k = Identity(c)
      y = If(cond) <
        then_branch = then_g () => (float[2] a) { t = Neg(k)  a = Identity(t) },
        else_branch = else_g () => (float[2] b) { b = Identity(x) }
      >
    })",
                         R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (bool cond, float[2] x) => (float[2] y)
    {
      c = Relu(x)
      y = If(cond) <
        then_branch = then_g () => (float[2] a) { a = Neg(c) },
        else_branch = else_g () => (float[2] b) { b = Identity(x) }
      >
    })");
  EXPECT_EQ(r.counter("Identity removed"), 2);
  EXPECT_EQ(r.declined["output is a subgraph output fed by a capture"], 1);
}

}  // namespace
}  // namespace effdl::test
