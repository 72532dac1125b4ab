// fold-shapes: golden before/after in ONNX text syntax, the cases that must not fold, and the
// limits a hostile file runs into.
#include <gtest/gtest.h>

#include <limits>

#include "ir/verify.h"
#include "passes/registry.h"
#include "test_util.h"

namespace effdl::test {
namespace {

// Runs fold-shapes alone and returns what it reported.
passes::PassResult fold(ir::Model& m) { return runPass(m, "fold-shapes"); }

TEST(FoldShapeComputations, FoldsTheFlattenByReshapeChain) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2,3,4,5] x) => (float[2,60] y)
       <int64 zero = {0}, int64[1] ax = {0}, int64[1] m1 = {-1}>
    {
      s = Shape(x)
      d = Gather(s, zero)
      u = Unsqueeze(d, ax)
      c = Concat <axis = 0> (u, m1)
      y = Reshape(x, c)
    })");
  runPass(*m, "fold-shapes,eliminate-dead");
  EXPECT_EQ(print(*m), canonical(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2,3,4,5] x) => (float[2,60] y)
       <int64[2] c_1 = {2, -1}>
    {
      y = Reshape(x, c_1)
    })"));
}

TEST(FoldShapeComputations, CleanupRunsIt) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2,3,4,5] x) => (float[2,60] y)
       <int64 zero = {0}, int64[1] ax = {0}, int64[1] m1 = {-1}>
    {
      s = Shape(x)
      d = Gather(s, zero)
      u = Unsqueeze(d, ax)
      c = Concat <axis = 0> (u, m1)
      y = Reshape(x, c)
    })");
  runPass(*m, "cleanup");
  std::string out = print(*m);
  EXPECT_EQ(out.find("Shape"), std::string::npos) << out;
  EXPECT_NE(out.find("{2, -1}"), std::string::npos) << out;
}

TEST(FoldShapeComputations, DynamicShapeDoesNotFold) {
  const char* text = R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[N,3] x) => (float[N,3] y)
       <int64 zero = {0}, int64[1] ax = {0}, int64[1] three = {3}>
    {
      s = Shape(x)
      d = Gather(s, zero)
      u = Unsqueeze(d, ax)
      c = Concat <axis = 0> (u, three)
      y = Reshape(x, c)
    })";
  auto m = parse(text);
  passes::PassResult r = fold(*m);
  EXPECT_FALSE(r.changed);
  EXPECT_EQ(r.declined["input shape not static"], 1);
  EXPECT_EQ(print(*m), canonical(text));
}

TEST(FoldShapeComputations, GatherFoldsTheStaticDimsOfADynamicShape) {
  // Dynamic batch, static features: Gather(Shape(x), 1) is 3 whatever N is.
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[N,3] x) => (float[N,3] y)
       <int64 one = {1}, int64[1] ax = {0}, int64[1] m1 = {-1}>
    {
      s = Shape(x)
      d = Gather(s, one)
      u = Unsqueeze(d, ax)
      c = Concat <axis = 0> (m1, u)
      y = Reshape(x, c)
    })");
  runPass(*m, "fold-shapes,eliminate-dead");
  EXPECT_EQ(print(*m), canonical(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[N,3] x) => (float[N,3] y)
       <int64[2] c_1 = {-1, 3}>
    {
      y = Reshape(x, c_1)
    })"));
}

TEST(FoldShapeComputations, ShapeWithStartAndEnd) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2,3,4,5] x, float[N,3,4] z, float[12] w) => (float[3,4] y, float[3,4] v)
    {
      s = Shape <start = 1, end = -1> (x)
      y = Reshape(w, s)
      t = Shape <start = -2> (z)
      v = Reshape(w, t)
    })");
  runPass(*m, "fold-shapes,eliminate-dead");
  EXPECT_EQ(print(*m), canonical(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2,3,4,5] x, float[N,3,4] z, float[12] w) => (float[3,4] y, float[3,4] v)
       <int64[2] s_1 = {3, 4}, int64[2] t_1 = {3, 4}>
    {
      y = Reshape(w, s_1)
      v = Reshape(w, t_1)
    })"));
}

