// Issue 9's determinism matrix: every bundled model × each pass family writes byte-identical
// files across two runs and across --threads 1 and 2, and batch output does not depend on --jobs.
// A difference names the first differing byte so that the culprit (a timestamp, hash-order
// iteration, uninitialised padding, a thread-count-dependent reduction) can be found.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "test_util.h"

namespace fs = std::filesystem;

namespace effdl::test {
namespace {

struct Family {
  const char* name;
  const char* flags;
};

// Calibration uses seeded random inputs so that the test needs no data files; the seed is the
// default one, recorded in the output's metadata.
const Family kFamilies[] = {
    {"cleanup", ""},
    {"static_int8", "--quantize static --calib random:8"},
    {"dynamic_int8", "--quantize dynamic"},
    {"prune_magnitude", "--prune 0.5"},
    {"prune_wanda_reconstruct", "--prune 0.5 --prune-method wanda --prune-reconstruct --calib random:8"},
    {"prune_channels", "--prune 0.3 --prune-mode channels"},
    {"hash_embeddings", "--hash-embeddings 0.25"},
    {"prune_and_int8", "--prune 0.5 --quantize static --calib random:8"},
};
const char* const kModels[] = {"digits_cnn", "mlp", "text_classifier"};

// "" when equal, else where they first differ.
std::string firstDifference(const std::string& a, const std::string& b) {
  if (a == b) return "";
  size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
  return "sizes " + std::to_string(a.size()) + " and " + std::to_string(b.size()) + ", first difference at byte " +
         std::to_string(i);
}

using Param = std::tuple<const char*, Family>;
class Determinism : public ::testing::TestWithParam<Param> {};

TEST_P(Determinism, SameBytesAcrossRunsAndThreads) {
  // Not a structured binding: clang 14 cannot capture those in the lambda below.
  const char* modelName = std::get<0>(GetParam());
  const Family family = std::get<1>(GetParam());
  TempDir dir;
  const auto model = sourceDir() / "models" / (std::string(modelName) + ".onnx");
  auto optimize = [&](const std::string& out, int threads) {
    auto r = runEffdl("-q optimize '" + model.string() + "' -o '" + (dir / out).string() + "' --no-measure --threads " +
                      std::to_string(threads) + " " + family.flags);
    EXPECT_EQ(r.exitCode, 0) << r.err;
    return readFile(dir / out);
  };
  const std::string first = optimize("a.onnx", 1);
  ASSERT_FALSE(first.empty());
  EXPECT_EQ(firstDifference(first, optimize("b.onnx", 1)), "") << "two runs at --threads 1 differ";
  EXPECT_EQ(firstDifference(first, optimize("c.onnx", 2)), "") << "--threads 1 and --threads 2 differ";
}

INSTANTIATE_TEST_SUITE_P(BundledModels, Determinism,
                         ::testing::Combine(::testing::ValuesIn(kModels), ::testing::ValuesIn(kFamilies)),
                         [](const ::testing::TestParamInfo<Param>& info) {
                           return std::string(std::get<0>(info.param)) + "_" + std::get<1>(info.param).name;
                         });

TEST(DeterminismBatch, SameBytesForAnyJobs) {
  TempDir dir;
  std::string inputs;
  for (const char* m : kModels) inputs += " '" + (sourceDir() / "models" / (std::string(m) + ".onnx")).string() + "'";
  for (const char* jobs : {"1", "2"}) {
    auto r = runEffdl("-q optimize" + inputs + " --out-dir '" + (dir / jobs).string() + "' --jobs " + jobs +
                      " --no-measure --quantize dynamic --prune 0.5");
    ASSERT_EQ(r.exitCode, 0) << r.err;
  }
  for (const char* m : kModels) {
    const std::string name = std::string(m) + ".onnx";
    SCOPED_TRACE(name);
    ASSERT_TRUE(fs::exists(dir / "1" / name));
    EXPECT_EQ(firstDifference(readFile(dir / "1" / name), readFile(dir / "2" / name)), "");
  }
}

TEST(DeterminismMetadata, PipelineAndSeedRecorded) {
  TempDir dir;
  const auto model = sourceDir() / "models/mlp.onnx";
  auto r = runEffdl("-q optimize '" + model.string() + "' -o '" + (dir / "o.onnx").string() +
                    "' --no-measure --seed 7 --quantize static --calib random:4");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  const std::string bytes = readFile(dir / "o.onnx");
  EXPECT_NE(bytes.find("effdl.seed"), std::string::npos);
  EXPECT_NE(bytes.find("effdl.pipeline"), std::string::npos);
  auto inspect = runEffdl("inspect '" + (dir / "o.onnx").string() + "' --json");
  ASSERT_EQ(inspect.exitCode, 0) << inspect.err;
  EXPECT_NE(inspect.out.find("\"effdl.seed\""), std::string::npos) << inspect.out.substr(0, 2000);
}

}  // namespace
}  // namespace effdl::test
