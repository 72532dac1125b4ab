// The shape and data-movement kernels on hostile data: indices out of range, shapes that would
// need 2^40 elements, malformed Slice/Split/Pad/Transpose parameters. Each must end in an
// effdl::Error that names the node, never a crash or a giant allocation. Also checks that the
// in-place paths (output sharing the input's buffer) give the same values as the copying ones.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/error.h"
#include "runtime/limits.h"
#include "runtime/session.h"
#include "test_util.h"

namespace effdl::test {
namespace {

ir::Tensor i64(std::vector<int64_t> dims, std::vector<int64_t> v) {
  return ir::Tensor::fromVector(ir::DataType::kInt64, std::move(dims), v);
}
ir::Tensor f32(std::vector<int64_t> dims, std::vector<float> v) {
  return ir::Tensor::fromVector(ir::DataType::kFloat, std::move(dims), v);
}
ir::Tensor iota(std::vector<int64_t> dims) {
  int64_t n = 1;
  for (auto d : dims) n *= d;
  std::vector<float> v(static_cast<size_t>(n));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i);
  return f32(std::move(dims), v);
}

struct Outcome {
  bool threw = false;
  ErrorKind kind = ErrorKind::kInternal;
  std::string message;
  std::vector<ir::Tensor> outputs;
};

// Parses `text`, names every node "hostile_<Op>" (ONNX text syntax has no node names), and runs.
Outcome run(const std::string& text, const std::vector<runtime::NamedInput>& inputs) {
  Outcome o;
  try {
    auto m = parse(text);
    for (ir::Node* n : m->graph->nodes()) n->setName("hostile_" + n->opType());
    runtime::Session s(*m, {1});
    o.outputs = s.run(inputs);
  } catch (const Error& e) {
    o.threw = true;
    o.kind = e.kind();
    o.message = e.what();
  }
  return o;
}

// The run failed with kInvalidModel, naming node hostile_<op>, and the message contains `what`.
void expectRefused(const Outcome& o, const std::string& op, const std::string& what) {
  ASSERT_TRUE(o.threw) << op << ": no error";
  EXPECT_EQ(o.kind, ErrorKind::kInvalidModel) << o.message;
  EXPECT_NE(o.message.find("node 'hostile_" + op + "' (" + op), std::string::npos) << o.message;
  EXPECT_NE(o.message.find(what), std::string::npos) << o.message;
}

std::vector<float> floatsOf(const ir::Tensor& t) {
  auto v = t.values<float>();
  return {v.begin(), v.end()};
}
std::vector<int64_t> intsOf(const ir::Tensor& t) {
  auto v = t.values<int64_t>();
  return {v.begin(), v.end()};
}

constexpr int64_t k2p20 = int64_t{1} << 20;
constexpr int64_t k2p40 = int64_t{1} << 40;

// ------------------------------------------------------------------------------ indices in data
TEST(ShapeOpsHardening, GatherIndexOutOfRange) {
  const char* text = R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[3,2] x, int64[N] idx) => (float[N,2] y) { y = Gather(x, idx) })";
  auto x = iota({3, 2});
  for (int64_t bad :
       {int64_t{3}, int64_t{-4}, std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min()}) {
    auto idx = i64({2}, {0, bad});
    expectRefused(run(text, {{"x", &x}, {"idx", &idx}}), "Gather", "out of range");
  }
  auto ok = i64({2}, {-1, 0});
  auto o = run(text, {{"x", &x}, {"idx", &ok}});
  ASSERT_FALSE(o.threw) << o.message;
  EXPECT_EQ(floatsOf(o.outputs[0]), (std::vector<float>{4, 5, 0, 1}));
}

