// Cast between string tensors and numbers, as ONNX's Cast spec and ONNX Runtime do it:
//   number → string: integers in decimal; floats (float16/bfloat16 through float) in the shortest
//     form that reads back to the same value (std::to_chars), NaN as "NaN", ±infinity as
//     "INF"/"-INF"; bool as "1"/"0".
//   string → number: the whole string must be a number (strtod/strtoll rules: leading spaces,
//     "NaN", "INF", "+INF", "-INF", "inf", "infinity" in any case); anything else is a run error
//     naming the element. Integers out of the target's range saturate; bool is "nonzero".
#pragma once

#include "runtime/kernel.h"

namespace effdl::runtime {

// y (numeric, allocated by the caller) = x (string) converted.
void castFromStrings(const KernelIo& io, const RtTensor& x, RtTensor& y);
// y (string, from KernelIo::allocStringOutput) = x (numeric) formatted.
void castToStrings(const KernelIo& io, const RtTensor& x, RtTensor& y);

}  // namespace effdl::runtime
