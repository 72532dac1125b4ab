// .npz reading and writing: round trips (plain and zip64), numpy's compressed sample dataset, and
// hostile archives built byte by byte here, each with its error.
#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <filesystem>
#include <random>

#include "core/error.h"
#include "io/npy.h"
#include "io/npz.h"
#include "io/zip_archive.h"
#include "test_util.h"

namespace fs = std::filesystem;

namespace effdl::test {
namespace {

using ir::DataType;

constexpr uint64_t kNoLimit = uint64_t{1} << 40;

uint32_t crc32(const std::string& s) {
  static const auto table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  uint32_t c = 0xFFFFFFFFu;
  for (unsigned char b : s) c = table[(c ^ b) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

void put(std::string& s, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) s += static_cast<char>((v >> (8 * i)) & 0xFF);
}

// One member of a hand-built archive; the overrides make it lie.
struct Member {
  std::string name;
  std::string data;  // as stored (already deflated when method is 8)
  uint16_t method = 0;
  uint16_t flags = 0;
  std::optional<uint64_t> uncompressedSize = {};  // default: data.size()
  std::optional<uint32_t> crc = {};               // default: crc32(data)
  std::optional<uint64_t> localOffset = {};       // default: where it was written
  std::string localName = {};                     // default: name
};

struct ZipOptions {
  std::optional<uint64_t> count = {};  // entries in the end record
  std::optional<uint64_t> cdOffset = {};
  bool zip64 = false;
};

std::string buildZip(const std::vector<Member>& members, const ZipOptions& o = {}) {
  std::string out, cd;
  for (const auto& m : members) {
    const uint64_t offset = out.size();
    const std::string localName = m.localName.empty() ? m.name : m.localName;
    const uint32_t crc = m.crc.value_or(crc32(m.method == 0 ? m.data : ""));
    const uint64_t usize = m.uncompressedSize.value_or(m.data.size());
    put(out, 0x04034b50, 4);
    put(out, 20, 2);
    put(out, m.flags, 2);
    put(out, m.method, 2);
    put(out, 0, 4);
    put(out, crc, 4);
    put(out, m.data.size(), 4);
    put(out, usize, 4);
    put(out, localName.size(), 2);
    put(out, 0, 2);
    out += localName + m.data;
    put(cd, 0x02014b50, 4);
    put(cd, 20, 2);
    put(cd, 20, 2);
    put(cd, m.flags, 2);
    put(cd, m.method, 2);
    put(cd, 0, 4);
    put(cd, crc, 4);
    put(cd, m.data.size(), 4);
    put(cd, usize, 4);
    put(cd, m.name.size(), 2);
    put(cd, 0, 2);
    put(cd, 0, 2);
    put(cd, 0, 2);
    put(cd, 0, 2);
    put(cd, 0, 4);
    put(cd, m.localOffset.value_or(offset), 4);
    cd += m.name;
  }
  const uint64_t cdOffset = o.cdOffset.value_or(out.size());
  const uint64_t count = o.count.value_or(members.size());
  const uint64_t cdSize = cd.size();
  out += cd;
  if (o.zip64) {
    const uint64_t end64 = out.size();
    put(out, 0x06064b50, 4);
    put(out, 44, 8);
    put(out, 45, 2);
    put(out, 45, 2);
    put(out, 0, 4);
    put(out, 0, 4);
    put(out, count, 8);
    put(out, count, 8);
    put(out, cdSize, 8);
    put(out, cdOffset, 8);
    put(out, 0x07064b50, 4);
    put(out, 0, 4);
    put(out, end64, 8);
    put(out, 1, 4);
  }
  put(out, 0x06054b50, 4);
  put(out, 0, 4);
  put(out, o.zip64 ? 0xFFFF : count, 2);
  put(out, o.zip64 ? 0xFFFF : count, 2);
  put(out, o.zip64 ? 0xFFFFFFFF : cdSize, 4);
  put(out, o.zip64 ? 0xFFFFFFFF : cdOffset, 4);
  put(out, 0, 2);
  return out;
}

// A raw deflate stream made of one "stored" block: valid input for any inflater.
std::string deflateStored(const std::string& data) {
  std::string s;
  s += '\x01';  // final block, no compression
  put(s, data.size(), 2);
  put(s, ~data.size() & 0xFFFF, 2);
  return s + data;
}

std::string npyOf(const ir::Tensor& t) {
  std::string h = io::npyHeader(t, "t");
  return h + std::string(reinterpret_cast<const char*>(t.data()), t.nbytes());
}

const ir::Tensor kSmall = ir::Tensor::fromVector(DataType::kFloat, {2, 2}, std::vector<float>{1, 2, 3, 4});

std::vector<io::NamedTensor> readBytes(const std::string& b, uint64_t maxBytes = kNoLimit) {
  return io::readNpzBytes({reinterpret_cast<const uint8_t*>(b.data()), b.size()}, "t.npz", maxBytes);
}

void expectZipError(const std::string& zip, ErrorKind kind, const std::string& part, uint64_t maxBytes = kNoLimit) {
  expectError([&] { readBytes(zip, maxBytes); }, kind, part);
}

TEST(IoNpz, RoundTripKeepsNamesOrderAndContent) {
  TempDir dir;
  std::vector<io::NamedTensor> in = {
      {"weights", kSmall},
      {"ids", ir::Tensor::fromVector(DataType::kInt64, {3}, std::vector<int64_t>{7, -1, 1LL << 40})},
      {"flag", ir::Tensor::fromVector(DataType::kBool, {}, std::vector<uint8_t>{1})},
      {"none", ir::Tensor::fromVector(DataType::kUint16, {0, 4}, std::vector<uint16_t>{})},
      {"dir/inner", ir::Tensor::fromVector(DataType::kFloat16, {1}, std::vector<uint16_t>{0x3C00})},
  };
  io::writeNpz(dir / "a.npz", in);
  auto out = io::readNpz(dir / "a.npz", kNoLimit);
  ASSERT_EQ(out.size(), in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ(out[i].name, in[i].name);
    EXPECT_TRUE(out[i].tensor.sameContent(in[i].tensor)) << in[i].name;
  }
  // Fixed timestamps: the same tensors give the same bytes.
  io::writeNpz(dir / "b.npz", in);
  EXPECT_EQ(readFile(dir / "a.npz"), readFile(dir / "b.npz"));
  io::writeNpz(dir / "empty.npz", {});
  EXPECT_TRUE(io::readNpz(dir / "empty.npz", kNoLimit).empty());
}

TEST(IoNpz, ReadsZip64Archives) {
  TempDir dir;
  const std::string npy = npyOf(kSmall);
  const std::span<const uint8_t> parts[] = {{reinterpret_cast<const uint8_t*>(npy.data()), npy.size()}};
  io::ZipWriter zip(dir / "z.npz", /*forceZip64=*/true);
  zip.addStored("a.npy", parts);
  zip.addStored("b.npy", parts);
  zip.commit();
  auto out = io::readNpz(dir / "z.npz", kNoLimit);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].name, "b");
  EXPECT_TRUE(out[1].tensor.sameContent(kSmall));
}

TEST(IoNpz, ReadsTheCompressedTextDataset) {
  // Written with deflate (savez_compressed): train_ids uint16 [57637, 64], train_y uint8, …
  auto members = io::readNpz(sourceDir() / "models/data/text_dataset.npz", kNoLimit);
  ASSERT_EQ(members.size(), 4u);
  EXPECT_EQ(members[0].name, "train_ids");
  EXPECT_EQ(members[0].tensor.dtype(), DataType::kUint16);
  EXPECT_EQ(members[0].tensor.dims(), (std::vector<int64_t>{57637, 64}));
  EXPECT_EQ(members[1].name, "train_y");
  EXPECT_EQ(members[1].tensor.dtype(), DataType::kUint8);
  EXPECT_EQ(members[1].tensor.dims(), std::vector<int64_t>{57637});
  EXPECT_EQ(members[2].name, "test_ids");
  EXPECT_EQ(members[2].tensor.dims(), (std::vector<int64_t>{2000, 64}));
  EXPECT_EQ(members[3].name, "test_y");
  for (uint8_t y : members[3].tensor.values<uint8_t>()) EXPECT_LT(y, 11);  // 11 classes
  // The limit counts the inflated members together.
  expectError([] { io::readNpz(sourceDir() / "models/data/text_dataset.npz", 7377664); }, ErrorKind::kUnsupported,
              "member 'train_y.npy': needs 57765 bytes, more than the 0 bytes left under the byte limit");
}

TEST(IoNpz, ReadsDeflatedMembers) {
  const std::string npy = npyOf(kSmall);
  Member m{"x.npy", deflateStored(npy), 8};
  m.uncompressedSize = npy.size();
  m.crc = crc32(npy);
  auto out = readBytes(buildZip({m}));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].tensor.sameContent(kSmall));
}

