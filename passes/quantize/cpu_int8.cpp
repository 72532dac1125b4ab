// cpuid probing for int8 dot-product instructions; see the header.
#include "passes/quantize/cpu_int8.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace effdl::passes::quant {

std::string Int8Support::describe() const {
  if (avx512vnni) return "AVX512-VNNI";
  if (avxvnni) return "AVX-VNNI";
  if (avx2) return "AVX2 without VNNI";
  return "no AVX2";
}

Int8Support detectInt8Support() {
  Int8Support s;
#if defined(__x86_64__) || defined(__i386__)
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
    s.avx2 = (b >> 5) & 1;
    s.avx512bw = (b >> 30) & 1;
    s.avx512vnni = (c >> 11) & 1;
  }
  if (__get_cpuid_count(7, 1, &a, &b, &c, &d)) s.avxvnni = (a >> 4) & 1;
#endif
  return s;
}

}  // namespace effdl::passes::quant
