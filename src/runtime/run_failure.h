// Whether a model fails when it runs: what tells an invalid input model from an optimizer bug when
// the optimized model does not load back. Folding can make a failure visible to libonnx's shape
// inference that the input hid behind computed values (a Concat's inputs of different ranks once
// folded): the input then fails at every run too.
#pragma once

#include <optional>
#include <string>

#include "ir/graph.h"

namespace effdl::runtime {

// Runs the model once on seeded random inputs (runtime/random_inputs.h) at one thread. Returns the
// error when a kernel finds the model invalid (kInvalidModel), nullopt when it runs or fails for
// another reason (an op without a kernel, inputs that cannot be drawn).
std::optional<std::string> invalidWhenRun(const ir::Model& model);

}  // namespace effdl::runtime
