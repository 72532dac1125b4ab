// Agreement metrics between a reference and a candidate model's outputs: max abs error, cosine,
// top-1 agreement, NaN handling and shape mismatches.
#include <gtest/gtest.h>

#include <cmath>

#include "eval/agreement.h"
#include "eval/tensor_values.h"
#include "test_util.h"

namespace effdl::test {
namespace {

ir::Tensor floats(std::vector<int64_t> dims, std::vector<float> v) {
  return ir::Tensor::fromVector(ir::DataType::kFloat, std::move(dims), v);
}

TEST(EvalAgreement, IdenticalOutputsAgreeFully) {
  eval::AgreementAccumulator acc({"y"});
  acc.add({floats({2, 3}, {1, 2, 3, 3, 2, 1})}, {floats({2, 3}, {1, 2, 3, 3, 2, 1})});
  auto r = acc.result();
  EXPECT_EQ(r.samples, 1u);
  EXPECT_EQ(r.maxAbsError(), 0);
  EXPECT_DOUBLE_EQ(r.worstCosine(), 1.0);
  ASSERT_TRUE(r.top1Agreement());
  EXPECT_DOUBLE_EQ(*r.top1Agreement(), 1.0);
  EXPECT_EQ(r.outputs[0].rows, 2);
  EXPECT_DOUBLE_EQ(r.outputs[0].referenceScale, 3.0);
}

TEST(EvalAgreement, ErrorCosineAndTop1AcrossSamples) {
  eval::AgreementAccumulator acc({"y"});
  // Sample 1: row 0 keeps its argmax (2), row 1 flips from 0 to 1.
  acc.add({floats({2, 3}, {0, 1, 5, 4, 1, 0})}, {floats({2, 3}, {0, 1, 4.5f, 4, 4.25f, 0})});
  // Sample 2: the candidate is the negated reference: cosine -1.
  acc.add({floats({1, 3}, {1, 0, 0})}, {floats({1, 3}, {-1, 0, 0})});
  auto r = acc.result();
  EXPECT_DOUBLE_EQ(r.maxAbsError(), 3.25);
  EXPECT_DOUBLE_EQ(r.worstCosine(), -1.0);
  ASSERT_TRUE(r.top1Agreement());
  EXPECT_NEAR(*r.top1Agreement(), 1.0 / 3.0, 1e-12);  // 1 of 3 rows agrees
  EXPECT_LT(r.outputs[0].cosine, 1.0);
}

TEST(EvalAgreement, NanIsTotalDisagreementUnlessBothNan) {
  eval::AgreementAccumulator acc({"y"});
  acc.add({floats({2}, {NAN, 1})}, {floats({2}, {NAN, 1})});
  EXPECT_EQ(acc.result().maxAbsError(), 0);
  acc.add({floats({2}, {0, 1})}, {floats({2}, {NAN, 1})});
  EXPECT_TRUE(std::isinf(acc.result().maxAbsError()));
}

TEST(EvalAgreement, IntegerOutputsHaveNoTop1) {
  eval::AgreementAccumulator acc({"ids"});
  auto a = ir::Tensor::fromVector(ir::DataType::kInt64, {3}, std::vector<int64_t>{1, 2, 3});
  acc.add({a}, {a});
  EXPECT_FALSE(acc.result().top1Agreement());
}

TEST(EvalAgreement, ShapeMismatchIsAnError) {
  eval::AgreementAccumulator acc({"y"});
  expectError([&] { acc.add({floats({2}, {1, 2})}, {floats({1, 2}, {1, 2})}); }, ErrorKind::kInvalidModel,
              "output 'y' has a different shape");
}

TEST(EvalAgreement, ArgmaxTakesTheFirstOfTies) {
  EXPECT_EQ(eval::argmaxLastAxis(floats({2, 2}, {3, 3, 1, 2})), (std::vector<int64_t>{0, 1}));
}

TEST(EvalTensorValues, WidensEveryNumericType) {
  auto h = ir::Tensor::fromVector(ir::DataType::kFloat16, {2}, std::vector<uint16_t>{0x3C00, 0xC000});
  EXPECT_EQ(eval::valuesAsDouble(h), (std::vector<double>{1.0, -2.0}));
  auto u = ir::Tensor::fromVector(ir::DataType::kUint8, {2}, std::vector<uint8_t>{0, 255});
  EXPECT_EQ(eval::valuesAsDouble(u), (std::vector<double>{0, 255}));
  auto s = ir::Tensor::fromStrings({1}, {"a"});
  expectError([&] { eval::valuesAsDouble(s); }, ErrorKind::kUnsupported, "cannot compare tensors of type string");
}

}  // namespace
}  // namespace effdl::test
