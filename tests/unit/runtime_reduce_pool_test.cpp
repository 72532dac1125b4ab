// Hand-checked cases for the reduce, pool, softmax and resize kernels: the empty-axes forms of
// ReduceSum (noop and reduce-all), non-contiguous axes, a LogSumExp that would overflow without
// the max shift, pooling with padding (values, Indices, both AveragePool divisors), the legacy
// (coerce-to-2-D) Softmax, and the errors for shapes a pooling window cannot fit and for Resize
// outputs beyond the runtime's size limit.
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "runtime/kernels/half.h"
#include "runtime/session.h"
#include "test_util.h"

namespace effdl::test {
namespace {

ir::Tensor f32(std::vector<int64_t> dims, std::vector<float> v) {
  return ir::Tensor::fromVector(ir::DataType::kFloat, std::move(dims), v);
}
ir::Tensor i64(std::vector<int64_t> dims, std::vector<int64_t> v) {
  return ir::Tensor::fromVector(ir::DataType::kInt64, std::move(dims), v);
}
ir::Tensor iota(std::vector<int64_t> dims) {
  int64_t n = 1;
  for (auto d : dims) n *= d;
  std::vector<float> v(static_cast<size_t>(n));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i);
  return f32(std::move(dims), v);
}

// Parses, names each node "<Op>_node" (the text syntax has no node names) and runs.
std::vector<ir::Tensor> run(const std::string& text, const std::vector<runtime::NamedInput>& inputs) {
  auto m = parse(text);
  for (ir::Node* n : m->graph->nodes()) n->setName(n->opType() + "_node");
  runtime::Session s(*m, {1});
  return s.run(inputs);
}

// The run throws kInvalidModel naming the node, with `what` in the message.
void expectRunError(const std::string& text, const std::vector<runtime::NamedInput>& inputs, const std::string& op,
                    const std::string& what) {
  try {
    run(text, inputs);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidModel) << e.what();
    EXPECT_NE(std::string(e.what()).find("node '" + op + "_node' (" + op), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
  }
}

void expectValues(const ir::Tensor& t, std::vector<int64_t> dims, std::vector<float> want) {
  EXPECT_EQ(t.dims(), dims);
  auto got = t.values<float>();
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-5 * (1 + std::fabs(want[i]))) << "at " << i;
}

// ----------------------------------------------------------------------------------- reduce
const char* kReduceSum13 = R"(
  <ir_version: 8, opset_import: ["" : 13]>
  g (float[2,3] x, int64[N] axes) => (float[A,B] y) { y = ReduceSum<keepdims = 1>(x, axes) })";

const char* kReduceSumNoop = R"(
  <ir_version: 8, opset_import: ["" : 13]>
  g (float[2,3] x, int64[N] axes) => (float[A,B] y) { y = ReduceSum<keepdims = 1, noop_with_empty_axes = 1>(x, axes) })";

TEST(RuntimeReduce, SumOverOneAxis) {
  ir::Tensor x = f32({2, 3}, {1, 2, 3, 4, 5, 6}), axes = i64({1}, {1});
  auto out = run(kReduceSum13, {{"x", &x}, {"axes", &axes}});
  expectValues(out[0], {2, 1}, {6, 15});
}

TEST(RuntimeReduce, EmptyAxesReduceEverything) {
  ir::Tensor x = f32({2, 3}, {1, 2, 3, 4, 5, 6}), axes = i64({0}, {});
  auto out = run(kReduceSum13, {{"x", &x}, {"axes", &axes}});
  expectValues(out[0], {1, 1}, {21});
}

TEST(RuntimeReduce, EmptyAxesWithNoopKeepTheInput) {
  ir::Tensor x = f32({2, 3}, {1, 2, 3, 4, 5, 6}), axes = i64({0}, {});
  auto out = run(kReduceSumNoop, {{"x", &x}, {"axes", &axes}});
  expectValues(out[0], {2, 3}, {1, 2, 3, 4, 5, 6});
}

