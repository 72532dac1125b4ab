// Traversal helpers shared by the analyses: every scope of a model (subgraphs of If/Loop/Scan
// included) and one spelling of an op's name for all the per-op tables.
#pragma once

#include <functional>
#include <string>

#include "ir/graph.h"

namespace effdl::analysis {

// Calls f on g and then, depth first, on every subgraph of its nodes (depth 0 is g itself).
inline void forEachGraph(const ir::Graph& g, const std::function<void(const ir::Graph&, int depth)>& f,
                         int depth = 0) {
  f(g, depth);
  for (const ir::Node* n : g.nodes())
    for (const ir::Attribute& a : n->attributes()) {
      if (a.g) forEachGraph(*a.g, f, depth + 1);
      for (const auto& sg : a.graphs) forEachGraph(*sg, f, depth + 1);
    }
}

// Calls f on each subgraph directly held by n's attributes.
inline void forEachSubgraph(const ir::Node& n, const std::function<void(const ir::Graph&)>& f) {
  for (const ir::Attribute& a : n.attributes()) {
    if (a.g) f(*a.g);
    for (const auto& sg : a.graphs) f(*sg);
  }
}

inline bool isDefaultDomain(const std::string& domain) { return domain.empty() || domain == "ai.onnx"; }

// "Conv" for the default ONNX domain, "com.microsoft:Attention" otherwise: op names of different
// domains must not be summed together.
inline std::string opLabel(const ir::Node& n) {
  return isDefaultDomain(n.domain()) ? n.opType() : n.domain() + ":" + n.opType();
}

}  // namespace effdl::analysis
