// `effdl optimize --hash-embeddings` end to end on the bundled text classifier: the report's
// per-table row, the byte budget, byte-identical output for the same flags, and every mode loading
// and agreeing in ONNX Runtime (skipped, with ORT's message, when the harness is unavailable).
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "io/npy.h"
#include "json_schema.h"
#include "test_util.h"

namespace fs = std::filesystem;

namespace effdl::test {
namespace {

class CliHashEmbeddings : public ::testing::Test {
 protected:
  TempDir dir;
  fs::path model = sourceDir() / "models" / "text_classifier.onnx";

  nlohmann::json optimize(const std::string& out, const std::string& flags) {
    auto r = runEffdl("optimize '" + model.string() + "' -o '" + (dir / out).string() + "' --json --no-measure " + flags);
    EXPECT_EQ(r.exitCode, 0) << r.err;
    return r.exitCode == 0 ? nlohmann::json::parse(r.out) : nlohmann::json{};
  }
};

const nlohmann::json* hashPass(const nlohmann::json& report) {
  for (const auto& p : report["passes"])
    if (p["name"] == "hash-embeddings") return &p;
  return nullptr;
}

TEST_F(CliHashEmbeddings, ReportsTheTableAndStaysWithinTheBudget) {
  auto j = optimize("plain.onnx", "--hash-embeddings 0.25 --hash-keep-ids 0,1");
  auto errors = validateJson(j, loadSchema("report.schema.json"));
  EXPECT_TRUE(errors.empty()) << (errors.empty() ? std::string() : errors.front());
  const nlohmann::json* p = hashPass(j);
  ASSERT_NE(p, nullptr) << j.dump();
  EXPECT_EQ((*p)["counters"]["tables hashed"], 1);
  const auto& cols = (*p)["layers"]["columns"];
  const auto& row = (*p)["layers"]["rows"][0];
  EXPECT_EQ(row["name"], "embedding.weight");
  auto col = [&](const std::string& c) {
    for (size_t i = 0; i < cols.size(); ++i)
      if (cols[i] == c) return row["values"][i].get<double>();
    ADD_FAILURE() << "no column " << c;
    return 0.0;
  };
  EXPECT_EQ(col("rows"), 20002);
  EXPECT_EQ(col("bytes_before"), 20002.0 * 16 * 4);
  EXPECT_LE(col("bytes_after"), 0.25 * col("bytes_before"));
  EXPECT_GT(col("rel_frobenius_error"), 0);
  EXPECT_LT(fs::file_size(dir / "plain.onnx"), 0.3 * fs::file_size(model));
}

TEST_F(CliHashEmbeddings, SameFlagsGiveByteIdenticalFiles) {
  for (const char* flags : {"--hash-embeddings 0.25 --hash-keep-ids 0,1 --seed 3",
                            "--hash-embeddings 0.05 --hash-mode cluster --hash-iters 2"}) {
    optimize("a.onnx", flags);
    optimize("b.onnx", flags);
    EXPECT_EQ(readFile(dir / "a.onnx"), readFile(dir / "b.onnx")) << flags;
    fs::remove(dir / "a.onnx");
    fs::remove(dir / "b.onnx");
  }
}

TEST_F(CliHashEmbeddings, EveryModeRunsTheSameInOnnxRuntime) {
  auto check = runCommand("node '" + (sourceDir() / "scripts/ort/ort_run.js").string() + "' check 2>&1");
  if (check.exitCode != 0) GTEST_SKIP() << "ONNX Runtime unavailable: " << check.out;
  fs::create_directories(dir / "in");
  {  // the first 200 test sentences
    auto ids = io::readNpy(sourceDir() / "models" / "text_test_ids.npy", 1 << 26);
    io::writeNpy(dir / "in" / "ids.npy", ir::Tensor::fromBytes(ir::DataType::kInt64, {200, ids.dims()[1]}, ids.data(),
                                                               static_cast<size_t>(200 * ids.dims()[1]) * 8));
  }
  for (const char* flags : {"--hash-embeddings 0.25 --hash-keep-ids 0,1,5,77,20001",
                            "--hash-embeddings 0.25 --hash-mode qr --hash-iters 3",
                            "--hash-embeddings 0.05 --hash-mode cluster --hash-iters 2"}) {
    SCOPED_TRACE(flags);
    optimize("m.onnx", flags);
    fs::create_directories(dir / "ort");
    fs::create_directories(dir / "eff");
    auto ort = runCommand("node '" + (sourceDir() / "scripts/ort/ort_run.js").string() + "' run '" +
                          (dir / "m.onnx").string() + "' --input-dir '" + (dir / "in").string() + "' --output-dir '" +
                          (dir / "ort").string() + "'");
    ASSERT_EQ(ort.exitCode, 0) << ort.out << ort.err;
    auto eff = runEffdl("run '" + (dir / "m.onnx").string() + "' -i ids='" + (dir / "in" / "ids.npy").string() +
                        "' --output-dir '" + (dir / "eff").string() + "' --force");
    ASSERT_EQ(eff.exitCode, 0) << eff.err;
    auto a = io::readNpy(dir / "ort" / "logits.npy", 1 << 26), b = io::readNpy(dir / "eff" / "logits.npy", 1 << 26);
    ASSERT_EQ(a.dims(), b.dims());
    auto av = a.values<float>(), bv = b.values<float>();
    double maxDiff = 0;
    for (size_t i = 0; i < av.size(); ++i) maxDiff = std::max(maxDiff, static_cast<double>(std::abs(av[i] - bv[i])));
    EXPECT_LT(maxDiff, 1e-4);
    fs::remove_all(dir / "ort");
    fs::remove_all(dir / "eff");
    fs::remove(dir / "m.onnx");
  }
}

}  // namespace
}  // namespace effdl::test
