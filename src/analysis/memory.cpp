// Peak activation memory by liveness over node order (model and caveats in memory.h).
#include "analysis/memory.h"

#include <algorithm>
#include <limits>
#include <unordered_map>

#include "analysis/graph_walk.h"
#include "core/checked_math.h"

namespace effdl::analysis {
namespace {

struct Interval {
  const ir::Value* value;
  std::optional<int64_t> bytes;
  size_t start;
  size_t end;  // inclusive
};

bool isConstantNode(const ir::Node* n) {
  return n && n->opType() == "Constant" && isDefaultDomain(n->domain());
}

}  // namespace

std::optional<int64_t> staticBytes(const ir::ValueType& type) {
  auto shape = type.staticShape();
  size_t size = ir::dtypeSize(type.elemType);
  if (!shape || size == 0) return std::nullopt;
  auto n = checkedElementCount(*shape);
  if (!n) return std::nullopt;
  return checkedMul(*n, static_cast<int64_t>(size));
}

MemoryEstimate estimateActivationMemory(const ir::Model& model) {
  if (!model.graph) return {};
  return estimateActivationMemory(*model.graph);
}

MemoryEstimate estimateActivationMemory(const ir::Graph& graph) {
  MemoryEstimate est;
  std::vector<ir::Node*> nodes = graph.nodes();
  std::unordered_map<const ir::Node*, size_t> stepOf;
  for (size_t i = 0; i < nodes.size(); ++i) stepOf[nodes[i]] = i;
  size_t lastStep = nodes.empty() ? 0 : nodes.size() - 1;

  std::vector<Interval> live;
  auto addValue = [&](const ir::Value* v, size_t start) {
    Interval iv{v, staticBytes(v->type()), start, start};
    for (const ir::Use& u : v->uses()) {
      auto it = stepOf.find(u.node);
      if (it != stepOf.end()) iv.end = std::max(iv.end, it->second);
    }
    if (v->isGraphOutput()) iv.end = lastStep;
    live.push_back(iv);
  };
  for (const ir::Value* v : graph.inputs())
    if (!v->isInitializer() && !v->isSparseInitializer()) addValue(v, 0);
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (isConstantNode(nodes[i])) continue;
    for (const ir::Value* v : nodes[i]->outputs())
      if (v) addValue(v, i);
  }

  // Known bytes live at each step; the difference array keeps this linear in graph size.
  size_t steps = std::max<size_t>(nodes.size(), 1);
  std::vector<int64_t> delta(steps + 1, 0);
  for (Interval& iv : live) {
    ++est.activationValues;
    // A size that would overflow the total (only a hostile model's) counts as unknown; then no
    // partial sum below can overflow either.
    auto total = iv.bytes ? checkedAdd(est.totalActivationBytes, *iv.bytes) : std::nullopt;
    if (!total) {
      iv.bytes.reset();
      ++est.unknownValues;
      continue;
    }
    est.totalActivationBytes = *total;
    delta[iv.start] += *iv.bytes;
    delta[iv.end + 1] -= *iv.bytes;
  }
  std::vector<int64_t> subgraphPeak(steps, 0);
  for (size_t i = 0; i < nodes.size(); ++i)
    forEachSubgraph(*nodes[i], [&](const ir::Graph& sg) {
      subgraphPeak[i] = std::max(subgraphPeak[i], estimateActivationMemory(sg).peakBytes);
    });

  int64_t running = 0;
  for (size_t i = 0; i < steps; ++i) {
    running += delta[i];
    int64_t atStep = checkedAdd(running, subgraphPeak[i]).value_or(std::numeric_limits<int64_t>::max());
    if (i == 0 || atStep > est.peakBytes) {
      est.peakBytes = atStep;
      est.peakStep = static_cast<int64_t>(i);
      est.subgraphBytesAtPeak = subgraphPeak[i];
    }
  }
  if (nodes.empty()) {
    est.peakStep = -1;
  } else {
    const ir::Node* n = nodes[static_cast<size_t>(est.peakStep)];
    est.peakNodeName = n->name();
    est.peakNodeOp = opLabel(*n);
  }

  size_t peak = est.peakStep < 0 ? 0 : static_cast<size_t>(est.peakStep);
  for (const Interval& iv : live) {
    if (iv.start > peak || iv.end < peak) continue;
    if (iv.bytes) est.liveAtPeak.push_back({iv.value->name(), *iv.bytes});
    else ++est.unknownLiveAtPeak;
  }
  std::sort(est.liveAtPeak.begin(), est.liveAtPeak.end(), [](const LiveValue& a, const LiveValue& b) {
    if (a.bytes != b.bytes) return a.bytes > b.bytes;
    return a.name < b.name;
  });

  auto addBytes = [](int64_t& acc, const ir::Value* v) {
    acc = checkedAdd(acc, staticBytes(v->type()).value_or(0)).value_or(std::numeric_limits<int64_t>::max());
  };
  for (const ir::Value* v : graph.inputs())
    if (!v->isInitializer() && !v->isSparseInitializer()) addBytes(est.inputBytes, v);
  for (const ir::Value* v : graph.outputs()) addBytes(est.outputBytes, v);
  return est;
}

}  // namespace effdl::analysis
