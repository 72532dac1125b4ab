// ModelProto → ir::Model (the proto was validated by model_validator first).
#include <onnx/onnx_pb.h>

#include <cstring>
#include <functional>

#include "core/error.h"
#include "ir/proto_convert.h"

namespace effdl::ir {
namespace {

bool isExternal(const onnx::TensorProto& t) {
  return t.has_data_location() && t.data_location() == onnx::TensorProto::EXTERNAL;
}

void collectExternal(const onnx::GraphProto& g, ExternalDataResolver& resolver, const std::string& display,
                     ExternalViews& out);

void collectExternalTensor(const onnx::TensorProto& t, ExternalDataResolver& resolver, ExternalViews& out) {
  if (!isExternal(t)) return;
  ExternalDataRef ref;
  for (const auto& e : t.external_data()) {
    if (e.key() == "location") ref.location = e.value();
    else if (e.key() == "offset") ref.offset = e.value();
    else if (e.key() == "length") ref.length = e.value();
  }
  uint64_t bytes = 1;
  for (int64_t d : t.dims()) bytes *= static_cast<uint64_t>(d);  // validated: no overflow
  bytes *= dtypeSize(static_cast<DataType>(t.data_type()));
  out[&t] = resolver.resolve(t.name(), ref, bytes);
}

void collectExternal(const onnx::GraphProto& g, ExternalDataResolver& resolver, const std::string& display,
                     ExternalViews& out) {
  for (const auto& t : g.initializer()) collectExternalTensor(t, resolver, out);
  for (const auto& n : g.node())
    for (const auto& a : n.attribute()) {
      if (a.has_t()) collectExternalTensor(a.t(), resolver, out);
      for (const auto& t : a.tensors()) collectExternalTensor(t, resolver, out);
      if (a.has_g()) collectExternal(a.g(), resolver, display, out);
      for (const auto& sg : a.graphs()) collectExternal(sg, resolver, display, out);
    }
}

template <typename Dst, typename Field>
Tensor convertTyped(DataType dt, std::vector<int64_t> dims, const Field& field, size_t perElement = 1) {
  (void)perElement;
  std::vector<Dst> v(static_cast<size_t>(field.size()));
  for (int i = 0; i < field.size(); ++i) v[static_cast<size_t>(i)] = static_cast<Dst>(field.Get(i));
  return Tensor::fromVector(dt, std::move(dims), v);
}

struct Importer {
  const ExternalViews& views;
  const std::set<std::string>& fileValueInfo;
  const std::string& display;

  Value* resolve(Graph& g, const std::string& name) {
    if (Value* v = g.findValue(name)) return v;
    if (!g.parent()) return nullptr;
    Value* outer = resolve(*g.parent(), name);
    return outer ? g.addCapture(outer) : nullptr;
  }

  void importGraph(onnx::GraphProto& gp, Graph& g) {
    g.setName(gp.name());
    g.setDocString(gp.doc_string());
    for (auto& t : *gp.mutable_initializer()) {
      auto it = views.find(&t);
      std::string name = t.name();
      if (name.empty()) throwInvalid(display + ": an initializer has no name");
      g.addInitializer(name, tensorFromProto(t, it == views.end() ? nullptr : &it->second));
    }
    for (auto& s : *gp.mutable_sparse_initializer()) {
      SparseTensor st;
      st.dims.assign(s.dims().begin(), s.dims().end());
      std::string name = s.values().name();
      st.values = tensorFromProto(*s.mutable_values(), nullptr);
      st.indices = tensorFromProto(*s.mutable_indices(), nullptr);
      g.addSparseInitializer(name, std::move(st));
    }
    for (const auto& in : gp.input()) {
      if (in.name().empty()) throwInvalid(display + ": a graph input has no name");
      Value* v = g.addInput(in.name(), typeFromProto(in.type()));
      v->setDocString(in.doc_string());
    }
    // Phase 1: every node's outputs exist before any input is linked (files need not be sorted).
    std::vector<std::vector<Value*>> outs;
    outs.reserve(static_cast<size_t>(gp.node_size()));
    for (const auto& np : gp.node()) {
      std::vector<Value*> o;
      for (const auto& name : np.output()) o.push_back(name.empty() ? nullptr : g.addValue(name));
      outs.push_back(std::move(o));
    }
    // Phase 2: nodes, their inputs and attributes (subgraphs resolve names through this scope).
    for (int i = 0; i < gp.node_size(); ++i) {
      onnx::NodeProto& np = *gp.mutable_node(i);
      std::vector<Value*> ins;
      for (const auto& name : np.input()) {
        if (name.empty()) {
          ins.push_back(nullptr);
          continue;
        }
        Value* v = resolve(g, name);
        if (!v)
          throwInvalid(display + ": node '" + np.name() + "' (" + np.op_type() + ") uses undefined value '" + name + "'");
        ins.push_back(v);
      }
      Node* n = g.appendNode(np.op_type(), np.domain(), np.name(), ins, outs[static_cast<size_t>(i)]);
      n->setDocString(np.doc_string());
      for (auto& ap : *np.mutable_attribute()) n->attributes().push_back(importAttribute(ap, g, n));
      if (n->hasSubgraphs()) g.refreshImplicitInputs(n);
    }
    for (const auto& out : gp.output()) {
      Value* v = resolve(g, out.name());
      if (!v) throwInvalid(display + ": graph output '" + out.name() + "' is not produced by anything");
      ValueType t = typeFromProto(out.type());
      if (v->isGraphInput()) {
        // One value, one type: an output that is also an input keeps the input's (its output
        // declaration of another kind was written back over the input's; found by fuzz_model).
        const ValueType& in = v->type();
        if (t.kind != ValueType::Kind::kUnknown && in.kind != ValueType::Kind::kUnknown &&
            (t.kind != in.kind || t.elemType != in.elemType))
          throwInvalid(display + ": graph output '" + out.name() +
                       "' is the graph input of that name, declared with another type");
      } else if (t.kind != ValueType::Kind::kUnknown) {
        v->setType(t);  // keep the file's declared output type; shape inference filled in the rest
      }
      v->setDocString(out.doc_string());
      g.addOutput(v);
    }
    for (const auto& vi : gp.value_info()) {
      Value* v = g.findValue(vi.name());
      if (!v || v->isGraphInput() || v->isGraphOutput()) continue;
      v->setType(typeFromProto(vi.type()));
      v->setDocString(vi.doc_string());
      if (fileValueInfo.count(vi.name())) v->setHasValueInfo(true);
    }
    for (const auto& qa : gp.quantization_annotation()) g.opaqueQuantAnnotations().push_back(qa.SerializeAsString());
    g.sortTopologically();
  }

