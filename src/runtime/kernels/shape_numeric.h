// Typed helpers for the few data-movement kernels that must look at values (Cast, TopK, ArgMax,
// CumSum, Scatter reductions, Einsum, Range): 16-bit float conversions, a compute type per
// element type (float for float16/bfloat16), and a dispatch from ir::DataType to a C++ type.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

#include "ir/dtype.h"

namespace effdl::runtime::shape_detail {

// Storage types for the 16-bit floats: arithmetic goes through float.
struct Float16 {
  uint16_t bits;
};
struct BFloat16 {
  uint16_t bits;
};

inline float halfToFloat(uint16_t h) {
  uint32_t sign = (h & 0x8000u) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ffu, bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: normalise
      exp = 127 - 15 + 1;
      while (!(mant & 0x400u)) {
        mant <<= 1;
        --exp;
      }
      bits = sign | (exp << 23) | ((mant & 0x3ffu) << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp - 15 + 127) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// Round to nearest even, overflow to infinity, NaN kept quiet.
inline uint16_t floatToHalf(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t absx = x & 0x7fffffffu;
  if (absx >= 0x7f800000u) return static_cast<uint16_t>(sign | (absx > 0x7f800000u ? 0x7e00u : 0x7c00u));
  if (absx >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // rounds to >= 65520: inf
  if (absx < 0x38800000u) {                                      // below the smallest normal half: subnormal or zero
    if (absx < 0x33000000u) return static_cast<uint16_t>(sign);  // < 2^-25 rounds to 0
    const uint32_t mant = (absx & 0x7fffffu) | 0x800000u;
    const int shift = 126 - static_cast<int>(absx >> 23);  // 14..24
    uint32_t h = mant >> shift;
    const uint32_t rem = mant & ((1u << shift) - 1), half = 1u << (shift - 1);
    if (rem > half || (rem == half && (h & 1u))) ++h;
    return static_cast<uint16_t>(sign | h);
  }
  uint32_t h = ((absx >> 13) - ((127 - 15) << 10));
  const uint32_t rem = absx & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) ++h;
  return static_cast<uint16_t>(sign | h);
}

inline float bfloat16ToFloat(uint16_t b) {
  uint32_t bits = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// Round to nearest even (as ONNX Runtime), NaN kept quiet.
inline uint16_t floatToBfloat16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);
  x += 0x7fffu + ((x >> 16) & 1u);
  return static_cast<uint16_t>(x >> 16);
}

// The type arithmetic is done in, and conversions to and from it.
template <typename T>
struct Arith {
  using Compute = T;
  static Compute load(T v) { return v; }
  static T store(Compute v) { return v; }
};
template <>
struct Arith<Float16> {
  using Compute = float;
  static float load(Float16 v) { return halfToFloat(v.bits); }
  static Float16 store(float v) { return {floatToHalf(v)}; }
};
template <>
struct Arith<BFloat16> {
  using Compute = float;
  static float load(BFloat16 v) { return bfloat16ToFloat(v.bits); }
  static BFloat16 store(float v) { return {floatToBfloat16(v)}; }
};

// a + b and a * b that wrap for integers instead of overflowing (signed overflow is undefined,
// and uint16 * uint16 promotes to int and can overflow too).
template <typename C>
C wrapAdd(C a, C b) {
  if constexpr (std::is_integral_v<C> && !std::is_same_v<C, bool>) {
    using U = std::make_unsigned_t<decltype(a + b)>;
    return static_cast<C>(static_cast<U>(a) + static_cast<U>(b));
  } else {
    return static_cast<C>(a + b);
  }
}
template <typename C>
C wrapMul(C a, C b) {
  if constexpr (std::is_integral_v<C> && !std::is_same_v<C, bool>) {
    using U = std::make_unsigned_t<decltype(a * b)>;
    return static_cast<C>(static_cast<U>(a) * static_cast<U>(b));
  } else {
    return static_cast<C>(a * b);
  }
}

// double → T without undefined behaviour: integers truncate toward zero and saturate at T's
// range, NaN becomes 0; bool is v != 0.
template <typename T>
T fromDouble(double v) {
  if constexpr (std::is_same_v<T, bool>) {
    return v != 0;
  } else if constexpr (std::is_integral_v<T>) {
    if (std::isnan(v)) return 0;
    if (v <= static_cast<double>(std::numeric_limits<T>::min())) return std::numeric_limits<T>::min();
    // max() as double may round up (int64, uint64): compare with >=.
    if (v >= static_cast<double>(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
    return static_cast<T>(v);
  } else if constexpr (std::is_floating_point_v<T>) {
    return static_cast<T>(v);
  } else {
    return Arith<T>::store(static_cast<float>(v));
  }
}

// Calls f(T{}) with the C++ type of `dt` among the numeric types (bool as bool when withBool).
// Returns false for other types (string, complex, undefined).
template <typename F>
bool dispatchNumeric(ir::DataType dt, F&& f, bool withBool = false) {
  using DT = ir::DataType;
  switch (dt) {
    case DT::kFloat:
      f(float{});
      return true;
    case DT::kDouble:
      f(double{});
      return true;
    case DT::kFloat16:
      f(Float16{});
      return true;
    case DT::kBfloat16:
      f(BFloat16{});
      return true;
    case DT::kInt8:
      f(int8_t{});
      return true;
    case DT::kInt16:
      f(int16_t{});
      return true;
    case DT::kInt32:
      f(int32_t{});
      return true;
    case DT::kInt64:
      f(int64_t{});
      return true;
    case DT::kUint8:
      f(uint8_t{});
      return true;
    case DT::kUint16:
      f(uint16_t{});
      return true;
    case DT::kUint32:
      f(uint32_t{});
      return true;
    case DT::kUint64:
      f(uint64_t{});
      return true;
    case DT::kBool:
      if (!withBool) return false;
      f(bool{});
      return true;
    default:
      return false;
  }
}

// NaN-aware ordering for TopK/ArgMax: NaN is greater than every number (as ONNX Runtime's TopK).
template <typename C>
inline bool greaterNanFirst(C a, C b) {
  if constexpr (std::is_floating_point_v<C>) {
    if (std::isnan(a)) return !std::isnan(b);
    if (std::isnan(b)) return false;
  }
  return a > b;
}

}  // namespace effdl::runtime::shape_detail
