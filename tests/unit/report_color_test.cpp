// Colour in the terminal table: ratio cells green when the model got smaller/faster, red when it
// grew, failed gates red; alignment unchanged by the escape codes; no escape code without colour.
#include <gtest/gtest.h>

#include <sstream>

#include "report/optimize_report.h"
#include "report/table.h"

namespace effdl::test {
namespace {

const std::string kGreen = "\x1b[32m", kRed = "\x1b[31m", kReset = "\x1b[0m";

std::string stripAnsi(std::string s) {
  for (size_t p; (p = s.find('\x1b')) != std::string::npos;) s.erase(p, s.find('m', p) - p + 1);
  return s;
}

report::OptimizeReport sample() {
  report::OptimizeReport r;
  r.input = "in.onnx";
  r.output = "out.onnx";
  r.before.fileBytes = 4096;
  r.after.fileBytes = 1024;  // 0.25x: better
  r.before.nodes = 10;
  r.after.nodes = 10;  // 1.00x: neither
  r.before.macs = 100;
  r.after.macs = 150;  // 1.50x: worse
  r.measured.threads = 1;
  r.measured.before = report::Latency{2.0, 2.5};
  r.measured.after = report::Latency{1.0, 1.5};
  r.measured.accuracyBefore = 0.99;
  r.measured.accuracyAfter = 0.98;
  r.gates.push_back({"size>0.2x", "size 0.25x meets fail-if size>0.2x", 0.25, true});
  r.gates.push_back({"macs>2x", "macs 1.50x is within fail-if macs>2x", 1.5, false});
  return r;
}

std::string lineOf(const std::string& text, const std::string& start) {
  size_t p = text.find("\n" + start);
  EXPECT_NE(p, std::string::npos) << start << " in\n" << text;
  if (p == std::string::npos) return "";
  return text.substr(p + 1, text.find('\n', p + 1) - p - 1);
}

TEST(ReportColor, RatiosAndGatesArePaintedOnlyWhenAsked) {
  std::ostringstream plain, coloured;
  report::renderOptimizeTable(sample(), plain, false);
  report::renderOptimizeTable(sample(), coloured, true);
  EXPECT_EQ(plain.str().find('\x1b'), std::string::npos) << plain.str();
  const std::string c = coloured.str();
  EXPECT_NE(lineOf(c, "file size").find(kGreen + "0.25x" + kReset), std::string::npos) << c;
  EXPECT_NE(lineOf(c, "MACs").find(kRed + "1.50x" + kReset), std::string::npos) << c;
  EXPECT_EQ(lineOf(c, "nodes").find('\x1b'), std::string::npos) << "1.00x is neither better nor worse";
  EXPECT_NE(lineOf(c, "latency p50").find(kGreen + "0.50x"), std::string::npos) << c;
  EXPECT_NE(lineOf(c, "accuracy").find(kRed + "-1.00 pt"), std::string::npos) << c;
  EXPECT_NE(c.find(kRed + "gate FAILED:" + kReset + " size 0.25x"), std::string::npos) << c;
  EXPECT_NE(c.find(kGreen + "gate ok:" + kReset + " macs"), std::string::npos) << c;
  // The colours are the only difference: same text, same alignment.
  EXPECT_EQ(stripAnsi(c), plain.str());
}

TEST(ReportColor, ToneFollowsTheRatioAsPrinted) {
  EXPECT_EQ(report::lowerIsBetter(0.5, 1.0), report::Tone::kGood);
  EXPECT_EQ(report::lowerIsBetter(2.0, 1.0), report::Tone::kBad);
  EXPECT_EQ(report::lowerIsBetter(0.996, 1.0), report::Tone::kPlain);  // prints as 1.00x
  EXPECT_EQ(report::lowerIsBetter(0.994, 1.0), report::Tone::kGood);   // prints as 0.99x
  EXPECT_EQ(report::lowerIsBetter(1.0, 0.0), report::Tone::kPlain);    // no ratio
  EXPECT_EQ(report::paint("x", report::Tone::kBad, false), "x");
  EXPECT_EQ(report::paint("x", report::Tone::kPlain, true), "x");
  EXPECT_EQ(report::paint("x", report::Tone::kGood, true), kGreen + "x" + kReset);
}

}  // namespace
}  // namespace effdl::test