TEST(RuntimeReduce, RepeatedOrOutOfRangeAxisIsAnError) {
  ir::Tensor x = f32({2, 3}, {1, 2, 3, 4, 5, 6}), twice = i64({2}, {1, -1}), far = i64({1}, {2});
  expectRunError(kReduceSum13, {{"x", &x}, {"axes", &twice}}, "ReduceSum", "repeated");
  expectRunError(kReduceSum13, {{"x", &x}, {"axes", &far}}, "ReduceSum", "out of range");
}

TEST(RuntimeReduce, MeanOverNonContiguousAxes) {
  // x[i][j][k] = 4i + 2j + k; j = 0 averages {0,1,4,5}, j = 1 averages {2,3,6,7}.
  ir::Tensor x = iota({2, 2, 2});
  auto out = run(R"(
    <ir_version: 8, opset_import: ["" : 11]>
    g (float[2,2,2] x) => (float[2] y) { y = ReduceMean<axes = [0, 2], keepdims = 0>(x) })",
                 {{"x", &x}});
  expectValues(out[0], {2}, {2.5f, 4.5f});
}

TEST(RuntimeReduce, LogSumExpOfLargeValuesDoesNotOverflow) {
  ir::Tensor x = f32({2, 2}, {1000, 1000, -1000, -1000});
  auto out = run(R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[2,2] x) => (float[2] y) { y = ReduceLogSumExp<axes = [1], keepdims = 0>(x) })",
                 {{"x", &x}});
  expectValues(out[0], {2}, {1000 + std::log(2.0f), -1000 + std::log(2.0f)});
}

TEST(RuntimeReduce, MaxOfInt32) {
  ir::Tensor x = ir::Tensor::fromVector(ir::DataType::kInt32, {2, 2}, std::vector<int32_t>{3, -1, -5, -7});
  auto out = run(R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (int32[2,2] x) => (int32[2] y) { y = ReduceMax<axes = [-1], keepdims = 0>(x) })",
                 {{"x", &x}});
  auto v = out[0].values<int32_t>();
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0], 3);
  EXPECT_EQ(v[1], -5);
}

TEST(RuntimeReduce, Float16IsComputedInFloat) {
  std::vector<uint16_t> h;
  for (float v : {1.0f, 2.0f, 3.0f, 4.5f}) h.push_back(runtime::floatToHalf(v));
  ir::Tensor x = ir::Tensor::fromVector(ir::DataType::kFloat16, {2, 2}, h);
  auto out = run(R"(
    <ir_version: 8, opset_import: ["" : 11]>
    g (float16[2,2] x) => (float16[2] y) { y = ReduceSum<axes = [0], keepdims = 0>(x) })",
                 {{"x", &x}});
  ASSERT_EQ(out[0].dtype(), ir::DataType::kFloat16);
  auto v = out[0].values<uint16_t>();
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(runtime::halfToFloat(v[0]), 4.0f);
  EXPECT_EQ(runtime::halfToFloat(v[1]), 6.5f);
}

// ------------------------------------------------------------------------------------- pool
// 3x3 input 0..8, 2x2 windows, stride 2, one pixel of padding all round: the four windows hold
// {0}, {1,2}, {3,6} and {4,5,7,8}.
TEST(RuntimePool, MaxPoolWithPaddingAndIndices) {
  ir::Tensor x = iota({1, 1, 3, 3});
  auto out = run(R"(
    <ir_version: 8, opset_import: ["" : 12]>
    g (float[1,1,3,3] x) => (float[1,1,2,2] y, int64[1,1,2,2] i) {
      y, i = MaxPool<kernel_shape = [2, 2], strides = [2, 2], pads = [1, 1, 1, 1]>(x) })",
                 {{"x", &x}});
  expectValues(out[0], {1, 1, 2, 2}, {0, 2, 6, 8});
  auto idx = out[1].values<int64_t>();
  EXPECT_EQ(std::vector<int64_t>(idx.begin(), idx.end()), (std::vector<int64_t>{0, 2, 6, 8}));
}

