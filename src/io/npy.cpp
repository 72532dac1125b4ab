// .npy reader and writer (see npy.h). The header is a Python dict literal; it is parsed by a
// strict little grammar instead of anything eval-like, and every size in it is checked before
// a byte is allocated.
#include "io/npy.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <optional>
#include <string_view>
#include <vector>

#include "core/atomic_file.h"
#include "core/checked_math.h"
#include "core/error.h"
#include "core/mapped_file.h"
#include "io/byte_limit.h"

namespace effdl::io {
namespace {

static_assert(std::endian::native == std::endian::little, "the .npy reader assumes a little-endian host");

constexpr std::string_view kMagic = "\x93NUMPY";
// Python's header values are bounded in practice; a shape with more dims than this is hostile.
constexpr size_t kMaxRank = 64;

struct NpyDtype {
  ir::DataType dtype = ir::DataType::kUndefined;
  size_t itemSize = 0;
  size_t swapUnit = 0;  // bytes to reverse per unit when big-endian (complex: each half)
  bool bigEndian = false;
};

struct NpyLayout {
  NpyDtype dtype;
  std::vector<int64_t> dims;
  uint64_t dataOffset = 0;
  uint64_t dataBytes = 0;
};

std::string shapeText(const std::vector<int64_t>& dims) {
  std::string s = "(";
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(dims[i]);
  }
  if (dims.size() == 1) s += ",";
  return s + ")";
}

// Maps a descr such as '<f4' to our dtype. Refusals say why: numpy types effdl does not take are
// kUnsupported, strings that are no numpy type at all are kInvalidModel.
NpyDtype parseDescr(std::string_view d, const std::string& display) {
  const std::string quoted = "'" + std::string(d) + "'";
  std::string_view rest = d;
  char order = '=';
  if (!rest.empty() && (rest[0] == '<' || rest[0] == '>' || rest[0] == '|' || rest[0] == '=')) {
    order = rest[0];
    rest.remove_prefix(1);
  }
  if (rest.empty()) throwInvalid(display + ": unknown dtype " + quoted);
  const char kind = rest[0];
  std::string_view sizeText = rest.substr(1);
  if (kind == 'O')
    throwUnsupported(display + ": holds Python objects (dtype " + quoted +
                     "), which numpy stores pickled; effdl never unpickles data");
  if (kind == 'U' || kind == 'S' || kind == 'a')
    throwUnsupported(display + ": holds strings (dtype " + quoted + "), which effdl does not read from .npy");
  if (kind == 'V')
    throwUnsupported(display + ": holds raw or structured records (dtype " + quoted + "), which effdl does not read");
  if (kind == 'M' || kind == 'm')
    throwUnsupported(display + ": holds dates or time deltas (dtype " + quoted + "), which effdl does not read");
  size_t size = 0;
  if (sizeText.empty() || sizeText.size() > 2 || !std::all_of(sizeText.begin(), sizeText.end(), [](char c) {
        return c >= '0' && c <= '9';
      }))
    throwInvalid(display + ": unknown dtype " + quoted);
  for (char c : sizeText) size = size * 10 + static_cast<size_t>(c - '0');
  NpyDtype out;
  out.itemSize = size;
  out.swapUnit = size;
  using DT = ir::DataType;
  switch (kind) {
    case 'f':
      if (size == 2) out.dtype = DT::kFloat16;
      else if (size == 4) out.dtype = DT::kFloat;
      else if (size == 8) out.dtype = DT::kDouble;
      else if (size == 12 || size == 16)
        throwUnsupported(display + ": holds extended-precision floats (dtype " + quoted + "), which effdl does not read");
      break;
    case 'i':
      if (size == 1) out.dtype = DT::kInt8;
      else if (size == 2) out.dtype = DT::kInt16;
      else if (size == 4) out.dtype = DT::kInt32;
      else if (size == 8) out.dtype = DT::kInt64;
      break;
    case 'u':
      if (size == 1) out.dtype = DT::kUint8;
      else if (size == 2) out.dtype = DT::kUint16;
      else if (size == 4) out.dtype = DT::kUint32;
      else if (size == 8) out.dtype = DT::kUint64;
      break;
    case 'b':
      if (size == 1) out.dtype = DT::kBool;
      break;
    case 'c':
      out.swapUnit = size / 2;
      if (size == 8) out.dtype = DT::kComplex64;
      else if (size == 16) out.dtype = DT::kComplex128;
      else if (size == 24 || size == 32)
        throwUnsupported(display + ": holds extended-precision complex numbers (dtype " + quoted +
                         "), which effdl does not read");
      break;
    default: break;
  }
  if (out.dtype == DT::kUndefined) throwInvalid(display + ": unknown dtype " + quoted);
  out.bigEndian = order == '>' && out.swapUnit > 1;
  return out;
}

// The header dict: {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), } — a subset of
// Python literal syntax: str keys, str/bool/tuple-of-int values, optional trailing comma. Python 2
// wrote long ints as 3L; those are accepted too (numpy.load accepts them).
class HeaderParser {
 public:
  HeaderParser(std::string_view text, const std::string& display) : s_(text), display_(display) {}

