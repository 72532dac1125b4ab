// Shrinks embedding tables of a trained model (issue 5): every embedding lookup
//   y = Gather(E[V, D], ids)
// becomes one of (i = Mod(ids, V), so negative ids keep their meaning; h and all index math are
// standard ONNX int64 ops, so any runtime runs the result):
//   plain:   y = Gather(T[K, D], row(i)),   h(i) = ((a·i + b) mod p) mod (K - N),  p = 2^31 - 1,
//            a, b from --seed and the table name (written into the model's metadata);
//            row(i) = position of i among N kept ids (a sorted int32 list, searched in-graph by
//            a branchless binary search) when i is kept, else N + h(i).
//            T[k] = mean of the rows E[i] with row(i) = k, weighted by calibration frequency + 1.
//   qr:      y = Gather(E1[m, D], i mod m) ∘ Gather(E2[⌈V/m⌉, D], i div m),  ∘ = Add or Mul;
//            every id keeps a unique (remainder, quotient) pair; E1, E2 by alternating least squares.
//   cluster: y = Gather(C[K, D], Cast(Gather(I[V], i), int64)),  I int16 when K ≤ 32768 else int32;
//            C = weighted k-means centroids of E's rows.
// At a byte budget `ratio` × bytes(E): every stored byte counts (the keep list, the index).
// Applies to float32 tables with at least min-rows rows whose other readers (tied projections)
// are none, or with --hash-tied expand, which hands them Lookup(Range(0, V)) instead of E.
// Ids outside [-V, V) no longer fail: they wrap around (Mod), as the hashing trick does.
#pragma once

#include "passes/pass.h"

namespace effdl::passes {

PassInfo hashEmbeddingsInfo();

}  // namespace effdl::passes
