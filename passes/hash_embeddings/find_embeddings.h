// Finds embedding lookups: Gather (axis 0) whose data is a 2-D float32 initializer [V, D] and
// whose indices are integer values computed at run time (token ids, possibly through Cast /
// Reshape / Unsqueeze / Squeeze / Flatten of a graph input). A table that anything else also
// reads (a tied output projection MatMul'd with it) is reported with those other users.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace effdl::passes {

struct EmbeddingTable {
  ir::Value* table = nullptr;         // the [V, D] float32 initializer
  std::vector<ir::Node*> gathers;     // the embedding Gathers that read it, in graph order
  std::vector<ir::Use> otherUses;     // every other reader (tied projections...)
  std::string idsSource;              // graph input the ids come from ("" when computed otherwise)
  int64_t rows = 0, dim = 0;
  size_t bytes = 0;
};

// Tables of the main graph (subgraph readers count as other uses). `declined` receives why a
// Gather on an initializer is not an embedding lookup ("indices are constant").
std::vector<EmbeddingTable> findEmbeddingTables(ir::Graph& g, std::vector<std::string>* declined = nullptr);

}  // namespace effdl::passes
