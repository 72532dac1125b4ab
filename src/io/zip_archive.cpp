// Zip reading and writing for .npz (see zip_archive.h). Only the central directory is trusted for
// sizes; every offset and size read from the archive is checked against the bytes that exist
// before it is used. Layouts follow PKWARE's APPNOTE.TXT (sections 4.3 and 4.5).
#include "io/zip_archive.h"

#include <zlib.h>

#include <algorithm>
#include <climits>
#include <set>

#include "core/checked_math.h"
#include "core/error.h"
#include "core/mapped_file.h"
#include "io/byte_limit.h"

namespace effdl::io {
namespace {

constexpr uint32_t kLocalSig = 0x04034b50;
constexpr uint32_t kCentralSig = 0x02014b50;
constexpr uint32_t kEndSig = 0x06054b50;
constexpr uint32_t kEnd64Sig = 0x06064b50;
constexpr uint32_t kEnd64LocatorSig = 0x07064b50;
constexpr size_t kLocalSize = 30, kCentralSize = 46, kEndSize = 22, kEnd64Size = 56, kLocatorSize = 20;
constexpr uint16_t kZip64ExtraId = 0x0001;
constexpr uint32_t kMax32 = 0xFFFFFFFF;
constexpr uint16_t kMax16 = 0xFFFF;

uint64_t le(const uint8_t* p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return v;
}
uint16_t le16(const uint8_t* p) { return static_cast<uint16_t>(le(p, 2)); }
uint32_t le32(const uint8_t* p) { return static_cast<uint32_t>(le(p, 4)); }
uint64_t le64(const uint8_t* p) { return le(p, 8); }

// crc32 over any length (zlib's length argument is 32-bit on some builds).
uint32_t crc32Of(uint32_t crc, const uint8_t* p, uint64_t n) {
  while (n > 0) {
    uInt chunk = static_cast<uInt>(std::min<uint64_t>(n, uint64_t{1} << 30));
    crc = static_cast<uint32_t>(::crc32(crc, p, chunk));
    p += chunk;
    n -= chunk;
  }
  return crc;
}

// True when [offset, offset + size) lies inside [0, limit).
bool fits(uint64_t offset, uint64_t size, uint64_t limit) { return offset <= limit && size <= limit - offset; }

void inflateInto(const uint8_t* in, uint64_t inSize, uint8_t* out, uint64_t outSize, const std::string& what) {
  z_stream zs{};
  if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) throwInternal(what + ": zlib could not start inflating");
  struct End {
    z_stream* s;
    ~End() { inflateEnd(s); }
  } end{&zs};
  uint8_t dummy = 0;  // zlib refuses a null output pointer, which an empty vector may give
  uint64_t inLeft = inSize, outLeft = outSize;
  zs.next_out = outSize ? out : &dummy;
  int rc = Z_OK;
  while (rc == Z_OK) {
    if (zs.avail_in == 0 && inLeft > 0) {
      uInt chunk = static_cast<uInt>(std::min<uint64_t>(inLeft, uint64_t{1} << 30));
      zs.next_in = const_cast<Bytef*>(in);
      zs.avail_in = chunk;
      in += chunk;
      inLeft -= chunk;
    }
    if (zs.avail_out == 0 && outLeft > 0) {
      uInt chunk = static_cast<uInt>(std::min<uint64_t>(outLeft, uint64_t{1} << 30));
      zs.next_out = out;
      zs.avail_out = chunk;
      out += chunk;
      outLeft -= chunk;
    }
    rc = inflate(&zs, Z_NO_FLUSH);
  }
  if (rc == Z_STREAM_END) {
    if (zs.avail_out != 0 || outLeft != 0)
      throwInvalid(what + ": inflates to fewer bytes than the " + std::to_string(outSize) + " the archive declares");
    return;
  }
  if (rc == Z_BUF_ERROR) {
    if (zs.avail_out == 0 && outLeft == 0)
      throwInvalid(what + ": inflates to more than the " + std::to_string(outSize) + " bytes the archive declares");
    throwInvalid(what + ": compressed data is truncated");
  }
  if (rc == Z_MEM_ERROR) throwUnsupported(what + ": out of memory while inflating");
  throwInvalid(what + ": corrupt deflate data" + (zs.msg ? std::string(" (") + zs.msg + ")" : std::string()));
}

void put16(std::string& s, uint64_t v) {
  for (int i = 0; i < 2; ++i) s += static_cast<char>((v >> (8 * i)) & 0xFF);
}
void put32(std::string& s, uint64_t v) {
  for (int i = 0; i < 4; ++i) s += static_cast<char>((v >> (8 * i)) & 0xFF);
}
void put64(std::string& s, uint64_t v) {
  for (int i = 0; i < 8; ++i) s += static_cast<char>((v >> (8 * i)) & 0xFF);
}

}  // namespace

