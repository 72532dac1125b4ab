// `effdl --version` names the version and the supported ONNX range; `effdl --help` lists commands.
#include <gtest/gtest.h>

#include "test_util.h"

namespace effdl::test {
namespace {

TEST(CliVersion, PrintsVersionAndSupportedRange) {
  auto r = runEffdl("--version");
  EXPECT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.out.find("effdl " EFFDL_VERSION), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("IR <= 8"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("opset 1..17"), std::string::npos) << r.out;
}

TEST(CliVersion, HelpListsSubcommands) {
  auto r = runEffdl("--help");
  EXPECT_EQ(r.exitCode, 0) << r.err;
  for (const char* cmd : {"inspect", "optimize", "convert", "passes"})
    EXPECT_NE(r.out.find(cmd), std::string::npos) << cmd << "\n" << r.out;
}

TEST(CliVersion, UnknownOptionIsUsageError) {
  auto r = runEffdl("--no-such-flag");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("effdl: "), std::string::npos) << r.err;
}

}  // namespace
}  // namespace effdl::test
