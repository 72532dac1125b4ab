// What this CPU offers for int8 inference (cpuid), so the quantize pass can say whether int8
// will be faster here: without VNNI, u8 x s8 dot products go through saturating int16 sums
// (vpmaddubsw), slower and the reason for --quantize-reduce-range.
#pragma once

#include <string>

namespace effdl::passes::quant {

struct Int8Support {
  bool avx2 = false, avx512bw = false, avx512vnni = false, avxvnni = false;
  bool vnni() const { return avx512vnni || avxvnni; }
  // "AVX512-VNNI" / "AVX-VNNI" / "AVX2 without VNNI" / "no AVX2".
  std::string describe() const;
};

Int8Support detectInt8Support();

}  // namespace effdl::passes::quant