ZipReader::ZipReader(std::span<const uint8_t> bytes, std::shared_ptr<const void> keepAlive, std::string display,
                     size_t maxEntries)
    : bytes_(bytes), keepAlive_(std::move(keepAlive)), display_(std::move(display)) {
  const uint8_t* b = bytes_.data();
  const uint64_t size = bytes_.size();
  auto bad = [&](const std::string& why) { throwInvalid(display_ + ": not a valid zip archive: " + why); };

  // The end record is the last thing in the file, followed only by its comment.
  if (size < kEndSize) bad("too short for an end-of-central-directory record");
  uint64_t endPos = UINT64_MAX;
  const uint64_t lowest = size > kEndSize + 0xFFFF ? size - kEndSize - 0xFFFF : 0;
  for (uint64_t p = size - kEndSize + 1; p-- > lowest;) {
    if (le32(b + p) == kEndSig && p + kEndSize + le16(b + p + 20) == size) {
      endPos = p;
      break;
    }
  }
  if (endPos == UINT64_MAX) bad("no end-of-central-directory record");
  const uint8_t* e = b + endPos;
  uint64_t diskNo = le16(e + 4), cdDisk = le16(e + 6), countDisk = le16(e + 8), count = le16(e + 10);
  uint64_t cdSize = le32(e + 12), cdOffset = le32(e + 16);
  uint64_t cdLimit = endPos;  // the central directory ends before the (zip64) end records

  if (endPos >= kLocatorSize && le32(b + endPos - kLocatorSize) == kEnd64LocatorSig) {
    const uint8_t* loc = b + endPos - kLocatorSize;
    uint64_t end64 = le64(loc + 8);
    if (le32(loc + 4) != 0 || le32(loc + 16) > 1) throwUnsupported(display_ + ": split (multi-disk) zip archives are not supported");
    if (!fits(end64, kEnd64Size, endPos - kLocatorSize) || le32(b + end64) != kEnd64Sig)
      bad("the zip64 end record lies outside the archive");
    const uint8_t* z = b + end64;
    diskNo = le32(z + 16);
    cdDisk = le32(z + 20);
    countDisk = le64(z + 24);
    count = le64(z + 32);
    cdSize = le64(z + 40);
    cdOffset = le64(z + 48);
    cdLimit = end64;
  }
  if (diskNo != 0 || cdDisk != 0 || countDisk != count)
    throwUnsupported(display_ + ": split (multi-disk) zip archives are not supported");
  if (count > maxEntries)
    throwInvalid(display_ + ": the zip archive claims " + std::to_string(count) + " members, above effdl's limit of " +
                 std::to_string(maxEntries));
  if (!fits(cdOffset, cdSize, cdLimit)) bad("the central directory lies outside the archive");
  if (count * kCentralSize > cdSize) bad("the central directory is too small for " + std::to_string(count) + " members");

  std::set<std::string> names;
  entries_.reserve(static_cast<size_t>(count));
  uint64_t pos = cdOffset;
  const uint64_t cdEnd = cdOffset + cdSize;
  for (uint64_t i = 0; i < count; ++i) {
    const std::string which = "central directory entry " + std::to_string(i);
    if (!fits(pos, kCentralSize, cdEnd) || le32(b + pos) != kCentralSig) bad(which + " is missing or truncated");
    const uint8_t* c = b + pos;
    const uint16_t flags = le16(c + 8);
    ZipEntry entry;
    entry.method = le16(c + 10);
    entry.crc32 = le32(c + 16);
    entry.compressedSize = le32(c + 20);
    entry.uncompressedSize = le32(c + 24);
    const uint64_t nameLen = le16(c + 28), extraLen = le16(c + 30), commentLen = le16(c + 32);
    uint64_t diskStart = le16(c + 34);
    uint64_t localOffset = le32(c + 42);
    const uint64_t varLen = nameLen + extraLen + commentLen;
    if (!fits(pos + kCentralSize, varLen, cdEnd)) bad(which + " runs past the central directory");
    entry.name.assign(reinterpret_cast<const char*>(c + kCentralSize), nameLen);
    const std::string label = display_ + ": member '" + entry.name + "'";

    // Zip64 extra field: the 64-bit values of exactly those fields that hold 0xFFFFFFFF, in order.
    const bool needs64 = entry.uncompressedSize == kMax32 || entry.compressedSize == kMax32 ||
                         localOffset == kMax32 || diskStart == kMax16;
    if (needs64) {
      const uint8_t* x = c + kCentralSize + nameLen;
      const uint8_t* xEnd = x + extraLen;
      bool found = false;
      while (xEnd - x >= 4) {
        const uint16_t id = le16(x), len = le16(x + 2);
        if (static_cast<ptrdiff_t>(len) > xEnd - x - 4) bad(which + " has a malformed extra field");
        if (id == kZip64ExtraId) {
          const uint8_t* v = x + 4;
          uint64_t left = len;
          auto take = [&](uint64_t& field, size_t width) {
            if (left < width) bad(which + " has a truncated zip64 extra field");
            field = le(v, width);
            v += width;
            left -= width;
          };
          if (entry.uncompressedSize == kMax32) take(entry.uncompressedSize, 8);
          if (entry.compressedSize == kMax32) take(entry.compressedSize, 8);
          if (localOffset == kMax32) take(localOffset, 8);
          if (diskStart == kMax16) take(diskStart, 4);
          found = true;
          break;
        }
        x += 4 + len;
      }
      if (!found) bad(which + " has 32-bit fields set to their zip64 marker but no zip64 extra field");
    }
    pos += kCentralSize + varLen;

    if (flags & 0x0001 || flags & 0x0040 || flags & 0x2000) throwUnsupported(label + " is encrypted");
    if (entry.method != 0 && entry.method != 8)
      throwUnsupported(label + " uses compression method " + std::to_string(entry.method) +
                       " (effdl reads stored and deflate, which numpy.savez and savez_compressed write)");
    if (diskStart != 0) throwUnsupported(display_ + ": split (multi-disk) zip archives are not supported");
    if (entry.method == 0 && entry.compressedSize != entry.uncompressedSize)
      bad("stored member '" + entry.name + "' has different compressed and uncompressed sizes");
    if (!names.insert(entry.name).second) throwInvalid(display_ + ": two members are named '" + entry.name + "'");

    // The local header repeats the name; its extra field may differ (zip64 sizes), so only its
    // length is used. The data lies between it and the central directory.
    if (!fits(localOffset, kLocalSize, cdOffset))
      throwInvalid(label + ": its offset " + std::to_string(localOffset) + " lies outside the archive's data (" +
                   std::to_string(cdOffset) + " bytes)");
    const uint8_t* l = b + localOffset;
    if (le32(l) != kLocalSig) bad("member '" + entry.name + "' has no local header at offset " + std::to_string(localOffset));
    const uint64_t localName = le16(l + 26), localExtra = le16(l + 28);
    if (!fits(localOffset + kLocalSize, localName + localExtra, cdOffset))
      throwInvalid(label + ": its local header runs past the archive's data");
    if (std::string_view(reinterpret_cast<const char*>(l + kLocalSize), localName) != entry.name)
      bad("member '" + entry.name + "' has a different name in its local header");
    entry.dataOffset = localOffset + kLocalSize + localName + localExtra;
    if (!fits(entry.dataOffset, entry.compressedSize, cdOffset))
      throwInvalid(label + ": its " + std::to_string(entry.compressedSize) + " bytes at offset " +
                   std::to_string(entry.dataOffset) + " run past the archive's data (" + std::to_string(cdOffset) +
                   " bytes)");
    entries_.push_back(std::move(entry));
  }
}

