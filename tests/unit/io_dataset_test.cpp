// Dataset folders: each layout (npz files, .npy folders, ONNX test-data folders, a folder that is
// itself one sample), the natural name order, streaming (a sample is read only when asked), and
// the layouts that are refused.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/error.h"
#include "io/dataset.h"
#include "io/npy.h"
#include "io/npz.h"
#include "io/tensor_proto_file.h"
#include "test_util.h"

namespace fs = std::filesystem;

namespace effdl::test {
namespace {

using ir::DataType;

constexpr uint64_t kNoLimit = uint64_t{1} << 40;

ir::Tensor vec(std::vector<float> v) {
  const int64_t n = static_cast<int64_t>(v.size());
  return ir::Tensor::fromVector(DataType::kFloat, {n}, v);
}

float first(const io::NamedTensor& t) { return t.tensor.values<float>()[0]; }

TEST(IoDataset, ReadsNpzSamplesInNaturalOrder) {
  TempDir dir;
  for (int i : {10, 2, 1, 0})
    io::writeNpz(dir / ("sample_" + std::to_string(i) + ".npz"), {{"x", vec({float(i)})}, {"mask", vec({1, 1})}});
  writeFile(dir / "README.md", "ignored");
  writeFile(dir / ".DS_Store", "ignored");
  auto ds = io::DatasetReader::open(dir.path(), kNoLimit);
  ASSERT_EQ(ds.size(), 4u);
  const int expected[] = {0, 1, 2, 10};
  for (size_t i = 0; i < ds.size(); ++i) {
    EXPECT_EQ(ds.sampleName(i), "sample_" + std::to_string(expected[i]) + ".npz");
    auto s = ds.sample(i);
    ASSERT_EQ(s.size(), 2u);
    EXPECT_EQ(s[0].name, "x");
    EXPECT_EQ(first(s[0]), float(expected[i]));
    EXPECT_EQ(s[1].name, "mask");
  }
}

TEST(IoDataset, ReadsNpyFoldersAndTestDataFoldersTogether) {
  TempDir dir;
  fs::create_directories(dir / "b");
  io::writeNpy(dir / "b/input_ids.npy", vec({1}));
  io::writeNpy(dir / "b/attention_mask.npy", vec({2}));
  fs::create_directories(dir / "test_data_set_0");
  io::writeTensorProto(dir / "test_data_set_0/input_0.pb", {"x", vec({3})});
  io::writeTensorProto(dir / "test_data_set_0/input_1.pb", {"y", vec({4})});
  io::writeTensorProto(dir / "test_data_set_0/output_0.pb", {"z", vec({5})});  // expected output: not an input
  io::writeNpz(dir / "a.npz", {{"x", vec({6})}});

  auto ds = io::DatasetReader::open(dir.path(), kNoLimit);
  ASSERT_EQ(ds.size(), 3u);
  EXPECT_EQ(ds.sampleName(0), "a.npz");
  EXPECT_EQ(ds.sampleName(1), "b");
  EXPECT_EQ(ds.sampleName(2), "test_data_set_0");
  auto b = ds.sample(1);
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[0].name, "attention_mask");  // files by name
  EXPECT_EQ(first(b[0]), 2);
  EXPECT_EQ(b[1].name, "input_ids");
  auto t = ds.sample(2);
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].name, "x");
  EXPECT_EQ(t[1].name, "y");
  EXPECT_EQ(first(t[1]), 4);
}

TEST(IoDataset, ReadsOneSampleAtATime) {
  // Samples are read when asked: a corrupt later sample does not stop the earlier ones.
  TempDir dir;
  io::writeNpz(dir / "s1.npz", {{"x", vec({1})}});
  writeFile(dir / "s2.npz", "corrupt");
  auto ds = io::DatasetReader::open(dir.path(), kNoLimit);
  ASSERT_EQ(ds.size(), 2u);
  EXPECT_EQ(first(ds.sample(0)[0]), 1);
  expectError([&] { ds.sample(1); }, ErrorKind::kInvalidModel, (dir / "s2.npz").string() + ": not a valid zip archive");
  expectError([&] { ds.sample(2); }, ErrorKind::kInternal, "dataset sample 2 out of range");
}

