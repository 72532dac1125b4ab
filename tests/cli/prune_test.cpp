// `effdl optimize --prune ...` end to end: the pass order (prune between the cleanups, sparse
// storage after the last one), the per-layer table in --json, byte-identical reruns (Wanda with
// calibration included), and usage errors with their exit code.
#include <gtest/gtest.h>

#include <filesystem>

#include "json_schema.h"
#include "test_util.h"

namespace fs = std::filesystem;

namespace effdl::test {
namespace {

class CliPrune : public ::testing::Test {
 protected:
  TempDir dir;
  std::string model = (sourceDir() / "models" / "digits_cnn.onnx").string();
  CommandResult optimize(const std::string& out, const std::string& flags) {
    return runEffdl("optimize '" + model + "' -o '" + (dir / out).string() + "' --bench-iters 1 " + flags);
  }
};

TEST_F(CliPrune, PrunesThenEncodesAfterTheFinalCleanup) {
  auto r = optimize("p.onnx", "--prune 0.5 --sparse-format bitmask --json");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  auto errors = validateJson(j, loadSchema("report.schema.json"));
  EXPECT_TRUE(errors.empty()) << errors.front();
  EXPECT_EQ(j["pipeline"], "cleanup,fold-batchnorm,prune{sparsity=0.5},cleanup,sparse-storage{format=bitmask}");
  // The encoded file is smaller than 0.57x the dense one (issue 7: 50% sparsity).
  EXPECT_LT(j["after"]["file_bytes"].get<double>(), 0.57 * j["before"]["file_bytes"].get<double>());
  EXPECT_NE(r.out.find("\"sparsity\""), std::string::npos);
}

TEST_F(CliPrune, RerunsAreByteIdenticalWithCalibration) {
  const std::string flags = "--prune 0.6 --prune-method wanda --prune-reconstruct true --calib random:4 --prune-scope layer";
  ASSERT_EQ(optimize("a.onnx", flags).exitCode, 0);
  ASSERT_EQ(optimize("b.onnx", flags).exitCode, 0);
  EXPECT_EQ(readFile(dir / "a.onnx"), readFile(dir / "b.onnx"));
}

TEST_F(CliPrune, YesNoSwitchBeforeTheModelTakesNoValueFromIt) {
  // `--prune-reconstruct MODEL` used to read MODEL as the switch's value (a usage error).
  auto r = runEffdl("optimize --prune-reconstruct '" + model + "' -o '" + (dir / "s.onnx").string() +
                    "' --prune 0.5 --calib random:4 --no-measure --json");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.out.find("reconstruct=true"), std::string::npos) << r.out;
  r = runEffdl("optimize '" + model + "' --prune-reconstruct false -o '" + (dir / "t.onnx").string() +
               "' --prune 0.5 --no-measure --json");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.out.find("reconstruct=false"), std::string::npos) << r.out;
}

TEST_F(CliPrune, BadValuesAreUsageErrors) {
  auto r = optimize("x.onnx", "--prune 0.5 --prune-mode 5:4");
  EXPECT_EQ(r.exitCode, 1) << r.err;  // the usage code
  EXPECT_NE(r.err.find("N:M mode needs 1 <= N < M"), std::string::npos) << r.err;
  r = optimize("x.onnx", "--prune 0.5 --prune-method wanda");
  EXPECT_EQ(r.exitCode, 1) << r.err;  // the usage code
  EXPECT_NE(r.err.find("--calib"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace effdl::test