TEST(ShapeOpsHardening, GatherElementsAndNdOutOfRange) {
  auto x = iota({2, 2});
  auto idx = i64({2, 2}, {0, 1, 2, 0});
  expectRefused(run(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2,2] x, int64[2,2] idx) => (float[2,2] y) { y = GatherElements<axis = 0>(x, idx) })",
                    {{"x", &x}, {"idx", &idx}}),
                "GatherElements", "out of range");
  // Indices wider than data on a non-gather axis address memory past the row.
  auto wide = i64({2, 3}, {0, 0, 0, 0, 0, 0});
  expectRefused(run(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2,2] x, int64[2,3] idx) => (float[2,3] y) { y = GatherElements<axis = 0>(x, idx) })",
                    {{"x", &x}, {"idx", &wide}}),
                "GatherElements", "exceed data");
  auto nd = i64({1, 2}, {1, 7});
  expectRefused(run(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2,2] x, int64[1,2] idx) => (float[1] y) { y = GatherND(x, idx) })",
                    {{"x", &x}, {"idx", &nd}}),
                "GatherND", "out of range");
  auto tooLong = i64({1, 3}, {0, 0, 0});
  expectRefused(run(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2,2] x, int64[1,3] idx) => (float[1] y) { y = GatherND(x, idx) })",
                    {{"x", &x}, {"idx", &tooLong}}),
                "GatherND", "last dim of indices");
}

TEST(ShapeOpsHardening, ScatterOutOfRange) {
  auto x = iota({4});
  auto idx = i64({1, 1}, {4});
  auto upd = f32({1}, {9});
  expectRefused(run(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[4] x, int64[1,1] idx, float[1] u) => (float[4] y) { y = ScatterND(x, idx, u) })",
                    {{"x", &x}, {"idx", &idx}, {"u", &upd}}),
                "ScatterND", "out of range");
  auto idx2 = i64({1}, {-5});
  expectRefused(run(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[4] x, int64[1] idx, float[1] u) => (float[4] y) { y = ScatterElements(x, idx, u) })",
                    {{"x", &x}, {"idx", &idx2}, {"u", &upd}}),
                "ScatterElements", "out of range");
  auto wrongUpdates = f32({2}, {1, 2});
  auto idx3 = i64({1, 1}, {0});
  expectRefused(run(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[4] x, int64[1,1] idx, float[2] u) => (float[4] y) { y = ScatterND(x, idx, u) })",
                    {{"x", &x}, {"idx", &idx3}, {"u", &wrongUpdates}}),
                "ScatterND", "updates must have shape");
}

TEST(ShapeOpsHardening, OneHotDepthAndTopK) {
  auto idx = i64({2}, {0, 1});
  auto values = f32({2}, {0, 1});
  const char* oneHot = R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (int64[2] idx, int64[1] depth, float[2] v) => (float[2,D] y) { y = OneHot(idx, depth, v) })";
  for (int64_t depth : {k2p40, int64_t{0}, int64_t{-3}}) {
    auto d = i64({1}, {depth});
    expectRefused(run(oneHot, {{"idx", &idx}, {"depth", &d}, {"v", &values}}), "OneHot",
                  depth > 0 ? "exceeds the runtime's tensor size limit" : "must be positive");
  }
  auto x = iota({5});
  const char* topK = R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[5] x, int64[1] k) => (float[K] v, int64[K] i) { v, i = TopK(x, k) })";
  for (int64_t k : {int64_t{6}, int64_t{-1}, k2p40}) {
    auto kk = i64({1}, {k});
    expectRefused(run(topK, {{"x", &x}, {"k", &kk}}), "TopK", "out of range");
  }
}

// ------------------------------------------------------------------- sizes computed from values
TEST(ShapeOpsHardening, ReshapeToHugeShape) {
  auto x = iota({4});
  const char* text = R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[4] x, int64[2] s) => (float[A,B] y) { y = Reshape(x, s) })";
  auto huge = i64({2}, {k2p20, k2p20});
  expectRefused(run(text, {{"x", &x}, {"s", &huge}}), "Reshape", "cannot give shape");
  auto overflow = i64({2}, {std::numeric_limits<int64_t>::max(), 2});
  expectRefused(run(text, {{"x", &x}, {"s", &overflow}}), "Reshape", "too large");
  auto twoInferred = i64({2}, {-1, -1});
  expectRefused(run(text, {{"x", &x}, {"s", &twoInferred}}), "Reshape", "more than one -1");
  auto negative = i64({2}, {-2, -2});
  expectRefused(run(text, {{"x", &x}, {"s", &negative}}), "Reshape", "negative");
}

