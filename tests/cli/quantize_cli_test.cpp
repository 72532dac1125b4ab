// `effdl optimize --quantize ...` end to end: flags from the registry, the usage error without
// --calib, and the JSON report carrying the per-layer SQNR table and the notes.
#include <gtest/gtest.h>

#include <filesystem>

#include "ir/onnx_export.h"
#include "json_schema.h"
#include "test_util.h"

namespace fs = std::filesystem;

namespace effdl::test {
namespace {

const std::string kModel = (sourceDir() / "models" / "digits_cnn.onnx").string();

TEST(CliQuantize, StaticWithoutCalibIsAUsageErrorNamingCalib) {
  TempDir dir;
  auto r = runEffdl("optimize '" + kModel + "' -o '" + (dir / "q.onnx").string() + "' --quantize static");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("--calib"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "q.onnx"));
}

TEST(CliQuantize, UnknownModeIsAUsageError) {
  TempDir dir;
  auto r = runEffdl("optimize '" + kModel + "' -o '" + (dir / "q.onnx").string() + "' --quantize int3");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("int3"), std::string::npos) << r.err;
}

TEST(CliQuantize, StaticJsonReportHasLayersAndNotes) {
  TempDir dir;
  auto r = runEffdl("optimize '" + kModel + "' -o '" + (dir / "q.onnx").string() +
                    "' --quantize static --calib random:4 --quantize-calib-method minmax --threads 1 "
                    "--bench-iters 0 --fidelity-samples 0 --json");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  auto errors = validateJson(j, loadSchema("report.schema.json"));
  EXPECT_TRUE(errors.empty()) << errors.front();
  EXPECT_EQ(j["pipeline"], "cleanup,fold-batchnorm,quantize{calib-method=minmax,mode=static},cleanup");
  const auto& q = j["passes"][2];
  EXPECT_EQ(q["name"], "quantize");
  EXPECT_EQ(q["counters"]["weights int8 per channel"], 4);
  EXPECT_EQ(q["layers"]["columns"], nlohmann::json::array({"sqnr_db"}));
  EXPECT_EQ(q["layers"]["rows"].size(), 4u);
  // int8 keeps 4x smaller weights: the file shrinks to under 0.3x.
  EXPECT_LT(j["after"]["file_bytes"].get<double>(), 0.3 * j["before"]["file_bytes"].get<double>());
}

TEST(CliQuantize, DynamicSaysConvStaysFloat) {
  TempDir dir;
  auto r = runEffdl("optimize '" + kModel + "' -o '" + (dir / "q.onnx").string() +
                    "' --quantize dynamic --bench-iters 0 --fidelity-samples 0 --json");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["passes"][2]["counters"]["Gemm -> MatMulInteger"], 2);
  EXPECT_NE(j["passes"][2]["notes"].dump().find("Conv/ConvTranspose kept float"), std::string::npos);
}

TEST(CliQuantize, ExcludeOpTypesTakesACommaSeparatedList) {
  TempDir dir;
  auto r = runEffdl("optimize '" + kModel + "' -o '" + (dir / "q.onnx").string() +
                    "' --quantize weight-only --quantize-exclude-op-types Gemm,Conv --bench-iters 0 "
                    "--fidelity-samples 0 --json");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["passes"][2]["counters"]["nodes kept float (--quantize-exclude-op-types)"], 4);
  // Nothing was quantized: only BatchNormalization folding shrinks the file a little.
  EXPECT_GT(j["after"]["file_bytes"].get<double>(), 0.9 * j["before"]["file_bytes"].get<double>());
}

// The latency guard's report lists the layers it kept float (a 99% margin: int8 would have to be
// 100x faster, so every layer is reverted), and its JSON report replays to the same bytes.
TEST(CliQuantize, DynamicLatencyGuardOnAGemmWithAComputedBias) {
  // The guard times each layer in a one-layer model fed with the shapes of one run: a Gemm's C
  // computed from the input (beta 1) needs its shape too (it threw an internal error).
  TempDir dir;
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2,8] x) => (float[2,4] y) <float[8,4] w = {)" + [] {
    std::string v;
    for (int i = 0; i < 32; ++i) v += (i ? ", " : "") + std::to_string((i % 7) * 0.1 - 0.3);
    return v;
  }() + R"(}, int64[1] zero = {0}, int64[1] four = {4}, int64[1] one = {1}> {
      c = Slice(x, zero, four, one)
      y = Gemm(x, w, c)
    })");
  ir::saveModel(*m, dir / "m.onnx");
  auto r = runEffdl("optimize '" + (dir / "m.onnx").string() + "' -o '" + (dir / "q.onnx").string() +
                    "' --quantize dynamic --quantize-latency-guard --threads 1 --bench-iters 0 --fidelity-samples 0");
  EXPECT_EQ(r.exitCode, 0) << r.err;
}

TEST(CliQuantize, LatencyGuardReportListsRevertedLayersAndReplays) {
  TempDir dir;
  const std::string common = "optimize '" + kModel + "' --quantize static --calib random:4 --threads 1 "
                             "--bench-iters 0 --fidelity-samples 0 --force --quantize-latency-guard true "
                             "--quantize-latency-guard-margin 0.99";
  auto r = runEffdl(common + " -o '" + (dir / "a.onnx").string() + "' --report '" + (dir / "a.json").string() + "'");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.out.find("kept float 4 where int8 was not at least 99% faster: /conv1/Conv (int8 "), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("reverted"), std::string::npos) << r.out;  // the per-layer column
  auto j = nlohmann::json::parse(readFile(dir / "a.json"));
  auto errors = validateJson(j, loadSchema("report.schema.json"));
  EXPECT_TRUE(errors.empty()) << errors.front();
  const auto& q = j["passes"][2];
  EXPECT_EQ(q["counters"]["layers kept float (--quantize-latency-guard)"], 4);
  EXPECT_EQ(q["layers"]["columns"], nlohmann::json::array({"sqnr_db", "fp32_ms", "int8_ms", "reverted"}));
  for (const auto& row : q["layers"]["rows"]) EXPECT_EQ(row["values"][3], 1.0) << row.dump();

  // The same flags with --decisions: no timing, the same bytes (effdl.pipeline included).
  auto b = runEffdl(common + " -o '" + (dir / "b.onnx").string() + "' --decisions '" + (dir / "a.json").string() +
                    "' --json");
  ASSERT_EQ(b.exitCode, 0) << b.err;
  EXPECT_EQ(readFile(dir / "a.onnx"), readFile(dir / "b.onnx"));
  auto jb = nlohmann::json::parse(b.out);
  EXPECT_TRUE(validateJson(jb, loadSchema("report.schema.json")).empty());
  EXPECT_NE(jb["passes"][2]["notes"].dump().find("decisions replayed from"), std::string::npos);
  EXPECT_TRUE(jb["passes"][2]["layers"]["rows"][0]["values"][1].is_null());  // not timed

  // --decisions without a pass that times anything is a usage error.
  auto c = runEffdl("optimize '" + kModel + "' -o '" + (dir / "c.onnx").string() +
                    "' --quantize dynamic --no-measure --decisions '" + (dir / "a.json").string() + "'");
  EXPECT_EQ(c.exitCode, 1);
  EXPECT_NE(c.err.find("--decisions: no pass in the pipeline makes timing-dependent choices"), std::string::npos)
      << c.err;
}

}  // namespace
}  // namespace effdl::test