  struct Header {
    std::string descr;
    bool fortranOrder = false;
    std::vector<int64_t> shape;
  };

  Header parse() {
    Header h;
    bool haveDescr = false, haveFortran = false, haveShape = false;
    skipSpace();
    expect('{');
    skipSpace();
    while (!peek('}')) {
      std::string key = parseString();
      skipSpace();
      expect(':');
      skipSpace();
      if (key == "descr") {
        if (haveDescr) fail("the key 'descr' appears twice");
        haveDescr = true;
        if (peek('[')) throwUnsupported(display_ + ": holds a structured dtype (a list of fields), which effdl does not read");
        if (!peek('\'') && !peek('"')) fail("'descr' is not a string");
        h.descr = parseString();
      } else if (key == "fortran_order") {
        if (haveFortran) fail("the key 'fortran_order' appears twice");
        haveFortran = true;
        h.fortranOrder = parseBool();
      } else if (key == "shape") {
        if (haveShape) fail("the key 'shape' appears twice");
        haveShape = true;
        h.shape = parseShape();
      } else {
        fail("unexpected key '" + key + "' (numpy writes only 'descr', 'fortran_order' and 'shape')");
      }
      skipSpace();
      if (peek(',')) {
        ++pos_;
        skipSpace();
      } else if (!peek('}')) {
        fail("expected ',' or '}' at offset " + std::to_string(pos_));
      }
    }
    ++pos_;
    skipSpace();
    if (pos_ != s_.size()) fail("unexpected text after the closing '}'");
    if (!haveDescr) fail("no 'descr' key");
    if (!haveFortran) fail("no 'fortran_order' key");
    if (!haveShape) fail("no 'shape' key");
    return h;
  }

 private:
  [[noreturn]] void fail(const std::string& why) const { throwInvalid(display_ + ": malformed .npy header: " + why); }
  bool peek(char c) const { return pos_ < s_.size() && s_[pos_] == c; }
  void expect(char c) {
    if (!peek(c)) fail(std::string("expected '") + c + "' at offset " + std::to_string(pos_));
    ++pos_;
  }
  void skipSpace() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
  }
  std::string parseString() {
    if (!peek('\'') && !peek('"')) fail("expected a quoted key at offset " + std::to_string(pos_));
    const char quote = s_[pos_++];
    size_t start = pos_;
    while (pos_ < s_.size() && s_[pos_] != quote) {
      if (s_[pos_] == '\\') fail("escape sequences in strings are not part of numpy's header format");
      if (s_[pos_] == '\n') fail("unterminated string");
      ++pos_;
    }
    if (pos_ == s_.size()) fail("unterminated string");
    return std::string(s_.substr(start, pos_++ - start));
  }
  bool parseBool() {
    if (s_.substr(pos_, 4) == "True") {
      pos_ += 4;
      return true;
    }
    if (s_.substr(pos_, 5) == "False") {
      pos_ += 5;
      return false;
    }
    fail("'fortran_order' is not True or False");
  }
  int64_t parseInt() {
    if (peek('-')) fail("negative dim in 'shape'");
    size_t start = pos_;
    int64_t v = 0;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
      auto m = checkedMul(v, 10);
      auto a = m ? checkedAdd(*m, s_[pos_] - '0') : std::nullopt;
      if (!a) fail("a dim in 'shape' does not fit in 64 bits");
      v = *a;
      ++pos_;
    }
    if (pos_ == start) fail("'shape' is not a tuple of integers");
    if (pos_ - start > 1 && s_[start] == '0') fail("a dim in 'shape' has a leading zero");
    if (peek('L') || peek('l')) ++pos_;
    return v;
  }
  std::vector<int64_t> parseShape() {
    if (!peek('(')) fail("'shape' is not a tuple");
    ++pos_;
    std::vector<int64_t> dims;
    bool trailingComma = false;
    skipSpace();
    while (!peek(')')) {
      if (dims.size() == kMaxRank) fail("'shape' has more than " + std::to_string(kMaxRank) + " dims");
      dims.push_back(parseInt());
      skipSpace();
      trailingComma = false;
      if (peek(',')) {
        ++pos_;
        trailingComma = true;
        skipSpace();
      } else if (!peek(')')) {
        fail("expected ',' or ')' in 'shape'");
      }
    }
    ++pos_;
    // In Python (3) is the int 3, not a tuple; numpy would refuse it too.
    if (dims.size() == 1 && !trailingComma) fail("'shape' (" + std::to_string(dims[0]) + ") is not a tuple");
    return dims;
  }

  std::string_view s_;
  const std::string& display_;
  size_t pos_ = 0;
};

