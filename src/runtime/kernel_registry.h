// Which kernel runs which op: (domain, op type, opset range) → factory. One explicit table built
// from each kernel family's register function (kernels/*.cpp), listed in kernel_registry.cpp.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/kernel.h"

namespace effdl::runtime {

struct KernelEntry {
  std::string domain;  // "" for the default ONNX domain
  std::string opType;
  int64_t sinceVersion = 1;  // the kernel implements the op's semantics for opsets in
  int64_t untilVersion = 1000;  // [sinceVersion, untilVersion]
  KernelFactory factory;
};

class KernelRegistry {
 public:
  void add(KernelEntry e) { entries_.push_back(std::move(e)); }
  // Adds one factory for several ops (elementwise families).
  void add(const std::vector<std::string>& opTypes, int64_t since, int64_t until, const KernelFactory& f);
  const KernelEntry* find(const std::string& domain, const std::string& opType, int64_t opset) const;
  const std::vector<KernelEntry>& entries() const { return entries_; }

 private:
  std::vector<KernelEntry> entries_;
};

// Every kernel effdl has.
const KernelRegistry& kernelRegistry();

}  // namespace effdl::runtime
