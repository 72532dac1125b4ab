// `effdl optimize` end to end: default output path, the before/after table, --json against
// docs/report.schema.json, pipelines from --passes and --recipe, --verify, and usage errors
// reported before any work.
#include <gtest/gtest.h>

#include <filesystem>

#include "json_schema.h"
#include "test_util.h"

namespace fs = std::filesystem;

namespace effdl::test {
namespace {

class CliOptimize : public ::testing::Test {
 protected:
  TempDir dir;
  fs::path copyModel(const std::string& name) {
    fs::copy_file(sourceDir() / "models" / name, dir / name);
    return dir / name;
  }
};

TEST_F(CliOptimize, DefaultOutputBesideInputAndTable) {
  auto in = copyModel("digits_cnn.onnx");
  auto before = readFile(in);
  auto r = runEffdl("optimize '" + in.string() + "'");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_TRUE(fs::exists(dir / "digits_cnn.opt.onnx"));
  EXPECT_EQ(readFile(in), before) << "the input changed";
  EXPECT_NE(r.out.find("file size"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("fold-batchnorm"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("nodes                    11          9"), std::string::npos) << r.out;
  // A second run refuses to replace the output without --force.
  auto again = runEffdl("optimize '" + in.string() + "'");
  EXPECT_EQ(again.exitCode, 1);
  EXPECT_NE(again.err.find("already exists; pass --force"), std::string::npos) << again.err;
}

TEST_F(CliOptimize, JsonReportMatchesSchema) {
  auto in = copyModel("digits_cnn.onnx");
  auto r = runEffdl("optimize '" + in.string() + "' -o '" + (dir / "o.onnx").string() + "' --json");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  auto errors = validateJson(j, loadSchema("report.schema.json"));
  EXPECT_TRUE(errors.empty()) << errors.front();
  EXPECT_EQ(j["before"]["nodes"], 11);
  EXPECT_EQ(j["after"]["nodes"], 9);
  EXPECT_EQ(j["before"]["macs"], j["after"]["macs"]);
  EXPECT_LT(j["after"]["file_bytes"].get<int64_t>(), j["before"]["file_bytes"].get<int64_t>());
  EXPECT_EQ(j["passes"].size(), 3u);
  EXPECT_EQ(j["passes"][1]["name"], "fold-batchnorm");
}

TEST_F(CliOptimize, OutputIsDeterministic) {
  auto in = copyModel("digits_cnn.onnx");
  ASSERT_EQ(runEffdl("optimize '" + in.string() + "' -o '" + (dir / "a.onnx").string() + "'").exitCode, 0);
  ASSERT_EQ(runEffdl("optimize '" + in.string() + "' -o '" + (dir / "b.onnx").string() + "'").exitCode, 0);
  EXPECT_EQ(readFile(dir / "a.onnx"), readFile(dir / "b.onnx"));
}

TEST_F(CliOptimize, PassesSpecWithOptions) {
  auto in = copyModel("mlp.onnx");
  auto r = runEffdl("optimize '" + in.string() + "' -o '" + (dir / "o.onnx").string() +
                    "' --passes 'eliminate-dead{inputs=true},cleanup' --json");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["pipeline"], "eliminate-dead{inputs=true},cleanup");
}

TEST_F(CliOptimize, RecipeFile) {
  auto in = copyModel("mlp.onnx");
  writeFile(dir / "recipe.json",
            R"({"schema_version": 1, "passes": ["cleanup", {"name": "eliminate-dead", "options": {"inputs": true}}]})");
  auto r = runEffdl("optimize '" + in.string() + "' -o '" + (dir / "o.onnx").string() + "' --recipe '" +
                    (dir / "recipe.json").string() + "' --json");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["pipeline"], "cleanup,eliminate-dead{inputs=true}");
}

TEST_F(CliOptimize, VerifyPassesOnBundledModels) {
  for (const char* name : {"digits_cnn.onnx", "mlp.onnx", "text_classifier.onnx"}) {
    auto in = copyModel(name);
    auto r = runEffdl("optimize '" + in.string() + "' -o '" + (dir / (std::string(name) + ".opt")).string() +
                      "' --verify");
    EXPECT_EQ(r.exitCode, 0) << name << ": " << r.err;
  }
}

TEST_F(CliOptimize, UnknownPassIsUsageErrorBeforeAnyWork) {
  auto in = copyModel("mlp.onnx");
  auto r = runEffdl("optimize '" + in.string() + "' --passes cleanup,no-such-pass");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("unknown pass 'no-such-pass'"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "mlp.opt.onnx"));
}

TEST_F(CliOptimize, UnknownOptionAndBadValueAreUsageErrors) {
  auto in = copyModel("mlp.onnx");
  auto r = runEffdl("optimize '" + in.string() + "' --passes 'eliminate-dead{bogus=1}'");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("pass 'eliminate-dead' has no option 'bogus'"), std::string::npos) << r.err;
  r = runEffdl("optimize '" + in.string() + "' --passes 'eliminate-dead{inputs=maybe}'");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("'maybe' is not true or false"), std::string::npos) << r.err;
}

