// Batch conversion: good models converted, corrupt ones reported with their reasons, exit code 6,
// relative paths preserved, the same bytes whatever --jobs, usage errors before any work.
#include <gtest/gtest.h>

#include <filesystem>

#include "json_schema.h"
#include "test_util.h"

namespace fs = std::filesystem;

namespace effdl::test {
namespace {

class CliBatch : public ::testing::Test {
 protected:
  TempDir dir;
  fs::path in() const { return dir / "in"; }
  void SetUp() override {
    fs::create_directories(in() / "vision");
    fs::create_directories(in() / "text");
    fs::copy_file(sourceDir() / "models" / "digits_cnn.onnx", in() / "vision" / "digits_cnn.onnx");
    fs::copy_file(sourceDir() / "models" / "mlp.onnx", in() / "vision" / "mlp.onnx");
    fs::copy_file(sourceDir() / "models" / "text_classifier.onnx", in() / "text" / "text_classifier.onnx");
    writeFile(in() / "text" / "garbage.onnx", "this is not a protobuf at all");
    std::string digits = readFile(sourceDir() / "models" / "digits_cnn.onnx");
    writeFile(in() / "vision" / "truncated.onnx", digits.substr(0, digits.size() / 2));
    writeFile(in() / "vision" / "README.txt", "not a model");
  }
  std::string quick() const { return " --bench-iters 2 --fidelity-samples 2 --threads 1"; }
};

TEST_F(CliBatch, ConvertsGoodModelsReportsBadOnesAndExitsSix) {
  auto out = dir / "out";
  auto r = runEffdl("optimize '" + in().string() + "' --out-dir '" + out.string() + "' --json" + quick());
  EXPECT_EQ(r.exitCode, 6) << r.err;
  auto j = nlohmann::json::parse(r.out);
  auto errors = validateJson(j, loadSchema("batch.schema.json"));
  EXPECT_TRUE(errors.empty()) << errors.front();
  EXPECT_EQ(j["ok"], false);
  EXPECT_EQ(j["batch"]["total"], 5);
  EXPECT_EQ(j["batch"]["succeeded"], 3);
  EXPECT_EQ(j["batch"]["failed"], 2);
  int invalid = 0;
  for (const auto& m : j["models"]) {
    if (m["ok"]) {
      EXPECT_TRUE(validateJson(m["report"], loadSchema("report.schema.json")).empty());
      EXPECT_TRUE(fs::exists(m["output"].get<std::string>()));
    } else {
      EXPECT_EQ(m["exit_code"], 2) << m.dump();
      EXPECT_EQ(m["error"]["kind"], "invalid_model");
      EXPECT_NE(m["error"]["message"].get<std::string>().find(m["input"].get<std::string>()), std::string::npos)
          << "the reason names the file: " << m.dump();
      EXPECT_FALSE(fs::exists(m["output"].get<std::string>())) << "no output for a failed model";
      ++invalid;
    }
  }
  EXPECT_EQ(invalid, 2);
  // Relative paths are kept; nothing but the good models' outputs is written.
  EXPECT_TRUE(fs::exists(out / "vision" / "digits_cnn.onnx"));
  EXPECT_TRUE(fs::exists(out / "text" / "text_classifier.onnx"));
  size_t files = 0;
  for (const auto& e : fs::recursive_directory_iterator(out)) files += e.is_regular_file();
  EXPECT_EQ(files, 3u);
  // One line per model on stderr, and the failure summary.
  EXPECT_NE(r.err.find("FAILED  " + (in() / "text" / "garbage.onnx").string()), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("2 of 5 models failed"), std::string::npos) << r.err;
}

TEST_F(CliBatch, TableSummaryAndJobsGiveTheSameBytes) {
  auto a = dir / "a", b = dir / "b";
  auto files = "'" + (in() / "vision" / "digits_cnn.onnx").string() + "' '" + (in() / "vision" / "mlp.onnx").string() +
               "' '" + (in() / "text" / "text_classifier.onnx").string() + "'";
  auto r1 = runEffdl("optimize " + files + " --out-dir '" + a.string() + "' --jobs 1" + quick());
  ASSERT_EQ(r1.exitCode, 0) << r1.err;
  EXPECT_NE(r1.out.find("3 of 3 models optimized"), std::string::npos) << r1.out;
  EXPECT_NE(r1.out.find("agreement"), std::string::npos) << r1.out;
  auto r2 = runEffdl("optimize " + files + " --out-dir '" + b.string() + "' --jobs 3" + quick());
  ASSERT_EQ(r2.exitCode, 0) << r2.err;
  for (auto name : {"digits_cnn.onnx", "mlp.onnx", "text_classifier.onnx"})
    EXPECT_EQ(readFile(a / name), readFile(b / name)) << name;
}

TEST_F(CliBatch, OutputFolderInsideTheInputFolderIsNotReadBack) {
  fs::remove(in() / "text" / "garbage.onnx");
  fs::remove(in() / "vision" / "truncated.onnx");
  auto out = in() / "optimized";
  auto r = runEffdl("optimize '" + in().string() + "' --out-dir '" + out.string() + "' --json" + quick());
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["batch"]["total"], 3);
  r = runEffdl("optimize '" + in().string() + "' --out-dir '" + out.string() + "' --force --json" + quick());
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["batch"]["total"], 3);
}

TEST_F(CliBatch, UsageErrorsBeforeAnyWork) {
  auto out = dir / "out";
  auto r = runEffdl("optimize '" + in().string() + "'");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("need --out-dir"), std::string::npos) << r.err;
  // Two models with the same file name would collide in the output folder.
  fs::copy_file(in() / "vision" / "mlp.onnx", dir / "mlp.onnx");
  r = runEffdl("optimize '" + (dir / "mlp.onnx").string() + "' '" + (in() / "vision" / "mlp.onnx").string() +
               "' --out-dir '" + out.string() + "'");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("two models would be written to"), std::string::npos) << r.err;
  r = runEffdl("optimize '" + (dir / "missing.onnx").string() + "' --out-dir '" + out.string() + "'");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_FALSE(fs::exists(out));
  r = runEffdl("optimize '" + in().string() + "' --out-dir '" + out.string() + "' -o x.onnx");
  EXPECT_EQ(r.exitCode, 1);
}

}  // namespace
}  // namespace effdl::test