TEST(ShapeOpsHardening, ExpandConstantOfShapeTileToHugeShapes) {
  auto x = f32({1}, {1});
  auto huge = i64({2}, {k2p20, k2p20});
  expectRefused(run(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1] x, int64[2] s) => (float[A,B] y) { y = Expand(x, s) })",
                    {{"x", &x}, {"s", &huge}}),
                "Expand", "exceeds the runtime's tensor size limit");
  expectRefused(run(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (int64[2] s) => (float[A,B] y) { y = ConstantOfShape(s) })",
                    {{"s", &huge}}),
                "ConstantOfShape", "exceeds the runtime's tensor size limit");
  auto overflow = i64({3}, {k2p40, k2p40, k2p40});
  expectRefused(run(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (int64[3] s) => (float[A,B,C] y) { y = ConstantOfShape(s) })",
                    {{"s", &overflow}}),
                "ConstantOfShape", "too large");
  auto negative = i64({2}, {-1, 4});
  expectRefused(run(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (int64[2] s) => (float[A,B] y) { y = ConstantOfShape(s) })",
                    {{"s", &negative}}),
                "ConstantOfShape", "negative");
  const char* tile = R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1] x, int64[1] r) => (float[A] y) { y = Tile(x, r) })";
  for (int64_t reps : {k2p40, std::numeric_limits<int64_t>::max(), int64_t{-1}}) {
    auto r = i64({1}, {reps});
    expectRefused(run(tile, {{"x", &x}, {"r", &r}}), "Tile", reps < 0 ? "negative" : "exceeds");
  }
}

TEST(ShapeOpsHardening, RangeTooLongOrDegenerate) {
  const char* ints = R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (int64 a, int64 b, int64 d) => (int64[N] y) { y = Range(a, b, d) })";
  auto zero = i64({}, {0}), one = i64({}, {1}), big = i64({}, {k2p40});
  expectRefused(run(ints, {{"a", &zero}, {"b", &big}, {"d", &one}}), "Range",
                "exceeds the runtime's tensor size limit");
  auto lo = i64({}, {std::numeric_limits<int64_t>::min()}), hi = i64({}, {std::numeric_limits<int64_t>::max()});
  expectRefused(run(ints, {{"a", &lo}, {"b", &hi}, {"d", &one}}), "Range", "too many elements");
  expectRefused(run(ints, {{"a", &zero}, {"b", &one}, {"d", &zero}}), "Range", "delta is zero");
  const char* floats = R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float a, float b, float d) => (float[N] y) { y = Range(a, b, d) })";
  auto f0 = f32({}, {0}), fHuge = f32({}, {1e30f}), fTiny = f32({}, {1e-30f}), fInf = f32({}, {INFINITY});
  expectRefused(run(floats, {{"a", &f0}, {"b", &fHuge}, {"d", &fTiny}}), "Range", "too many elements");
  expectRefused(run(floats, {{"a", &f0}, {"b", &fInf}, {"d", &fTiny}}), "Range", "not finite");
}

TEST(ShapeOpsHardening, PadToHugeOrNegativeShape) {
  auto x = iota({2, 2});
  const char* text = R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2,2] x, int64[N] p) => (float[A,B] y) { y = Pad(x, p) })";
  auto huge = i64({4}, {k2p40, 0, 0, 0});
  expectRefused(run(text, {{"x", &x}, {"p", &huge}}), "Pad", "exceeds the runtime's tensor size limit");
  auto overflow = i64({4}, {std::numeric_limits<int64_t>::max(), 0, 1, 0});
  expectRefused(run(text, {{"x", &x}, {"p", &overflow}}), "Pad", "invalid shape");
  auto negative = i64({4}, {-3, 0, 0, 0});
  expectRefused(run(text, {{"x", &x}, {"p", &negative}}), "Pad", "invalid shape");
  auto tooFew = i64({2}, {1, 1});
  expectRefused(run(text, {{"x", &x}, {"p", &tooFew}}), "Pad", "pads has 2 entries");
  // Reflect far beyond the edge is still in bounds (numpy's repeated reflection).
  auto far = i64({4}, {0, 0, 5, 0});
  auto o = run(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2,2] x, int64[4] p) => (float[A,B] y) { y = Pad<mode = "reflect">(x, p) })",
               {{"x", &x}, {"p", &far}});
  ASSERT_FALSE(o.threw) << o.message;
  EXPECT_EQ(o.outputs[0].dims(), (std::vector<int64_t>{7, 2}));
  EXPECT_EQ(floatsOf(o.outputs[0]), (std::vector<float>{0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1}));
}