  Attribute importAttribute(onnx::AttributeProto& ap, Graph& g, Node* n) {
    Attribute a;
    a.name = ap.name();
    a.type = static_cast<AttrType>(ap.type());
    a.refAttrName = ap.ref_attr_name();
    a.docString = ap.doc_string();
    a.f = ap.f();
    a.i = ap.i();
    a.s = ap.s();
    if (ap.has_t()) a.t = tensorFromProto(*ap.mutable_t(), viewFor(ap.t()));
    if (ap.has_g()) {
      a.g = std::make_unique<Graph>(&g, n);
      importGraph(*ap.mutable_g(), *a.g);
    }
    a.floats.assign(ap.floats().begin(), ap.floats().end());
    a.ints.assign(ap.ints().begin(), ap.ints().end());
    a.strings.assign(ap.strings().begin(), ap.strings().end());
    for (auto& t : *ap.mutable_tensors()) a.tensors.push_back(tensorFromProto(t, viewFor(t)));
    for (auto& sg : *ap.mutable_graphs()) {
      auto sub = std::make_unique<Graph>(&g, n);
      importGraph(sg, *sub);
      a.graphs.push_back(std::move(sub));
    }
    if (ap.has_sparse_tensor() || ap.sparse_tensors_size() > 0 || ap.has_tp() || ap.type_protos_size() > 0)
      a.opaque = ap.SerializeAsString();
    if (a.type == AttrType::kUndefined) {
      // IR < 2 files may omit the type: infer it from the field that is set.
      if (ap.has_f()) a.type = AttrType::kFloat;
      else if (ap.has_i()) a.type = AttrType::kInt;
      else if (ap.has_s()) a.type = AttrType::kString;
      else if (ap.has_t()) a.type = AttrType::kTensor;
      else if (ap.has_g()) a.type = AttrType::kGraph;
      else if (ap.floats_size()) a.type = AttrType::kFloats;
      else if (ap.ints_size()) a.type = AttrType::kInts;
      else if (ap.strings_size()) a.type = AttrType::kStrings;
    }
    return a;
  }

