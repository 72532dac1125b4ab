// The `cleanup` pass: the graph-tidying rewrites run together until nothing changes (at most
// five rounds, as ONNX Runtime caps its optimizer loop). Every step is also a pass of its own.
#pragma once

#include "passes/pass.h"

namespace effdl::passes {

// Names of the passes `cleanup` runs, in order.
const std::vector<std::string>& cleanupSteps();

PassInfo cleanupInfo();

}  // namespace effdl::passes
