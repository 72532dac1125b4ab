// General constant folding with the runtime's own kernels.
//   Before:  w2 = Transpose <perm = [1,0]> (w)      (w an initializer)
//   After:   <float[...] w2 = {...transposed...}>
// A node is folded when every input is a constant (or omitted), the runtime has a kernel for it,
// its output shapes are static and the result is small: at most `max-bytes`, and no bigger than
// twice its inputs (or 4 KiB), so that folding a broadcast (Expand of a scalar) does not inflate
// the file. Control flow within a budget counted in work, not time (so results do not depend on
// the machine): an If on a constant condition, a Loop whose constant trip count times its body's
// node count is at most `max-loop-work`; their bodies run with every allocation capped at the
// budget, and their results are size-checked after. Never folded: Scan, nested loops, random
// ops, DequantizeLinear (it would undo quantization), ops of other domains, sparse weight decodes (storage_markers.h). A kernel that fails on the constants declines; the node
// stays for the runtime to report.
#pragma once

#include "passes/pass.h"

namespace effdl::passes {

PassInfo foldConstantsInfo();

}  // namespace effdl::passes