TEST(FoldShapeComputations, SliceClampsLikeTheSpec) {
  // s = {2, 3, 4, 5}: [1, INT64_MAX) clamps to {3, 4, 5}; from -1 down to -1000 by -2 is {5, 3}.
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2,3,4,5] x, float[60] v, float[15] w) => (float[3,4,5] y, float[5,3] z)
       <int64[1] one = {1}, int64[1] huge = {9223372036854775807},
        int64[1] m1 = {-1}, int64[1] far = {-1000}, int64[1] ax = {0}, int64[1] m2 = {-2}>
    {
      s = Shape(x)
      a = Slice(s, one, huge)
      y = Reshape(v, a)
      b = Slice(s, m1, far, ax, m2)
      z = Reshape(w, b)
    })");
  runPass(*m, "fold-shapes,eliminate-dead");
  EXPECT_EQ(print(*m), canonical(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2,3,4,5] x, float[60] v, float[15] w) => (float[3,4,5] y, float[5,3] z)
       <int64[3] a_1 = {3, 4, 5}, int64[2] b_1 = {5, 3}>
    {
      y = Reshape(v, a_1)
      z = Reshape(w, b_1)
    })"));
}

TEST(FoldShapeComputations, SliceOfADynamicShapeFoldsWhenTheSliceIsStatic) {
  // s = {N, 3, 4}: s[1:3] folds, s[0:1] does not.
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[N,3,4] x) => (float[N,3,4] y, float[N,12] z)
       <int64[1] zero = {0}, int64[1] one = {1}, int64[1] three = {3}, int64[1] m1 = {-1},
        int64[1] twelve = {12}>
    {
      s = Shape(x)
      t = Slice(s, one, three)
      c = Concat <axis = 0> (m1, t)
      y = Reshape(x, c)
      n = Slice(s, zero, one)
      e = Concat <axis = 0> (n, twelve)
      z = Reshape(x, e)
    })");
  runPass(*m, "fold-shapes,eliminate-dead");
  EXPECT_EQ(print(*m), canonical(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[N,3,4] x) => (float[N,3,4] y, float[N,12] z)
       <int64[1] zero = {0}, int64[1] one = {1}, int64[1] twelve = {12}, int64[3] c_1 = {-1, 3, 4}>
    {
      s = Shape(x)
      y = Reshape(x, c_1)
      n = Slice(s, zero, one)
      e = Concat <axis = 0> (n, twelve)
      z = Reshape(x, e)
    })"));
}

