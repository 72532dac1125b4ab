// The kernel families. Each kernels/<family>.cpp defines its register function; the list below is
// the one place that names them all.
#pragma once

#include <vector>

namespace effdl::runtime {

class KernelRegistry;
using RegisterFamily = void (*)(KernelRegistry&);

void registerIdentityKernels(KernelRegistry& r);
void registerControlFlowKernels(KernelRegistry& r);

inline std::vector<RegisterFamily> kernelFamilies() {
  return {
      registerIdentityKernels,
      registerControlFlowKernels,
  };
}

}  // namespace effdl::runtime
