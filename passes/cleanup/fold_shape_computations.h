// Folds the shape computations exporters emit around Reshape, Expand and friends into constant
// initializers, when the shapes they read are static.
//   Before:  s = Shape(x)    d = Gather(s, zero)    u = Unsqueeze(d, ax)    c = Concat <axis = 0> (u, m1)
//            y = Reshape(x, c)                      (x: float[2,3,4,5], zero = 0, ax = [0], m1 = [-1])
//   After:   y = Reshape(x, c_1)                    (c_1: int64[2] = {2, -1}, an initializer)
// Evaluated, in topological order so that a whole chain folds in one run:
//   - Shape(x) (start/end from opset 15) and Size(x) when the dims they read are known in x's type;
//   - Gather and Slice also when their data is such a Shape whose *selected* dims are known, even if
//     others are not: Gather(Shape(x: float[N,3]), 1) = 3;
//   - on constant int64/int32/bool inputs (initializers, Constant nodes, constants captured from an
//     enclosing graph): Gather, Unsqueeze, Squeeze (axes from attributes before opset 13, from the
//     input from 13), Concat, Slice (attributes before opset 10, inputs from 10; clamped as the spec
//     says), Cast (to int64/int32/bool), Add, Sub, Mul, Div (truncating, as ONNX Runtime), Equal,
//     Where, Range, ConstantOfShape (any element type), Identity, Reshape.
// Declines, counted with the reason and never an error: a result over 4096 elements (ConstantOfShape:
// 1024; nothing larger is ever allocated, whatever the file asks for), a constant input over 4096
// elements, an index or axis out of range, integer overflow, division by zero, a result that
// disagrees with the inferred type, and a node whose output is a graph output (an initializer
// cannot take a graph output's name). Folded nodes are erased; the constants they read are left
// for eliminate-dead.
#pragma once

#include "passes/pass.h"

namespace effdl::passes {

class FoldShapeComputations : public Pass {
 public:
  PassResult run(ir::Model& model, PassContext& ctx) override;
};

PassInfo foldShapeComputationsInfo();

}  // namespace effdl::passes
