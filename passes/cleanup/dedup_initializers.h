// Merges initializers with the same dtype, dims and bytes.
//   Before:  <float[2] a = {1.0, 2.0}, float[2] b = {1.0, 2.0}>   y = Add(x, a)   z = Mul(x, b)
//   After:   <float[2] a = {1.0, 2.0}>                             y = Add(x, a)   z = Mul(x, a)
// The first initializer (in file order) is kept and the users of later copies point to it.
// Candidates are bucketed by a hash of their type, shape and a sample of their bytes and
// confirmed byte by byte, so the result is deterministic. Graph inputs with a default
// (overridable initializers) are never merged; an initializer that is itself a graph output is
// kept ("initializer is a graph output"). Each subgraph is deduplicated within itself. Counts the
// bytes saved.
#pragma once

#include "passes/pass.h"

namespace effdl::passes {

class DedupInitializers : public Pass {
 public:
  PassResult run(ir::Model& model, PassContext& ctx) override;
};

PassInfo dedupInitializersInfo();

}  // namespace effdl::passes
