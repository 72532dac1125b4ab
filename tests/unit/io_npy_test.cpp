// .npy reading and writing: round trips for every dtype, numpy's exact bytes, header variants
// numpy and Python 2 wrote, the real sample files, and hostile files, each with its error.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <random>

#include "core/error.h"
#include "io/npy.h"
#include "test_util.h"

namespace fs = std::filesystem;

namespace effdl::test {
namespace {

using ir::DataType;

constexpr uint64_t kNoLimit = uint64_t{1} << 40;

// A .npy file from a header dict and raw data: version 1, 2 or 3, no padding unless asked.
std::string npyFile(const std::string& dict, const std::string& data, int version = 1) {
  std::string out = "\x93NUMPY";
  out += static_cast<char>(version);
  out += '\0';
  const size_t n = dict.size();
  for (size_t i = 0; i < (version == 1 ? 2u : 4u); ++i) out += static_cast<char>((n >> (8 * i)) & 0xFF);
  return out + dict + data;
}

std::string bytesOf(const void* p, size_t n) { return std::string(static_cast<const char*>(p), n); }

ir::Tensor readBytes(const std::string& b, uint64_t maxBytes = kNoLimit) {
  return io::readNpyBytes({reinterpret_cast<const uint8_t*>(b.data()), b.size()}, "t.npy", maxBytes);
}

void expectBytesError(const std::string& file, ErrorKind kind, const std::string& part, uint64_t maxBytes = kNoLimit) {
  expectError([&] { readBytes(file, maxBytes); }, kind, part);
}

TEST(IoNpy, RoundTripsEveryDtype) {
  TempDir dir;
  const DataType types[] = {DataType::kFloat,  DataType::kDouble, DataType::kFloat16,   DataType::kInt8,
                            DataType::kInt16,  DataType::kInt32,  DataType::kInt64,     DataType::kUint8,
                            DataType::kUint16, DataType::kUint32, DataType::kUint64,    DataType::kBool,
                            DataType::kComplex64, DataType::kComplex128};
  for (DataType t : types) {
    const size_t item = ir::dtypeSize(t);
    std::vector<uint8_t> bytes(2 * 3 * item);
    for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = t == DataType::kBool ? i % 2 : static_cast<uint8_t>(i * 7 + 1);
    auto tensor = ir::Tensor::fromBytes(t, {2, 3}, bytes.data(), bytes.size());
    const fs::path p = dir / (std::string(ir::dtypeName(t)) + ".npy");
    io::writeNpy(p, tensor);
    auto back = io::readNpy(p, kNoLimit);
    EXPECT_TRUE(back.sameContent(tensor)) << ir::dtypeName(t);
    // The data starts on a 64-byte boundary, as numpy lays it out.
    EXPECT_EQ((fs::file_size(p) - bytes.size()) % 64, 0u) << ir::dtypeName(t);
  }
}

TEST(IoNpy, RoundTripsScalarsAndEmptyShapes) {
  TempDir dir;
  const std::vector<std::vector<int64_t>> shapes = {{}, {0}, {3, 0, 2}, {5}, {1, 1, 1, 1}};
  for (const auto& dims : shapes) {
    int64_t n = 1;
    for (int64_t d : dims) n *= d;
    std::vector<int32_t> v(static_cast<size_t>(n));
    for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<int32_t>(i) - 2;
    auto t = ir::Tensor::fromVector(DataType::kInt32, dims, v);
    io::writeNpy(dir / "a.npy", t);
    auto back = io::readNpy(dir / "a.npy", kNoLimit);
    EXPECT_EQ(back.dims(), dims);
    EXPECT_TRUE(back.sameContent(t));
  }
}

TEST(IoNpy, WritesTheBytesNumpyWrites) {
  // np.save of np.arange(6, dtype='<f4').reshape(2, 3), header copied from numpy 1.24.
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  dict += std::string(117 - dict.size(), ' ') + "\n";
  std::vector<float> v = {0, 1, 2, 3, 4, 5};
  const std::string expected = npyFile(dict, bytesOf(v.data(), 24));
  ASSERT_EQ(expected.size(), 152u);
  TempDir dir;
  io::writeNpy(dir / "a.npy", ir::Tensor::fromVector(DataType::kFloat, {2, 3}, v));
  EXPECT_EQ(readFile(dir / "a.npy"), expected);

  std::string scalar = "{'descr': '<i8', 'fortran_order': False, 'shape': (), }";
  scalar += std::string(117 - scalar.size(), ' ') + "\n";
  int64_t five = 5;
  io::writeNpy(dir / "s.npy", ir::Tensor::fromVector(DataType::kInt64, {}, std::vector<int64_t>{five}));
  EXPECT_EQ(readFile(dir / "s.npy"), npyFile(scalar, bytesOf(&five, 8)));
}

TEST(IoNpy, ReadsTheDigitsSamples) {
  auto x = io::readNpy(sourceDir() / "models/digits_test_x.npy", kNoLimit);
  EXPECT_EQ(x.dtype(), DataType::kFloat);
  EXPECT_EQ(x.dims(), (std::vector<int64_t>{360, 1, 8, 8}));
  EXPECT_EQ(x.nbytes(), 360u * 64 * 4);
  auto y = io::readNpy(sourceDir() / "models/digits_test_y.npy", kNoLimit);
  EXPECT_EQ(y.dtype(), DataType::kInt64);
  EXPECT_EQ(y.dims(), (std::vector<int64_t>{360}));
  for (int64_t label : y.values<int64_t>()) {
    EXPECT_GE(label, 0);
    EXPECT_LE(label, 9);
  }
}

TEST(IoNpy, AcceptsHeaderSpellingsNumpyAccepts) {
  const int32_t v[3] = {1, -2, 3};
  const std::string data = bytesOf(v, 12);
  const std::string dicts[] = {
      "{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }",
      "{'descr':'<i4','fortran_order':False,'shape':(3,)}",                 // no spaces, no trailing comma
      "{\"shape\": (3, ), \"descr\": \"<i4\", \"fortran_order\": False}\n",  // any key order, double quotes
      "{'descr': '<i4', 'fortran_order': False, 'shape': (3L,), }   \n",     // Python 2 long
      "  {'descr': 'i4', 'fortran_order': True, 'shape': (3,), }",           // no byte order; 1-D Fortran = C
  };
  for (const auto& d : dicts) {
    auto t = readBytes(npyFile(d, data));
    EXPECT_EQ(t.dtype(), DataType::kInt32) << d;
    EXPECT_EQ(t.dims(), std::vector<int64_t>{3}) << d;
    EXPECT_EQ(t.values<int32_t>()[1], -2) << d;
  }
  // Versions 2.0 and 3.0 have a 4-byte header length.
  for (int version : {2, 3}) {
    auto t = readBytes(npyFile("{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }", data, version));
    EXPECT_EQ(t.values<int32_t>()[2], 3);
  }
  // 0-d and multi-dim Fortran arrays whose layout is C order anyway.
  auto s = readBytes(npyFile("{'descr': '<i4', 'fortran_order': False, 'shape': (), }", data.substr(0, 4)));
  EXPECT_TRUE(s.dims().empty());
  auto f = readBytes(npyFile("{'descr': '<i4', 'fortran_order': True, 'shape': (1, 3, 1), }", data));
  EXPECT_EQ(f.dims(), (std::vector<int64_t>{1, 3, 1}));
}

TEST(IoNpy, ConvertsBigEndianAndCanonicalisesBools) {
  const std::string be = bytesOf("\x00\x00\x01\x02\xff\xff\xff\xfe", 8);
  auto t = readBytes(npyFile("{'descr': '>i4', 'fortran_order': False, 'shape': (2,), }", be));
  EXPECT_EQ(t.values<int32_t>()[0], 0x0102);
  EXPECT_EQ(t.values<int32_t>()[1], -2);
  const std::string beDouble = bytesOf("\x3f\xf0\x00\x00\x00\x00\x00\x00", 8);  // 1.0
  EXPECT_EQ(readBytes(npyFile("{'descr': '>f8', 'fortran_order': False, 'shape': (), }", beDouble)).values<double>()[0], 1.0);
  // '>i1' is one byte: nothing to swap.
  EXPECT_EQ(readBytes(npyFile("{'descr': '>i1', 'fortran_order': False, 'shape': (1,), }", "\xfe")).values<int8_t>()[0], -2);
  // numpy reads any non-zero byte as True; kernels get 0 or 1.
  auto b = readBytes(npyFile("{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", std::string("\x00\x02\x01", 3)));
  EXPECT_EQ(b.values<uint8_t>()[0], 0);
  EXPECT_EQ(b.values<uint8_t>()[1], 1);
  EXPECT_EQ(b.values<uint8_t>()[2], 1);
}

TEST(IoNpy, MemoryOwnedViewsStayValid) {
  // With an owner, aligned little-endian data is viewed, not copied, and kept alive.
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
  dict += std::string(128 - 10 - 1 - dict.size(), ' ') + "\n";
  auto owner = std::make_shared<std::string>(npyFile(dict, bytesOf("\x00\x00\x80\x3f\x00\x00\x00\x40", 8)));
  ASSERT_EQ(owner->size(), 136u);
  const uint8_t* base = reinterpret_cast<const uint8_t*>(owner->data());
  auto t = io::readNpyBytes({base, owner->size()}, "m.npy", kNoLimit, std::shared_ptr<const void>(owner, owner->data()));
  EXPECT_EQ(t.data(), base + 128);
  owner.reset();
  EXPECT_EQ(t.values<float>()[0], 1.0f);
  EXPECT_EQ(t.values<float>()[1], 2.0f);
}

TEST(IoNpy, RefusesHostileFiles) {
  const std::string f4 = "{'descr': '<f4', 'fortran_order': False, 'shape': ";
  expectBytesError("", ErrorKind::kInvalidModel, "truncated .npy header (0 bytes)");
  expectBytesError("PK\x03\x04 not npy", ErrorKind::kInvalidModel, "not a .npy file");
  expectBytesError(std::string("\x93NUMPY\x01\x00", 8), ErrorKind::kInvalidModel, "truncated .npy header (8 bytes)");
  expectBytesError(std::string("\x93NUMPY\x01\x00\xff\x00{'descr'", 17), ErrorKind::kInvalidModel,
                   "header length 255 goes beyond the end of the data (17 bytes)");
  expectBytesError(std::string("\x93NUMPY\x02\x00\xff\xff\xff\xff{}", 14), ErrorKind::kInvalidModel,
                   "header length 4294967295 goes beyond");
  expectBytesError(std::string("\x93NUMPY\x04\x00\x00\x00", 10), ErrorKind::kUnsupported, ".npy format version 4.0");
  expectBytesError(npyFile(f4 + "(4294967296, 4294967296, 4), }", ""), ErrorKind::kInvalidModel,
                   "has more elements than fit in 64 bits");
  expectBytesError(npyFile(f4 + "(4611686018427387904,), }", ""), ErrorKind::kInvalidModel,
                   "overflows a 64-bit byte count");
  expectBytesError(npyFile(f4 + "(99999999999999999999,), }", ""), ErrorKind::kInvalidModel,
                   "does not fit in 64 bits");
  // A huge shape over a short payload is a truncated file, whatever the limit.
  expectBytesError(npyFile(f4 + "(1000000000000,), }", "abcd"), ErrorKind::kInvalidModel,
                   "truncated: shape (1000000000000,) of '<f4' needs 4000000000000 bytes of data but 4 follow");
  expectBytesError(npyFile(f4 + "(3, 4), }", std::string(20, 'x')), ErrorKind::kInvalidModel,
                   "needs 48 bytes of data but 20 follow the header");
  expectBytesError(npyFile(f4 + "(2,), }", std::string(12, 'x')), ErrorKind::kInvalidModel,
                   "4 unexpected bytes after the array data");
  // Data that is all there but above the caller's limit.
  expectBytesError(npyFile(f4 + "(100,), }", std::string(400, 'x')), ErrorKind::kUnsupported,
                   "t.npy: needs 400 bytes, more than the 399 bytes left under the byte limit", 399);

  auto dtypeError = [&](const std::string& descr, ErrorKind kind, const std::string& part) {
    expectBytesError(npyFile("{'descr': " + descr + ", 'fortran_order': False, 'shape': (1,), }", "12345678"), kind,
                     part);
  };
  dtypeError("'<f3'", ErrorKind::kInvalidModel, "unknown dtype '<f3'");
  dtypeError("'<x4'", ErrorKind::kInvalidModel, "unknown dtype '<x4'");
  dtypeError("'float32'", ErrorKind::kInvalidModel, "unknown dtype 'float32'");
  dtypeError("''", ErrorKind::kInvalidModel, "unknown dtype ''");
  dtypeError("'|O'", ErrorKind::kUnsupported, "holds Python objects (dtype '|O'), which numpy stores pickled");
  dtypeError("'<U2'", ErrorKind::kUnsupported, "holds strings (dtype '<U2')");
  dtypeError("'|S8'", ErrorKind::kUnsupported, "holds strings");
  dtypeError("'|V8'", ErrorKind::kUnsupported, "raw or structured records");
  dtypeError("'<M8[s]'", ErrorKind::kUnsupported, "dates or time deltas");
  dtypeError("'<f16'", ErrorKind::kUnsupported, "extended-precision floats");
  dtypeError("[('a', '<f4'), ('b', '<f4')]", ErrorKind::kUnsupported, "structured dtype");
  dtypeError("3", ErrorKind::kInvalidModel, "'descr' is not a string");

  expectBytesError(npyFile("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", std::string(24, 'x')),
                   ErrorKind::kUnsupported, "array of shape (2, 3) is stored in Fortran order");

  auto headerError = [&](const std::string& dict, const std::string& part) {
    expectBytesError(npyFile(dict, ""), ErrorKind::kInvalidModel, part);
    expectBytesError(npyFile(dict, ""), ErrorKind::kInvalidModel, "t.npy: malformed .npy header: ");
  };
  headerError("{'descr': '<f4', 'shape': (0,), }", "no 'fortran_order' key");
  headerError("{'descr': '<f4', 'fortran_order': False, 'shape': (0,), 'x': 1}", "unexpected key 'x'");
  headerError("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (0,)}", "'descr' appears twice");
  headerError("{'descr': '<f4, 'fortran_order': False, 'shape': (0,)}", "expected ',' or '}'");
  headerError("{'descr': '<f4', 'fortran_order': False, 'shape': (3)}", "'shape' (3) is not a tuple");
  headerError("{'descr': '<f4', 'fortran_order': False, 'shape': [3]}", "'shape' is not a tuple");
  headerError("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}", "negative dim");
  headerError("{'descr': '<f4', 'fortran_order': False, 'shape': (03,)}", "leading zero");
  headerError("{'descr': '<f4', 'fortran_order': 0, 'shape': (0,)}", "not True or False");
  headerError("{'descr': '<f4', 'fortran_order': False, 'shape': (0,)} x", "unexpected text after the closing '}'");
  headerError("{'descr': '<\\x66\\x34', 'fortran_order': False, 'shape': (0,)}", "escape sequences");
  headerError("{'descr': '<f4', 'fortran_order': False, 'shape': (0,", "'shape' is not a tuple of integers");
  headerError("{'descr': '<f4', 'fortran_order': False, 'shape': (0 1)}", "expected ',' or ')' in 'shape'");
  headerError("{'descr", "unterminated string");
  headerError("", "expected '{'");
}

TEST(IoNpy, ErrorsNameTheFile) {
  TempDir dir;
  expectError([&] { io::readNpy(dir / "missing.npy", kNoLimit); }, ErrorKind::kIo, (dir / "missing.npy").string());
  writeFile(dir / "bad.npy", std::string("\x93NUMPY\x01\x00\x00\x01", 10));
  expectError([&] { io::readNpy(dir / "bad.npy", kNoLimit); }, ErrorKind::kInvalidModel,
              (dir / "bad.npy").string() + ": .npy header length 256 goes beyond the end");
}

TEST(IoNpy, WriterRefusesWhatNpyCannotHold) {
  TempDir dir;
  auto bf16 = ir::Tensor::fromVector(DataType::kBfloat16, {1}, std::vector<uint16_t>{1});
  expectError([&] { io::writeNpy(dir / "b.npy", bf16); }, ErrorKind::kUnsupported, "a bfloat16 tensor cannot be stored in .npy");
  auto str = ir::Tensor::fromStrings({1}, {"a"});
  expectError([&] { io::writeNpy(dir / "s.npy", str); }, ErrorKind::kUnsupported, "a string tensor cannot be stored");
  EXPECT_FALSE(fs::exists(dir / "b.npy"));
}

TEST(IoNpy, MutatedFilesNeverCrash) {
  // Every mutation either reads or throws effdl::Error (run under the sanitizer build too).
  std::vector<float> v(24, 1.5f);
  TempDir dir;
  io::writeNpy(dir / "a.npy", ir::Tensor::fromVector(DataType::kFloat, {2, 3, 4}, v));
  const std::string good = readFile(dir / "a.npy");
  std::mt19937 rng(1234);
  int read = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string b = good;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const size_t at = rng() % 128;  // the header, where the parsing is
      b[at % b.size()] = static_cast<char>(rng() % 256);
    }
    if (rng() % 8 == 0) b.resize(rng() % b.size());
    try {
      readBytes(b, 1 << 20);
      ++read;
    } catch (const Error&) {
    }
  }
  EXPECT_GT(read, 0);
}

}  // namespace
}  // namespace effdl::test