TEST(FoldShapeComputations, SliceWithAttributesBeforeOpset10) {
  auto m = parse(R"(
    <ir_version: 4, opset_import: ["" : 9]>
    g (float[2,3,4,5] x, float[12] w) => (float[3,4] y)
    {
      s = Shape(x)
      t = Slice <starts = [1], ends = [3], axes = [0]> (s)
      y = Reshape(w, t)
    })");
  runPass(*m, "fold-shapes,eliminate-dead");
  EXPECT_EQ(print(*m), canonical(R"(
    <ir_version: 4, opset_import: ["" : 9]>
    g (float[2,3,4,5] x, float[12] w) => (float[3,4] y)
       <int64[2] t_1 = {3, 4}>
    {
      y = Reshape(w, t_1)
    })"));
}

TEST(FoldShapeComputations, UnsqueezeAndSqueezeAxesFromAttributesBeforeOpset13) {
  // Also reads a Constant node as a constant input.
  auto m = parse(R"(
    <ir_version: 6, opset_import: ["" : 11]>
    g (float[2,3,4,5] x) => (float[2,60] y)
       <int64 zero = {0}>
    {
      m1 = Constant <value = int64[1] {-1}> ()
      s = Shape(x)
      d = Gather(s, zero)
      u = Unsqueeze <axes = [0, 1]> (d)
      q = Squeeze <axes = [1]> (u)
      c = Concat <axis = 0> (q, m1)
      y = Reshape(x, c)
    })");
  runPass(*m, "fold-shapes,eliminate-dead");
  EXPECT_EQ(print(*m), canonical(R"(
    <ir_version: 6, opset_import: ["" : 11]>
    g (float[2,3,4,5] x) => (float[2,60] y)
       <int64[2] c_1 = {2, -1}>
    {
      y = Reshape(x, c_1)
    })"));
}

TEST(FoldShapeComputations, IntegerArithmeticWithBroadcasting) {
  // s = {2,3,4,5}; s * 2 / 2 = s; d0 * d1 = 6; 6 - 1 + 1 = 6.
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2,3,4,5] x) => (float[6,20] y)
       <int64 zero = {0}, int64 one = {1}, int64 two = {2}, int64[1] ax = {0}, int64[1] m1 = {-1}>
    {
      s = Shape(x)
      v = Mul(s, two)
      w = Div(v, two)
      d0 = Gather(w, zero)
      d1 = Gather(w, one)
      p = Mul(d0, d1)
      q = Sub(p, one)
      r = Add(q, one)
      u = Unsqueeze(r, ax)
      c = Concat <axis = 0> (u, m1)
      y = Reshape(x, c)
    })");
  passes::PassResult r = fold(*m);
  EXPECT_EQ(r.counter("nodes folded"), 10);
  EXPECT_TRUE(r.declined.empty());
  runPass(*m, "eliminate-dead");
  EXPECT_EQ(print(*m), canonical(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2,3,4,5] x) => (float[6,20] y)
       <int64[2] c_1 = {6, -1}>
    {
      y = Reshape(x, c_1)
    })"));
}

TEST(FoldShapeComputations, CastRangeEqualWhere) {
  // Reshape's "0 copies the dim" spelled out by an exporter: where(t == 0, s[0:2], t) = {2, -1},
  // with an int32 round trip and Range for the Gather indices.
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2,3,4,5] x) => (float[2,60] y)
       <int64 zero = {0}, int64 one = {1}, int64 two = {2}, int64[2] t = {0, -1}, int64[2] zeros = {0, 0}>
    {
      s = Shape(x)
      s32 = Cast <to = 6> (s)
      s64 = Cast <to = 7> (s32)
      i = Range(zero, two, one)
      f = Gather(s64, i)
      e = Equal(t, zeros)
      c = Where(e, f, t)
      y = Reshape(x, c)
    })");
  runPass(*m, "fold-shapes,eliminate-dead");
  EXPECT_EQ(print(*m), canonical(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2,3,4,5] x) => (float[2,60] y)
       <int64[2] c_1 = {2, -1}>
    {
      y = Reshape(x, c_1)
    })"));
}

TEST(FoldShapeComputations, ConstantOfShapeSizeIdentityAndReshapeOfAConstant) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2,3] x) => (float[2,3] y, int64[6] n)
       <int64[1] m1 = {-1}>
    {
      s = Shape(x)
      z = ConstantOfShape <value = float[1] {1.5}> (s)
      y = Add(x, z)
      k = Size(x)
      l = Identity(k)
      r = Range(l, l, l)
      q = Reshape(s, m1)
      a = Concat <axis = 0> (q, s, r, s)
      ones = ConstantOfShape <value = int64[1] {1}> (s)
      b = Reshape(ones, m1)
      n = Mul(a, b)
    })");
  passes::PassResult r = fold(*m);
  // n itself is a graph output: everything feeding it folds, n stays a Mul of two constants.
  EXPECT_EQ(r.declined["output is a graph output"], 1);
  runPass(*m, "eliminate-dead");
  EXPECT_EQ(print(*m), canonical(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2,3] x) => (float[2,3] y, int64[6] n)
       <float[2,3] z_1 = {1.5, 1.5, 1.5, 1.5, 1.5, 1.5}, int64[6] a_1 = {2, 3, 2, 3, 2, 3}, int64[6] b_1 = {1, 1, 1, 1, 1, 1}>
    {
      y = Add(x, z_1)
      n = Mul(a_1, b_1)
    })"));
}

