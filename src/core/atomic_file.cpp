// Temp file + fsync + rename, and a signal-safe registry of live temp files.
#include "core/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <random>

#include "core/error.h"

namespace effdl {
namespace {

// Fixed-size registry readable from a signal handler: no allocation, no locks.
constexpr size_t kMaxLiveTemps = 64;
constexpr size_t kMaxPath = 4096;
std::array<std::array<char, kMaxPath>, kMaxLiveTemps> gTempPaths{};
std::array<std::atomic<bool>, kMaxLiveTemps> gTempUsed{};

int registerTemp(const std::string& path) {
  if (path.size() + 1 > kMaxPath) return -1;
  for (size_t i = 0; i < kMaxLiveTemps; ++i) {
    bool expected = false;
    if (gTempUsed[i].compare_exchange_strong(expected, true)) {
      std::memcpy(gTempPaths[i].data(), path.c_str(), path.size() + 1);
      return static_cast<int>(i);
    }
  }
  return -1;
}

void unregisterTemp(int slot) {
  if (slot >= 0) gTempUsed[static_cast<size_t>(slot)].store(false);
}


void cleanupHandler(int sig) {
  for (size_t i = 0; i < kMaxLiveTemps; ++i) {
    if (gTempUsed[i].load()) ::unlink(gTempPaths[i].data());
  }
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

std::string randomSuffix() {
  static std::atomic<uint64_t> counter{0};
  std::random_device rd;
  uint64_t v = (static_cast<uint64_t>(rd()) << 32) ^ rd() ^ (counter++ * 0x9E3779B97F4A7C15ull) ^
               static_cast<uint64_t>(::getpid());
  static const char* hex = "0123456789abcdef";
  std::string s(12, '0');
  for (auto& c : s) {
    c = hex[v & 15];
    v >>= 4;
  }
  return s;
}

mode_t currentUmask() {
  // umask can only be read by setting it; done once, before threads start writing.
  static const mode_t mask = [] {
    mode_t m = ::umask(0);
    ::umask(m);
    return m;
  }();
  return mask;
}

void fsyncDir(const std::filesystem::path& dir) {
  int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace


AtomicFileWriter::AtomicFileWriter(std::filesystem::path target) : target_(std::move(target)) {
  auto dir = target_.parent_path();
  auto base = target_.filename().string();
  mode_t mode = 0666 & ~currentUmask();
  for (int attempt = 0; attempt < 16 && fd_ < 0; ++attempt) {
    temp_ = dir / ("." + base + ".tmp-" + randomSuffix());
    fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd_ < 0 && errno != EEXIST) break;
  }
  if (fd_ < 0) {
    throwIo(target_.string() + ": cannot create a file in '" + (dir.empty() ? "." : dir.string()) +
            "': " + std::strerror(errno));
  }
  slot_ = registerTemp(temp_.string());
}

AtomicFileWriter::~AtomicFileWriter() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(temp_.c_str());
  unregisterTemp(slot_);
}

void AtomicFileWriter::write(const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    size_t chunk = size < (size_t{1} << 30) ? size : (size_t{1} << 30);
    ssize_t n = ::write(fd_, p, chunk);
    if (n < 0) {
      if (errno == EINTR) continue;
      throwIo(target_.string() + ": write failed: " + std::strerror(errno));
    }
    p += n;
    size -= static_cast<size_t>(n);
    written_ += static_cast<uint64_t>(n);
  }
}

void AtomicFileWriter::copyFrom(int srcFd, uint64_t offset, size_t size, const void* fallback) {
  loff_t in = static_cast<loff_t>(offset);
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::copy_file_range(srcFd, &in, fd_, nullptr, size - done, 0);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      break;  // EXDEV, ENOSYS, EINVAL...: finish through memory
    }
    done += static_cast<size_t>(n);
    written_ += static_cast<uint64_t>(n);
  }
  if (done < size) write(static_cast<const char*>(fallback) + done, size - done);
}

void AtomicFileWriter::commit() {
  if (::fsync(fd_) != 0) throwIo(target_.string() + ": fsync failed: " + std::strerror(errno));
  if (::close(fd_) != 0) {
    fd_ = -1;
    throwIo(target_.string() + ": close failed: " + std::strerror(errno));
  }
  fd_ = -1;
  if (::rename(temp_.c_str(), target_.c_str()) != 0) {
    throwIo(target_.string() + ": cannot rename into place: " + std::strerror(errno));
  }
  committed_ = true;
  unregisterTemp(slot_);
  slot_ = -1;
  fsyncDir(target_.parent_path());
}

void installSignalCleanup() {
  std::signal(SIGINT, cleanupHandler);
  std::signal(SIGTERM, cleanupHandler);
  std::signal(SIGHUP, cleanupHandler);
  // Past a file-size limit (ulimit -f) write() then fails with EFBIG instead of the process being
  // killed with a temp file left behind: the error path removes it and reports the failure.
  std::signal(SIGXFSZ, SIG_IGN);
}

bool sameFile(const std::filesystem::path& a, const std::filesystem::path& b) {
  std::error_code ec;
  bool eq = std::filesystem::equivalent(a, b, ec);
  return !ec && eq;
}

}  // namespace effdl
