// `effdl inspect` end to end: the table, --json against docs/inspect.schema.json, --dim, errors.
#include <gtest/gtest.h>

#include "ir/onnx_export.h"
#include "json_schema.h"
#include "test_util.h"

namespace effdl::test {
namespace {

std::string model(const std::string& name) { return "'" + (sourceDir() / "models" / name).string() + "'"; }

TEST(CliInspect, TableShowsInterfaceParametersAndCost) {
  auto r = runEffdl("inspect " + model("digits_cnn.onnx"));
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.out.find("float[batch,1,8,8]"), std::string::npos) << r.out;  // symbolic dim kept
  EXPECT_NE(r.out.find("counted with    batch=1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("BatchNormalization"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(337536 MACs)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("largest initializers"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("peak activation memory"), std::string::npos) << r.out;
}

TEST(CliInspect, JsonMatchesSchemaAndBindsDims) {
  auto r = runEffdl("inspect " + model("digits_cnn.onnx") + " --json --dim batch=4");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  auto errors = validateJson(j, loadSchema("inspect.schema.json"));
  EXPECT_TRUE(errors.empty()) << errors.front();
  EXPECT_EQ(j["bound_dims"]["batch"], 4);
  EXPECT_EQ(j["compute"]["macs"], 4 * 337536);
  EXPECT_EQ(j["inputs"][0]["shape"][0], "batch");
  EXPECT_EQ(j["parameters"]["total"], 38426);
  EXPECT_EQ(j["parameters"]["batchnorm_statistics"], 96);
  EXPECT_EQ(j["nodes"]["main_graph"], 11);
}

TEST(CliInspect, UnknownDimNameIsUsageError) {
  auto r = runEffdl("inspect " + model("mlp.onnx") + " --dim nope=3");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("no input has a dim named 'nope'"), std::string::npos) << r.err;
}

TEST(CliInspect, BadDimValueIsUsageError) {
  auto r = runEffdl("inspect " + model("mlp.onnx") + " --dim batch=-2");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("VALUE must be a non-negative integer"), std::string::npos) << r.err;
}

TEST(CliInspect, ErrorsAlsoGoToJson) {
  auto r = runEffdl("inspect /nonexistent/model.onnx --json");
  EXPECT_EQ(r.exitCode, 4);
  auto j = nlohmann::json::parse(r.out);
  auto errors = validateJson(j, loadSchema("error.schema.json"));
  EXPECT_TRUE(errors.empty()) << errors.front();
  EXPECT_EQ(j["error"]["kind"], "io");
  EXPECT_EQ(j["error"]["exit_code"], 4);
  EXPECT_EQ(j["command"], "inspect");
}

TEST(CliInspect, ListsOpsTheRuntimeLacks) {
  TempDir dir;
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17, "com.example" : 2]>
    g (float[2] x) => (float[2] y) { a = com.example.Mystery(x)  b = Relu(a)  y = com.example.Mystery(b) })");
  ir::saveModel(*m, dir / "m.onnx");
  const std::string path = "'" + (dir / "m.onnx").string() + "'";
  auto r = runEffdl("inspect " + path);
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.out.find("runtime: no kernel in effdl's runtime for com.example.Mystery (opset 2, 2 nodes)"),
            std::string::npos)
      << r.out;
  r = runEffdl("inspect " + path + " --json");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  auto errors = validateJson(j, loadSchema("inspect.schema.json"));
  EXPECT_TRUE(errors.empty()) << errors.front();
  ASSERT_EQ(j["runtime"]["missing_ops"].size(), 1u);
  EXPECT_EQ(j["runtime"]["missing_ops"][0]["op_type"], "Mystery");
  EXPECT_EQ(j["runtime"]["missing_ops"][0]["domain"], "com.example");
  EXPECT_EQ(j["runtime"]["missing_ops"][0]["nodes"], 2);

  r = runEffdl("inspect " + model("digits_cnn.onnx") + " --json");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_TRUE(nlohmann::json::parse(r.out)["runtime"]["missing_ops"].empty());
  r = runEffdl("inspect " + model("digits_cnn.onnx"));
  EXPECT_NE(r.out.find("effdl's runtime has a kernel for every op"), std::string::npos) << r.out;
}

TEST(CliInspect, HelpHasExamples) {
  auto r = runEffdl("inspect --help");
  EXPECT_EQ(r.exitCode, 0);
  EXPECT_NE(r.out.find("Examples:"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace effdl::test
