// oneDNN ISA probing for int8 dot-product instructions; see the header.
#include "runtime/cpu_int8.h"

#include <oneapi/dnnl/dnnl.hpp>

namespace effdl::runtime {

std::string Int8Support::describe() const {
  if (avx512vnni) return "AVX512-VNNI";
  if (avxvnni) return "AVX-VNNI";
  if (avx2) return "AVX2 without VNNI";
  return "no AVX2";
}

const Int8Support& int8Support() {
  static const Int8Support s = [] {
    // ISA values are bit sets: a richer ISA (e.g. AMX) includes every bit of the ones below it.
    const auto isa = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
    auto includes = [&](unsigned want) { return (isa & want) == want; };
    Int8Support r;
    r.avx2 = includes(dnnl_cpu_isa_avx2);
    r.avx512bw = includes(dnnl_cpu_isa_avx512_core);
    r.avx512vnni = includes(dnnl_cpu_isa_avx512_core_vnni);
    r.avxvnni = includes(dnnl_cpu_isa_avx2_vnni);
    return r;
  }();
  return s;
}

}  // namespace effdl::runtime