TEST(ShapeOpsHardening, LimitIsConfigurable) {
  const int64_t saved = runtime::runtimeMaxTensorBytes();
  runtime::setRuntimeMaxTensorBytes(1 << 20);
  auto s = i64({2}, {1024, 1024});  // 4 MiB of float
  auto o = run(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (int64[2] s) => (float[A,B] y) { y = ConstantOfShape(s) })",
               {{"s", &s}});
  runtime::setRuntimeMaxTensorBytes(saved);
  expectRefused(o, "ConstantOfShape", "limit of 1048576 bytes");
}

// ------------------------------------------------------------------------ malformed parameters
TEST(ShapeOpsHardening, BadSlices) {
  auto x = iota({4, 3});
  const char* text = R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[4,3] x, int64[N] s, int64[N] e, int64[N] a, int64[N] st) => (float[A,B] y) { y = Slice(x, s, e, a, st) })";
  struct Case {
    std::vector<int64_t> s, e, a, st;
    const char* what;
  } cases[] = {
      {{0}, {2}, {2}, {1}, "out of range for rank"},
      {{0}, {2}, {-3}, {1}, "out of range for rank"},
      {{0}, {2}, {0}, {0}, "step is 0"},
      {{0, 0}, {2, 2}, {0, 0}, {1, 1}, "repeated"},
  };
  for (const auto& c : cases) {
    auto s = i64({static_cast<int64_t>(c.s.size())}, c.s), e = i64({static_cast<int64_t>(c.e.size())}, c.e);
    auto a = i64({static_cast<int64_t>(c.a.size())}, c.a), st = i64({static_cast<int64_t>(c.st.size())}, c.st);
    expectRefused(run(text, {{"x", &x}, {"s", &s}, {"e", &e}, {"a", &a}, {"st", &st}}), "Slice", c.what);
  }
  // Extreme bounds and steps clamp instead of overflowing.
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max(), kMin = std::numeric_limits<int64_t>::min();
  auto s = i64({2}, {kMax, kMin}), e = i64({2}, {kMin, kMax}), a = i64({2}, {0, 1}), st = i64({2}, {kMin, kMax});
  auto o = run(text, {{"x", &x}, {"s", &s}, {"e", &e}, {"a", &a}, {"st", &st}});
  ASSERT_FALSE(o.threw) << o.message;
  EXPECT_EQ(o.outputs[0].dims(), (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(floatsOf(o.outputs[0]), (std::vector<float>{9}));
}

TEST(ShapeOpsHardening, BadSplitTransposeConcatEinsum) {
  auto x = iota({4, 3});
  auto sizes = i64({2}, {3, 3});
  expectRefused(run(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[4,3] x, int64[2] s) => (float[A,3] y, float[B,3] z) { y, z = Split<axis = 0>(x, s) })",
                    {{"x", &x}, {"s", &sizes}}),
                "Split", "does not add up");
  auto negative = i64({2}, {-1, 5});
  expectRefused(run(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[4,3] x, int64[2] s) => (float[A,3] y, float[B,3] z) { y, z = Split<axis = 0>(x, s) })",
                    {{"x", &x}, {"s", &negative}}),
                "Split", "negative");
  auto y = iota({2, 3});
  expectRefused(run(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[4,3] x, float[2,3] y) => (float[A,B] z) { z = Concat<axis = 1>(x, y) })",
                    {{"x", &x}, {"y", &y}}),
                "Concat", "has shape");
  auto m = iota({3, 2});
  expectRefused(run(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[4,3] x, float[3,2] y) => (float[A,B] z) { z = Einsum<equation = "ij,kj->ik">(x, y) })",
                    {{"x", &x}, {"y", &m}}),
                "Einsum", "label 'j' has sizes");
  auto lens = i64({3}, {1, 5, 0});
  expectRefused(run(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[4,3] x, int64[3] l) => (float[4,3] y) { y = ReverseSequence<batch_axis = 1, time_axis = 0>(x, l) })",
                    {{"x", &x}, {"l", &lens}}),
                "ReverseSequence", "outside [0, 4]");
}