TEST(IoDataset, AFolderCanBeOneSample) {
  TempDir dir;
  io::writeNpy(dir / "x.npy", vec({1}));
  io::writeNpy(dir / "y.npy", vec({2}));
  writeFile(dir / "labels.txt", "ignored");
  auto ds = io::DatasetReader::open(dir.path(), kNoLimit);
  ASSERT_EQ(ds.size(), 1u);
  auto s = ds.sample(0);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[1].name, "y");

  // ONNX's layout: a test case folder (model.onnx beside test_data_set_N), or one of its sets.
  const fs::path testAdd = "/usr/share/libonnx-testdata/data/node/test_add";
  if (!fs::exists(testAdd)) GTEST_SKIP() << "libonnx-testdata is not installed (" << testAdd.string() << " missing)";
  auto tc = io::DatasetReader::open(testAdd, kNoLimit);
  ASSERT_EQ(tc.size(), 1u);
  EXPECT_EQ(tc.sampleName(0), "test_data_set_0");
  EXPECT_EQ(tc.sample(0)[1].name, "y");
  auto set = io::DatasetReader::open(testAdd / "test_data_set_0/", kNoLimit);
  ASSERT_EQ(set.size(), 1u);
  EXPECT_EQ(set.sampleName(0), "test_data_set_0");
  EXPECT_EQ(set.sample(0).size(), 2u);
}

TEST(IoDataset, RefusesLayoutsItCannotRead) {
  TempDir dir;
  expectError([&] { io::DatasetReader::open(dir / "missing", kNoLimit); }, ErrorKind::kIo, "missing: no such dataset folder");
  writeFile(dir / "file.npz", "x");
  expectError([&] { io::DatasetReader::open(dir / "file.npz", kNoLimit); }, ErrorKind::kUsage,
              "file.npz: a dataset is a folder of samples");

  TempDir empty;
  writeFile(empty / "README", "no samples here");
  expectError([&] { io::DatasetReader::open(empty.path(), kNoLimit); }, ErrorKind::kUsage, "no samples (expected .npz files");

  TempDir neither;
  fs::create_directories(neither / "s0");
  writeFile(neither / "s0/notes.txt", "x");
  expectError([&] { io::DatasetReader::open(neither.path(), kNoLimit); }, ErrorKind::kInvalidModel,
              "s0: a sample folder must hold .npy files or input_N.pb files, and this one has neither");

  TempDir both;
  fs::create_directories(both / "s0");
  io::writeNpy(both / "s0/x.npy", vec({1}));
  io::writeTensorProto(both / "s0/input_0.pb", {"x", vec({1})});
  expectError([&] { io::DatasetReader::open(both.path(), kNoLimit); }, ErrorKind::kInvalidModel,
              "s0: holds both input_N.pb and .npy files");

  TempDir mixed;
  io::writeNpy(mixed / "x.npy", vec({1}));
  io::writeNpz(mixed / "s1.npz", {{"x", vec({1})}});
  expectError([&] { io::DatasetReader::open(mixed.path(), kNoLimit); }, ErrorKind::kInvalidModel,
              "mixes loose .npy files with sample files or folders");

  TempDir gap;
  fs::create_directories(gap / "test_data_set_0");
  io::writeTensorProto(gap / "test_data_set_0/input_1.pb", {"x", vec({1})});
  expectError([&] { io::DatasetReader::open(gap.path(), kNoLimit); }, ErrorKind::kInvalidModel, "input_0.pb is missing");
}

TEST(IoDataset, LimitsEachSampleAndRefusesDuplicateNames) {
  TempDir dir;
  fs::create_directories(dir / "s0");
  io::writeNpy(dir / "s0/a.npy", vec({1, 2, 3, 4}));  // 16 bytes
  io::writeNpy(dir / "s0/b.npy", vec({1, 2, 3, 4}));
  auto ds = io::DatasetReader::open(dir.path(), 24);
  expectError([&] { ds.sample(0); }, ErrorKind::kUnsupported, "b.npy: needs 16 bytes, more than the 8 bytes left");
  EXPECT_EQ(io::DatasetReader::open(dir.path(), 32).sample(0).size(), 2u);

  TempDir dup;
  fs::create_directories(dup / "test_data_set_0");
  io::writeTensorProto(dup / "test_data_set_0/input_0.pb", {"x", vec({1})});
  io::writeTensorProto(dup / "test_data_set_0/input_1.pb", {"x", vec({2})});
  auto dd = io::DatasetReader::open(dup.path(), kNoLimit);
  expectError([&] { dd.sample(0); }, ErrorKind::kInvalidModel, "input_1.pb: a second input named 'x' in sample test_data_set_0");
}

}  // namespace
}  // namespace effdl::test
