// Turns Constant nodes into initializers, so that every later pass sees weights in one form.
//   Before:  c = Constant <value = float[2] {1.0, 2.0}> ()      y = Add(x, c)
//   After:   <float[2] c = {1.0, 2.0}>                            y = Add(x, c)
// Converts value (tensor), value_float(s), value_int(s) and value_string(s); the initializer
// keeps the Constant output's name. A Constant inside a subgraph becomes an initializer of that
// subgraph. Declines: sparse_value ("sparse Constant kept": a dense copy could be huge), a
// Constant output that is also a graph output (an initializer cannot take its place without
// renaming the model's interface), IR version < 4 (initializers must then also be graph inputs,
// which would change the interface), and values referring to a function attribute.
#pragma once

#include "passes/pass.h"

namespace effdl::passes {

class ConstantsToInitializers : public Pass {
 public:
  PassResult run(ir::Model& model, PassContext& ctx) override;
};

PassInfo constantsToInitializersInfo();

}  // namespace effdl::passes
