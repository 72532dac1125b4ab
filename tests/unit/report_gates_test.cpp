// --fail-if gates: parsing (metrics, operators, units) and evaluation against a report, one test
// per gate kind, passing and failing; an unmeasured metric fails its gate.
#include <gtest/gtest.h>

#include "report/gates.h"
#include "test_util.h"

namespace effdl::test {
namespace {

report::OptimizeReport sampleReport() {
  report::OptimizeReport r;
  r.before.fileBytes = 1000;
  r.after.fileBytes = 270;
  r.before.parameters = 100;
  r.after.parameters = 50;
  r.before.macs = 1000;
  r.after.macs = 700;
  r.measured.before = report::Latency{10.0, 11.0};
  r.measured.after = report::Latency{6.0, 7.0};
  eval::Agreement a;
  a.samples = 4;
  a.outputs.push_back({"logits", 0.02, 5.0, 0.999, 0.995, 0.985, 40});
  r.measured.agreement = a;
  r.measured.accuracyBefore = 0.9972;
  r.measured.accuracyAfter = 0.9900;
  return r;
}

bool fails(const std::string& expr, const report::OptimizeReport& r = sampleReport()) {
  auto results = report::evaluateGates(report::parseGates(expr), r);
  EXPECT_EQ(results.size(), 1u);
  return results.at(0).failed;
}

TEST(ReportGates, SizeRatioAndBytes) {
  EXPECT_FALSE(fails("size>0.3x"));  // 0.27x
  EXPECT_TRUE(fails("size>0.25x"));
  EXPECT_TRUE(fails("size>=0.27x"));
  EXPECT_FALSE(fails("size>1K"));  // 270 bytes
  EXPECT_TRUE(fails("size>200B"));
}

TEST(ReportGates, ParamsMacsAndLatency) {
  EXPECT_FALSE(fails("params>0.5x"));
  EXPECT_TRUE(fails("params>=0.5x"));
  EXPECT_TRUE(fails("macs>0.6x"));
  EXPECT_FALSE(fails("macs>0.8x"));
  EXPECT_FALSE(fails("latency>0.8x"));  // 0.6x
  EXPECT_TRUE(fails("latency>0.5x"));
  EXPECT_TRUE(fails("latency>5ms"));
  EXPECT_FALSE(fails("latency>6.5ms"));
}

TEST(ReportGates, AgreementAndAccuracy) {
  EXPECT_TRUE(fails("top1-agreement<99%"));  // 98.5 %
  EXPECT_FALSE(fails("top1-agreement<98%"));
  EXPECT_FALSE(fails("cosine<0.99"));  // worst sample 0.995
  EXPECT_TRUE(fails("cosine<0.999"));
  EXPECT_FALSE(fails("max-abs-error>0.05"));
  EXPECT_TRUE(fails("max-abs-error>0.01"));
  EXPECT_TRUE(fails("accuracy-drop>0.5pt"));  // 0.72 points
  EXPECT_FALSE(fails("accuracy-drop>1pt"));
  EXPECT_FALSE(fails("accuracy<99%"));
  EXPECT_TRUE(fails("accuracy<99.5%"));
}

TEST(ReportGates, UnmeasuredMetricFailsWithReason) {
  report::OptimizeReport r = sampleReport();
  r.measured = {};
  auto results = report::evaluateGates(report::parseGates("latency>0.8x, accuracy-drop>1pt, size>0.3x"), r);
  ASSERT_EQ(results.size(), 3u);
  EXPECT_TRUE(results[0].failed);
  EXPECT_EQ(results[0].reason, "latency was not measured, so gate 'latency>0.8x' cannot pass");
  EXPECT_TRUE(results[1].failed);
  EXPECT_FALSE(results[2].failed);
}

TEST(ReportGates, ReasonsNameValueThresholdAndDetail) {
  auto results = report::evaluateGates(report::parseGates("size>0.25x"), sampleReport());
  EXPECT_EQ(results[0].reason, "size 0.27x meets fail-if size>0.25x (1000 B -> 270 B)");
}

TEST(ReportGates, BadExpressionsAreUsageErrors) {
  expectError([] { report::parseGates("speed>2x"); }, ErrorKind::kUsage, "unknown metric 'speed'");
  expectError([] { report::parseGates("size=0.3x"); }, ErrorKind::kUsage, "expected METRIC>VALUE");
  expectError([] { report::parseGates("size>abc"); }, ErrorKind::kUsage, "'abc' is not a number");
  expectError([] { report::parseGates("accuracy-drop>1%"); }, ErrorKind::kUsage, "unit '%' does not fit accuracy-drop");
  expectError([] { report::parseGates("size>0.3x,,latency>1x"); }, ErrorKind::kUsage, "empty clause");
  expectError([] { report::parseGates(""); }, ErrorKind::kUsage, "no gate given");
  EXPECT_EQ(report::parseGates(" size > 0.3x , latency<=2 ms ").size(), 2u);
}

}  // namespace
}  // namespace effdl::test
