// The kernel table: one register function per kernel family, called here in one place.
#include "runtime/kernel_registry.h"

#include "runtime/kernels/families.h"

namespace effdl::runtime {

void KernelRegistry::add(const std::vector<std::string>& opTypes, int64_t since, int64_t until,
                         const KernelFactory& f) {
  for (const auto& op : opTypes) add(KernelEntry{"", op, since, until, f});
}

const KernelEntry* KernelRegistry::find(const std::string& domain, const std::string& opType, int64_t opset) const {
  const std::string d = domain == "ai.onnx" ? "" : domain;
  for (const auto& e : entries_)
    if (e.domain == d && e.opType == opType && opset >= e.sinceVersion && opset <= e.untilVersion) return &e;
  return nullptr;
}

const KernelRegistry& kernelRegistry() {
  static const KernelRegistry registry = [] {
    KernelRegistry r;
    for (const auto& registerFamily : kernelFamilies()) registerFamily(r);
    return r;
  }();
  return registry;
}

}  // namespace effdl::runtime
