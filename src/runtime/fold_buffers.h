// Buffers for the results of nodes folded at session build, recycled from intermediates that
// every reader has consumed. A sparse decode makes a chain of same-sized temporaries per weight
// (ranks, indices, ...); fresh allocations of that size come from mmap and pay a page fault per
// 4 KiB on first touch, which cost more than the decode's arithmetic. A recycled buffer is warm.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <utility>

namespace effdl::runtime {

class FoldBuffers {
 public:
  using Buffer = std::shared_ptr<uint8_t[]>;

  // A buffer of at least `bytes` (its capacity in *capacity): a released one that is not much
  // larger (results kept as weights should not sit in oversized buffers), else a fresh one.
  Buffer acquire(size_t bytes, size_t* capacity) {
    bytes = bytes ? bytes : 1;
    for (auto it = free_.begin(); it != free_.end(); ++it) {
      if (it->second >= bytes && it->second - bytes <= bytes / 8) {
        Buffer b = std::move(it->first);
        *capacity = it->second;
        free_.erase(it);
        return b;
      }
    }
    *capacity = bytes;
    return Buffer(new uint8_t[bytes]);
  }

  // Takes back a buffer whose last reader is done; ignored while something else still holds it.
  void release(Buffer b, size_t capacity) {
    if (!b || b.use_count() != 1 || capacity < kMinBytes) return;
    free_.emplace_back(std::move(b), capacity);
    if (free_.size() > kMaxFree) free_.pop_front();  // bounded: the oldest goes back to the system
  }

  size_t numFree() const { return free_.size(); }

  // Below this, malloc serves from its own warm heap; recycling only pays for mmap-sized buffers.
  static constexpr size_t kMinBytes = 64 * 1024;
  static constexpr size_t kMaxFree = 8;

 private:
  std::deque<std::pair<Buffer, size_t>> free_;
};

}  // namespace effdl::runtime
