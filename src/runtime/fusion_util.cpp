// Graph queries shared by the fusion matchers; see fusion_util.h.
#include "runtime/fusion_util.h"

namespace effdl::runtime::fusion {

int64_t opsetOf(const ir::Model& model, const ir::Node& n) {
  auto v = model.opsetFor(n.domain());
  return v ? *v : 1;
}

bool isDefaultOp(const ir::Node* n, const char* op) {
  return n && (n->domain().empty() || n->domain() == "ai.onnx") && n->opType() == op;
}

const ir::Tensor* constantOf(const ir::Value* v, const ConstantMap& computed) {
  if (v && v->isConstant()) return &v->initializer();
  auto it = v ? computed.find(v) : computed.end();
  return it != computed.end() ? it->second : nullptr;
}

const ir::Node* soleReader(const ir::Value* v) {
  if (!v || v->isGraphOutput() || v->uses().size() != 1 || v->uses()[0].index == ir::Use::kImplicit) return nullptr;
  return v->uses()[0].node;
}

}  // namespace effdl::runtime::fusion
