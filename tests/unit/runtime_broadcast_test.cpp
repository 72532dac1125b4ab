// Broadcasting for elementwise kernels: numpy shape rules, the opset < 7 axis rule, the plan's
// collapsed dims and strides (what makes same-shape, scalar and bias operands plain loops), and
// the kernels' errors for shapes that do not broadcast. Also the float16 conversions.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "core/error.h"
#include "runtime/kernels/broadcast.h"
#include "runtime/kernels/half.h"
#include "runtime/session.h"
#include "test_util.h"

namespace effdl::test {
namespace {

using runtime::BroadcastPlan;
using runtime::Shape;

std::optional<Shape> shapes3(const Shape& a, const Shape& b, const Shape& c) {
  const Shape* s[] = {&a, &b, &c};
  return runtime::broadcastShapes(s);
}

TEST(Broadcast, NumpyShapes) {
  EXPECT_EQ(runtime::broadcastShapes({2, 3, 4}, {2, 3, 4}), (Shape{2, 3, 4}));
  EXPECT_EQ(runtime::broadcastShapes({2, 3, 4}, {}), (Shape{2, 3, 4}));
  EXPECT_EQ(runtime::broadcastShapes({2, 3, 4}, {4}), (Shape{2, 3, 4}));
  EXPECT_EQ(runtime::broadcastShapes({3, 1}, {1, 4}), (Shape{3, 4}));
  EXPECT_EQ(runtime::broadcastShapes({1}, {5, 1, 2}), (Shape{5, 1, 2}));
  EXPECT_EQ(runtime::broadcastShapes({0, 3}, {1, 3}), (Shape{0, 3}));  // a 1 stretches to an empty dim
  EXPECT_EQ(shapes3({2, 1, 1}, {1, 3, 1}, {4}), (Shape{2, 3, 4}));
}

TEST(Broadcast, IncompatibleShapes) {
  EXPECT_FALSE(runtime::broadcastShapes({2, 3}, {4}));
  EXPECT_FALSE(runtime::broadcastShapes({2, 3}, {3, 3}));
  EXPECT_FALSE(runtime::broadcastShapes({0}, {2}));
  EXPECT_FALSE(shapes3({2, 1}, {1, 3}, {2, 4}));
}

TEST(Broadcast, Unidirectional) {
  EXPECT_TRUE(runtime::broadcastsTo({3}, {2, 3}));
  EXPECT_TRUE(runtime::broadcastsTo({1, 3, 1, 1}, {2, 3, 4, 5}));
  EXPECT_TRUE(runtime::broadcastsTo({}, {2}));
  EXPECT_FALSE(runtime::broadcastsTo({2, 3}, {3}));     // would grow the target
  EXPECT_FALSE(runtime::broadcastsTo({2, 1}, {1, 3}));  // would change the target's dims
}

TEST(Broadcast, LegacyAxis) {
  const Shape a{2, 3, 4, 5};
  // Default: B's dims are A's trailing dims.
  EXPECT_EQ(runtime::legacyBroadcastShape(a, {5}, std::nullopt), (Shape{1, 1, 1, 5}));
  EXPECT_EQ(runtime::legacyBroadcastShape(a, {4, 5}, std::nullopt), (Shape{1, 1, 4, 5}));
  // axis=1: B = (3, 4) lines up with A's dims 1 and 2; axis=0: B = (2) with dim 0.
  EXPECT_EQ(runtime::legacyBroadcastShape(a, {3, 4}, 1), (Shape{1, 3, 4, 1}));
  EXPECT_EQ(runtime::legacyBroadcastShape(a, {2}, 0), (Shape{2, 1, 1, 1}));
  // A one-element B is a scalar whatever its rank.
  EXPECT_EQ(runtime::legacyBroadcastShape(a, {}, std::nullopt), (Shape{1, 1, 1, 1}));
  EXPECT_EQ(runtime::legacyBroadcastShape(a, {1, 1}, 2), (Shape{1, 1, 1, 1}));
  // pytorch-operator's test_operator_add_size1_broadcast: (2,3) + (2,1) with axis=0.
  auto s = runtime::legacyBroadcastShape({2, 3}, {2, 1}, 0);
  ASSERT_TRUE(s);
  EXPECT_TRUE(runtime::broadcastsTo(*s, {2, 3}));
  // B does not fit from the axis: out of range, or dims that differ.
  EXPECT_FALSE(runtime::legacyBroadcastShape(a, {4, 5}, 3));
  EXPECT_FALSE(runtime::legacyBroadcastShape({2, 3}, {2, 3, 4}, std::nullopt));
  auto mismatch = runtime::legacyBroadcastShape(a, {3}, 2);
  ASSERT_TRUE(mismatch);
  EXPECT_FALSE(runtime::broadcastsTo(*mismatch, a));
}

BroadcastPlan plan(const Shape& out, std::initializer_list<const Shape*> ins) {
  BroadcastPlan p;
  std::vector<const Shape*> v(ins);
  EXPECT_TRUE(p.init(out, v));
  return p;
}

TEST(BroadcastPlan, SameShapeIsOneRow) {
  Shape a{2, 3, 4};
  auto p = plan(a, {&a, &a});
  EXPECT_EQ(p.dims(), (std::vector<int64_t>{24}));
  EXPECT_TRUE(p.innerVaries(0));
  EXPECT_TRUE(p.innerVaries(1));
}

TEST(BroadcastPlan, ScalarOperand) {
  Shape a{2, 3, 4}, s{}, one{1, 1};
  auto p = plan(a, {&a, &s});
  EXPECT_EQ(p.dims(), (std::vector<int64_t>{24}));
  EXPECT_FALSE(p.innerVaries(1));
  auto q = plan(a, {&one, &a});
  EXPECT_EQ(q.dims(), (std::vector<int64_t>{24}));
  EXPECT_FALSE(q.innerVaries(0));
}

TEST(BroadcastPlan, BiasAlongLastDim) {
  Shape x{8, 3, 16}, bias{16};
  auto p = plan(x, {&x, &bias});
  EXPECT_EQ(p.dims(), (std::vector<int64_t>{24, 16}));
  EXPECT_EQ(p.stride(0, 0), 16);
  EXPECT_EQ(p.stride(1, 0), 0);
  EXPECT_EQ(p.stride(1, 1), 1);
}

TEST(BroadcastPlan, ChannelBiasRowsAreConstant) {
  Shape x{2, 3, 4, 5}, bias{3, 1, 1};
  auto p = plan(x, {&x, &bias});
  EXPECT_EQ(p.dims(), (std::vector<int64_t>{2, 3, 20}));
  EXPECT_EQ(p.stride(1, 0), 0);
  EXPECT_EQ(p.stride(1, 1), 1);
  EXPECT_FALSE(p.innerVaries(1));
  // Rows of 20: the bias offset is the channel.
  std::vector<int64_t> rows;
  p.forRange(0, p.numel(), [&](int64_t o, const int64_t* in, int64_t len) {
    EXPECT_EQ(len, 20);
    EXPECT_EQ(in[0], o);
    rows.push_back(in[1]);
  });
  EXPECT_EQ(rows, (std::vector<int64_t>{0, 1, 2, 0, 1, 2}));
}

TEST(BroadcastPlan, OuterProductAndPartialRanges) {
  Shape col{3, 1}, row{1, 4}, out{3, 4};
  auto p = plan(out, {&col, &row});
  EXPECT_EQ(p.dims(), (std::vector<int64_t>{3, 4}));
  EXPECT_EQ(p.stride(0, 0), 1);
  EXPECT_EQ(p.stride(0, 1), 0);
  EXPECT_EQ(p.stride(1, 0), 0);
  EXPECT_EQ(p.stride(1, 1), 1);
  // A range starting and ending inside rows visits exactly its elements, with the right offsets.
  std::vector<std::pair<int64_t, int64_t>> seen;  // (col offset, row offset) per element
  p.forRange(2, 11, [&](int64_t o, const int64_t* in, int64_t len) {
    for (int64_t i = 0; i < len; ++i) seen.emplace_back(in[0], in[1] + i);
    EXPECT_EQ(in[0], o / 4);
  });
  ASSERT_EQ(seen.size(), 9u);
  for (size_t k = 0; k < seen.size(); ++k) {
    const int64_t flat = 2 + static_cast<int64_t>(k);
    EXPECT_EQ(seen[k], std::make_pair(flat / 4, flat % 4)) << k;
  }
}

TEST(BroadcastPlan, RejectsInputsThatDoNotFit) {
  BroadcastPlan p;
  Shape out{2, 3}, bad{4};
  const Shape* ins[] = {&out, &bad};
  EXPECT_FALSE(p.init(out, ins));
}

TEST(BroadcastPlan, CopyExpands) {
  const std::vector<int32_t> src{1, 2, 3};
  std::vector<int32_t> dst(6);
  runtime::broadcastCopy(src.data(), {3, 1}, dst.data(), {3, 2}, sizeof(int32_t));
  EXPECT_EQ(dst, (std::vector<int32_t>{1, 1, 2, 2, 3, 3}));
  runtime::broadcastCopy(src.data(), {3}, dst.data(), {2, 3}, sizeof(int32_t));
  EXPECT_EQ(dst, (std::vector<int32_t>{1, 2, 3, 1, 2, 3}));
}

TEST(BroadcastPlan, LargeOutputsSplitIntoChunks) {
  // Above the parallel threshold the work is chunked; every element is still visited once.
  Shape out{3, 70000}, b{70000};
  auto p = plan(out, {&out, &b});
  std::vector<int> hits(static_cast<size_t>(p.numel()));
  p.run([&](int64_t o, const int64_t* in, int64_t len) {
    EXPECT_EQ(in[0], o);
    EXPECT_EQ(in[1], o % 70000);
    for (int64_t i = 0; i < len; ++i) hits[static_cast<size_t>(o + i)]++;
  });
  for (int h : hits) ASSERT_EQ(h, 1);
}

// ---------------------------------------------------------------- through the runtime
ir::Tensor floatsOf(std::vector<int64_t> dims, std::vector<float> v) {
  return ir::Tensor::fromVector(ir::DataType::kFloat, std::move(dims), v);
}

std::vector<float> values(const ir::Tensor& t) {
  auto s = t.values<float>();
  return {s.begin(), s.end()};
}

TEST(BroadcastKernels, NumpyAdd) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2,3] a, float[3] b) => (float[2,3] y) { y = Add(a, b) })");
  runtime::Session s(*m, {1});
  auto a = floatsOf({2, 3}, {0, 1, 2, 3, 4, 5});
  auto b = floatsOf({3}, {10, 20, 30});
  auto out = s.run({{"a", &a}, {"b", &b}});
  EXPECT_EQ(values(out[0]), (std::vector<float>{10, 21, 32, 13, 24, 35}));
}

