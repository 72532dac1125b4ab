// Size arithmetic on untrusted numbers: every product/sum of dims or byte counts goes through
// these, so a hostile model cannot overflow a size into a small allocation.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

namespace effdl {

inline std::optional<int64_t> checkedMul(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
  return r;
}

inline std::optional<int64_t> checkedAdd(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) return std::nullopt;
  return r;
}

// Product of dims; nullopt when a dim is negative or the product overflows int64.
inline std::optional<int64_t> checkedElementCount(std::span<const int64_t> dims) {
  int64_t n = 1;
  for (int64_t d : dims) {
    if (d < 0) return std::nullopt;
    auto m = checkedMul(n, d);
    if (!m) return std::nullopt;
    n = *m;
  }
  return n;
}

}  // namespace effdl
