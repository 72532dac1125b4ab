// `effdl inspect` end to end: the table, --json against docs/inspect.schema.json, --dim, errors.
#include <gtest/gtest.h>

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

TEST(CliInspect, HelpHasExamples) {
  auto r = runEffdl("inspect --help");
  EXPECT_EQ(r.exitCode, 0);
  EXPECT_NE(r.out.find("Examples:"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace effdl::test