TEST(BroadcastKernels, LegacyAxisAdd) {
  // Opset 6: B = (2) lines up with A's dim 0 because of axis=0 (numpy rules would fail here).
  auto m = parse(R"(
    <ir_version: 3, opset_import: ["" : 6]>
    g (float[2,3] a, float[2] b) => (float[2,3] y) { y = Add<broadcast = 1, axis = 0>(a, b) })");
  runtime::Session s(*m, {1});
  auto a = floatsOf({2, 3}, {0, 1, 2, 3, 4, 5});
  auto b = floatsOf({2}, {100, 200});
  auto out = s.run({{"a", &a}, {"b", &b}});
  EXPECT_EQ(out[0].dims(), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(values(out[0]), (std::vector<float>{100, 101, 102, 203, 204, 205}));
}

TEST(BroadcastKernels, IncompatibleShapesNameTheNode) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[N,3] a, float[M] b) => (float[N,3] y) { y = Mul(a, b) })");
  runtime::Session s(*m, {1});
  auto a = floatsOf({2, 3}, {0, 1, 2, 3, 4, 5});
  auto b = floatsOf({4}, {1, 2, 3, 4});
  try {
    s.run({{"a", &a}, {"b", &b}});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidModel);
    const std::string msg = e.what();
    EXPECT_NE(msg.find("(Mul"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[2,3] and [4] do not broadcast"), std::string::npos) << msg;
  }
}

