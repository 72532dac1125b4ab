// What this CPU offers oneDNN for int8 inference: the one probe behind both the int8 kernels'
// choice (runtime/kernels/int8_conv.cpp) and the quantize pass's note and the report's
// environment. Without VNNI, u8 x s8 dot products go through saturating int16 sums (vpmaddubsw):
// slower, and exact only when weights stay in [-64, 64] (hence --quantize-reduce-range).
#pragma once

#include <string>

namespace effdl::runtime {

struct Int8Support {
  bool avx2 = false, avx512bw = false, avx512vnni = false, avxvnni = false;
  bool vnni() const { return avx512vnni || avxvnni; }
  // "AVX512-VNNI" / "AVX-VNNI" / "AVX2 without VNNI" / "no AVX2".
  std::string describe() const;
};

// oneDNN's effective ISA (so ONEDNN_MAX_CPU_ISA caps it as it caps the kernels), probed once.
const Int8Support& int8Support();

// Whether oneDNN's int8 kernels compute exactly here: with VNNI (or AMX) always; without it
// only when every weight is in [-64, 64].
inline bool cpuHasInt8DotProduct() { return int8Support().vnni(); }

}  // namespace effdl::runtime
