// TensorProto .pb files: ONNX's own test data, round trips, the sequence / optional / map files
// of onnx-data.proto (refused by name), and malformed or oversized protos.
#include <gtest/gtest.h>
#include <onnx/onnx-data_pb.h>
#include <onnx/onnx_pb.h>

#include <filesystem>
#include <random>

#include "core/error.h"
#include "io/tensor_proto_file.h"
#include "test_util.h"

namespace fs = std::filesystem;

namespace effdl::test {
namespace {

using ir::DataType;

constexpr uint64_t kNoLimit = uint64_t{1} << 40;
const fs::path kNodeData = "/usr/share/libonnx-testdata/data/node";

io::NamedTensor readBytes(const std::string& b, uint64_t maxBytes = kNoLimit) {
  return io::readTensorProtoBytes({reinterpret_cast<const uint8_t*>(b.data()), b.size()}, "input_0.pb", maxBytes);
}

void expectProtoError(const std::string& bytes, ErrorKind kind, const std::string& part, uint64_t maxBytes = kNoLimit) {
  expectError([&] { readBytes(bytes, maxBytes); }, kind, part);
}

onnx::TensorProto floatProto(const std::string& name, std::vector<int64_t> dims, std::vector<float> v) {
  onnx::TensorProto p;
  p.set_name(name);
  p.set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : dims) p.add_dims(d);
  p.set_raw_data(v.data(), v.size() * sizeof(float));
  return p;
}

#define SKIP_WITHOUT_TESTDATA()                                                              \
  if (!fs::exists(kNodeData / "test_add"))                                                   \
  GTEST_SKIP() << "libonnx-testdata is not installed (" << kNodeData.string() << " missing)"

TEST(IoTensorProto, ReadsOnnxTestData) {
  SKIP_WITHOUT_TESTDATA();
  const fs::path set = kNodeData / "test_add/test_data_set_0";
  auto x = io::readTensorProto(set / "input_0.pb", kNoLimit);
  auto y = io::readTensorProto(set / "input_1.pb", kNoLimit);
  auto sum = io::readTensorProto(set / "output_0.pb", kNoLimit);
  EXPECT_EQ(x.name, "x");
  EXPECT_EQ(y.name, "y");
  EXPECT_EQ(sum.name, "sum");
  EXPECT_EQ(x.tensor.dtype(), DataType::kFloat);
  EXPECT_EQ(x.tensor.dims(), (std::vector<int64_t>{3, 4, 5}));
  auto xs = x.tensor.values<float>(), ys = y.tensor.values<float>(), ss = sum.tensor.values<float>();
  ASSERT_EQ(ss.size(), 60u);
  for (size_t i = 0; i < ss.size(); ++i) EXPECT_FLOAT_EQ(ss[i], xs[i] + ys[i]);
}

TEST(IoTensorProto, RoundTripsTensorsAndStrings) {
  TempDir dir;
  io::NamedTensor f{"logits", ir::Tensor::fromVector(DataType::kFloat, {2, 2}, std::vector<float>{1, -2, 3.5f, 0})};
  io::writeTensorProto(dir / "f.pb", f);
  auto back = io::readTensorProto(dir / "f.pb", kNoLimit);
  EXPECT_EQ(back.name, "logits");
  EXPECT_TRUE(back.tensor.sameContent(f.tensor));

  io::NamedTensor s{"words", ir::Tensor::fromStrings({3}, {"a", "", "long string"})};
  io::writeTensorProto(dir / "s.pb", s);
  auto sb = io::readTensorProto(dir / "s.pb", kNoLimit);
  EXPECT_EQ(sb.tensor.dtype(), DataType::kString);
  EXPECT_EQ(sb.tensor.strings(), s.tensor.strings());

  io::NamedTensor e{"", ir::Tensor::fromVector(DataType::kInt64, {0, 3}, std::vector<int64_t>{})};
  io::writeTensorProto(dir / "e.pb", e);
  auto eb = io::readTensorProto(dir / "e.pb", kNoLimit);
  EXPECT_EQ(eb.name, "");
  EXPECT_EQ(eb.tensor.dims(), (std::vector<int64_t>{0, 3}));
}

TEST(IoTensorProto, ReadsTypedFields) {
  onnx::TensorProto p;
  p.set_name("ids");
  p.set_data_type(onnx::TensorProto::INT64);
  p.add_dims(3);
  for (int64_t v : {5, -1, 7}) p.add_int64_data(v);
  auto t = readBytes(p.SerializeAsString());
  EXPECT_EQ(t.tensor.dtype(), DataType::kInt64);
  EXPECT_EQ(t.tensor.values<int64_t>()[1], -1);
}

TEST(IoTensorProto, RefusesSequencesOptionalsAndMapsByName) {
  onnx::SequenceProto seq;
  seq.set_name("seq");
  seq.set_elem_type(onnx::SequenceProto::TENSOR);
  *seq.add_tensor_values() = floatProto("", {2}, {1, 2});
  *seq.add_tensor_values() = floatProto("", {1}, {3});
  expectProtoError(seq.SerializeAsString(), ErrorKind::kUnsupported,
                   "input_0.pb: holds a sequence (onnx-data.proto), not a tensor");

  onnx::OptionalProto opt;
  opt.set_name("opt");
  opt.set_elem_type(onnx::OptionalProto::TENSOR);
  *opt.mutable_tensor_value() = floatProto("", {2}, {1, 2});
  expectProtoError(opt.SerializeAsString(), ErrorKind::kUnsupported,
                   "input_0.pb: holds an optional or a one-element sequence (onnx-data.proto), not a tensor");

  onnx::MapProto map;
  map.set_name("m");
  map.set_key_type(onnx::TensorProto::INT64);
  map.add_keys(1);
  map.add_keys(2);
  map.mutable_values()->set_elem_type(onnx::SequenceProto::TENSOR);
  *map.mutable_values()->add_tensor_values() = floatProto("", {1}, {1});
  *map.mutable_values()->add_tensor_values() = floatProto("", {1}, {2});
  expectProtoError(map.SerializeAsString(), ErrorKind::kUnsupported, "input_0.pb: holds a map (onnx-data.proto)");

  onnx::OptionalProto none;
  none.set_name("optional_input");
  none.set_elem_type(onnx::OptionalProto::UNDEFINED);
  expectProtoError(none.SerializeAsString(), ErrorKind::kUnsupported, "holds an empty sequence or optional");
}

TEST(IoTensorProto, RefusesOnnxTestDataThatIsNotATensor) {
  SKIP_WITHOUT_TESTDATA();
  const fs::path seq = kNodeData / "test_identity_sequence/test_data_set_0/input_0.pb";
  expectError([&] { io::readTensorProto(seq, kNoLimit); }, ErrorKind::kUnsupported,
              seq.string() + ": holds a sequence (onnx-data.proto), not a tensor");
  const fs::path opt = kNodeData / "test_optional_get_element_sequence/test_data_set_0/input_0.pb";
  expectError([&] { io::readTensorProto(opt, kNoLimit); }, ErrorKind::kUnsupported, "holds an optional or a one-element sequence");
  // The same test's output is a plain tensor.
  EXPECT_EQ(io::readTensorProto(kNodeData / "test_optional_get_element/test_data_set_0/output_0.pb", kNoLimit).name,
            "output");
}

TEST(IoTensorProto, RefusesMalformedAndOversizedProtos) {
  TempDir dir;
  expectError([&] { io::readTensorProto(dir / "input_0.pb", kNoLimit); }, ErrorKind::kIo, "input_0.pb: cannot open");
  expectProtoError("", ErrorKind::kInvalidModel, "input_0.pb: empty file, not a TensorProto");
  expectProtoError("\xff\xff\xff", ErrorKind::kInvalidModel, "input_0.pb: not a TensorProto (malformed protobuf)");
  const std::string good = floatProto("x", {3, 4}, std::vector<float>(12, 1.0f)).SerializeAsString();
  expectProtoError(good.substr(0, good.size() - 7), ErrorKind::kInvalidModel, "not a TensorProto (malformed protobuf)");

  auto p = floatProto("x", {3, 4}, std::vector<float>(11, 1.0f));
  expectProtoError(p.SerializeAsString(), ErrorKind::kInvalidModel,
                   "input_0.pb: tensor 'x': raw_data holds 44 bytes but its dims and type need 48");
  p = floatProto("x", {-3}, {});
  expectProtoError(p.SerializeAsString(), ErrorKind::kInvalidModel, "tensor 'x': negative dim -3");
  p = floatProto("x", {1LL << 40, 1LL << 40}, {});
  expectProtoError(p.SerializeAsString(), ErrorKind::kInvalidModel, "tensor 'x': the product of its dims overflows");
  p = floatProto("x", {1}, {1});
  p.set_data_type(1000);
  expectProtoError(p.SerializeAsString(), ErrorKind::kInvalidModel, "tensor 'x': unknown data type 1000");
  p = floatProto("x", {1}, {});
  p.clear_raw_data();
  p.set_data_location(onnx::TensorProto::EXTERNAL);
  auto* loc = p.add_external_data();
  loc->set_key("location");
  loc->set_value("weights.bin");
  expectProtoError(p.SerializeAsString(), ErrorKind::kUnsupported, "tensor 'x' refers to external data");

  p = floatProto("x", {1000}, std::vector<float>(1000, 0.5f));
  expectProtoError(p.SerializeAsString(), ErrorKind::kUnsupported, "input_0.pb: needs ", 3999);
  // int64_data of one-byte varints grows 8x when parsed; the bound is checked before parsing.
  onnx::TensorProto ints;
  ints.set_data_type(onnx::TensorProto::INT64);
  ints.add_dims(100000);
  for (int i = 0; i < 100000; ++i) ints.add_int64_data(0);
  const std::string packed = ints.SerializeAsString();
  ASSERT_LT(packed.size(), 110000u);
  expectProtoError(packed, ErrorKind::kUnsupported, "input_0.pb: needs 800000 bytes, more than the 400000 bytes left",
                   400000);
  onnx::TensorProto manyDims;
  manyDims.set_data_type(onnx::TensorProto::FLOAT);
  for (int i = 0; i < 70000; ++i) manyDims.add_dims(1);
  expectProtoError(manyDims.SerializeAsString(), ErrorKind::kInvalidModel, "input_0.pb: lists more than 65536 dims");
  EXPECT_EQ(readBytes(packed, 800000).tensor.nbytes(), 800000u);
}

TEST(IoTensorProto, MutatedProtosNeverCrash) {
  const std::string good = floatProto("input", {2, 3}, {1, 2, 3, 4, 5, 6}).SerializeAsString();
  std::mt19937 rng(7);
  for (int round = 0; round < 3000; ++round) {
    std::string b = good;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) b[rng() % b.size()] = static_cast<char>(rng() % 256);
    if (rng() % 8 == 0) b.resize(rng() % b.size());
    try {
      readBytes(b, 1 << 20);
    } catch (const Error&) {
    }
  }
}

}  // namespace
}  // namespace effdl::test
