// Gradient (ai.onnx.preview.training): reverse-mode derivatives through Add/Sub/Mul/Div/Neg with
// broadcasting, checked against hand-derived values, and refused for ops it cannot differentiate.
#include <gtest/gtest.h>

#include "core/error.h"
#include "runtime/session.h"
#include "test_util.h"

namespace effdl::test {
namespace {

std::vector<float> values(const ir::Tensor& t) {
  auto s = t.values<float>();
  return {s.begin(), s.end()};
}

TEST(RuntimeGradient, BroadcastMulDivSums) {
  // y = (a * b - a) / c with a [2,3], b [3], c []: dy/da = (b - 1) / c, dy/db = sum over rows of a / c,
  // dy/dc = -sum(a*b - a) / c^2 (dy seeded with ones).
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17, "ai.onnx.preview.training" : 1]>
    g (float[2,3] a, float[3] b, float c) => (float[2,3] ga, float[3] gb, float gc) {
      ab = Mul(a, b)
      d = Sub(ab, a)
      y = Div(d, c)
      ga, gb, gc = ai.onnx.preview.training.Gradient<xs = ["a", "b", "c"], y = "y">(a, b, c)
    })");
  runtime::Session session(*m, {1});
  auto a = ir::Tensor::fromVector(ir::DataType::kFloat, {2, 3}, std::vector<float>{1, 2, 3, 4, 5, 6});
  auto b = ir::Tensor::fromVector(ir::DataType::kFloat, {3}, std::vector<float>{2, 3, 4});
  auto c = ir::Tensor::fromVector(ir::DataType::kFloat, {}, std::vector<float>{2});
  auto out = session.run({{"a", &a}, {"b", &b}, {"c", &c}});
  EXPECT_EQ(values(out[0]), (std::vector<float>{0.5f, 1, 1.5f, 0.5f, 1, 1.5f}));
  EXPECT_EQ(values(out[1]), (std::vector<float>{2.5f, 3.5f, 4.5f}));
  // sum(a*b - a) = (1*1 + 2*2 + 3*3) + (4*1 + 5*2 + 6*3) = 14 + 32 = 46 → -46 / 4
  EXPECT_EQ(values(out[2]), (std::vector<float>{-11.5f}));
}

TEST(RuntimeGradient, RefusesOpsWithoutADerivative) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17, "ai.onnx.preview.training" : 1]>
    g (float[3] a) => (float[3] ga) {
      y = Relu(a)
      ga = ai.onnx.preview.training.Gradient<xs = ["a"], y = "y">(a)
    })");
  expectError([&] { runtime::Session s(*m, {1}); }, ErrorKind::kUnsupported, "no gradient for node");
}

TEST(RuntimeGradient, RefusesAPathReadingAnUnlistedInput) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17, "ai.onnx.preview.training" : 1]>
    g (float[3] a, float[3] b) => (float[3] ga) {
      y = Add(a, b)
      ga = ai.onnx.preview.training.Gradient<xs = ["a"], y = "y">(a)
    })");
  expectError([&] { runtime::Session s(*m, {1}); }, ErrorKind::kUnsupported, "'b' is on the path to y");
}

}  // namespace
}  // namespace effdl::test