ZipReader ZipReader::open(const std::filesystem::path& path, size_t maxEntries) {
  std::shared_ptr<const MappedFile> file = MappedFile::open(path);
  std::span<const uint8_t> bytes(file->data(), file->size());
  return ZipReader(bytes, std::move(file), path.string(), maxEntries);
}

ZipReader::Data ZipReader::read(const ZipEntry& e, uint64_t maxBytes) const {
  const std::string what = display_ + ": member '" + e.name + "'";
  checkByteLimit(e.uncompressedSize, maxBytes, what);
  const uint8_t* src = bytes_.data() + e.dataOffset;
  Data out;
  if (e.method == 0) {
    out.bytes = {src, static_cast<size_t>(e.uncompressedSize)};
  } else {
    auto buf = allocateBytes(e.uncompressedSize, what);
    inflateInto(src, e.compressedSize, buf->data(), buf->size(), what);
    out.bytes = {buf->data(), buf->size()};
    out.owner = std::shared_ptr<const void>(buf, buf.get());
  }
  const uint32_t crc = crc32Of(0, out.bytes.data(), out.bytes.size());
  if (crc != e.crc32) throwInvalid(what + ": CRC-32 mismatch (the archive is corrupt)");
  return out;
}

ZipWriter::ZipWriter(const std::filesystem::path& target, bool forceZip64) : out_(target), forceZip64_(forceZip64) {}

