// Embedding lookup detection; see the header.
#include "passes/hash_embeddings/find_embeddings.h"

#include <map>

namespace effdl::passes {
namespace {

bool isDefaultDomain(const std::string& d) { return d.empty() || d == "ai.onnx"; }

// Follows the ids back through ops that only change their type or shape, to the graph input.
std::string idsSource(const ir::Value* v) {
  for (int hops = 0; v && hops < 16; ++hops) {
    if (v->isGraphInput()) return v->name();
    const ir::Node* p = v->producer();
    if (!p || !isDefaultDomain(p->domain())) return "";
    const std::string& op = p->opType();
    if (op != "Cast" && op != "Reshape" && op != "Unsqueeze" && op != "Squeeze" && op != "Flatten" &&
        op != "Identity")
      return "";
    v = p->input(0);
  }
  return "";
}

// Whether `v` is computed from constants only (position ids and the like).
bool isConstantValue(const ir::Value* v) {
  for (int hops = 0; v && hops < 16; ++hops) {
    if (v->isConstant()) return true;
    const ir::Node* p = v->producer();
    if (!p || p->numInputs() == 0) return p && p->opType() == "Constant";
    if (p->numInputs() != 1 && p->opType() != "Reshape") return false;
    v = p->input(0);
  }
  return false;
}

}  // namespace

std::vector<EmbeddingTable> findEmbeddingTables(ir::Graph& g, std::vector<std::string>* declined) {
  std::vector<EmbeddingTable> tables;
  std::map<const ir::Value*, size_t> byTable;
  for (ir::Node* n : g.nodes()) {
    if (n->opType() != "Gather" || !isDefaultDomain(n->domain()) || n->numInputs() < 2) continue;
    ir::Value* data = n->input(0);
    if (!data || !data->isConstant()) continue;
    const ir::Tensor& t = data->initializer();
    if (t.dtype() != ir::DataType::kFloat || t.rank() != 2) continue;
    auto no = [&](const std::string& why) {
      if (declined) declined->push_back(why);
    };
    const int64_t axis = n->attrInt("axis", 0);
    if (axis != 0 && axis != -2) {
      no("Gather axis is not 0");
      continue;
    }
    const ir::Value* ids = n->input(1);
    if (!ids) continue;
    const ir::DataType it = ids->type().elemType;
    if (it != ir::DataType::kInt64 && it != ir::DataType::kInt32 && it != ir::DataType::kUndefined) {
      no("indices are not int32/int64");
      continue;
    }
    if (isConstantValue(ids)) {
      no("indices are constant");
      continue;
    }
    auto [pos, fresh] = byTable.emplace(data, tables.size());
    if (fresh) {
      EmbeddingTable e;
      e.table = data;
      e.rows = t.dims()[0];
      e.dim = t.dims()[1];
      e.bytes = t.nbytes();
      tables.push_back(std::move(e));
    }
    EmbeddingTable& e = tables[pos->second];
    e.gathers.push_back(n);
    if (e.idsSource.empty()) e.idsSource = idsSource(ids);
  }
  for (EmbeddingTable& e : tables)
    for (const ir::Use& u : e.table->uses()) {
      bool isLookup = u.index == 0;
      if (isLookup) {
        isLookup = false;
        for (const ir::Node* n : e.gathers) isLookup = isLookup || n == u.node;
      }
      if (!isLookup) e.otherUses.push_back(u);
    }
  return tables;
}

}  // namespace effdl::passes
