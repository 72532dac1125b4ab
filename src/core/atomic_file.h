// Writes an output file so that readers only ever see the old file or the complete new one:
// a uniquely named temp file in the target folder, fsync, rename over the target, fsync of the
// folder. An uncommitted writer removes its temp file; so does Ctrl-C (installSignalCleanup).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

namespace effdl {

class AtomicFileWriter {
 public:
  // Creates the temp file beside `target`. Throws kIo naming the folder when it cannot.
  explicit AtomicFileWriter(std::filesystem::path target);
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  void write(const void* data, size_t size);
  void write(const std::string& s) { write(s.data(), s.size()); }
  // Appends `size` bytes of file `srcFd` from `offset`, copied in the kernel (copy_file_range)
  // when the file systems allow, through memory from `fallback` otherwise.
  void copyFrom(int srcFd, uint64_t offset, size_t size, const void* fallback);
  uint64_t bytesWritten() const { return written_; }
  int fd() const { return fd_; }
  // fsync, rename to the target, fsync the folder. After this the destructor does nothing.
  void commit();

  const std::filesystem::path& target() const { return target_; }

 private:
  std::filesystem::path target_;
  std::filesystem::path temp_;
  int fd_ = -1;
  uint64_t written_ = 0;
  bool committed_ = false;
  int slot_ = -1;  // entry in the signal-cleanup registry
};

// Installs SIGINT/SIGTERM/SIGHUP handlers that unlink every live temp file, then re-raise the
// signal; ignores SIGXFSZ so that a file-size limit is a write error, not a kill.
void installSignalCleanup();

// True when a and b name the same existing file (hard links and symlinks included).
bool sameFile(const std::filesystem::path& a, const std::filesystem::path& b);

}  // namespace effdl