TEST(BroadcastKernels, UnsupportedDtypeIsRejectedAtBuild) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (uint8[3] a, uint8[3] b) => (uint8[3] y) { y = Sum(a, b) })");
  try {
    runtime::Session s(*m, {1});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUnsupported);
    EXPECT_NE(std::string(e.what()).find("dtype uint8 is not supported"), std::string::npos) << e.what();
  }
}

TEST(BroadcastKernels, IntegerDivisionByZeroIsAnError) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (int32[2] a, int32[2] b) => (int32[2] y) { y = Div(a, b) })");
  runtime::Session s(*m, {1});
  auto a = ir::Tensor::fromVector(ir::DataType::kInt32, {2}, std::vector<int32_t>{7, -7});
  auto good = ir::Tensor::fromVector(ir::DataType::kInt32, {2}, std::vector<int32_t>{2, 2});
  auto zero = ir::Tensor::fromVector(ir::DataType::kInt32, {2}, std::vector<int32_t>{2, 0});
  auto out = s.run({{"a", &a}, {"b", &good}});
  auto q = out[0].values<int32_t>();
  EXPECT_EQ(q[0], 3);
  EXPECT_EQ(q[1], -3);  // truncates toward zero
  EXPECT_THROW(s.run({{"a", &a}, {"b", &zero}}), Error);
}

