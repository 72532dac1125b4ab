// SampleSet: --calib random:N and folder specs, seeded shapes, and errors naming the sample.
#include <gtest/gtest.h>

#include "eval/compare_models.h"
#include "eval/sample_set.h"
#include "io/tensor_file.h"
#include "test_util.h"

namespace effdl::test {
namespace {

const char* kModel = R"(
< ir_version: 8, opset_import: ["" : 17] >
g (float[batch, 4] x) => (float[batch, 4] y) {
  y = Relu(x)
}
)";

TEST(EvalSampleSet, RandomSamplesAreSeededAndShaped) {
  auto m = parse(kModel);
  auto s = eval::SampleSet::open("random:3", 1 << 20, 7, {{"batch", 2}});
  EXPECT_EQ(s.size(), 3u);
  EXPECT_TRUE(s.isRandom());
  EXPECT_EQ(s.describe(), "3 seeded random samples (seed 7)");
  auto a = s.sample(0, *m), b = s.sample(0, *m), c = s.sample(1, *m);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].first, "x");
  EXPECT_EQ(a[0].second.dims(), (std::vector<int64_t>{2, 4}));
  EXPECT_TRUE(a[0].second.sameContent(b[0].second));
  EXPECT_FALSE(a[0].second.sameContent(c[0].second)) << "each sample has its own stream";
}

TEST(EvalSampleSet, BadSpecsAreUsageErrors) {
  for (std::string spec : {"random:", "random:0", "random:x", "random:-3", ""})
    expectError([&] { eval::SampleSet::open(spec, 1 << 20, 0); }, ErrorKind::kUsage, "--calib");
}

TEST(EvalSampleSet, FolderSampleMustHoldEveryInput) {
  auto m = parse(kModel);
  TempDir dir;
  auto t = ir::Tensor::fromVector(ir::DataType::kFloat, {1, 4}, std::vector<float>{1, -2, 3, -4});
  std::filesystem::create_directory(dir / "s0");
  io::writeTensorFile(dir / "s0" / "x.npy", {{"x", t}});
  std::filesystem::create_directory(dir / "s1");
  io::writeTensorFile(dir / "s1" / "z.npy", {{"z", t}});
  auto s = eval::SampleSet::open(dir.path().string(), 1 << 20, 0);
  EXPECT_EQ(s.size(), 2u);
  auto first = s.sample(0, *m);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_TRUE(first[0].second.sameContent(t));
  expectError([&] { s.sample(1, *m); }, ErrorKind::kUsage, "sample 's1' has no tensor for model input 'x'");
}

TEST(EvalCompareModels, AgreementOfTwoModelsAndAccuracy) {
  auto relu = parse(kModel);
  auto ident = parse(R"(
< ir_version: 8, opset_import: ["" : 17] >
g (float[batch, 4] x) => (float[batch, 4] y) {
  y = Identity(x)
}
)");
  auto s = eval::SampleSet::open("random:4", 1 << 20, 0, {{"batch", 3}});
  auto same = eval::compareModels(*relu, *relu, s, 1);
  EXPECT_EQ(same.maxAbsError(), 0);
  EXPECT_EQ(same.samples, 4u);
  auto diff = eval::compareModels(*relu, *ident, s, 1);
  EXPECT_GT(diff.maxAbsError(), 0.1);  // negative inputs differ
  EXPECT_LT(diff.worstCosine(), 1.0);

  // Accuracy: rows whose argmax is the label. Row 0 → 2, row 1 → 0, row 2 → 3.
  auto x = ir::Tensor::fromVector(ir::DataType::kFloat, {3, 4},
                                  std::vector<float>{0, 1, 5, 2, 9, 1, 0, 0, -1, -2, -3, 4});
  auto y = ir::Tensor::fromVector(ir::DataType::kInt64, {3}, std::vector<int64_t>{2, 0, 1});
  auto acc = eval::accuracy(*relu, x, y, 1, 2);  // batches of 2 and 1
  EXPECT_EQ(acc.samples, 3);
  EXPECT_NEAR(acc.accuracy, 2.0 / 3.0, 1e-12);
  auto badLabels = ir::Tensor::fromVector(ir::DataType::kInt64, {2}, std::vector<int64_t>{2, 0});
  expectError([&] { eval::accuracy(*relu, x, badLabels, 1); }, ErrorKind::kUsage, "expected 3 labels");
}

}  // namespace
}  // namespace effdl::test
