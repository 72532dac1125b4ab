// Best-fit reuse of aligned buffers (see buffer_pool.h).
#include "runtime/buffer_pool.h"

#include <cstdlib>
#include <new>

namespace effdl::runtime {

void BufferPool::AlignedFree::operator()(void* p) const { std::free(p); }

int BufferPool::acquire(size_t bytes) {
  if (bytes == 0) bytes = 1;
  int best = -1;
  for (size_t i = 0; i < buffers_.size(); ++i) {
    const Buffer& b = buffers_[i];
    if (b.inUse || b.size < bytes) continue;
    if (best < 0 || b.size < buffers_[static_cast<size_t>(best)].size) best = static_cast<int>(i);
  }
  if (best < 0) {
    // No free buffer is big enough: grow the largest free one rather than adding another, so a
    // pool whose shapes change does not accumulate buffers.
    int largestFree = -1;
    for (size_t i = 0; i < buffers_.size(); ++i)
      if (!buffers_[i].inUse && (largestFree < 0 || buffers_[i].size > buffers_[static_cast<size_t>(largestFree)].size))
        largestFree = static_cast<int>(i);
    size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
    void* p = std::aligned_alloc(kAlignment, rounded);
    if (!p) throw std::bad_alloc();
    if (largestFree >= 0) {
      Buffer& b = buffers_[static_cast<size_t>(largestFree)];
      capacity_ -= b.size;
      b.ptr.reset(p);
      b.size = rounded;
      best = largestFree;
    } else {
      Buffer b;
      b.ptr.reset(p);
      b.size = rounded;
      buffers_.push_back(std::move(b));
      best = static_cast<int>(buffers_.size() - 1);
    }
    capacity_ += rounded;
  }
  Buffer& b = buffers_[static_cast<size_t>(best)];
  b.inUse = true;
  inUse_ += b.size;
  if (inUse_ > peakInUse_) peakInUse_ = inUse_;
  return best;
}

void BufferPool::release(int id) {
  Buffer& b = buffers_[static_cast<size_t>(id)];
  if (!b.inUse) return;
  b.inUse = false;
  inUse_ -= b.size;
}

}  // namespace effdl::runtime
