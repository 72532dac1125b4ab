// readTensorFile / writeTensorFile dispatch by extension, and ONNX test-data folders
// (input_N.pb in numeric order, gaps refused, one byte limit for the whole folder).
#include <gtest/gtest.h>

#include <filesystem>

#include "core/error.h"
#include "io/tensor_file.h"
#include "io/tensor_proto_file.h"
#include "test_util.h"

namespace fs = std::filesystem;

namespace effdl::test {
namespace {

using ir::DataType;

constexpr uint64_t kNoLimit = uint64_t{1} << 40;

ir::Tensor scalar(float v) { return ir::Tensor::fromVector(DataType::kFloat, {}, std::vector<float>{v}); }

TEST(IoTensorFile, DispatchesOnExtension) {
  TempDir dir;
  const ir::Tensor t = ir::Tensor::fromVector(DataType::kInt32, {2}, std::vector<int32_t>{4, 5});
  io::writeTensorFile(dir / "ids.npy", {{"ignored", t}});
  io::writeTensorFile(dir / "pair.npz", {{"a", t}, {"b", scalar(1)}});
  io::writeTensorFile(dir / "one.pb", {{"input", t}});

  auto npy = io::readTensorFile(dir / "ids.npy", kNoLimit);
  ASSERT_EQ(npy.size(), 1u);
  EXPECT_EQ(npy[0].name, "ids");  // the file stem
  EXPECT_TRUE(npy[0].tensor.sameContent(t));
  auto npz = io::readTensorFile(dir / "pair.npz", kNoLimit);
  ASSERT_EQ(npz.size(), 2u);
  EXPECT_EQ(npz[1].name, "b");
  auto pb = io::readTensorFile(dir / "one.pb", kNoLimit);
  ASSERT_EQ(pb.size(), 1u);
  EXPECT_EQ(pb[0].name, "input");
  EXPECT_TRUE(pb[0].tensor.sameContent(t));

  fs::copy_file(dir / "ids.npy", dir / "UPPER.NPY");
  EXPECT_EQ(io::readTensorFile(dir / "UPPER.NPY", kNoLimit)[0].name, "UPPER");
  EXPECT_EQ(io::tensorFileFormat("a/b.Npz"), io::TensorFileFormat::kNpz);
  EXPECT_FALSE(io::tensorFileFormat("model.onnx").has_value());
}

TEST(IoTensorFile, RefusesUnknownExtensionsAndWrongCounts) {
  TempDir dir;
  writeFile(dir / "x.txt", "1 2 3");
  expectError([&] { io::readTensorFile(dir / "x.txt", kNoLimit); }, ErrorKind::kUsage,
              "x.txt: unknown tensor file type '.txt' (effdl reads .npy, .npz and .pb)");
  expectError([&] { io::writeTensorFile(dir / "two.npy", {{"a", scalar(1)}, {"b", scalar(2)}}); }, ErrorKind::kUsage,
              "a .npy file holds exactly one tensor, not 2 (use .npz for several)");
  expectError([&] { io::writeTensorFile(dir / "none.pb", {}); }, ErrorKind::kUsage, "holds exactly one tensor, not 0");
  expectError([&] { io::readTensorFile(dir / "missing.npz", kNoLimit); }, ErrorKind::kIo, "missing.npz: cannot open");
}

TEST(IoTensorFile, ReadsOnnxTestDataSet) {
  const fs::path set = "/usr/share/libonnx-testdata/data/node/test_add/test_data_set_0";
  if (!fs::exists(set)) GTEST_SKIP() << "libonnx-testdata is not installed (" << set.string() << " missing)";
  auto data = io::readOnnxTestDataSet(set, kNoLimit);
  ASSERT_EQ(data.inputs.size(), 2u);
  ASSERT_EQ(data.outputs.size(), 1u);
  EXPECT_EQ(data.inputs[0].name, "x");
  EXPECT_EQ(data.inputs[1].name, "y");
  EXPECT_EQ(data.outputs[0].name, "sum");
  // One limit for the folder: x and y (240 bytes each) fit in 480, the output does not.
  expectError([&] { io::readOnnxTestDataSet(set, 480); }, ErrorKind::kUnsupported,
              "output_0.pb: needs 240 bytes, more than the 0 bytes left");
}

TEST(IoTensorFile, OrdersTestDataNumerically) {
  TempDir dir;
  for (int i = 0; i < 12; ++i)
    io::writeTensorProto(dir / ("input_" + std::to_string(i) + ".pb"), {"in" + std::to_string(i), scalar(float(i))});
  io::writeTensorProto(dir / "output_0.pb", {"out", scalar(-1)});
  writeFile(dir / "input_x.pb", "not test data, ignored");
  writeFile(dir / "notes.txt", "ignored");
  auto data = io::readOnnxTestDataSet(dir.path(), kNoLimit);
  ASSERT_EQ(data.inputs.size(), 12u);
  for (int i = 0; i < 12; ++i) {
    EXPECT_EQ(data.inputs[static_cast<size_t>(i)].name, "in" + std::to_string(i));
    EXPECT_EQ(data.inputs[static_cast<size_t>(i)].tensor.values<float>()[0], float(i));
  }
  ASSERT_EQ(data.outputs.size(), 1u);

  fs::remove(dir / "input_3.pb");
  expectError([&] { io::readOnnxTestDataSet(dir.path(), kNoLimit); }, ErrorKind::kInvalidModel,
              "input_3.pb is missing (the folder has input_4.pb)");
  io::writeTensorProto(dir / "input_03.pb", {"in3", scalar(3)});
  expectError([&] { io::readOnnxTestDataSet(dir.path(), kNoLimit); }, ErrorKind::kInvalidModel,
              "input_03.pb: test-data files are numbered input_0.pb, input_1.pb, … (no leading zeros");

  TempDir empty;
  expectError([&] { io::readOnnxTestDataSet(empty.path(), kNoLimit); }, ErrorKind::kUsage,
              "not an ONNX test-data folder (no input_N.pb or output_N.pb files)");
  expectError([&] { io::readOnnxTestDataSet(empty / "nope", kNoLimit); }, ErrorKind::kIo, "nope: cannot list the folder");
}

}  // namespace
}  // namespace effdl::test
