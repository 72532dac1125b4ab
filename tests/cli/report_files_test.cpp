// --report FILE (json, md, html) and --variants/--select through the binary; the HTML report is
// rendered by headless Chromium and its screenshot must show the charts.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <regex>

#include "json_schema.h"
#include "test_util.h"

namespace fs = std::filesystem;

namespace effdl::test {
namespace {

class CliReport : public ::testing::Test {
 protected:
  TempDir dir;
  std::string model() const { return "'" + (sourceDir() / "models" / "digits_cnn.onnx").string() + "'"; }
  std::string evalFlags() const {
    auto d = sourceDir() / "models";
    return " --eval-data '" + (d / "digits_test_x.npy").string() + "' --eval-labels '" +
           (d / "digits_test_y.npy").string() + "' --threads 1 --bench-iters 5";
  }
};

TEST_F(CliReport, WritesJsonMarkdownAndHtml) {
  auto r = runEffdl("optimize " + model() + " -o '" + (dir / "o.onnx").string() + "'" + evalFlags() + " --report '" +
                    (dir / "r.json").string() + "' --report '" + (dir / "r.md").string() + "' --report '" +
                    (dir / "r.html").string() + "'");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  auto j = nlohmann::json::parse(readFile(dir / "r.json"));
  auto errors = validateJson(j, loadSchema("report.schema.json"));
  EXPECT_TRUE(errors.empty()) << errors.front();
  EXPECT_FALSE(j["environment"]["cpu"].get<std::string>().empty());
  EXPECT_EQ(j["environment"]["threads"], 1);
  EXPECT_EQ(j["environment"]["input_shapes"][0]["shape"], nlohmann::json::array({1, 1, 8, 8}));
  EXPECT_NE(readFile(dir / "r.md").find("| accuracy | 99.72% | 99.72% |"), std::string::npos);
  EXPECT_NE(readFile(dir / "r.html").find("<svg class=\"chart bars\""), std::string::npos);
  auto bad = runEffdl("optimize " + model() + " -o '" + (dir / "p.onnx").string() + "' --report r.pdf");
  EXPECT_EQ(bad.exitCode, 1);
  EXPECT_FALSE(fs::exists(dir / "p.onnx"));
}

TEST_F(CliReport, HtmlRendersInHeadlessChromium) {
  if (runCommand("command -v chromium").exitCode != 0) GTEST_SKIP() << "chromium is not installed (scripts/setup.sh installs it)";
  auto html = dir / "r.html";
  auto r = runEffdl("optimize " + model() + " -o '" + (dir / "o.onnx").string() + "'" + evalFlags() +
                    " --variants 'baseline;prune=0.5;prune=0.8' --select 'max-drop=2%' --report '" + html.string() + "'");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  const std::string chrome = "timeout 120 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars "
                             "--user-data-dir='" + (dir / "chrome").string() + "' ";
  auto dom = runCommand(chrome + "--dump-dom 'file://" + html.string() + "' 2>/dev/null");
  ASSERT_EQ(dom.exitCode, 0) << dom.err;
  // The browser parsed the charts: SVG elements are in its DOM.
  EXPECT_NE(dom.out.find("<svg class=\"chart bars\""), std::string::npos);
  EXPECT_NE(dom.out.find("<svg class=\"chart scatter\""), std::string::npos);
  EXPECT_NE(dom.out.find("<circle class=\"point frontier"), std::string::npos);
  auto png = dir / "shot.png";
  auto shot = runCommand(chrome + "--window-size=1000,1600 --screenshot='" + png.string() + "' 'file://" +
                         html.string() + "' 2>&1");
  ASSERT_TRUE(fs::exists(png)) << shot.out;
  // Non-blank, and the bar colour (#2f80ed) is on screen: the charts were painted.
  auto pixels = runCommand("/usr/bin/python3 -c \"from PIL import Image; im=Image.open('" + png.string() +
                           "').convert('RGB'); px=list(im.getdata()); print(sum(p!=(255,255,255) for p in px), "
                           "sum(abs(p[0]-47)<10 and abs(p[1]-128)<10 and abs(p[2]-237)<10 for p in px))\"");
  ASSERT_EQ(pixels.exitCode, 0) << pixels.err;
  long nonWhite = 0, blue = 0;
  ASSERT_EQ(std::sscanf(pixels.out.c_str(), "%ld %ld", &nonWhite, &blue), 2) << pixels.out;
  EXPECT_GT(nonWhite, 20000) << "the page looks blank";
  EXPECT_GT(blue, 500) << "no chart bars painted";
}

TEST_F(CliReport, VariantsMarkTheFrontierAndSelectWritesTheChoice) {
  auto out = dir / "chosen.onnx";
  auto r = runEffdl("optimize " + model() + " -o '" + out.string() + "'" + evalFlags() +
                    " --variants 'baseline;prune=0.3;prune=0.6;prune=0.9' --select 'max-drop=1%,minimize=size' --json");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  auto errors = validateJson(j, loadSchema("report.schema.json"));
  EXPECT_TRUE(errors.empty()) << errors.front();
  ASSERT_EQ(j["variants"].size(), 4u);
  EXPECT_EQ(j["quality_metric"], "accuracy");
  int selected = 0;
  for (const auto& v : j["variants"]) {
    ASSERT_TRUE(v["error"].is_null()) << v.dump();
    EXPECT_GT(v["after"]["file_bytes"].get<int64_t>(), 0);
    EXPECT_FALSE(v["measured"]["latency_after"].is_null());
    selected += v["selected"].get<bool>();
    if (v["selected"]) {
      EXPECT_GE(v["quality"].get<double>(), 0.9972 - 0.01 - 1e-9) << "within max-drop";
    }
  }
  EXPECT_EQ(selected, 1);
  // Frontier check against the reported numbers: no frontier point is dominated.
  for (const auto& a : j["variants"])
    for (const auto& b : j["variants"]) {
      bool dominates = b["after"]["file_bytes"] <= a["after"]["file_bytes"] && b["quality"] >= a["quality"] &&
                       (b["after"]["file_bytes"] < a["after"]["file_bytes"] || b["quality"] > a["quality"]);
      if (dominates) {
        EXPECT_FALSE(a["size_frontier"].get<bool>()) << a["name"] << " is dominated by " << b["name"];
      }
    }
  ASSERT_TRUE(fs::exists(out));
  EXPECT_NE(readFile(out).find("effdl.variant"), std::string::npos) << "the choice is recorded in the model's metadata";
  // An impossible rule: exit code 5, no model written.
  auto none = runEffdl("optimize " + model() + " -o '" + (dir / "n.onnx").string() + "'" + evalFlags() +
                       " --variants 'prune=0.95;prune=0.99' --select 'max-drop=0%'");
  EXPECT_EQ(none.exitCode, 5) << none.err;
  EXPECT_NE(none.err.find("no variant meets it"), std::string::npos) << none.err;
  EXPECT_FALSE(fs::exists(dir / "n.onnx"));
}

// The example list over the bundled digits CNN: the printed table has a row per variant
// with size, ratio, latency and accuracy, and its frontier marks are the non-dominated points of
// the same run's numbers (--report JSON), for size and for latency.
TEST_F(CliReport, VariantsTablePrintsEveryVariantAndTheFrontier) {
  auto json = dir / "v.json";
  auto r = runEffdl("optimize " + model() + " -o '" + (dir / "unused.onnx").string() + "'" + evalFlags() +
                    " --calib random:16 --report '" + json.string() +
                    "' --variants 'baseline;int8;prune=0.5;prune=0.5+int8;hash=0.25+int8'");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.out.find("variant              size  ratio  latency p50  accuracy  Pareto (size / latency)"),
            std::string::npos)
      << r.out;
  auto j = nlohmann::json::parse(readFile(json));
  ASSERT_EQ(j["variants"].size(), 5u);
  auto dominated = [&](const nlohmann::json& a, const std::function<double(const nlohmann::json&)>& cost) {
    for (const auto& b : j["variants"])
      if (cost(b) <= cost(a) && b["quality"] >= a["quality"] && (cost(b) < cost(a) || b["quality"] > a["quality"]))
        return true;
    return false;
  };
  auto size = [](const nlohmann::json& v) { return v["after"]["file_bytes"].get<double>(); };
  auto latency = [](const nlohmann::json& v) { return v["measured"]["latency_after"]["p50_ms"].get<double>(); };
  int onSize = 0;
  for (const auto& v : j["variants"]) {
    const std::string name = v["name"];
    ASSERT_TRUE(v["error"].is_null()) << v.dump();
    EXPECT_EQ(v["size_frontier"].get<bool>(), !dominated(v, size)) << name;
    EXPECT_EQ(v["latency_frontier"].get<bool>(), !dominated(v, latency)) << name;
    onSize += v["size_frontier"].get<bool>();
    // The table row: name, size, ratio, latency, accuracy, then the marks as in the JSON.
    size_t at = r.out.find("\n" + name + " ");
    ASSERT_NE(at, std::string::npos) << name << " has no row:\n" << r.out;
    const std::string row = r.out.substr(at + 1, r.out.find('\n', at + 1) - at - 1);
    EXPECT_TRUE(std::regex_search(row, std::regex(" KiB +[0-9.]+x +[0-9.]+ [um]s +0\\.9[0-9]* +"))) << row;
    const std::string marks = std::string(v["size_frontier"].get<bool>() ? "*" : "-") + " / " +
                              (v["latency_frontier"].get<bool>() ? "*" : "-");
    EXPECT_EQ(row.substr(row.size() - marks.size()), marks) << row;
  }
  EXPECT_GE(onSize, 2) << "int8 and prune=0.5+int8 trade size for accuracy";
  EXPECT_TRUE(j["variants"][1]["size_frontier"].get<bool>()) << "int8 keeps the accuracy at 0.28x the size";
}

}  // namespace
}  // namespace effdl::test