TEST(ShapeOpsHardening, BadTransposePerm) {
  auto x = iota({4, 3});
  for (const char* perm : {"[0, 0]", "[0, 2]", "[-1, 0]"}) {
    expectRefused(run(std::string(R"(
      <ir_version: 8, opset_import: ["" : 17]>
      g (float[4,3] x) => (float[A,B] y) { y = Transpose<perm = )") +
                          perm + R"(>(x) })",
                      {{"x", &x}}),
                  "Transpose", "perm");
  }
}

TEST(ShapeOpsHardening, CastOfNanAndHugeFloatsToIntegersSaturates) {
  auto x = f32({5}, {NAN, 1e30f, -1e30f, 2.9f, -2.9f});
  auto o = run(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[5] x) => (int32[5] y, uint8[5] z) { y = Cast<to = 6>(x)  z = Cast<to = 2>(x) })",
               {{"x", &x}});
  ASSERT_FALSE(o.threw) << o.message;
  auto y = o.outputs[0].values<int32_t>();
  EXPECT_EQ(std::vector<int32_t>(y.begin(), y.end()), (std::vector<int32_t>{0, INT32_MAX, INT32_MIN, 2, -2}));
  auto z = o.outputs[1].values<uint8_t>();
  EXPECT_EQ(std::vector<uint8_t>(z.begin(), z.end()), (std::vector<uint8_t>{0, 255, 0, 2, 0}));
}

// ----------------------------------------------------------------------------- in-place paths
// Transpose makes a pool buffer that dies at the next node, so each op below may reuse it.
TEST(ShapeOpsInPlace, ViewOpsKeepValuesWhenSharingTheBuffer) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2,3] x, int64[3] s) => (float[3,1,2] y) <int64[1] s1 = {0}> {
      t = Transpose(x)
      r = Reshape(t, s)
      q = Squeeze(r)
      f = Flatten<axis = 1>(q)
      u = Unsqueeze(f, s1)
      y = Transpose<perm = [1, 0, 2]>(u)
    })");
  // u is [1,3,2]; y's Transpose moves only the unit dim: a reshape, kept in place too.
  runtime::Session s(*m, {1});
  auto x = iota({2, 3});
  auto shape = i64({3}, {3, 1, 2});
  auto out = s.run({{"x", &x}, {"s", &shape}});
  EXPECT_EQ(out[0].dims(), (std::vector<int64_t>{3, 1, 2}));
  EXPECT_EQ(floatsOf(out[0]), (std::vector<float>{0, 3, 1, 4, 2, 5}));
  // One pool buffer (24 bytes rounded to 64) served all six nodes.
  EXPECT_EQ(s.pool().capacityBytes(), 64u);
}

TEST(ShapeOpsInPlace, ScatterTriluCumSumOnSharedBuffer) {
  auto x = iota({3, 3});
  auto idx = i64({1, 1}, {2});
  auto upd = f32({1, 3}, {10, 20, 30});
  auto axis = i64({}, {1});
  auto o = run(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[3,3] x, int64[1,1] idx, float[1,3] u, int64 axis) => (float[3,3] y) {
      t = Transpose(x)
      s = ScatterND<reduction = "add">(t, idx, u)
      l = Trilu<upper = 0>(s)
      y = CumSum<exclusive = 1>(l, axis)
    })",
               {{"x", &x}, {"idx", &idx}, {"u", &upd}, {"axis", &axis}});
  ASSERT_FALSE(o.threw) << o.message;
  // t = [[0,3,6],[1,4,7],[2,5,8]]; row 2 += [10,20,30] → [12,25,38]; lower triangle; exclusive cumsum.
  EXPECT_EQ(floatsOf(o.outputs[0]), (std::vector<float>{0, 0, 0, 0, 1, 5, 0, 12, 37}));
}

TEST(ShapeOpsInPlace, NonZeroAndShapeOps) {
  auto x = f32({2, 3}, {0, -0.0f, 1, NAN, 0, 2});
  auto o = run(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2,3] x) => (int64[2,N] y, int64[1] s, int64 n) { y = NonZero(x)  s = Shape<start = -1>(x)  n = Size(x) })",
               {{"x", &x}});
  ASSERT_FALSE(o.threw) << o.message;
  EXPECT_EQ(intsOf(o.outputs[0]), (std::vector<int64_t>{0, 1, 1, 2, 0, 2}));
  EXPECT_EQ(intsOf(o.outputs[1]), (std::vector<int64_t>{3}));
  EXPECT_EQ(intsOf(o.outputs[2]), (std::vector<int64_t>{6}));
}

