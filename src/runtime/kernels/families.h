// The kernel families. Each kernels/<family>.cpp defines its register function; the list below is
// the one place that names them all.
#pragma once

#include <vector>

namespace effdl::runtime {

class KernelRegistry;
using RegisterFamily = void (*)(KernelRegistry&);

void registerIdentityKernels(KernelRegistry& r);
void registerElementwiseKernels(KernelRegistry& r);  // kernels/elementwise*.cpp, activations.cpp, where.cpp
void registerControlFlowKernels(KernelRegistry& r);
void registerReduceKernels(KernelRegistry& r);
void registerSoftmaxKernels(KernelRegistry& r);
void registerPoolKernels(KernelRegistry& r);
void registerNormalizationKernels(KernelRegistry& r);
void registerResizeKernels(KernelRegistry& r);
void registerShapeKernels(KernelRegistry& r);
void registerLayoutKernels(KernelRegistry& r);
void registerGatherScatterKernels(KernelRegistry& r);
void registerCastKernels(KernelRegistry& r);
void registerSortSearchKernels(KernelRegistry& r);
void registerEinsumKernels(KernelRegistry& r);
void registerConvMatMulKernels(KernelRegistry& r);  // kernels/conv.cpp, kernels/matmul.cpp
void registerRecurrentKernels(KernelRegistry& r);
void registerQuantizeKernels(KernelRegistry& r);    // kernels/quantize.cpp
void registerQLinearKernels(KernelRegistry& r);     // kernels/qlinear.cpp
void registerSequenceKernels(KernelRegistry& r);    // kernels/sequence.cpp (SequenceMap: control_flow.cpp)
void registerOptionalKernels(KernelRegistry& r);
void registerStringKernels(KernelRegistry& r);      // kernels/string_normalizer.cpp
void registerGradientKernels(KernelRegistry& r);    // ai.onnx.preview.training Gradient

inline std::vector<RegisterFamily> kernelFamilies() {
  return {
      registerIdentityKernels,
      registerElementwiseKernels,
      registerControlFlowKernels,
      registerReduceKernels,
      registerSoftmaxKernels,
      registerPoolKernels,
      registerNormalizationKernels,
      registerResizeKernels,
      registerShapeKernels,
      registerLayoutKernels,
      registerGatherScatterKernels,
      registerCastKernels,
      registerSortSearchKernels,
      registerEinsumKernels,
      registerConvMatMulKernels,
      registerRecurrentKernels,
      registerQuantizeKernels,
      registerQLinearKernels,
      registerSequenceKernels,
      registerOptionalKernels,
      registerStringKernels,
      registerGradientKernels,
  };
}

}  // namespace effdl::runtime