  const ExternalDataView* viewFor(const onnx::TensorProto& t) const {
    auto it = views.find(&t);
    return it == views.end() ? nullptr : &it->second;
  }
};

}  // namespace

ExternalViews resolveExternalData(const onnx::GraphProto& g, ExternalDataResolver& resolver,
                                  const std::string& display) {
  ExternalViews out;
  collectExternal(g, resolver, display, out);
  return out;
}

Tensor tensorFromProto(onnx::TensorProto& t, const ExternalDataView* view) {
  DataType dt = static_cast<DataType>(t.data_type());
  std::vector<int64_t> dims(t.dims().begin(), t.dims().end());
  Tensor out;
  if (dt == DataType::kString) {
    out = Tensor::fromStrings(std::move(dims), {t.string_data().begin(), t.string_data().end()});
  } else if (view) {
    const uint8_t* p = view->file->data() + view->offset;
    size_t align = dtypeSize(dt);
    if (align > 1 && reinterpret_cast<uintptr_t>(p) % align != 0) {
      out = Tensor::fromBytes(dt, std::move(dims), p, view->length);  // misaligned in the file
    } else {
      out = Tensor(dt, std::move(dims), view->file, p, view->length);
      out.setSource(view->file, view->offset);
    }
    out.setFromExternalData(true);
  } else if (t.has_raw_data()) {
    std::shared_ptr<std::string> owner(t.release_raw_data());
    const uint8_t* p = reinterpret_cast<const uint8_t*>(owner->data());
    size_t n = owner->size();
    out = Tensor(dt, std::move(dims), std::shared_ptr<const void>(owner, owner.get()), p, n);
  } else {
    switch (dt) {
      case DataType::kFloat:
      case DataType::kComplex64: out = convertTyped<float>(dt, std::move(dims), t.float_data()); break;
      case DataType::kInt32: out = convertTyped<int32_t>(dt, std::move(dims), t.int32_data()); break;
      case DataType::kInt16: out = convertTyped<int16_t>(dt, std::move(dims), t.int32_data()); break;
      case DataType::kUint16:
      case DataType::kFloat16:
      case DataType::kBfloat16: out = convertTyped<uint16_t>(dt, std::move(dims), t.int32_data()); break;
      case DataType::kInt8: out = convertTyped<int8_t>(dt, std::move(dims), t.int32_data()); break;
      case DataType::kUint8:
      case DataType::kBool: out = convertTyped<uint8_t>(dt, std::move(dims), t.int32_data()); break;
      case DataType::kInt64: out = convertTyped<int64_t>(dt, std::move(dims), t.int64_data()); break;
      case DataType::kDouble:
      case DataType::kComplex128: out = convertTyped<double>(dt, std::move(dims), t.double_data()); break;
      case DataType::kUint32: out = convertTyped<uint32_t>(dt, std::move(dims), t.uint64_data()); break;
      case DataType::kUint64: out = convertTyped<uint64_t>(dt, std::move(dims), t.uint64_data()); break;
      default: out = Tensor(dt, std::move(dims), nullptr, nullptr, 0); break;
    }
  }
  out.setDocString(t.doc_string());
  out.setName(t.name());
  return out;
}

ValueType typeFromProto(const onnx::TypeProto& t) {
  ValueType v;
  v.denotation = t.denotation();
  const onnx::TypeProto_Tensor* tt = nullptr;
  if (t.has_tensor_type()) {
    v.kind = ValueType::Kind::kTensor;
    tt = &t.tensor_type();
  } else if (t.has_sparse_tensor_type()) {
    v.kind = ValueType::Kind::kSparseTensor;
    v.elemType = static_cast<DataType>(t.sparse_tensor_type().elem_type());
    if (t.sparse_tensor_type().has_shape()) {
      std::vector<Dim> dims;
      for (const auto& d : t.sparse_tensor_type().shape().dim())
        dims.push_back(Dim{d.has_dim_value() ? std::optional<int64_t>(d.dim_value()) : std::nullopt, d.dim_param(),
                           d.denotation()});
      v.shape = std::move(dims);
    }
    return v;
  } else if (t.value_case() != onnx::TypeProto::VALUE_NOT_SET) {
    v.kind = ValueType::Kind::kOther;
    v.opaque = t.SerializeAsString();
    return v;
  } else {
    return v;
  }
  v.elemType = static_cast<DataType>(tt->elem_type());
  if (tt->has_shape()) {
    std::vector<Dim> dims;
    for (const auto& d : tt->shape().dim())
      dims.push_back(Dim{d.has_dim_value() ? std::optional<int64_t>(d.dim_value()) : std::nullopt, d.dim_param(),
                         d.denotation()});
    v.shape = std::move(dims);
  }
  return v;
}

std::unique_ptr<Model> protoToModel(onnx::ModelProto&& proto, const ExternalViews& views,
                                    const std::set<std::string>& fileValueInfo, const std::string& display,
                                    const LoadOptions& options) {
  (void)options;
  auto m = std::make_unique<Model>();
  m->irVersion = proto.ir_version();
  for (const auto& o : proto.opset_import()) m->opsets.push_back(OpsetImport{o.domain(), o.version()});
  m->producerName = proto.producer_name();
  m->producerVersion = proto.producer_version();
  m->domain = proto.domain();
  m->modelVersion = proto.model_version();
  m->docString = proto.doc_string();
  for (const auto& kv : proto.metadata_props()) m->metadata.emplace_back(kv.key(), kv.value());
  for (const auto& f : proto.functions()) m->opaqueFunctions.push_back(f.SerializeAsString());
  for (const auto& t : proto.training_info()) m->opaqueTrainingInfo.push_back(t.SerializeAsString());
  Importer imp{views, fileValueInfo, display};
  imp.importGraph(*proto.mutable_graph(), *m->graph);
  return m;
}

}  // namespace effdl::ir
