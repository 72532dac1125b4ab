// Folds sparse-storage's per-weight bitmask decode (passes/prune/sparse_storage.cpp) in one pass
// over the mask at session build, instead of running its eight nodes one by one (each a pass
// over millions of int32 elements in fresh buffers). The chain, for mask bytes m [M]:
//   i = Cast<int32|int64>(m)        r = Gather(R, i)   [M, W]   c = Gather(P, i)   [M, 1]
//   b = CumSum(c, axis 0)           k = Add(r, b)               x = Max(k, lo)
//   z = Reshape(x, S)               w = Gather(V, z)   (V 1-D: the kept values)
// computed as w[j·W + t] = V[max(R[m[j]][t] + Σ_{j'<j (or ≤ j)} P[m[j']], lo)] for whatever tables
// R, P (folded before) and V hold: the same values the kernels give, not an assumption about
// the tables. Everything is checked first (ops, attributes, dtypes, shapes, constant inputs,
// intermediates read only inside the chain); a chain that differs in any way, or whose sums or
// indices leave the range where the two computations provably agree, is declined and folded
// node by node as before.
#pragma once

#include <functional>
#include <optional>
#include <vector>

#include "ir/graph.h"

namespace effdl::runtime {

struct BitmaskDecodeFold {
  std::vector<const ir::Node*> nodes;  // the chain, Cast first, the values' Gather last
  const ir::Value* output = nullptr;   // w
  ir::Tensor result;
};

// constantOf(v): v's value when it is a constant (an initializer or a result folded so far),
// else nullptr. `cast` is the chain's first node; nullopt when it does not start such a chain.
// Large decodes run on up to `threads` OpenMP threads (the same bytes whatever the count).
std::optional<BitmaskDecodeFold> foldBitmaskDecode(const ir::Model& model, const ir::Node& cast,
                                                   const std::function<const ir::Tensor*(const ir::Value*)>& constantOf,
                                                   int threads);

}  // namespace effdl::runtime