void ZipWriter::addStored(const std::string& name, std::span<const std::span<const uint8_t>> parts) {
  if (name.empty() || name.size() > kMax16) throwUsage(out_.target().string() + ": member name must have 1 to 65535 bytes");
  uint64_t size = 0;
  uint32_t crc = 0;
  for (auto p : parts) {
    if (p.empty()) continue;  // crc32(…, nullptr, 0) would reset the CRC
    crc = crc32Of(crc, p.data(), p.size());
    size += p.size();
  }
  const uint64_t offset = out_.bytesWritten();
  const bool zip64 = forceZip64_ || size >= kMax32;
  const bool utf8 = std::any_of(name.begin(), name.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
  std::string h;
  put32(h, kLocalSig);
  put16(h, zip64 ? 45 : 20);  // version needed: 4.5 for zip64, 2.0 otherwise
  put16(h, utf8 ? 0x0800 : 0);
  put16(h, 0);       // stored
  put16(h, 0);       // time 00:00:00
  put16(h, 0x0021);  // date 1980-01-01: fixed, so the same tensors give the same bytes
  put32(h, crc);
  put32(h, zip64 ? kMax32 : size);
  put32(h, zip64 ? kMax32 : size);
  put16(h, name.size());
  put16(h, zip64 ? 20 : 0);
  h += name;
  if (zip64) {
    put16(h, kZip64ExtraId);
    put16(h, 16);
    put64(h, size);
    put64(h, size);
  }
  out_.write(h);
  for (auto p : parts)
    if (!p.empty()) out_.write(p.data(), p.size());
  written_.push_back({name, crc, size, offset});
}

void ZipWriter::commit() {
  const uint64_t cdOffset = out_.bytesWritten();
  std::string cd;
  for (const auto& w : written_) {
    const bool bigSize = forceZip64_ || w.size >= kMax32;
    const bool bigOffset = forceZip64_ || w.offset >= kMax32;
    const bool utf8 = std::any_of(w.name.begin(), w.name.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
    std::string extra;
    if (bigSize || bigOffset) {
      put16(extra, kZip64ExtraId);
      put16(extra, (bigSize ? 16 : 0) + (bigOffset ? 8 : 0));
      if (bigSize) {
        put64(extra, w.size);
        put64(extra, w.size);
      }
      if (bigOffset) put64(extra, w.offset);
    }
    const uint16_t version = extra.empty() ? 20 : 45;
    put32(cd, kCentralSig);
    put16(cd, (3 << 8) | version);  // made by: Unix
    put16(cd, version);
    put16(cd, utf8 ? 0x0800 : 0);
    put16(cd, 0);
    put16(cd, 0);
    put16(cd, 0x0021);
    put32(cd, w.crc32);
    put32(cd, bigSize ? kMax32 : w.size);
    put32(cd, bigSize ? kMax32 : w.size);
    put16(cd, w.name.size());
    put16(cd, extra.size());
    put16(cd, 0);                   // comment
    put16(cd, 0);                   // disk
    put16(cd, 0);                   // internal attributes
    put32(cd, 0100644u << 16);      // external attributes: a regular file, rw-r--r--
    put32(cd, bigOffset ? kMax32 : w.offset);
    cd += w.name;
    cd += extra;
  }
  const uint64_t count = written_.size();
  const uint64_t cdSize = cd.size();
  const bool zip64 = forceZip64_ || count >= kMax16 || cdOffset >= kMax32 || cdSize >= kMax32;
  if (zip64) {
    const uint64_t end64 = cdOffset + cdSize;
    put32(cd, kEnd64Sig);
    put64(cd, kEnd64Size - 12);  // size of the rest of this record
    put16(cd, (3 << 8) | 45);
    put16(cd, 45);
    put32(cd, 0);
    put32(cd, 0);
    put64(cd, count);
    put64(cd, count);
    put64(cd, cdSize);
    put64(cd, cdOffset);
    put32(cd, kEnd64LocatorSig);
    put32(cd, 0);
    put64(cd, end64);
    put32(cd, 1);
  }
  put32(cd, kEndSig);
  put16(cd, 0);
  put16(cd, 0);
  put16(cd, zip64 ? kMax16 : count);
  put16(cd, zip64 ? kMax16 : count);
  put32(cd, zip64 ? kMax32 : cdSize);
  put32(cd, zip64 ? kMax32 : cdOffset);
  put16(cd, 0);
  out_.write(cd);
  out_.commit();
}

}  // namespace effdl::io