uint32_t readLe(const uint8_t* p, size_t n) {
  uint32_t v = 0;
  for (size_t i = 0; i < n; ++i) v |= static_cast<uint32_t>(p[i]) << (8 * i);
  return v;
}

NpyLayout parseLayout(std::span<const uint8_t> b, const std::string& display) {
  const size_t magicSeen = std::min(b.size(), kMagic.size());
  if (magicSeen > 0 && std::memcmp(b.data(), kMagic.data(), magicSeen) != 0)
    throwInvalid(display + ": not a .npy file (it does not start with \\x93NUMPY)");
  if (b.size() < 10) throwInvalid(display + ": truncated .npy header (" + std::to_string(b.size()) + " bytes)");
  const int major = b[6], minor = b[7];
  if ((major < 1 || major > 3) || minor != 0)
    throwUnsupported(display + ": .npy format version " + std::to_string(major) + "." + std::to_string(minor) +
                     " (effdl reads 1.0, 2.0 and 3.0)");
  const size_t lenBytes = major == 1 ? 2 : 4;
  const size_t start = 8 + lenBytes;
  if (b.size() < start) throwInvalid(display + ": truncated .npy header (" + std::to_string(b.size()) + " bytes)");
  const uint64_t headerLen = readLe(b.data() + 8, lenBytes);
  if (headerLen > b.size() - start)
    throwInvalid(display + ": .npy header length " + std::to_string(headerLen) + " goes beyond the end of the data (" +
                 std::to_string(b.size()) + " bytes)");
  // Versions 1 and 2 are latin-1, 3 is UTF-8; every byte the grammar accepts is ASCII either way.
  std::string_view text(reinterpret_cast<const char*>(b.data() + start), headerLen);
  auto h = HeaderParser(text, display).parse();

  NpyLayout l;
  l.dtype = parseDescr(h.descr, display);
  l.dims = std::move(h.shape);
  if (h.fortranOrder) {
    // With at most one dim above 1, Fortran and C order are the same bytes.
    auto big = std::count_if(l.dims.begin(), l.dims.end(), [](int64_t d) { return d > 1; });
    if (big > 1)
      throwUnsupported(display + ": array of shape " + shapeText(l.dims) +
                       " is stored in Fortran order; save it in C order (numpy.ascontiguousarray)");
  }
  auto numel = checkedElementCount(l.dims);
  if (!numel) throwInvalid(display + ": shape " + shapeText(l.dims) + " has more elements than fit in 64 bits");
  auto bytes = checkedMul(*numel, static_cast<int64_t>(l.dtype.itemSize));
  if (!bytes) throwInvalid(display + ": shape " + shapeText(l.dims) + " of '" + h.descr + "' overflows a 64-bit byte count");
  l.dataOffset = start + headerLen;
  l.dataBytes = static_cast<uint64_t>(*bytes);
  const uint64_t available = b.size() - l.dataOffset;
  if (l.dataBytes > available)
    throwInvalid(display + ": truncated: shape " + shapeText(l.dims) + " of '" + h.descr + "' needs " +
                 std::to_string(l.dataBytes) + " bytes of data but " + std::to_string(available) + " follow the header");
  if (l.dataBytes < available)
    throwInvalid(display + ": " + std::to_string(available - l.dataBytes) + " unexpected bytes after the array data (shape " +
                 shapeText(l.dims) + " of '" + h.descr + "')");
  return l;
}

void byteSwap(uint8_t* p, size_t n, size_t unit) {
  for (size_t i = 0; i + unit <= n; i += unit) std::reverse(p + i, p + i + unit);
}