// ------------------------------------------------------------- strided copies against naive loops
std::vector<int64_t> stridesOf(const std::vector<int64_t>& d) {
  std::vector<int64_t> s(d.size(), 1);
  for (size_t i = d.size() - 1; i-- > 0;) s[i] = s[i + 1] * d[i + 1];
  return s;
}

TEST(ShapeOpsLayout, TransposeEveryPermutationOfA4dTensor) {
  const std::vector<int64_t> dims{3, 5, 33, 7};
  const auto inStrides = stridesOf(dims);
  auto x = iota(dims);
  std::vector<int64_t> perm{0, 1, 2, 3};
  do {
    std::string p = "[" + std::to_string(perm[0]) + "," + std::to_string(perm[1]) + "," + std::to_string(perm[2]) +
                    "," + std::to_string(perm[3]) + "]";
    auto o = run(R"(
      <ir_version: 8, opset_import: ["" : 17]>
      g (float[3,5,33,7] x) => (float[A,B,C,D] y) { y = Transpose<perm = )" +
                     p + R"(>(x) })",
                 {{"x", &x}});
    ASSERT_FALSE(o.threw) << o.message;
    std::vector<int64_t> outDims(4);
    for (size_t k = 0; k < 4; ++k) outDims[k] = dims[static_cast<size_t>(perm[k])];
    ASSERT_EQ(o.outputs[0].dims(), outDims) << p;
    auto got = o.outputs[0].values<float>();
    size_t pos = 0;
    bool same = true;
    for (int64_t a = 0; a < outDims[0]; ++a)
      for (int64_t b = 0; b < outDims[1]; ++b)
        for (int64_t c = 0; c < outDims[2]; ++c)
          for (int64_t d = 0; d < outDims[3]; ++d) {
            const int64_t idx[4] = {a, b, c, d};
            int64_t src = 0;
            for (size_t k = 0; k < 4; ++k) src += idx[k] * inStrides[static_cast<size_t>(perm[k])];
            same = same && got[pos++] == static_cast<float>(src);
          }
    EXPECT_TRUE(same) << "perm " << p;
  } while (std::next_permutation(perm.begin(), perm.end()));
}

TEST(ShapeOpsLayout, TransposeMovesEveryElementSize) {
  // int8, int16, double, bool: the same byte moves, whatever the type.
  for (auto [type, dt] : {std::pair{"int8", ir::DataType::kInt8}, std::pair{"int16", ir::DataType::kInt16},
                          std::pair{"double", ir::DataType::kDouble}, std::pair{"bool", ir::DataType::kBool}}) {
    const size_t es = ir::dtypeSize(dt);
    std::vector<uint8_t> bytes(40 * 3 * es);
    for (size_t i = 0; i < bytes.size(); ++i)
      bytes[i] = static_cast<uint8_t>(dt == ir::DataType::kBool ? i % 2 : i * 7);
    auto x = ir::Tensor::fromBytes(dt, {40, 3}, bytes.data(), bytes.size());
    auto o = run(std::string(R"(
      <ir_version: 8, opset_import: ["" : 17]>
      g ()") + type + " [40,3] x) => (" +
                     type + R"([3,40] y) { y = Transpose(x) })",
                 {{"x", &x}});
    ASSERT_FALSE(o.threw) << o.message;
    const uint8_t* got = o.outputs[0].data();
    bool same = true;
    for (size_t i = 0; i < 3; ++i)
      for (size_t j = 0; j < 40; ++j)
        same = same && std::memcmp(got + (i * 40 + j) * es, bytes.data() + (j * 3 + i) * es, es) == 0;
    EXPECT_TRUE(same) << type;
  }
}

TEST(ShapeOpsLayout, SliceWithNegativeStepsOnEveryAxis) {
  auto x = iota({6, 7, 8});
  auto s = i64({3}, {5, -1, 6}), e = i64({3}, {0, -100, 1}), a = i64({3}, {0, 1, 2}), st = i64({3}, {-2, -3, -1});
  auto o = run(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[6,7,8] x, int64[3] s, int64[3] e, int64[3] a, int64[3] st) => (float[A,B,C] y) { y = Slice(x, s, e, a, st) })",
               {{"x", &x}, {"s", &s}, {"e", &e}, {"a", &a}, {"st", &st}});
  ASSERT_FALSE(o.threw) << o.message;
  // numpy: x[5:0:-2, -1::-3, 6:1:-1] → rows 5,3,1; cols 6,3,0; depth 6..2.
  ASSERT_EQ(o.outputs[0].dims(), (std::vector<int64_t>{3, 3, 5}));
  std::vector<float> want;
  for (int64_t i : {5, 3, 1})
    for (int64_t j : {6, 3, 0})
      for (int64_t k = 6; k > 1; --k) want.push_back(static_cast<float>(i * 56 + j * 8 + k));
  EXPECT_EQ(floatsOf(o.outputs[0]), want);
}

