// mmap of a file, with the checks the external-data rules need taken from the same open fd
// (no check-then-open race).
#include "core/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/error.h"

namespace effdl {

std::shared_ptr<MappedFile> MappedFile::open(const std::filesystem::path& path, bool noFollow) {
  // O_NONBLOCK: opening a FIFO (or a device) for reading would otherwise wait for a writer before
  // the regular-file check below could refuse it. It changes nothing for regular files.
  int flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK;
  if (noFollow) flags |= O_NOFOLLOW;
  int fd = ::open(path.c_str(), flags);
  if (fd < 0) {
    int e = errno;
    if (e == ELOOP && noFollow) throwIo(path.string() + ": is a symlink, which is not allowed here");
    throwIo(path.string() + ": cannot open: " + std::strerror(e));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int e = errno;
    ::close(fd);
    throwIo(path.string() + ": cannot stat: " + std::strerror(e));
  }
  std::shared_ptr<MappedFile> f(new MappedFile());
  f->linkCount_ = st.st_nlink;
  f->isRegular_ = S_ISREG(st.st_mode);
  if (!f->isRegular_) {
    ::close(fd);
    throwIo(path.string() + ": not a regular file");
  }
  f->size_ = static_cast<size_t>(st.st_size);
  if (f->size_ > 0) {
    void* p = ::mmap(nullptr, f->size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      int e = errno;
      ::close(fd);
      throwIo(path.string() + ": cannot map: " + std::strerror(e));
    }
    f->data_ = static_cast<const uint8_t*>(p);
  }
  f->fd_ = fd;
  return f;
}

void MappedFile::dropPages(const uint8_t* p, size_t n) const {
  static const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const auto lo = reinterpret_cast<uintptr_t>(p), hi = lo + n;
  const auto base = reinterpret_cast<uintptr_t>(data_);
  if (data_ == nullptr || lo < base || hi > base + size_) return;  // not ours: nothing to drop
  const uintptr_t first = (lo + page - 1) / page * page, last = hi / page * page;
  // Advisory: a failure only leaves the pages resident.
  if (last > first) ::madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(const_cast<uint8_t*>(data_), size_);
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace effdl