ir::Tensor materialize(const NpyLayout& l, std::span<const uint8_t> b, const std::string& display, uint64_t maxBytes,
                       std::shared_ptr<const void> owner) {
  checkByteLimit(l.dataBytes, maxBytes, display);
  const uint8_t* src = b.data() + l.dataOffset;
  const size_t n = static_cast<size_t>(l.dataBytes);
  const bool isBool = l.dtype.dtype == ir::DataType::kBool;
  const bool canonicalBools = !isBool || std::all_of(src, src + n, [](uint8_t v) { return v <= 1; });
  const size_t align = std::min<size_t>(l.dtype.itemSize, alignof(std::max_align_t));
  if (owner && !l.dtype.bigEndian && canonicalBools && reinterpret_cast<uintptr_t>(src) % align == 0)
    return ir::Tensor(l.dtype.dtype, l.dims, std::move(owner), src, n);
  auto buf = allocateBytes(n, display);
  if (n) std::memcpy(buf->data(), src, n);
  if (l.dtype.bigEndian) byteSwap(buf->data(), n, l.dtype.swapUnit);
  // Kernels may rely on bools being 0 or 1; numpy reads any non-zero byte as True.
  if (!canonicalBools)
    for (auto& v : *buf) v = v != 0;
  return tensorOwning(l.dtype.dtype, l.dims, std::move(buf));
}

std::string_view descrOf(ir::DataType t) {
  using DT = ir::DataType;
  switch (t) {
    case DT::kFloat: return "<f4";
    case DT::kDouble: return "<f8";
    case DT::kFloat16: return "<f2";
    case DT::kInt8: return "|i1";
    case DT::kInt16: return "<i2";
    case DT::kInt32: return "<i4";
    case DT::kInt64: return "<i8";
    case DT::kUint8: return "|u1";
    case DT::kUint16: return "<u2";
    case DT::kUint32: return "<u4";
    case DT::kUint64: return "<u8";
    case DT::kBool: return "|b1";
    case DT::kComplex64: return "<c8";
    case DT::kComplex128: return "<c16";
    default: return {};
  }
}

}  // namespace

ir::Tensor readNpyBytes(std::span<const uint8_t> bytes, const std::string& display, uint64_t maxBytes,
                        std::shared_ptr<const void> owner) {
  NpyLayout l = parseLayout(bytes, display);
  return materialize(l, bytes, display, maxBytes, std::move(owner));
}

ir::Tensor readNpy(const std::filesystem::path& path, uint64_t maxBytes) {
  auto file = MappedFile::open(path);
  // Copied out of the map: the tensor must not fault if the file is truncated later.
  return readNpyBytes({file->data(), file->size()}, path.string(), maxBytes);
}

std::string npyHeader(const ir::Tensor& t, const std::string& display) {
  std::string_view descr = descrOf(t.dtype());
  if (descr.empty())
    throwUnsupported(display + ": a " + std::string(ir::dtypeName(t.dtype())) + " tensor cannot be stored in .npy");
  auto numel = checkedElementCount(t.dims());
  auto bytes = numel ? checkedMul(*numel, static_cast<int64_t>(ir::dtypeSize(t.dtype()))) : std::nullopt;
  if (!bytes || static_cast<uint64_t>(*bytes) != t.nbytes())
    throwInternal(display + ": tensor of shape " + shapeText(t.dims()) + " holds " + std::to_string(t.nbytes()) +
                  " bytes, which does not match its shape");
  std::string dict = "{'descr': '" + std::string(descr) + "', 'fortran_order': False, 'shape': " + shapeText(t.dims()) + ", }";
  // numpy leaves room for the first dim to grow to 21 digits, so a header can be rewritten in place.
  if (!t.dims().empty()) dict.append(21 - std::to_string(t.dims()[0]).size(), ' ');
  // Magic, version, length and header together are a multiple of 64 bytes, so the data is aligned.
  auto wrap = [&](size_t prefix) {
    size_t total = prefix + dict.size() + 1;
    size_t pad = (64 - total % 64) % 64;
    return dict + std::string(pad, ' ') + "\n";
  };
  std::string header = wrap(10);
  std::string out(kMagic);
  if (header.size() <= 0xFFFF) {
    out += '\x01';
    out += '\x00';
    out += static_cast<char>(header.size() & 0xFF);
    out += static_cast<char>(header.size() >> 8);
  } else {
    header = wrap(12);
    out += '\x02';
    out += '\x00';
    for (int i = 0; i < 4; ++i) out += static_cast<char>((header.size() >> (8 * i)) & 0xFF);
  }
  return out + header;
}

void writeNpy(const std::filesystem::path& path, const ir::Tensor& t) {
  std::string header = npyHeader(t, path.string());
  AtomicFileWriter w(path);
  w.write(header);
  if (t.nbytes()) w.write(t.data(), t.nbytes());
  w.commit();
}

}  // namespace effdl::io