// Short rows ([n, 8] with [n, 1]: a sparse decode's ranks plus per-byte offsets) run as one loop
// over rows, split among threads above BroadcastPlan::kParallelThreshold elements: the same
// values on either side of it, for both operand orders and with 2 threads asked for.
TEST(BroadcastKernels, ShortRowsGiveTheSameValuesBelowAndAboveTheThreshold) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (int32[N,8] a, int32[N,1] b) => (int32[N,8] y, int32[N,8] z) { y = Add(a, b)  z = Sub(b, a) })");
  for (int64_t n : {int64_t{100}, runtime::BroadcastPlan::kParallelThreshold / 8 + 333}) {
    std::vector<int32_t> av(static_cast<size_t>(n * 8)), bv(static_cast<size_t>(n));
    for (size_t i = 0; i < av.size(); ++i) av[i] = static_cast<int32_t>(i * 7 % 1001) - 500;
    for (size_t r = 0; r < bv.size(); ++r) bv[r] = static_cast<int32_t>(r * 13);
    auto a = ir::Tensor::fromVector(ir::DataType::kInt32, {n, 8}, av);
    auto b = ir::Tensor::fromVector(ir::DataType::kInt32, {n, 1}, bv);
    for (int threads : {1, 2}) {
      runtime::Session s(*m, {threads});
      auto out = s.run({{"a", &a}, {"b", &b}});
      auto y = out[0].values<int32_t>();
      auto z = out[1].values<int32_t>();
      ASSERT_EQ(y.size(), av.size());
      size_t bad = 0;
      for (size_t i = 0; i < av.size(); ++i)
        bad += y[i] != av[i] + bv[i / 8] || z[i] != bv[i / 8] - av[i];
      EXPECT_EQ(bad, 0u) << "n " << n << ", threads " << threads;
    }
  }
}

// ---------------------------------------------------------------------------- float16
TEST(Half, RoundTripsEveryValue) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = runtime::halfToFloat(static_cast<uint16_t>(h));
    if (std::isnan(f)) {
      EXPECT_TRUE(std::isnan(runtime::halfToFloat(runtime::floatToHalf(f))));
      continue;
    }
    ASSERT_EQ(runtime::floatToHalf(f), h) << h;
  }
}

TEST(Half, RoundsToNearestEven) {
  EXPECT_EQ(runtime::floatToHalf(1.0f), 0x3c00);
  // 1 + 2^-11 is halfway between 1 and the next half (1 + 2^-10): ties go to the even 1.
  EXPECT_EQ(runtime::floatToHalf(1.0f + 0x1p-11f), 0x3c00);
  EXPECT_EQ(runtime::floatToHalf(1.0f + 0x1p-10f + 0x1p-11f), 0x3c02);
  EXPECT_EQ(runtime::floatToHalf(65520.0f), 0x7c00);  // overflows to Inf
  EXPECT_EQ(runtime::floatToHalf(-0x1p-25f), 0x8000);  // half the smallest subnormal: ties to even 0
  EXPECT_EQ(runtime::floatToHalf(0x1p-24f), 0x0001);   // the smallest subnormal
  EXPECT_EQ(runtime::floatToBfloat16(1.0f), 0x3f80);
  EXPECT_EQ(runtime::bfloat16ToFloat(0x3f80), 1.0f);
}

}  // namespace
}  // namespace effdl::test
