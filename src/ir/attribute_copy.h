// Copying an attribute of an op without subgraphs (Conv, MatMul, Relu, ...), for passes and
// kernels that rebuild such a node elsewhere (latency guard's one-layer models, float16 twins).
#pragma once

#include "ir/attribute.h"

namespace effdl::ir {

// Every plain field; an attribute that holds a graph is an internal error here (cloning one
// needs its captured values, see Graph's subgraph handling).
Attribute copyWithoutSubgraphs(const Attribute& a);

}  // namespace effdl::ir
