// String <-> number conversion for Cast (see string_cast.h).
#include "runtime/kernels/string_cast.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>

#include "runtime/kernels/shape_numeric.h"

namespace effdl::runtime {
namespace {

using shape_detail::Arith;
using shape_detail::dispatchNumeric;

template <typename F>
std::string formatFloat(F v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "INF" : "-INF";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

template <typename T>
std::string format(T v) {
  if constexpr (std::is_same_v<T, bool>) {
    return v ? "1" : "0";
  } else if constexpr (std::is_floating_point_v<T>) {
    return formatFloat(v);
  } else if constexpr (std::is_integral_v<T>) {
    return std::to_string(v);
  } else {  // Float16, BFloat16: their value as a float
    return formatFloat(Arith<T>::load(v));
  }
}

[[noreturn]] void notANumber(const KernelIo& io, int64_t i, const std::string& s, const char* type) {
  throwRunError(io, "element " + std::to_string(i) + " ('" + s.substr(0, 40) + "') is not a " + type);
}

template <typename T>
T parse(const KernelIo& io, int64_t i, const std::string& s) {
  const char* begin = s.c_str();
  char* end = nullptr;
  errno = 0;
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    if constexpr (std::is_signed_v<T>) {
      long long v = std::strtoll(begin, &end, 10);
      if (end == begin || *end != '\0') notANumber(io, i, s, "number");
      if (v < std::numeric_limits<T>::min()) return std::numeric_limits<T>::min();
      if (v > std::numeric_limits<T>::max()) return std::numeric_limits<T>::max();
      return static_cast<T>(v);
    } else {
      if (s.find('-') != std::string::npos) return 0;  // negative: saturates at 0
      unsigned long long v = std::strtoull(begin, &end, 10);
      if (end == begin || *end != '\0') notANumber(io, i, s, "number");
      if (v > std::numeric_limits<T>::max()) return std::numeric_limits<T>::max();
      return static_cast<T>(v);
    }
  } else {
    double v = std::strtod(begin, &end);  // ERANGE: ±HUGE_VAL or a denormal, both fine
    if (end == begin || *end != '\0') notANumber(io, i, s, "number");
    if constexpr (std::is_same_v<T, bool>) return v != 0;
    else if constexpr (std::is_floating_point_v<T>) return static_cast<T>(v);
    else return Arith<T>::store(static_cast<float>(v));
  }
}

}  // namespace

void castFromStrings(const KernelIo& io, const RtTensor& x, RtTensor& y) {
  const auto* in = x.as<std::string>();
  const int64_t n = x.numel();
  const bool ok = dispatchNumeric(
      y.dtype,
      [&](auto tag) {
        using D = decltype(tag);
        D* out = static_cast<D*>(y.data);
        for (int64_t i = 0; i < n; ++i) out[i] = parse<D>(io, i, in[i]);
      },
      true);
  if (!ok) throwRunError(io, "cast from string to " + std::string(ir::dtypeName(y.dtype)) + " is not supported");
}

void castToStrings(const KernelIo& io, const RtTensor& x, RtTensor& y) {
  auto* out = y.as<std::string>();
  const int64_t n = x.numel();
  const bool ok = dispatchNumeric(
      x.dtype,
      [&](auto tag) {
        using S = decltype(tag);
        const S* in = static_cast<const S*>(x.data);
        for (int64_t i = 0; i < n; ++i) out[i] = format(in[i]);
      },
      true);
  if (!ok) throwRunError(io, "cast from " + std::string(ir::dtypeName(x.dtype)) + " to string is not supported");
}

}  // namespace effdl::runtime