TEST(FoldShapeComputations, GraphOutputIsDeclined) {
  const char* text = R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2,3] x) => (int64[2] s)
    {
      s = Shape(x)
    })";
  auto m = parse(text);
  passes::PassResult r = fold(*m);
  EXPECT_FALSE(r.changed);
  EXPECT_EQ(r.declined["output is a graph output"], 1);
  EXPECT_EQ(print(*m), canonical(text));
}

TEST(FoldShapeComputations, HugeConstantOfShapeIsDeclined) {
  // 2^40 elements asked for by four numbers: never materialised.
  const char* text = R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1] x) => (float[1024,1024,1024,1024] y)
       <int64[4] big = {1024, 1024, 1024, 1024}>
    {
      z = ConstantOfShape(big)
      y = Add(z, x)
    })";
  auto m = parse(text);
  passes::PassResult r = fold(*m);
  EXPECT_FALSE(r.changed);
  EXPECT_EQ(r.declined["result too large"], 1);
  EXPECT_EQ(print(*m), canonical(text));
}

TEST(FoldShapeComputations, ConstantOfShapeLimitIs1024Elements) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1] x) => (float[32,32] y, float[1025] w)
       <int64[2] fits = {32, 32}, int64[1] over = {1025}>
    {
      z = ConstantOfShape(fits)
      y = Add(z, x)
      v = ConstantOfShape(over)
      w = Add(v, x)
    })");
  passes::PassResult r = fold(*m);
  EXPECT_EQ(r.counter("nodes folded"), 1);
  EXPECT_EQ(r.declined["result too large"], 1);
  std::string out = print(*m);
  EXPECT_NE(out.find("y = Add(z_1, x)"), std::string::npos) << out;
  EXPECT_NE(out.find("v = ConstantOfShape(over)"), std::string::npos) << out;
}

TEST(FoldShapeComputations, HostileValuesAreDeclinedNotErrors) {
  const char* text = R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2] x) => (float[2] y, int64[1] o1, int64[1] o2, int64[?] o4, int64[1] o5)
       <int64[1] big = {4611686018427387904}, int64[1] four = {4}, int64[1] zero = {0},
        int64 start = {0}, int64 limit = {1000000000000},
        int64 step = {1}, int64[1] lowest = {-9223372036854775808}, int64[1] m1 = {-1}>
    {
      a = Mul(big, four)
      o1 = Identity(a)
      b = Div(four, zero)
      o2 = Identity(b)
      r = Range(start, limit, step)
      o4 = Identity(r)
      d = Div(lowest, m1)
      o5 = Identity(d)
      y = Identity(x)
    })";
  auto m = parse(text);
  passes::PassResult r = fold(*m);
  EXPECT_FALSE(r.changed);
  EXPECT_EQ(r.declined["integer overflow"], 2);
  EXPECT_EQ(r.declined["division by zero"], 1);
  EXPECT_EQ(r.declined["result too large"], 1);
  EXPECT_EQ(print(*m), canonical(text));
}

TEST(FoldShapeComputations, RangeNearTheInt64LimitsDoesNotOverflow) {
  // {-2^63, -2^62, 0, 2^62}: every value fits, though 3 * 2^62 does not. The step is computed
  // (Div) so that the loader's shape inference leaves the length unknown.
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2] x) => (float[2] y, int64[?] o)
       <int64 lowest = {-9223372036854775808}, int64 highest = {9223372036854775807},
        int64 quarter = {4611686018427387904}, int64 one = {1}>
    {
      step = Div(quarter, one)
      r = Range(lowest, highest, step)
      o = Identity(r)
      y = Identity(x)
    })");
  passes::PassResult r = fold(*m);
  EXPECT_EQ(r.counter("nodes folded"), 2);
  const ir::Value* folded = m->graph->findValue("r_1");
  ASSERT_TRUE(folded && folded->isConstant()) << print(*m);
  auto v = folded->initializer().values<int64_t>();
  ASSERT_EQ(v.size(), 4u);
  EXPECT_EQ(v[0], std::numeric_limits<int64_t>::min());
  EXPECT_EQ(v[1], -4611686018427387904);
  EXPECT_EQ(v[2], 0);
  EXPECT_EQ(v[3], 4611686018427387904);
}

