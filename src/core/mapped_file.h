// A read-only memory map of a whole file. Weights in external data are views into it, so
// loading a model never copies them; the map lives as long as any tensor refers to it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>

namespace effdl {

class MappedFile {
 public:
  // Maps `path` read-only. With `noFollow`, a symlink as the last component is refused
  // (O_NOFOLLOW). Throws effdl::Error (kIo) naming the file.
  static std::shared_ptr<MappedFile> open(const std::filesystem::path& path, bool noFollow = false);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  // st_nlink and st_mode of the opened file, for the external-data rules.
  uint64_t linkCount() const { return linkCount_; }
  bool isRegular() const { return isRegular_; }
  // The open descriptor (kept so that bytes can be copied file-to-file in the kernel).
  int fd() const { return fd_; }
  // Drops the whole pages inside [p, p + n) from this process's memory. They stay in the page
  // cache and fault back in if read again (the map is read-only, so no byte can change): a pass
  // over weights far larger than RAM keeps its resident set near one chunk, not the whole file.
  void dropPages(const uint8_t* p, size_t n) const;

 private:
  MappedFile() = default;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  uint64_t linkCount_ = 0;
  bool isRegular_ = false;
  int fd_ = -1;
};

}  // namespace effdl
