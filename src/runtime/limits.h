// Limits on what a model can make the runtime allocate. Output sizes that kernels compute from
// input VALUES (Reshape, Expand, Tile, Range, ConstantOfShape, Pad, ...) are refused above the
// limit before anything is allocated, so a hostile model gets an error instead of an OOM kill.
#pragma once

#include <atomic>
#include <cstdint>

namespace effdl::runtime {

// The default: far above any tensor a real model on this class of machine needs, far below what
// a 2^40-element request would ask for.
inline constexpr int64_t kMaxRuntimeTensorBytes = int64_t{16} << 30;  // 16 GiB

namespace detail {
inline std::atomic<int64_t> gMaxRuntimeTensorBytes{kMaxRuntimeTensorBytes};
}

// The limit in force (the CLI sets it from --max-tensor-bytes).
inline int64_t runtimeMaxTensorBytes() { return detail::gMaxRuntimeTensorBytes.load(std::memory_order_relaxed); }
inline void setRuntimeMaxTensorBytes(int64_t bytes) {
  detail::gMaxRuntimeTensorBytes.store(bytes, std::memory_order_relaxed);
}

}  // namespace effdl::runtime