TEST(FoldShapeComputations, GatherIndexOutOfRangeIsDeclined) {
  // The index is computed (Div: not in ONNX's data propagation), so that the loader's shape
  // inference cannot reject it first.
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2] x) => (float[2] y, int64 o)
       <int64[4] s = {2, 3, 4, 5}, int64 fourteen = {14}, int64 two = {2}>
    {
      seven = Div(fourteen, two)
      c = Gather(s, seven)
      o = Identity(c)
      y = Identity(x)
    })");
  passes::PassResult r = fold(*m);
  EXPECT_EQ(r.counter("nodes folded"), 1);
  EXPECT_EQ(r.declined["index out of range"], 1);
  std::string out = print(*m);
  EXPECT_NE(out.find("c = Gather(s, seven_1)"), std::string::npos) << out;
  const ir::Value* seven = m->graph->findValue("seven_1");
  ASSERT_TRUE(seven && seven->isConstant()) << out;
  EXPECT_EQ(seven->initializer().values<int64_t>()[0], 7);
}

TEST(FoldShapeComputations, FoldsInsideSubgraphsThroughCaptures) {
  // d folds in the main graph; the branch reads it through a capture and folds its own chain.
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (bool[1] cond, float[2,3] x) => (float[2,3] y)
       <int64 zero = {0}, int64[1] ax = {0}, int64[1] m1 = {-1}>
    {
      s = Shape(x)
      d = Gather(s, zero)
      y = If(cond) <
        then_branch = then_g () => (float[2,3] a) {
          u = Unsqueeze(d, ax)
          c = Concat <axis = 0> (u, m1)
          a = Reshape(x, c)
        },
        else_branch = else_g () => (float[2,3] b) { b = Identity(x) }
      >
    })");
  runPass(*m, "fold-shapes,eliminate-dead");
  std::string out = print(*m);
  EXPECT_EQ(out.find("Shape"), std::string::npos) << out;
  EXPECT_EQ(out.find("Gather"), std::string::npos) << out;
  EXPECT_EQ(out.find("Unsqueeze"), std::string::npos) << out;
  EXPECT_NE(out.find("int64[2] c_1 = {2, -1}"), std::string::npos) << out;
  EXPECT_NE(out.find("a = Reshape(x, c_1)"), std::string::npos) << out;
  // What was printed is a valid model again.
  EXPECT_EQ(print(*parse(out)), out);
}

TEST(FoldShapeComputations, ASliceBeforeTheShapesStartFoldsToAnEmptyVectorTheModelStillValid) {
  // libonnx 1.12's data propagation reads an empty int64 initializer as a scalar and then refused
  // the Concat ("axis must be in [-rank, rank-1]"); the written model must load all the same
  // (found by fuzz_model: an expanded LayerNormalization with a mutated axis).
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[3,4] x, int64[2] tail) => (float[4,3] y)
       <int64[1] zero = {0}, int64[1] end = {-100}>
    {
      s = Shape(x)
      p = Slice(s, zero, end)
      c = Concat <axis = 0> (p, tail)
      y = Reshape(x, c)
    })");
  runPass(*m, "fold-shapes,eliminate-dead");
  std::string out = print(*m);
  EXPECT_NE(out.find("int64[0] p_1 = {}"), std::string::npos) << out;
  EXPECT_NO_THROW(ir::verifyModel(*m, /*strict=*/true));
  EXPECT_NO_THROW(ir::checkDeclaredShapes(*m));
}

}  // namespace
}  // namespace effdl::test
