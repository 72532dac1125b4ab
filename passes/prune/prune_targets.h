// The weights a pruning pass may touch: float32 constant weights of Conv, Gemm and MatMul, seen as
// a matrix [outputs × reduction] whatever their layout, so that magnitude, N:M and Wanda scoring
// share one indexing scheme.
//   Conv    W [O, I/g, k...]   row o, column c·K + k   (K = kernel size; input channel g·I/g + c)
//   Gemm    B [N, K] transB=1  row n, column k;  B [K, N] transB=0: row n, column k (transposed)
//   MatMul  W [K, N] (rank 2)  row n, column k (transposed)
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace effdl::passes::prune {

struct WeightView {
  int64_t rows = 0;         // output channels / neurons
  int64_t cols = 0;         // reduction length per output (I/g · K for Conv)
  int64_t kernel = 1;       // spatial kernel size K (1 for Gemm/MatMul)
  int64_t groups = 1;       // Conv groups
  bool transposed = false;  // element (r, c) lives at c·rows + r
  int64_t index(int64_t r, int64_t c) const { return transposed ? c * rows + r : r * cols + c; }
  // Input channel (of the node's data input) that column c of row r multiplies.
  int64_t inputChannel(int64_t r, int64_t c) const {
    const int64_t perGroup = cols / kernel;
    return (r / (rows / groups)) * perGroup + c / kernel;
  }
};

struct Target {
  ir::Node* node = nullptr;
  ir::Value* weight = nullptr;  // the initializer (input 1)
  WeightView view;
};

struct TargetFilter {
  std::vector<std::string> opTypes;       // "Conv", "Gemm", "MatMul"
  int64_t minSize = 0;                    // weights with fewer elements stay dense
  std::vector<std::string> excludeNodes;  // node names (or, for unnamed nodes, weight names)
  // The input and output layers stay dense: a target is "first" when no weighted layer (Conv,
  // Gemm, MatMul, Gather table, recurrent, ...) lies between a graph input and its data input,
  // and "last" when no weighted layer follows it (a classifier head). An embedding Gather thus
  // counts as the first layer, as in Wanda and SparseGPT, which prune the Linear layers between
  // the embedding and the head and leave both dense.
  bool keepFirstLast = false;
};

// Eligible targets of the main graph in graph order; a node that does not qualify is counted in
// `declined` under the reason ("weight shared with an excluded node", "weight not float32", ...).
std::vector<Target> findTargets(ir::Graph& g, const TargetFilter& filter, std::map<std::string, int64_t>& declined);

// The name the report and --prune-exclude-nodes use for a node: its name, else its weight's.
std::string layerName(const Target& t);

}  // namespace effdl::passes::prune
