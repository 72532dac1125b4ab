// Re-validates an in-memory model with ONNX's checker and shape inference (--verify).
#pragma once

#include "ir/graph.h"

namespace effdl::ir {

// Throws effdl::Error (kInvalidModel) with the first line of the checker's or shape inference's
// message. `strict`: shape inference checks types and fails on any node it cannot infer.
void verifyModel(const Model& model, bool strict);

// After passes have folded constants, libonnx can infer shapes it could not infer from the input
// (Reshape to a folded Shape(x)). A declared graph output or value_info shape that contradicts
// them would make the saved model fail to load, so it is reported here as the input's fault:
// throws effdl::Error (kInvalidModel) naming the value, its declared and its computed shape.
// Then runs the loader's inference on the model as it will be saved, declared shapes kept, and
// reports a conflict between them the same way.
void checkDeclaredShapes(const Model& model);

}  // namespace effdl::ir