TEST_F(CliOptimize, BadRecipeIsUsageError) {
  auto in = copyModel("mlp.onnx");
  writeFile(dir / "bad.json", R"({"passes": [{"name": "cleanup", "options": {"x": {}}}]})");
  auto r = runEffdl("optimize '" + in.string() + "' --recipe '" + (dir / "bad.json").string() + "'");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("bad.json"), std::string::npos) << r.err;
  writeFile(dir / "notjson.json", "{passes:");
  r = runEffdl("optimize '" + in.string() + "' --recipe '" + (dir / "notjson.json").string() + "'");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("not valid JSON"), std::string::npos) << r.err;
}

TEST_F(CliOptimize, PassesAndRecipeAreExclusive) {
  auto in = copyModel("mlp.onnx");
  auto r = runEffdl("optimize '" + in.string() + "' --passes cleanup --recipe x.json");
  EXPECT_EQ(r.exitCode, 1) << r.err;
}

TEST_F(CliOptimize, ExternalDataOnRequest) {
  auto in = copyModel("mlp.onnx");
  auto r = runEffdl("optimize '" + in.string() + "' -o '" + (dir / "ext.onnx").string() + "' --external-data always");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_TRUE(fs::exists(dir / "ext.onnx.data"));
  EXPECT_LT(fs::file_size(dir / "ext.onnx"), 10000u);
  // The result loads back (inspect reads the external data, confined to its folder).
  auto i = runEffdl("inspect '" + (dir / "ext.onnx").string() + "' --json");
  ASSERT_EQ(i.exitCode, 0) << i.err;
  EXPECT_GT(nlohmann::json::parse(i.out)["model"]["external_data_bytes"].get<int64_t>(), 300000);
}

TEST_F(CliOptimize, MeasuresLatencyAgreementAndAccuracy) {
  auto in = copyModel("digits_cnn.onnx");
  auto data = sourceDir() / "models";
  auto r = runEffdl("optimize '" + in.string() + "' -o '" + (dir / "o.onnx").string() + "' --threads 1 --bench-iters 5" +
                    " --eval-data '" + (data / "digits_test_x.npy").string() + "' --eval-labels '" +
                    (data / "digits_test_y.npy").string() + "' --json");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  auto errors = validateJson(j, loadSchema("report.schema.json"));
  EXPECT_TRUE(errors.empty()) << errors.front();
  const auto& m = j["measured"];
  EXPECT_EQ(m["threads"], 1);
  EXPECT_GT(m["latency_before"]["p50_ms"].get<double>(), 0);
  EXPECT_GT(m["latency_after"]["p50_ms"].get<double>(), 0);
  // Folding BatchNorm changes rounding only.
  EXPECT_LT(m["agreement"]["max_abs_error"].get<double>(), 1e-3);
  EXPECT_GT(m["agreement"]["cosine"].get<double>(), 0.9999);
  EXPECT_EQ(m["agreement"]["top1_agreement"], 1.0);
  EXPECT_EQ(m["agreement"]["samples"], 8);
  // The bundled test split: 99.72 % (models/README.md), unchanged by the cleanup.
  EXPECT_NEAR(m["accuracy"]["before"].get<double>(), 0.9972, 1e-4);
  EXPECT_EQ(m["accuracy"]["before"], m["accuracy"]["after"]);
  EXPECT_TRUE(m["not_measured"].empty());
  // The table shows the same rows to a person.
  auto t = runEffdl("optimize '" + in.string() + "' -o '" + (dir / "t.onnx").string() + "' --bench-iters 3" +
                    " --eval-data '" + (data / "digits_test_x.npy").string() + "' --eval-labels '" +
                    (data / "digits_test_y.npy").string() + "'");
  ASSERT_EQ(t.exitCode, 0) << t.err;
  EXPECT_NE(t.out.find("latency p50"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("accuracy             99.72%     99.72%"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("top-1 agreement 100.00%"), std::string::npos) << t.out;
}

TEST_F(CliOptimize, NoMeasureSkipsTheRuntime) {
  auto in = copyModel("mlp.onnx");
  auto r = runEffdl("optimize '" + in.string() + "' -o '" + (dir / "o.onnx").string() + "' --no-measure --json");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  auto m = nlohmann::json::parse(r.out)["measured"];
  EXPECT_TRUE(m["latency_before"].is_null());
  EXPECT_TRUE(m["agreement"].is_null());
}

TEST_F(CliOptimize, BadEvalDataIsUsageErrorWithoutOutput) {
  auto in = copyModel("digits_cnn.onnx");
  auto data = sourceDir() / "models";
  auto out = dir / "o.onnx";
  auto r = runEffdl("optimize '" + in.string() + "' -o '" + out.string() + "' --eval-data '" +
                    (data / "digits_test_x.npy").string() + "'");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("--eval-data and --eval-labels go together"), std::string::npos) << r.err;
  // Labels of the wrong length.
  r = runEffdl("optimize '" + in.string() + "' -o '" + out.string() + "' --force --eval-data '" +
               (data / "digits_test_x.npy").string() + "' --eval-labels '" + (data / "text_test_y.npy").string() + "'");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("expected 360 labels (shape [360]) for the 360 rows of --eval-data"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out)) << "usage errors come before any work";
}

