// The arithmetic of quantization, free of graph edits: activation parameters from a range, and
// symmetric int8 weights per tensor, per channel, per row or per block.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <new>
#include <span>
#include <utility>
#include <vector>

namespace effdl::passes::quant {

// Activation parameters for a calibrated range [lo, hi] (widened to include 0, so that zero
// padding and ReLU's zeros are exact). u8: asymmetric, zero point in [0, 255]; s8: symmetric,
// zero point 0. A zero-width range gets scale 1 (any scale represents it exactly).
struct ActParams {
  float scale = 1.0f;
  int32_t zeroPoint = 0;
};
ActParams activationParams(float lo, float hi, bool u8);

// Symmetric int8 quantization of `w` seen as [outer, axisLen, inner] with one scale per index
// of the middle axis: q = round(w / s), s = max|w| / qmax, qmax = 127 (63 with reduce-range, for
// CPUs whose int8 dot product saturates int16 sums). Per-tensor: outer = w.size(), axisLen = 1.
// A vector whose new elements are left uninitialised: a quantized buffer is written in full right
// after it is sized, and zeroing a GiB of it first would cost a pass over memory.
template <typename T>
struct NoInitAllocator : std::allocator<T> {
  template <typename U>
  struct rebind {
    using other = NoInitAllocator<U>;
  };
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) {
    if constexpr (sizeof...(Args) == 0) ::new (static_cast<void*>(p)) U;
    else ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};
using Int8Buffer = std::vector<int8_t, NoInitAllocator<int8_t>>;

struct Quantized {
  Int8Buffer q;
  std::vector<float> scales;  // [axisLen]
};
// `done(first, count)`, when given, is called (possibly from several threads) once elements
// [first, first + count) have been read, so that the caller can drop their pages (see
// ir::Tensor::releasePages); it may be called more than once for the same elements.
using DoneFn = std::function<void(size_t first, size_t count)>;
Quantized quantizeAxis(std::span<const float> w, int64_t outer, int64_t axisLen, int64_t inner, bool reduceRange,
                       const DoneFn& done = {});

// Per-block along the middle axis: w as [outer, rows, inner] with rows = blocks * blockSize,
// one scale per (outer, block, inner) laid out [outer, blocks, 1, inner].
Quantized quantizeBlocks(std::span<const float> w, int64_t outer, int64_t rows, int64_t inner, int64_t blockSize,
                         bool reduceRange);

// int32 bias for an int8 op: round(b[o] / (sx * sw[o])) saturated to int32; sw has 1 or b.size()
// entries.
std::vector<int32_t> quantizeBias(std::span<const float> b, float sx, std::span<const float> sw);

}  // namespace effdl::passes::quant
