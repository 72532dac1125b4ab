// Removes nodes whose output equals their input, redirecting the output's users to the input.
//   Before:  t = Identity(x)   u = Relu(t)            After:  u = Relu(x)
// Removed:  Identity;
//           Dropout in inference: mask output unused, and training_mode absent or a constant false
//             (opset ≥ 12), or opset 7–11, or is_test = 1 (opset < 7);
//           Cast(x) <to = T>        when x's element type is known and already T;
//           Reshape(x, shape)       when x's shape is static and `shape` (a constant; 0 copies the
//             input dim unless allowzero = 1, -1 is inferred) resolves to exactly that shape;
//           Transpose(x) <perm>     when perm is the identity (or absent and rank(x) ≤ 1).
// Declines when the output is a graph output fed by a graph input or initializer ("output is a
// graph output fed by an input": the output could not keep its name), and likewise inside
// subgraphs when the input is a capture of an outer value. Recurses into subgraphs.
#pragma once

#include "passes/pass.h"

namespace effdl::passes {

class EliminateNoop : public Pass {
 public:
  PassResult run(ir::Model& model, PassContext& ctx) override;
};

PassInfo eliminateNoopInfo();

}  // namespace effdl::passes
