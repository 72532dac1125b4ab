// Graph queries shared by the fusion matchers (conv_fusion.cpp, qdq_fusion.cpp): which op a node
// is, its opset, which values are constant, and whether a value has exactly one reader.
#pragma once

#include <cstdint>
#include <unordered_map>

#include "ir/graph.h"

namespace effdl::runtime {

// Values the executor already computed once (densified sparse initializers, folded decodes)
// count as constants beside the initializers.
using ConstantMap = std::unordered_map<const ir::Value*, const ir::Tensor*>;

namespace fusion {

// The model's opset for the node's domain (1 when the model imports none).
int64_t opsetOf(const ir::Model& model, const ir::Node& n);
// n is `op` of the default ONNX domain.
bool isDefaultOp(const ir::Node* n, const char* op);
// v's value when it is an initializer or in `computed`, else nullptr.
const ir::Tensor* constantOf(const ir::Value* v, const ConstantMap& computed);
// The one node that reads v (once, not through a subgraph), when v is not a graph output.
const ir::Node* soleReader(const ir::Value* v);

}  // namespace fusion
}  // namespace effdl::runtime
