// Runs one node on constant inputs with the runtime's own kernels: constant folding uses this, so
// op semantics live in one place (the kernels), as in ONNX Runtime's ConstantFolding.
#pragma once

#include <vector>

#include "ir/graph.h"

namespace effdl::runtime {

// Whether effdl's runtime has a kernel for this node's op at the model's opset.
bool hasKernel(const ir::Model& model, const ir::Node& node);

// Evaluates `node` (whose inputs, and for If/Loop the values its subgraphs read from the
// enclosing scope, are all constants or omitted) and returns its outputs (empty tensors for
// omitted outputs). Throws effdl::Error when the kernel refuses or fails.
std::vector<ir::Tensor> evaluateNode(const ir::Model& model, const ir::Node& node);

}  // namespace effdl::runtime
