// Conv/ConvTranspose/MatMul/Gemm on float16 tensors (models written by --quantize fp16): oneDNN
// has no f16 conv/matmul on CPUs without avx512_fp16 (NOTES), so effdl's runtime computes them in
// float32: constant float16 weights are widened once at session build, other float16 inputs at
// each run, and float16 outputs are rounded back. Nodes without float16 get the inner kernel as is.
#pragma once

#include "runtime/kernel.h"

namespace effdl::runtime {

KernelFactory float16ViaFloat(KernelFactory inner);

}  // namespace effdl::runtime
