// The zip container of .npz files: a defensive reader (central directory bounds-checked, zip64,
// stored and deflate members, CRC-checked) and a writer of stored members.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/atomic_file.h"

namespace effdl::io {

// More members than this is not an .npz anyone wrote by hand, and listing them costs memory.
constexpr size_t kMaxZipEntries = 65536;

struct ZipEntry {
  std::string name;
  uint16_t method = 0;  // 0 stored, 8 deflate
  uint32_t crc32 = 0;
  uint64_t compressedSize = 0;
  uint64_t uncompressedSize = 0;
  uint64_t dataOffset = 0;  // of the member's (compressed) bytes in the archive
};

class ZipReader {
 public:
  // Parses the central directory of the archive in `bytes`, which `keepAlive` (may be null) keeps
  // valid for the reader's lifetime. Throws kInvalidModel for a malformed archive, kUnsupported
  // for encryption, split archives and compression methods other than stored and deflate.
  ZipReader(std::span<const uint8_t> bytes, std::shared_ptr<const void> keepAlive, std::string display,
            size_t maxEntries = kMaxZipEntries);
  // Maps `path` (kIo when it cannot be opened).
  static ZipReader open(const std::filesystem::path& path, size_t maxEntries = kMaxZipEntries);

  const std::vector<ZipEntry>& entries() const { return entries_; }
  const std::string& display() const { return display_; }

  struct Data {
    std::span<const uint8_t> bytes;     // valid while the reader lives, or while `owner` does
    std::shared_ptr<const void> owner;  // set when `bytes` is a fresh buffer (inflated)
  };
  // The member's bytes after CRC check: a view into the archive (stored) or an inflated buffer.
  // Members whose uncompressed size exceeds `maxBytes` are refused before inflating.
  Data read(const ZipEntry& e, uint64_t maxBytes) const;

 private:
  std::span<const uint8_t> bytes_;
  std::shared_ptr<const void> keepAlive_;
  std::string display_;
  std::vector<ZipEntry> entries_;
};

class ZipWriter {
 public:
  // Writes `target` atomically when committed. `forceZip64` writes zip64 records even for small
  // archives (tests use it to exercise the reader's zip64 path).
  explicit ZipWriter(const std::filesystem::path& target, bool forceZip64 = false);

  // Appends a stored (uncompressed) member whose bytes are `parts` concatenated.
  void addStored(const std::string& name, std::span<const std::span<const uint8_t>> parts);
  // Writes the central directory and renames the file into place.
  void commit();

 private:
  struct Written {
    std::string name;
    uint32_t crc32;
    uint64_t size;
    uint64_t offset;
  };
  AtomicFileWriter out_;
  bool forceZip64_;
  std::vector<Written> written_;
};

}  // namespace effdl::io
