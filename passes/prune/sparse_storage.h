// Stores sparse weight initializers (float or integer, e.g. pruned then int8-quantized) compactly.
//   coo:     ONNX sparse_initializer, values [NNZ] + int64 linear indices [NNZ] (12 B per kept
//            float: wins only at high sparsity); loaders densify it.
//   bitmask: the kept values plus one bit per weight, decoded inside the graph by standard ops on
//            constants only, so runtimes fold the decode when the session loads:
//       <uint8[B] mask, T[NNZ+1] nz = {0, kept values...}, shared int32 tables rank[256,8], count[256,1]>
//       m    = Cast <to=int32> (mask)                        # B = ceil(numel / 8) bytes, LSB first
//       idx  = Max(Gather(rank, m) + CumSum <exclusive=1> (Gather(count, m), 0), 0)   # [B,8]
//       w    = Gather(nz, Reshape(idx, dims))                # nz[0] = 0 fills the pruned slots
//     rank[m, j] is bit j's 1-based rank among m's set bits, or -2^30 where bit j is clear, so
//     the Max sends pruned slots to 0; (Slice to numel when numel % 8 != 0.) Byte-level tables
//     keep the per-weight work to one Gather of 8-int rows, an Add, a Max and the final Gather:
//     ONNX Runtime's load-time folding costs in proportion to the bytes each folded node reads
//     and writes (scripts/bench_prune.sh measures it). Needs opset >= 12 (Max on int32).
//   auto:    per tensor, the smallest of dense / coo / bitmask (coo on a tie: no decode at load).
// Applies to constant initializers with ≥ min-size elements and ≥ min-sparsity exact zeros (all
// bytes zero, so -0.0 counts as a value), not graph outputs, not read by subgraphs. Runs after the
// final cleanup (fixedOrder 10); fold-constants leaves the decode (doc string kSparseDecodeDoc).
#pragma once

#include "passes/pass.h"

namespace effdl::passes {

PassInfo sparseStorageInfo();

}  // namespace effdl::passes
