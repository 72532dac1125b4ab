// missingKernels: every node of every scope looked up in the kernel registry.
#include "runtime/kernel_coverage.h"

#include <functional>

#include "runtime/kernel_registry.h"

namespace effdl::runtime {

std::vector<MissingKernel> missingKernels(const ir::Model& model) {
  std::vector<MissingKernel> missing;
  std::function<void(const ir::Graph&)> walk = [&](const ir::Graph& g) {
    for (const ir::Node* n : g.nodes()) {
      const std::string domain = n->domain() == "ai.onnx" ? "" : n->domain();
      auto opset = model.opsetFor(n->domain());
      const int64_t version = opset ? *opset : 1;
      if (!kernelRegistry().find(domain, n->opType(), version)) {
        MissingKernel* m = nullptr;
        for (auto& e : missing)
          if (e.domain == domain && e.opType == n->opType()) m = &e;
        if (!m) m = &missing.emplace_back(MissingKernel{domain, n->opType(), version, 0, n->name()});
        ++m->nodes;
      }
      for (const ir::Attribute& a : n->attributes()) {
        if (a.g) walk(*a.g);
        for (const auto& sg : a.graphs) walk(*sg);
      }
    }
  };
  walk(*model.graph);
  return missing;
}

}  // namespace effdl::runtime
