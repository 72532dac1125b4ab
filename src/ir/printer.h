// Prints a model in ONNX's text syntax (onnx/defs/parser.h), which libonnx parses back: used by
// golden tests (input text → pass → printed output == expected text) and for debugging.
// libonnx 1.12's own printer drops initializers, hence this one.
#pragma once

#include <cstddef>
#include <ostream>
#include <string>

#include "ir/graph.h"

namespace effdl::ir {

struct PrintOptions {
  // Initializers with more elements than this print as "..." (not parseable, for humans).
  size_t maxInlineElements = 64;
  bool header = true;  // the <ir_version, opset_import> block
};

void printModel(const Model& m, std::ostream& os, const PrintOptions& options = {});
std::string printModel(const Model& m, const PrintOptions& options = {});
void printGraph(const Graph& g, std::ostream& os, const PrintOptions& options = {}, int indent = 0);

}  // namespace effdl::ir
