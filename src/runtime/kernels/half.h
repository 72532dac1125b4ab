// 16-bit floating-point storage types (float16, bfloat16) and their conversions to and from
// float. Kernels compute such tensors in float: convert a block, compute, convert back.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>

namespace effdl::runtime {

// Distinct types (not uint16_t) so templates can tell a float16 tensor from a uint16 one.
struct Half {
  uint16_t bits;
};
struct BFloat16 {
  uint16_t bits;
};

// Exact: every float16 is a float. Branch-light (after Fabian Giesen's half_to_float_fast) so
// bulk conversion loops vectorise.
inline float halfToFloat(uint16_t h) {
  constexpr uint32_t kShiftedExp = 0x7c00u << 13;  // the exponent mask, moved to float's position
  uint32_t u = (h & 0x7fffu) << 13;
  const uint32_t exp = u & kShiftedExp;
  u += (127 - 15) << 23;  // rebias the exponent
  if (exp == kShiftedExp) {
    u += (128 - 16) << 23;  // Inf/NaN: all-ones exponent
  } else if (exp == 0) {
    // Subnormal: renormalise by letting the FPU subtract the implicit bit.
    u += 1 << 23;
    u = std::bit_cast<uint32_t>(std::bit_cast<float>(u) - std::bit_cast<float>(113u << 23));
  }
  return std::bit_cast<float>(u | (static_cast<uint32_t>(h & 0x8000u) << 16));
}

// Round to nearest, ties to even; overflow gives ±Inf, NaN stays a (quiet) NaN.
inline uint16_t floatToHalf(float value) {
  constexpr uint32_t kF32Inf = 255u << 23;
  constexpr uint32_t kF16Max = (127u + 16) << 23;              // 2^16: first float that overflows
  constexpr uint32_t kDenormMagic = ((127u - 15) + (23 - 10) + 1) << 23;  // 0.5 in f16 subnormal ulps
  uint32_t u = std::bit_cast<uint32_t>(value);
  const uint32_t sign = u & 0x80000000u;
  u ^= sign;
  uint16_t o;
  if (u >= kF16Max) {
    o = u > kF32Inf ? 0x7e00 : 0x7c00;
  } else if (u < (113u << 23)) {
    // Result is subnormal or zero: the FPU's own rounding does round-to-nearest-even.
    const float f = std::bit_cast<float>(u) + std::bit_cast<float>(kDenormMagic);
    o = static_cast<uint16_t>(std::bit_cast<uint32_t>(f) - kDenormMagic);
  } else {
    const uint32_t mantOdd = (u >> 13) & 1;
    u += (static_cast<uint32_t>(15 - 127) << 23) + 0xfff;  // rebias and round
    u += mantOdd;                                          // ties to even
    o = static_cast<uint16_t>(u >> 13);
  }
  return static_cast<uint16_t>(o | (sign >> 16));
}

inline float bfloat16ToFloat(uint16_t b) { return std::bit_cast<float>(static_cast<uint32_t>(b) << 16); }

// Round to nearest, ties to even; NaN stays a (quiet) NaN.
inline uint16_t floatToBfloat16(float value) {
  const uint32_t u = std::bit_cast<uint32_t>(value);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40);
  return static_cast<uint16_t>((u + 0x7fffu + ((u >> 16) & 1)) >> 16);
}

inline float toFloat(Half h) { return halfToFloat(h.bits); }
inline float toFloat(BFloat16 b) { return bfloat16ToFloat(b.bits); }
template <typename T>
inline T fromFloat(float f);
template <>
inline Half fromFloat<Half>(float f) {
  return Half{floatToHalf(f)};
}
template <>
inline BFloat16 fromFloat<BFloat16>(float f) {
  return BFloat16{floatToBfloat16(f)};
}

inline void halfToFloat(const uint16_t* in, float* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = halfToFloat(in[i]);
}
inline void floatToHalf(const float* in, uint16_t* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = floatToHalf(in[i]);
}

}  // namespace effdl::runtime