TEST_F(CliOptimize, BadCalibSpecIsUsageError) {
  auto in = copyModel("mlp.onnx");
  auto r = runEffdl("optimize '" + in.string() + "' -o '" + (dir / "o.onnx").string() + "' --calib random:0");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("--calib random:0"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "o.onnx"));
  r = runEffdl("optimize '" + in.string() + "' -o '" + (dir / "o.onnx").string() + "' --calib '" +
               (dir / "missing").string() + "'");
  EXPECT_NE(r.exitCode, 0);
  EXPECT_FALSE(fs::exists(dir / "o.onnx"));
}

TEST_F(CliOptimize, FailIfGatesExitWithTheirCodeAndOneLinePerFailure) {
  auto in = copyModel("digits_cnn.onnx");
  auto data = sourceDir() / "models";
  const std::string eval = " --eval-data '" + (data / "digits_test_x.npy").string() + "' --eval-labels '" +
                           (data / "digits_test_y.npy").string() + "' --bench-iters 3";
  auto ok = runEffdl("optimize '" + in.string() + "' -o '" + (dir / "a.onnx").string() + "'" + eval +
                     " --fail-if 'size>1.5x, accuracy-drop>1pt, top1-agreement<99%'");
  EXPECT_EQ(ok.exitCode, 0) << ok.err;
  EXPECT_NE(ok.out.find("gate ok: size"), std::string::npos) << ok.out;
  auto bad = runEffdl("optimize '" + in.string() + "' -o '" + (dir / "b.onnx").string() + "'" + eval +
                      " --fail-if 'size>0.5x, accuracy-drop>1pt' --json");
  EXPECT_EQ(bad.exitCode, 5) << bad.err;
  EXPECT_NE(bad.err.find("1 of 2 --fail-if gates failed: size 0.99"), std::string::npos) << bad.err;
  // stdout is still one JSON document: the report, with ok false and the gates.
  auto j = nlohmann::json::parse(bad.out);
  EXPECT_TRUE(validateJson(j, loadSchema("report.schema.json")).empty());
  EXPECT_EQ(j["ok"], false);
  ASSERT_EQ(j["gates"].size(), 2u);
  EXPECT_EQ(j["gates"][0]["failed"], true);
  EXPECT_EQ(j["gates"][1]["failed"], false);
  EXPECT_TRUE(fs::exists(dir / "b.onnx")) << "the model is written; the gate judges it";
  // A bad gate is a usage error before any work.
  auto usage = runEffdl("optimize '" + in.string() + "' -o '" + (dir / "c.onnx").string() + "' --fail-if 'speed>2x'");
  EXPECT_EQ(usage.exitCode, 1);
  EXPECT_FALSE(fs::exists(dir / "c.onnx"));
}

}  // namespace
}  // namespace effdl::test
