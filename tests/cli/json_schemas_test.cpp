// Every command's --json output validates against its schema in docs/: success documents
// (convert, passes, run, bench; inspect, optimize and batches have their own tests) and the error
// document of every command, usage errors from the command-line parser included. Recipes have a
// schema too; the README's example recipe follows it.
#include <gtest/gtest.h>

#include <filesystem>

#include "json_schema.h"
#include "test_util.h"

namespace fs = std::filesystem;

namespace effdl::test {
namespace {

class CliJsonSchemas : public ::testing::Test {
 protected:
  TempDir dir;
  std::string mlp() const { return "'" + (sourceDir() / "models" / "mlp.onnx").string() + "'"; }
  // Runs effdl, parses stdout as one JSON document and validates it against docs/<schema>.
  nlohmann::json validated(const std::string& args, const std::string& schema, int exitCode = 0) {
    auto r = runEffdl(args);
    EXPECT_EQ(r.exitCode, exitCode) << args << "\n" << r.err;
    nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << args << ": stdout is not one JSON document:\n" << r.out;
    if (j.is_discarded()) return j;
    for (const auto& e : validateJson(j, loadSchema(schema))) ADD_FAILURE() << args << ": " << schema << e;
    return j;
  }
};

TEST_F(CliJsonSchemas, Convert) {
  auto j = validated("convert " + mlp() + " -o '" + (dir / "a.onnx").string() + "' --json", "convert.schema.json");
  EXPECT_EQ(j["file_bytes"].get<uint64_t>(), fs::file_size(dir / "a.onnx"));
  EXPECT_EQ(j["external_data_bytes"], 0);
  EXPECT_EQ(j["parameters"], 85002);
  auto e = validated("convert " + mlp() + " -o '" + (dir / "b.onnx").string() + "' --external-data always --json",
                     "convert.schema.json");
  EXPECT_EQ(e["file_bytes"].get<uint64_t>(), fs::file_size(dir / "b.onnx") + fs::file_size(dir / "b.onnx.data"));
  EXPECT_GT(e["external_data_bytes"].get<int64_t>(), 300000);
}

TEST_F(CliJsonSchemas, Passes) {
  auto j = validated("passes --json", "passes.schema.json");
  EXPECT_EQ(j["command"], "passes");
  EXPECT_GE(j["passes"].size(), 10u);
}

TEST_F(CliJsonSchemas, RunAndBench) {
  auto r = validated("run " + mlp() + " --random 0 --json", "run.schema.json");
  EXPECT_EQ(r["outputs"][0]["shape"], nlohmann::json::array({1, 10}));
  EXPECT_FALSE(r["outputs"][0].contains("file"));
  auto w = validated("run " + mlp() + " --random 0 --json --output-dir '" + dir.path().string() + "'", "run.schema.json");
  EXPECT_TRUE(fs::exists(w["outputs"][0]["file"].get<std::string>()));
  auto b = validated("bench " + mlp() + " --iters 3 --warmup 1 --threads 1 --json", "bench.schema.json");
  EXPECT_EQ(b["iterations"], 3);
  EXPECT_EQ(b["threads"], 1);
  EXPECT_LE(b["latency_ms"]["min"].get<double>(), b["latency_ms"]["p50"].get<double>());
}

TEST_F(CliJsonSchemas, ErrorsOfEveryCommand) {
  const std::string missing = "'" + (dir / "missing.onnx").string() + "'";
  const std::string out = " -o '" + (dir / "o.onnx").string() + "'";
  struct Case {
    std::string args, command;
    int code;
  };
  for (const Case& c : std::vector<Case>{
           {"inspect " + missing + " --json", "inspect", 4},
           {"optimize " + missing + out + " --json", "optimize", 4},
           {"convert " + missing + out + " --json", "convert", 4},
           {"run " + missing + " --random 0 --json", "run", 4},
           {"bench " + missing + " --json", "bench", 4},
           {"run " + mlp() + " --json", "run", 1},                           // no inputs
           {"optimize " + mlp() + out + " --json --no-such-flag", "optimize", 1},  // the parser's own error
           {"passes --json --no-such-flag", "passes", 1},
           {"bench " + mlp() + " --json --iters 0", "bench", 1},
       }) {
    auto j = validated(c.args, "error.schema.json", c.code);
    EXPECT_EQ(j["command"], c.command) << c.args;
    EXPECT_EQ(j["error"]["exit_code"], c.code) << c.args;
  }
}

TEST_F(CliJsonSchemas, RecipeSchemaMatchesTheReadmeExampleAndTheReader) {
  auto schema = loadSchema("recipe.schema.json");
  // The README's recipe, as documented.
  const std::string readme = readFile(sourceDir() / "README.md");
  const std::string marker = "{\"schema_version\": 1, \"passes\": [";
  size_t at = readme.find(marker);
  ASSERT_NE(at, std::string::npos) << "the README shows a recipe";
  const std::string example = readme.substr(at, readme.find('\n', at) - at);
  EXPECT_TRUE(validateJson(nlohmann::json::parse(example), schema).empty()) << example;
  writeFile(dir / "recipe.json", example);
  auto r = runEffdl("optimize --recipe '" + (dir / "recipe.json").string() + "' " + mlp() + " -o '" +
                    (dir / "r.onnx").string() + "' --no-measure");
  EXPECT_EQ(r.exitCode, 0) << "the one-line CI step works as written: " << r.err;
  // What the schema refuses, the reader refuses too.
  for (const std::string bad : {R"({"passes": [], "fail_if": "size>0.5x"})", R"({"passes": [{"name": "cleanup", "option": {}}]})",
                                R"({"schema_version": 2, "passes": []})", R"({"passes": [42]})"}) {
    EXPECT_FALSE(validateJson(nlohmann::json::parse(bad), schema).empty()) << bad;
    writeFile(dir / "bad.json", bad);
    auto b = runEffdl("optimize " + mlp() + " -o '" + (dir / "b.onnx").string() + "' --recipe '" +
                      (dir / "bad.json").string() + "'");
    EXPECT_EQ(b.exitCode, 1) << bad << ": " << b.err;
  }
}

TEST_F(CliJsonSchemas, EverySchemaIsReadByTheValidator) {
  // The validator refuses keywords it does not enforce: a schema must not promise checks it lacks.
  size_t schemas = 0;
  for (const auto& e : fs::directory_iterator(sourceDir() / "docs")) {
    if (e.path().string().find(".schema.json") == std::string::npos) continue;
    ++schemas;
    auto schema = loadSchema(e.path().filename().string());
    EXPECT_EQ(schema["$schema"], "https://json-schema.org/draft/2020-12/schema") << e.path();
    for (const auto& k : unsupportedKeywords(schema)) ADD_FAILURE() << e.path() << ": keyword " << k;
  }
  EXPECT_GE(schemas, 9u);
}

}  // namespace
}  // namespace effdl::test