TEST(IoNpz, RefusesHostileArchives) {
  const std::string npy = npyOf(kSmall);
  const Member good{"x.npy", npy};
  expectZipError("", ErrorKind::kInvalidModel, "t.npz: not a valid zip archive: too short");
  expectZipError(std::string(100, 'z'), ErrorKind::kInvalidModel, "no end-of-central-directory record");
  // Cut short: the end record is gone.
  const std::string whole = buildZip({good});
  expectZipError(whole.substr(0, whole.size() - 5), ErrorKind::kInvalidModel, "no end-of-central-directory record");

  Member far = good;
  far.localOffset = 0x7FFFFFFF;
  expectZipError(buildZip({far}), ErrorKind::kInvalidModel,
                 "member 'x.npy': its offset 2147483647 lies outside the archive's data");
  {
    // The central directory claims more stored bytes than lie before it.
    Member big = good;
    std::string z = buildZip({big});
    const size_t cd = z.size() - 22 - 46 - big.name.size();
    z[cd + 20] = static_cast<char>(0xFF);  // compressed size 0x…FF
    z[cd + 21] = static_cast<char>(0xFF);
    z[cd + 24] = static_cast<char>(0xFF);  // and the uncompressed size, so stored sizes agree
    z[cd + 25] = static_cast<char>(0xFF);
    expectZipError(z, ErrorKind::kInvalidModel, "run past the archive's data");
  }
  expectZipError(buildZip({good}, {.count = 65535}), ErrorKind::kInvalidModel,
                 "the central directory is too small for 65535 members");
  expectZipError(buildZip({good}, {.count = 1'000'000'000, .zip64 = true}), ErrorKind::kInvalidModel,
                 "claims 1000000000 members, above effdl's limit of 65536");
  expectZipError(buildZip({good}, {.cdOffset = 1u << 30}), ErrorKind::kInvalidModel,
                 "the central directory lies outside the archive");

  expectZipError(buildZip({{"notes.txt", "hello"}}), ErrorKind::kInvalidModel,
                 "member 'notes.txt' is not a .npy array");
  expectZipError(buildZip({{".npy", npy}}), ErrorKind::kInvalidModel, "member '.npy' is not a .npy array");
  expectZipError(buildZip({{"x.npy", "not an array"}}), ErrorKind::kInvalidModel,
                 "t.npz: member 'x.npy': not a .npy file");
  expectZipError(buildZip({good, good}), ErrorKind::kInvalidModel, "two members are named 'x.npy'");
  Member renamed = good;
  renamed.localName = "y.npy";
  expectZipError(buildZip({renamed}), ErrorKind::kInvalidModel, "has a different name in its local header");
  Member encrypted = good;
  encrypted.flags = 1;
  expectZipError(buildZip({encrypted}), ErrorKind::kUnsupported, "member 'x.npy' is encrypted");
  Member bzip2 = good;
  bzip2.method = 12;
  expectZipError(buildZip({bzip2}), ErrorKind::kUnsupported, "uses compression method 12");
  Member badCrc = good;
  badCrc.crc = 1234;
  expectZipError(buildZip({badCrc}), ErrorKind::kInvalidModel, "member 'x.npy': CRC-32 mismatch");
  Member storedMismatch = good;
  storedMismatch.uncompressedSize = npy.size() + 1;
  expectZipError(buildZip({storedMismatch}), ErrorKind::kInvalidModel, "different compressed and uncompressed sizes");

  // Deflate members that inflate to other sizes than declared, or are not deflate at all.
  Member bomb{"x.npy", deflateStored(npy), 8};
  bomb.crc = crc32(npy);
  bomb.uncompressedSize = npy.size() - 1;
  expectZipError(buildZip({bomb}), ErrorKind::kInvalidModel, "inflates to more than the");
  bomb.uncompressedSize = npy.size() + 1;
  expectZipError(buildZip({bomb}), ErrorKind::kInvalidModel, "inflates to fewer bytes than the");
  Member cut{"x.npy", deflateStored(npy).substr(0, 50), 8};
  cut.crc = crc32(npy);
  cut.uncompressedSize = npy.size();
  expectZipError(buildZip({cut}), ErrorKind::kInvalidModel, "compressed data is truncated");
  Member junk{"x.npy", "\x07garbage", 8};
  junk.uncompressedSize = 10;
  expectZipError(buildZip({junk}), ErrorKind::kInvalidModel, "corrupt deflate data");
  // A zip bomb is refused from its declared size, before inflating.
  Member huge{"x.npy", deflateStored(npy), 8};
  huge.uncompressedSize = 0xFFFFFFF0;
  expectZipError(buildZip({huge}), ErrorKind::kUnsupported, "member 'x.npy': needs 4294967280 bytes, more than the 1048576 bytes left",
                 1 << 20);
}

TEST(IoNpz, WriterRefusesUnnamedAndDuplicateTensors) {
  TempDir dir;
  expectError([&] { io::writeNpz(dir / "a.npz", {{"", kSmall}}); }, ErrorKind::kUsage, "a tensor without a name");
  expectError([&] { io::writeNpz(dir / "a.npz", {{"x", kSmall}, {"x", kSmall}}); }, ErrorKind::kUsage,
              "two tensors are named 'x'");
  auto str = ir::Tensor::fromStrings({1}, {"s"});
  expectError([&] { io::writeNpz(dir / "a.npz", {{"x", kSmall}, {"s", str}}); }, ErrorKind::kUnsupported,
              "tensor 's': a string tensor cannot be stored in .npy");
  EXPECT_FALSE(fs::exists(dir / "a.npz"));
  expectError([&] { io::readNpz(dir / "a.npz", kNoLimit); }, ErrorKind::kIo, (dir / "a.npz").string());
}

TEST(IoNpz, MutatedArchivesNeverCrash) {
  const std::string npy = npyOf(kSmall);
  Member deflated{"y.npy", deflateStored(npy), 8};
  deflated.uncompressedSize = npy.size();
  deflated.crc = crc32(npy);
  const std::string good = buildZip({{"x.npy", npy}, deflated});
  const std::string good64 = buildZip({{"x.npy", npy}}, {.zip64 = true});
  ASSERT_EQ(readBytes(good).size(), 2u);
  ASSERT_EQ(readBytes(good64).size(), 1u);
  std::mt19937 rng(99);
  for (int round = 0; round < 4000; ++round) {
    std::string b = round % 2 ? good : good64;
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
