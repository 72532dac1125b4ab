// Activation buffers, reused across nodes and across runs. A value's buffer is released after its
// last reader (liveness is computed once per session), and a released buffer serves the next
// request it is big enough for (best fit), so steady-state runs allocate nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace effdl::runtime {

class BufferPool {
 public:
  static constexpr size_t kAlignment = 64;
  // Returns a buffer id; its memory holds at least `bytes`, aligned to kAlignment.
  int acquire(size_t bytes);
  void release(int id);
  void* data(int id) const { return buffers_[static_cast<size_t>(id)].ptr.get(); }
  // Bytes held by the pool (capacity), and the most in use at once.
  size_t capacityBytes() const { return capacity_; }
  size_t peakInUseBytes() const { return peakInUse_; }

 private:
  struct AlignedFree {
    void operator()(void* p) const;
  };
  struct Buffer {
    std::unique_ptr<void, AlignedFree> ptr;
    size_t size = 0;
    bool inUse = false;
  };
  std::vector<Buffer> buffers_;
  size_t capacity_ = 0, inUse_ = 0, peakInUse_ = 0;
};

}  // namespace effdl::runtime