TEST(RuntimePool, AveragePoolDivisors) {
  ir::Tensor x = iota({1, 1, 3, 3});
  const std::string head = R"(
    <ir_version: 8, opset_import: ["" : 11]>
    g (float[1,1,3,3] x) => (float[1,1,2,2] y) {
      y = AveragePool<kernel_shape = [2, 2], strides = [2, 2], pads = [1, 1, 1, 1], count_include_pad = )";
  auto excl = run(head + "0>(x) }", {{"x", &x}});
  expectValues(excl[0], {1, 1, 2, 2}, {0, 1.5f, 4.5f, 6});
  auto incl = run(head + "1>(x) }", {{"x", &x}});
  expectValues(incl[0], {1, 1, 2, 2}, {0, 0.75f, 2.25f, 6});
}

TEST(RuntimePool, WindowLargerThanInputIsAnError) {
  ir::Tensor x = iota({1, 1, 3, 3});
  expectRunError(R"(
    <ir_version: 8, opset_import: ["" : 12]>
    g (float[1,1,H,W] x) => (float[1,1,P,Q] y) { y = MaxPool<kernel_shape = [5, 5]>(x) })",
                 {{"x", &x}}, "MaxPool", "larger than");
}

TEST(RuntimePool, InputRankMustMatchTheWindow) {
  ir::Tensor x = iota({1, 3, 3});
  expectRunError(R"(
    <ir_version: 8, opset_import: ["" : 12]>
    g (float[1,3,H] x) => (float[1,3,P] y) { y = AveragePool<kernel_shape = [2, 2]>(x) })",
                 {{"x", &x}}, "AveragePool", "does not fit");
}

// ---------------------------------------------------------------------------------- softmax
TEST(RuntimeSoftmax, LegacyAxisCoercesTo2D) {
  // Opset 11, axis 0: the whole [2,2] tensor is one row of 4; opset 13: each column of 2.
  ir::Tensor x = f32({2, 2}, {0, 0, 0, 0});
  auto legacy = run(R"(
    <ir_version: 8, opset_import: ["" : 11]>
    g (float[2,2] x) => (float[2,2] y) { y = Softmax<axis = 0>(x) })",
                    {{"x", &x}});
  expectValues(legacy[0], {2, 2}, {0.25f, 0.25f, 0.25f, 0.25f});
  auto single = run(R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[2,2] x) => (float[2,2] y) { y = Softmax<axis = 0>(x) })",
                    {{"x", &x}});
  expectValues(single[0], {2, 2}, {0.5f, 0.5f, 0.5f, 0.5f});
}

// ----------------------------------------------------------------------------------- resize
TEST(RuntimeResize, HugeScalesAreRefusedBeforeAllocating) {
  ir::Tensor x = iota({1, 1, 2, 2}), scales = f32({4}, {1, 1, 1e6f, 1e6f});
  expectRunError(R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[1,1,2,2] x, float[4] scales) => (float[1,1,H,W] y) { y = Resize<mode = "linear">(x, , scales) })",
                 {{"x", &x}, {"scales", &scales}}, "Resize", "size limit");
}

TEST(RuntimeResize, BilinearAlignCorners) {
  // 2x2 -> 3x3 with align_corners: the middle row and column are the averages of their neighbours.
  ir::Tensor x = f32({1, 1, 2, 2}, {0, 2, 4, 6}), sizes = i64({4}, {1, 1, 3, 3});
  auto out = run(R"(
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[1,1,2,2] x, int64[4] sizes) => (float[1,1,H,W] y) {
      y = Resize<mode = "linear", coordinate_transformation_mode = "align_corners">(x, , , sizes) })",
                 {{"x", &x}, {"sizes", &sizes}});
  expectValues(out[0], {1, 1, 3, 3}, {0, 1, 2, 2, 3, 4, 4, 5, 6});
}

}  // namespace
}  // namespace effdl::test
