// Estimated peak activation memory: which tensors must exist at the same time when the graph
// runs in its node order, from liveness over static shapes.
//
// The model, in Graph::nodes() order (topological), step i being node i:
//  * a node's output is live from its producer's step to its last reader's step (a value read
//    by a subgraph counts as read by the node holding the subgraph); unread, it lives for its
//    producer's step only;
//  * a graph input is live from step 0 to its last reader; a graph output until the last step;
//  * initializers and Constant-node outputs are weights (ParameterStats::totalBytes), not
//    activations;
//  * while a node with subgraphs runs, the largest peak of its subgraphs (computed the same way,
//    values captured from outside excluded as already counted) is added at its step;
//  * no in-place reuse and no allocator overhead: a runtime's planner can do better than this
//    (in-place Relu) or worse (alignment, fragmentation). It is an estimate for comparison.
// Values whose size is not static (symbolic dims left unbound, non-tensor types, strings) add
// nothing and are counted: with unknowns, the peak is a lower bound.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace effdl::analysis {

struct LiveValue {
  std::string name;
  int64_t bytes = 0;
};

struct MemoryEstimate {
  int64_t peakBytes = 0;
  // Index into the main graph's nodes() of the step at the peak (the first such step); -1 when
  // the graph has no nodes.
  int64_t peakStep = -1;
  std::string peakNodeName;
  std::string peakNodeOp;
  std::vector<LiveValue> liveAtPeak;  // main-graph values of known size, bytes desc then name
  int64_t subgraphBytesAtPeak = 0;    // part of peakBytes from a subgraph's own activations
  int64_t unknownLiveAtPeak = 0;      // values of unknown size live at the peak step

  int64_t inputBytes = 0;            // graph inputs (initializers excluded)
  int64_t outputBytes = 0;           // graph outputs
  int64_t totalActivationBytes = 0;  // every activation of the main graph, as if none were freed
  int64_t activationValues = 0;      // main-graph activations considered
  int64_t unknownValues = 0;         // of those, how many have no static size
};

MemoryEstimate estimateActivationMemory(const ir::Model& model);
// The same for one graph (a subgraph: its captures are not counted).
MemoryEstimate estimateActivationMemory(const ir::Graph& graph);

// Bytes of a value of static tensor type, or nullopt.
std::optional<int64_t> staticBytes(const ir::ValueType& type);

}  // namespace effdl::analysis
