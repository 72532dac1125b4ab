// Every pass effdl has, in one table (no static-initialiser self-registration).
#include "passes/registry.h"

#include "passes/cleanup/cleanup.h"
#include "passes/cleanup/eliminate_dead_code.h"

namespace effdl::passes {

const std::vector<PassInfo>& passRegistry() {
  static const std::vector<PassInfo> passes = {
      cleanupInfo(),
      eliminateDeadCodeInfo(),
  };
  return passes;
}

const PassInfo* findPass(const std::string& name) {
  for (const auto& p : passRegistry())
    if (p.name == name) return &p;
  return nullptr;
}

}  // namespace effdl::passes
