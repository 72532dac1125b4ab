// Markdown and HTML renderings of the optimize report: tables, gates, per-layer bars, variants
// with the frontier marked, and escaping.
#include <gtest/gtest.h>

#include <sstream>

#include "report/optimize_report.h"
#include "report/svg_chart.h"

namespace effdl::test {
namespace {

report::OptimizeReport sample() {
  report::OptimizeReport r;
  r.input = "in<1>.onnx";
  r.output = "out.onnx";
  r.pipeline = "cleanup,prune{sparsity=0.5},cleanup";
  r.before.fileBytes = 4096;
  r.after.fileBytes = 1024;
  r.before.parameters = 1000;
  r.after.parameters = 500;
  r.measured.threads = 1;
  r.measured.before = report::Latency{2.0, 2.5};
  r.measured.after = report::Latency{1.0, 1.5};
  r.measured.accuracyBefore = 0.99;
  r.measured.accuracyAfter = 0.98;
  report::PassRecord p;
  p.name = "prune";
  p.layerColumns = {"sparsity"};
  p.layers = {{"conv1", {0.5}}, {"fc", {0.75}}};
  r.passes.push_back(p);
  r.gates.push_back({"size>0.2x", "size 0.25x meets fail-if size>0.2x", 0.25, true});
  r.qualityName = "accuracy";
  for (int i = 0; i < 4; ++i) {
    report::VariantRecord v;
    v.name = "v" + std::to_string(i);
    v.after.fileBytes = 1000 * (4 - i);
    v.quality = 0.99 - 0.01 * i;
    v.sizeFrontier = i != 2;
    v.selected = i == 1;
    r.variants.push_back(v);
  }
  r.environment.cpu = "Test CPU";
  return r;
}

TEST(ReportRender, MarkdownHasTablesGatesAndVariants) {
  std::ostringstream os;
  report::renderOptimizeMarkdown(sample(), os);
  const std::string md = os.str();
  EXPECT_NE(md.find("| file size | 4.0 KiB | 1.0 KiB | 0.25x |"), std::string::npos) << md;
  EXPECT_NE(md.find("| accuracy | 99.00% | 98.00% | -1.00 pt |"), std::string::npos) << md;
  EXPECT_NE(md.find("**FAILED**: size 0.25x"), std::string::npos) << md;
  EXPECT_NE(md.find("| v1 (selected) |"), std::string::npos) << md;
  EXPECT_NE(md.find("gates failed"), std::string::npos) << md;
  // Pipeline braces and pipes cannot break the table.
  EXPECT_NE(md.find("`cleanup,prune{sparsity=0.5},cleanup`"), std::string::npos);
}

TEST(ReportRender, HtmlIsSelfContainedWithCharts) {
  std::ostringstream os;
  report::renderOptimizeHtml(sample(), os);
  const std::string html = os.str();
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("http://"), html.find("http://www.w3.org/2000/svg")) << "no network references";
  EXPECT_NE(html.find("in&lt;1&gt;.onnx"), std::string::npos) << "escaped";
  auto count = [&](const std::string& s) {
    size_t n = 0;
    for (size_t i = html.find(s); i != std::string::npos; i = html.find(s, i + 1)) ++n;
    return n;
  };
  EXPECT_GE(count("<svg class=\"chart bars\""), 2u);      // size, latency
  EXPECT_EQ(count("<svg class=\"chart hbars\""), 1u);     // prune sparsity per layer
  EXPECT_EQ(count("<svg class=\"chart scatter\""), 1u);   // size vs accuracy (no latency measured)
  EXPECT_EQ(count("<circle class=\"point frontier"), 3u);  // v0, v1, v3
  EXPECT_EQ(count("class=\"point frontier selected\""), 1u);
  EXPECT_EQ(count("<polyline class=\"frontier\""), 1u);
  EXPECT_NE(html.find("gate FAILED"), std::string::npos);
}

TEST(ReportRender, EscapesMarkup) {
  EXPECT_EQ(report::escapeXml("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&#39;");
}

}  // namespace
}  // namespace effdl::test