TEST(ShapeOpsLayout, ExpandAndTileMatchNaiveIndexing) {
  auto x = iota({3, 1, 4});
  auto shape = i64({4}, {2, 3, 5, 4});
  auto reps = i64({3}, {2, 3, 2});
  auto o = run(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[3,1,4] x, int64[4] s, int64[3] r) => (float[A,B,C,D] e, float[E,F,G] t) { e = Expand(x, s)  t = Tile(x, r) })",
               {{"x", &x}, {"s", &shape}, {"r", &reps}});
  ASSERT_FALSE(o.threw) << o.message;
  std::vector<float> wantE, wantT;
  for (int64_t a = 0; a < 2; ++a)
    for (int64_t b = 0; b < 3; ++b)
      for (int64_t c = 0; c < 5; ++c)
        for (int64_t d = 0; d < 4; ++d) wantE.push_back(static_cast<float>(b * 4 + d));
  for (int64_t a = 0; a < 6; ++a)
    for (int64_t b = 0; b < 3; ++b)
      for (int64_t c = 0; c < 8; ++c) wantT.push_back(static_cast<float>((a % 3) * 4 + (c % 4)));
  EXPECT_EQ(floatsOf(o.outputs[0]), wantE);
  EXPECT_EQ(floatsOf(o.outputs[1]), wantT);
}

TEST(ShapeOpsLayout, PadModesMatchNumpy) {
  auto x = iota({2, 3});
  auto pads = i64({4}, {1, 2, 1, 4});
  auto o = run(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2,3] x, int64[4] p) => (float[A,B] c, float[A,B] r, float[A,B] e) {
      c = Pad<mode = "constant">(x, p)  r = Pad<mode = "reflect">(x, p)  e = Pad<mode = "edge">(x, p)
    })",
               {{"x", &x}, {"p", &pads}});
  ASSERT_FALSE(o.threw) << o.message;
  // numpy.pad(x, ((1, 1), (2, 4)), mode) for x = [[0,1,2],[3,4,5]].
  EXPECT_EQ(floatsOf(o.outputs[0]), (std::vector<float>{0, 0, 0, 0, 0, 0, 0, 0, 0,  //
                                                        0, 0, 0, 1, 2, 0, 0, 0, 0,  //
                                                        0, 0, 3, 4, 5, 0, 0, 0, 0,  //
                                                        0, 0, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(floatsOf(o.outputs[1]), (std::vector<float>{5, 4, 3, 4, 5, 4, 3, 4, 5,  //
                                                        2, 1, 0, 1, 2, 1, 0, 1, 2,  //
                                                        5, 4, 3, 4, 5, 4, 3, 4, 5,  //
                                                        2, 1, 0, 1, 2, 1, 0, 1, 2}));
  EXPECT_EQ(floatsOf(o.outputs[2]), (std::vector<float>{0, 0, 0, 1, 2, 2, 2, 2, 2,  //
                                                        0, 0, 0, 1, 2, 2, 2, 2, 2,  //
                                                        3, 3, 3, 4, 5, 5, 5, 5, 5,  //
                                                        3, 3, 3, 4, 5, 5, 5, 5, 5}));
}

}  // namespace
}  // namespace effdl::test
