// scripts/batch_optimize.sh, the shell pattern the README documents: one call for a tree, one call
// per model with relative paths kept, and SHARD=I/N splitting the list as a CI matrix or a
// Kubernetes Indexed Job would; any split gives the same files.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "test_util.h"

namespace fs = std::filesystem;

namespace effdl::test {
namespace {

class BatchScript : public ::testing::Test {
 protected:
  TempDir dir;
  void SetUp() override {
    fs::create_directories(dir / "src" / "vision" / "small");
    fs::copy_file(sourceDir() / "models" / "digits_cnn.onnx", dir / "src" / "vision" / "digits_cnn.onnx");
    fs::copy_file(sourceDir() / "models" / "mlp.onnx", dir / "src" / "vision" / "small" / "mlp.onnx");
    fs::copy_file(sourceDir() / "models" / "text_classifier.onnx", dir / "src" / "text_classifier.onnx");
  }
  // Runs the script with `env` on SRC/ (trailing slash, as users type it) into `out`.
  CommandResult script(const std::string& env, const std::string& out) {
    return runCommand("cd '" + dir.path().string() + "' && env EFFDL='" + EFFDL_BINARY + "' " + env + " bash '" +
                      (sourceDir() / "scripts" / "batch_optimize.sh").string() + "' src/ '" + out +
                      "' --no-measure -q >/dev/null");
  }
  // Relative path -> bytes of every file under `root`.
  std::map<std::string, std::string> files(const fs::path& root) {
    std::map<std::string, std::string> m;
    if (!fs::exists(root)) return m;
    for (const auto& e : fs::recursive_directory_iterator(root))
      if (e.is_regular_file()) m[fs::relative(e.path(), root).string()] = readFile(e.path());
    return m;
  }
};

TEST_F(BatchScript, EachModelKeepsItsRelativePathAndShardsGiveTheSameFiles) {
  auto each = script("BATCH_MODE=each", "each");
  ASSERT_EQ(each.exitCode, 0) << each.err;
  auto all = files(dir / "each");
  ASSERT_EQ(all.size(), 3u);
  EXPECT_TRUE(all.count("vision/small/mlp.onnx"));
  EXPECT_TRUE(all.count("text_classifier.onnx"));
  // Two shards into one folder, as two machines writing to shared storage.
  auto s0 = script("SHARD=0/2", "sharded"), s1 = script("SHARD=1/2", "sharded");
  ASSERT_EQ(s0.exitCode, 0) << s0.err;
  ASSERT_EQ(s1.exitCode, 0) << s1.err;
  EXPECT_NE(s0.err.find("shard 0/2: 2 models"), std::string::npos) << s0.err;
  EXPECT_NE(s1.err.find("shard 1/2: 1 models"), std::string::npos) << s1.err;
  EXPECT_EQ(files(dir / "sharded"), all) << "the shards together differ from one run";
  // One effdl call for the tree writes the same files.
  auto tree = script("", "tree");
  ASSERT_EQ(tree.exitCode, 0) << tree.err;
  EXPECT_EQ(files(dir / "tree"), all);
}

TEST_F(BatchScript, FailedModelGivesExitCodeSixAndBadShardIsRefused) {
  writeFile(dir / "src" / "broken.onnx", "not a model");
  auto r = script("BATCH_MODE=each", "out");
  EXPECT_EQ(r.exitCode, 6) << r.err;
  EXPECT_NE(r.err.find("failed: src/broken.onnx"), std::string::npos) << r.err;
  EXPECT_EQ(files(dir / "out").size(), 3u) << "the good models are still written";
  EXPECT_EQ(script("", "tree").exitCode, 6);
  for (const char* bad : {"SHARD=2/2", "SHARD=1", "SHARD=a/b", "BATCH_MODE=xargs"}) {
    auto b = script(bad, "x");
    EXPECT_EQ(b.exitCode, 1) << bad;
    EXPECT_NE(b.err.find("batch_optimize.sh: "), std::string::npos) << bad << ": " << b.err;
  }
}

}  // namespace
}  // namespace effdl::test
