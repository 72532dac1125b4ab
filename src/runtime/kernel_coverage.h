// Which of a model's ops effdl's runtime has no kernel for (what `effdl inspect` reports), found
// in the kernel table without building a session. A listed op makes Session construction fail;
// an op not listed can still be refused when its kernel is built (an unsupported dtype or
// attribute), with a message naming the node.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace effdl::runtime {

struct MissingKernel {
  std::string domain;  // "" for the default ONNX domain
  std::string opType;
  int64_t opset = 0;  // the model's opset for that domain
  int64_t nodes = 0;  // how many nodes (subgraphs included)
  std::string firstNode;
};

// In order of first appearance (main graph first, then subgraphs depth first).
std::vector<MissingKernel> missingKernels(const ir::Model& model);

}  // namespace effdl::runtime
