// `effdl passes` lists the registry, as a table and as JSON.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "test_util.h"

namespace effdl::test {
namespace {

TEST(CliPasses, ListsEveryPassWithOptions) {
  auto r = runEffdl("passes");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  for (const char* p : {"cleanup", "eliminate-dead", "eliminate-noop", "fold-batchnorm", "dedup-initializers",
                        "constants-to-initializers", "fold-shapes"})
    EXPECT_NE(r.out.find(p), std::string::npos) << p;
  EXPECT_NE(r.out.find("inputs=bool (default false)"), std::string::npos) << r.out;
}

TEST(CliPasses, Json) {
  auto r = runEffdl("passes --json");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["schema_version"], 1);
  bool found = false;
  for (const auto& p : j["passes"])
    if (p["name"] == "eliminate-dead") {
      found = true;
      EXPECT_EQ(p["options"][0]["name"], "inputs");
      EXPECT_EQ(p["options"][0]["type"], "bool");
    }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace effdl::test
