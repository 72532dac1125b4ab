// Removes what no graph output depends on.
//   Before:  t = Relu(x)   u = Exp(x)   (only t reaches an output)      initializer w (unused)
//   After:   t = Relu(x)
// Nodes whose outputs are all unused, unused initializers, and — with inputs=true — graph
// inputs nothing reads (that changes the model's interface, so it is off by default). Runs
// inside subgraphs too, dropping captures of outer values that become unused.
#pragma once

#include "passes/pass.h"

namespace effdl::passes {

struct EliminateDeadCodeOptions {
  bool removeUnusedInputs = false;
};

class EliminateDeadCode : public Pass {
 public:
  explicit EliminateDeadCode(EliminateDeadCodeOptions o) : options_(o) {}
  PassResult run(ir::Model& model, PassContext& ctx) override;

 private:
  EliminateDeadCodeOptions options_;
};

PassInfo eliminateDeadCodeInfo();

}  // namespace effdl::passes
