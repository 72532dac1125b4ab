// Re-validates an in-memory model with ONNX's checker and shape inference (--verify).
#pragma once

#include "ir/graph.h"

namespace effdl::ir {

// Throws effdl::Error (kInvalidModel) with the first line of the checker's or shape inference's
// message. `strict`: shape inference checks types and fails on any node it cannot infer.
void verifyModel(const Model& model, bool strict);

}  // namespace effdl::ir
