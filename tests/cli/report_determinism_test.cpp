// Same input and flags give a byte-identical model and a report that differs only in what was
// timed. The timing fields of docs/report.schema.json, and nothing else, are:
//   passes[].seconds                                  time each pass took
//   measured.latency_before, measured.latency_after   p50_ms / p90_ms of the timed runs
//   variants[].measured.latency_before/_after         the same per variant
//   variants[].latency_frontier                       Pareto-optimal for latency vs quality
//   gates[] whose gate is on latency                  value, failed, reason (and so `ok`)
//   selection (with --select ...,minimize=latency)     the choice among variants
// Everything else — sizes, counts, agreement, accuracy, per-layer tables, the environment — must be
// identical across runs.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "test_util.h"

namespace fs = std::filesystem;

namespace effdl::test {
namespace {

// The report with its timing fields removed (see the list above). This test uses no latency
// gate and no minimize=latency, so gates and selection stay in.
nlohmann::json withoutTimings(nlohmann::json j) {
  for (auto& p : j["passes"]) p.erase("seconds");
  auto dropLatency = [](nlohmann::json& measured) {
    if (!measured.is_object()) return;
    measured.erase("latency_before");
    measured.erase("latency_after");
  };
  dropLatency(j["measured"]);
  for (auto& v : j["variants"]) {
    dropLatency(v["measured"]);
    v.erase("latency_frontier");
  }
  return j;
}

class CliReportDeterminism : public ::testing::Test {
 protected:
  TempDir dir;
  std::string flags() const {
    auto d = sourceDir() / "models";
    return "'" + (d / "digits_cnn.onnx").string() + "' --eval-data '" + (d / "digits_test_x.npy").string() +
           "' --eval-labels '" + (d / "digits_test_y.npy").string() + "' --bench-iters 3 --force --json";
  }
  // Runs the same command twice into the same output path; returns both reports and model bytes.
  void twice(const std::string& args, nlohmann::json (&reports)[2], std::string (&models)[2]) {
    for (int i = 0; i < 2; ++i) {
      auto r = runEffdl("optimize " + flags() + " -o '" + (dir / "out.onnx").string() + "' " + args);
      ASSERT_EQ(r.exitCode, 0) << r.err;
      reports[i] = nlohmann::json::parse(r.out);
      models[i] = readFile(dir / "out.onnx");
    }
  }
};

TEST_F(CliReportDeterminism, ModelIsByteIdenticalAndReportDiffersOnlyInTimings) {
  nlohmann::json reports[2];
  std::string models[2];
  twice("--quantize static --calib random:16 --fail-if 'size>0.5x, accuracy-drop>1pt, top1-agreement<95%'", reports,
        models);
  EXPECT_EQ(models[0], models[1]) << "the model files differ";
  ASSERT_FALSE(reports[0]["passes"].empty());
  ASSERT_FALSE(reports[0]["measured"]["latency_before"].is_null()) << "timings were measured";
  ASSERT_FALSE(reports[0]["measured"]["agreement"].is_null());
  EXPECT_EQ(reports[0]["gates"].size(), 3u);
  const auto a = withoutTimings(reports[0]), b = withoutTimings(reports[1]);
  EXPECT_EQ(a.dump(1), b.dump(1)) << "the reports differ in more than timings";
}

TEST_F(CliReportDeterminism, VariantsAndTheirChoiceAreDeterministic) {
  nlohmann::json reports[2];
  std::string models[2];
  twice("--variants 'baseline;prune=0.5' --select 'max-drop=2%,minimize=size'", reports, models);
  EXPECT_EQ(models[0], models[1]) << "the selected model files differ";
  ASSERT_EQ(reports[0]["variants"].size(), 2u);
  EXPECT_EQ(withoutTimings(reports[0]).dump(1), withoutTimings(reports[1]).dump(1));
}

}  // namespace
}  // namespace effdl::test
