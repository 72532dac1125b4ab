// Stores sparse weight initializers (float or integer, e.g. pruned then int8-quantized) compactly.
//   coo:     ONNX sparse_initializer, values [NNZ] + int64 linear indices [NNZ] (12 B per kept
//            float: wins only at high sparsity); loaders densify it.
//   bitmask: the kept values plus one bit per weight, decoded inside the graph by standard ops on
//            constants only, so runtimes fold the decode when the session loads:
//       <uint8[B,1] mask, T[NNZ+1] nz = {0, kept values...}, uint8[1,8] shifts = {0..7}, ...>
//       bits = Mod(BitShift <direction="RIGHT"> (mask, shifts), 2)       # [B,8], LSB first
//       keep = Cast <to=int64> (Reshape(bits, [-1]))   (Slice to numel when numel % 8 != 0)
//       idx  = Mul(CumSum(keep, 0), keep)              # 1-based position among kept, or 0
//       w    = Reshape(Gather(nz, idx), dims)          # nz[0] = 0 fills the pruned slots
//   auto:    per tensor, the smallest of dense / coo / bitmask (coo on a tie: no decode at load).
// Applies to constant initializers with ≥ min-size elements and ≥ min-sparsity exact zeros (all
// bytes zero, so -0.0 counts as a value), not graph outputs, not read by subgraphs. Runs after the
// final cleanup (fixedOrder 10); fold-constants leaves the decode (doc string kSparseDecodeDoc).
#pragma once

#include "passes/pass.h"

namespace effdl::passes {

PassInfo sparseStorageInfo();

}  // namespace effdl::passes
