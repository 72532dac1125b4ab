// ir::Model → ModelProto → file (temp + fsync + rename), with optional external data.
#include "ir/onnx_export.h"

#include <onnx/onnx_pb.h>

#include <functional>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/mapped_file.h"
#include "ir/proto_convert.h"

namespace fs = std::filesystem;

namespace effdl::ir {
namespace {

constexpr uint64_t kProtoLimit = (uint64_t{1} << 31) - (uint64_t{64} << 20);  // 2 GiB minus headroom
constexpr uint64_t kPlaceholderMin = 4096;
constexpr uint64_t kExternalAlign = 64;

void tensorMetaToProto(const Tensor& t, const std::string& name, onnx::TensorProto* out);

std::string exportName(const Value* v) {
  if (!v) return "";
  while (v->outer()) v = v->outer();
  return v->name();
}

// Decides per tensor whether it goes to the external-data file, and writes it there.
struct TensorSink {
  TensorPayload payload = TensorPayload::kFull;
  AtomicFileWriter* external = nullptr;
  std::string externalName;
  uint64_t externalMinBytes = 0;

  // Fills `out`. With `deferBytes`, an inline tensor's raw_data is left out and the function
  // returns true: the caller streams the bytes (see writeStreamed).
  bool put(const Tensor& t, const std::string& name, onnx::TensorProto* out, bool deferBytes = false) {
    bool goExternal = t.dtype() != DataType::kString &&
                      ((external && t.nbytes() >= externalMinBytes) ||
                       (payload == TensorPayload::kOmitLarge && t.nbytes() >= kPlaceholderMin));
    if (!goExternal) {
      if (deferBytes && t.dtype() != DataType::kString) {
        tensorMetaToProto(t, name, out);
        return true;
      }
      tensorToProto(t, name, out);
      return false;
    }
    out->set_name(name);
    out->set_data_type(static_cast<int32_t>(t.dtype()));
    for (int64_t d : t.dims()) out->add_dims(d);
    if (!t.docString().empty()) out->set_doc_string(t.docString());
    out->set_data_location(onnx::TensorProto::EXTERNAL);
    uint64_t offset = 0;
    if (external) {
      uint64_t pad = (kExternalAlign - external->bytesWritten() % kExternalAlign) % kExternalAlign;
      static const char zeros[kExternalAlign] = {};
      external->write(zeros, pad);
      offset = external->bytesWritten();
      const MappedFile* src = t.sourceFile();
      if (src && t.data() == src->data() + t.sourceOffset()) {
        external->copyFrom(src->fd(), t.sourceOffset(), t.nbytes(), t.data());
      } else {
        external->write(t.data(), t.nbytes());
      }
    }
    auto add = [&](const char* k, const std::string& v) {
      auto* e = out->add_external_data();
      e->set_key(k);
      e->set_value(v);
    };
    add("location", external ? externalName : std::string("effdl-placeholder.bin"));
    add("offset", std::to_string(offset));
    add("length", std::to_string(t.nbytes()));
    return false;
  }
};

void attributeToProto(const Attribute& a, onnx::AttributeProto* out, TensorSink& sink);

// `withInitializers` false: the caller streams the graph's initializers itself (saveModel).
void graphToProto(const Graph& g, onnx::GraphProto* out, TensorSink& sink, bool withInitializers = true) {
  out->set_name(g.name());
  if (!g.docString().empty()) out->set_doc_string(g.docString());
  if (withInitializers)
    for (const Value* v : g.initializers()) sink.put(v->initializer(), v->name(), out->add_initializer());
  for (const Value* v : g.sparseInitializers()) {
    const SparseTensor& s = v->sparseInitializer();
    auto* sp = out->add_sparse_initializer();
    for (int64_t d : s.dims) sp->add_dims(d);
    tensorToProto(s.values, v->name(), sp->mutable_values());
    tensorToProto(s.indices, s.indices.name(), sp->mutable_indices());
  }
  auto valueInfo = [](const Value* v, onnx::ValueInfoProto* vi) {
    vi->set_name(exportName(v));
    if (v->type().kind != ValueType::Kind::kUnknown) typeToProto(v->type(), vi->mutable_type());
    if (!v->docString().empty()) vi->set_doc_string(v->docString());
  };
  for (const Value* v : g.inputs()) valueInfo(v, out->add_input());
  for (const Value* v : g.outputs()) valueInfo(v, out->add_output());
  for (const Value* v : g.values())
    if (v->hasValueInfo() && v->producer() && !v->isGraphOutput()) valueInfo(v, out->add_value_info());
  for (const Node* n : g.nodes()) {
    auto* np = out->add_node();
    for (const Value* v : n->inputs()) np->add_input(exportName(v));
    for (const Value* v : n->outputs()) np->add_output(exportName(v));
    if (!n->name().empty()) np->set_name(n->name());
    np->set_op_type(n->opType());
    if (!n->domain().empty()) np->set_domain(n->domain());
    if (!n->docString().empty()) np->set_doc_string(n->docString());
    for (const Attribute& a : n->attributes()) attributeToProto(a, np->add_attribute(), sink);
  }
  for (const auto& qa : g.opaqueQuantAnnotations()) out->add_quantization_annotation()->ParseFromString(qa);
}

void attributeToProto(const Attribute& a, onnx::AttributeProto* out, TensorSink& sink) {
  if (!a.opaque.empty()) {
    out->ParseFromString(a.opaque);
    return;
  }
  out->set_name(a.name);
  if (!a.refAttrName.empty()) out->set_ref_attr_name(a.refAttrName);
  if (!a.docString.empty()) out->set_doc_string(a.docString);
  out->set_type(static_cast<onnx::AttributeProto_AttributeType>(a.type));
  switch (a.type) {
    case AttrType::kFloat: out->set_f(a.f); break;
    case AttrType::kInt: out->set_i(a.i); break;
    case AttrType::kString: out->set_s(a.s); break;
    case AttrType::kTensor: {
      // Attribute tensors stay inline: Constant values are read by every consumer.
      TensorSink inline_;
      inline_.payload = sink.payload;
      inline_.put(a.t, a.t.name(), out->mutable_t());
      break;
    }
    case AttrType::kGraph: graphToProto(*a.g, out->mutable_g(), sink); break;
    case AttrType::kFloats:
      for (float f : a.floats) out->add_floats(f);
      break;
    case AttrType::kInts:
      for (int64_t i : a.ints) out->add_ints(i);
      break;
    case AttrType::kStrings:
      for (const auto& s : a.strings) out->add_strings(s);
      break;
    case AttrType::kTensors:
      for (const auto& t : a.tensors) tensorToProto(t, t.name(), out->add_tensors());
      break;
    case AttrType::kGraphs:
      for (const auto& g : a.graphs) graphToProto(*g, out->add_graphs(), sink);
      break;
    default: break;
  }
}

// Whether some graph holds an initializer that is not also one of its inputs (a constant).
bool hasConstantInitializer(const Graph& g) {
  for (const Value* v : g.initializers())
    if (!v->isGraphInput()) return true;
  for (const Node* n : g.nodes())
    for (const auto& a : n->attributes()) {
      if (a.g && hasConstantInitializer(*a.g)) return true;
      for (const auto& sg : a.graphs)
        if (hasConstantInitializer(*sg)) return true;
    }
  return false;
}

void modelFields(const Model& m, onnx::ModelProto* out) {
  // IR versions before 4 list every initializer among the graph's inputs. Passes add constants
  // (folded values, quantization parameters) that are not inputs; IR 4 has the same meaning for
  // everything else, so such a model is written as IR 4 (an IR-3 file lost its reload to this;
  // found by fuzz_model).
  out->set_ir_version(m.irVersion < 4 && m.graph && hasConstantInitializer(*m.graph) ? 4 : m.irVersion);
  for (const auto& o : m.opsets) {
    auto* op = out->add_opset_import();
    op->set_domain(o.domain);
    op->set_version(o.version);
  }
  if (!m.producerName.empty()) out->set_producer_name(m.producerName);
  if (!m.producerVersion.empty()) out->set_producer_version(m.producerVersion);
  if (!m.domain.empty()) out->set_domain(m.domain);
  if (m.modelVersion != 0) out->set_model_version(m.modelVersion);
  if (!m.docString.empty()) out->set_doc_string(m.docString);
  for (const auto& [k, v] : m.metadata) {
    auto* e = out->add_metadata_props();
    e->set_key(k);
    e->set_value(v);
  }
  for (const auto& f : m.opaqueFunctions) out->add_functions()->ParseFromString(f);
  for (const auto& t : m.opaqueTrainingInfo) out->add_training_info()->ParseFromString(t);
}

uint64_t totalInitializerBytes(const Graph& g) {
  uint64_t total = 0;
  for (const Value* v : g.initializers()) total += v->initializer().nbytes();
  for (const Node* n : g.nodes())
    for (const auto& a : n->attributes()) {
      total += a.t.nbytes();
      if (a.g) total += totalInitializerBytes(*a.g);
      for (const auto& sg : a.graphs) total += totalInitializerBytes(*sg);
    }
  return total;
}

// Saving streams the model: protobuf's wire format lets a message's fields come in any order
// and a length-delimited field be written as tag, length, bytes. So the file is written as
//   ModelProto fields but the graph | graph tag, length | GraphProto fields but initializers
//   | per initializer: tag, length, TensorProto metadata, raw_data tag, length, the bytes
// and each tensor's bytes go from where they are (memory, or file-to-file from a mapped input)
// straight to the file: the weights are never copied into a proto nor into a serialized string.
// Protobuf parsers (ONNX's, ONNX Runtime's) read this as the same message.
struct StreamedTensor {
  std::string meta;      // the serialized TensorProto without raw_data
  const Tensor* bytes;   // whose payload follows as raw_data; null when `meta` is the whole tensor
};

constexpr uint32_t kModelGraphTag = (7 << 3) | 2;          // ModelProto.graph
constexpr uint32_t kGraphInitializerTag = (5 << 3) | 2;    // GraphProto.initializer
constexpr uint32_t kTensorRawDataTag = (9 << 3) | 2;       // TensorProto.raw_data

uint64_t varintSize(uint64_t v) {
  uint64_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

void putVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

uint64_t entrySize(const StreamedTensor& t) {
  uint64_t n = t.meta.size();
  if (t.bytes) n += 1 + varintSize(t.bytes->nbytes()) + t.bytes->nbytes();
  return n;
}

uint64_t graphSize(const std::string& graphRest, const std::vector<StreamedTensor>& inits) {
  uint64_t n = graphRest.size();
  for (const auto& t : inits) n += 1 + varintSize(entrySize(t)) + entrySize(t);
  return n;
}

uint64_t streamedSize(const std::string& modelRest, const std::string& graphRest,
                      const std::vector<StreamedTensor>& inits) {
  const uint64_t g = graphSize(graphRest, inits);
  return modelRest.size() + 1 + varintSize(g) + g;
}

void writeStreamed(AtomicFileWriter& w, const std::string& modelRest, const std::string& graphRest,
                   const std::vector<StreamedTensor>& inits) {
  std::string head = modelRest;
  head.push_back(static_cast<char>(kModelGraphTag));
  putVarint(head, graphSize(graphRest, inits));
  head += graphRest;
  w.write(head);
  for (const auto& t : inits) {
    std::string h;
    h.push_back(static_cast<char>(kGraphInitializerTag));
    putVarint(h, entrySize(t));
    h += t.meta;
    if (!t.bytes) {
      w.write(h);
      continue;
    }
    h.push_back(static_cast<char>(kTensorRawDataTag));
    putVarint(h, t.bytes->nbytes());
    w.write(h);
    const MappedFile* src = t.bytes->sourceFile();
    if (src && t.bytes->data() == src->data() + t.bytes->sourceOffset())
      w.copyFrom(src->fd(), t.bytes->sourceOffset(), t.bytes->nbytes(), t.bytes->data());
    else
      w.write(t.bytes->data(), t.bytes->nbytes());
  }
}

}  // namespace

namespace {
// Everything of a TensorProto but its payload.
void tensorMetaToProto(const Tensor& t, const std::string& name, onnx::TensorProto* out) {
  if (!name.empty()) out->set_name(name);
  out->set_data_type(static_cast<int32_t>(t.dtype()));
  for (int64_t d : t.dims()) out->add_dims(d);
  if (!t.docString().empty()) out->set_doc_string(t.docString());
}
}  // namespace

void tensorToProto(const Tensor& t, const std::string& name, onnx::TensorProto* out) {
  tensorMetaToProto(t, name, out);
  if (t.dtype() == DataType::kString) {
    for (const auto& s : t.strings()) out->add_string_data(s);
  } else {
    out->set_raw_data(t.data(), t.nbytes());
  }
}

void typeToProto(const ValueType& v, onnx::TypeProto* out) {
  if (v.kind == ValueType::Kind::kOther) {
    out->ParseFromString(v.opaque);
    return;
  }
  if (!v.denotation.empty()) out->set_denotation(v.denotation);
  onnx::TensorShapeProto* shape = nullptr;
  if (v.kind == ValueType::Kind::kTensor) {
    auto* tt = out->mutable_tensor_type();
    tt->set_elem_type(static_cast<int32_t>(v.elemType));
    if (v.shape) shape = tt->mutable_shape();
  } else if (v.kind == ValueType::Kind::kSparseTensor) {
    auto* st = out->mutable_sparse_tensor_type();
    st->set_elem_type(static_cast<int32_t>(v.elemType));
    if (v.shape) shape = st->mutable_shape();
  }
  if (shape) {
    for (const Dim& d : *v.shape) {
      auto* dp = shape->add_dim();
      if (d.value) dp->set_dim_value(*d.value);
      else if (!d.param.empty()) dp->set_dim_param(d.param);
      if (!d.denotation.empty()) dp->set_denotation(d.denotation);
    }
  }
}

void modelToProto(const Model& model, onnx::ModelProto* out, TensorPayload payload) {
  TensorSink sink;
  sink.payload = payload;
  modelFields(model, out);
  graphToProto(*model.graph, out->mutable_graph(), sink);
}

std::string serializeModel(const Model& model) {
  onnx::ModelProto proto;
  modelToProto(model, &proto);
  return proto.SerializeAsString();
}

SaveResult saveModel(const Model& model, const fs::path& path, const SaveOptions& options) {
  bool external = options.externalData == ExternalDataMode::kAlways ||
                  (options.externalData == ExternalDataMode::kAuto && totalInitializerBytes(*model.graph) > kProtoLimit);
  SaveResult result;
  onnx::ModelProto proto;
  modelFields(model, &proto);
  TensorSink sink;
  std::unique_ptr<AtomicFileWriter> dataWriter;
  if (external) {
    std::string dataName = options.externalDataName.empty() ? path.filename().string() + ".data" : options.externalDataName;
    if (fs::path(dataName).has_parent_path())
      throwUsage("external data name '" + dataName + "' must be a plain file name (it is written beside the model)");
    result.externalPath = path.parent_path() / dataName;
    dataWriter = std::make_unique<AtomicFileWriter>(result.externalPath);
    sink.external = dataWriter.get();
    sink.externalName = dataName;
    sink.externalMinBytes = options.externalMinBytes;
  }
  // The graph's initializers first (the external-data file keeps their order), each as its
  // metadata alone; inline bytes are streamed after it (writeStreamed).
  std::vector<StreamedTensor> initializers;
  for (const Value* v : model.graph->initializers()) {
    onnx::TensorProto meta;
    const bool deferred = sink.put(v->initializer(), v->name(), &meta, /*deferBytes=*/true);
    initializers.push_back({meta.SerializeAsString(), deferred ? &v->initializer() : nullptr});
  }
  graphToProto(*model.graph, proto.mutable_graph(), sink, /*withInitializers=*/false);
  std::string graphRest = proto.graph().SerializeAsString();
  proto.clear_graph();
  std::string modelRest = proto.SerializeAsString();
  const uint64_t size = streamedSize(modelRest, graphRest, initializers);
  if (size > kProtoLimit + (uint64_t{63} << 20))
    throwUnsupported(path.string() + ": the model is " + std::to_string(size) +
                     " bytes, above protobuf's 2 GiB limit; save with --external-data");
  AtomicFileWriter writer(path);
  writeStreamed(writer, modelRest, graphRest, initializers);
  if (writer.bytesWritten() != size) throwInternal(path.string() + ": streamed size differs from the computed one");
  if (dataWriter) {
    result.externalBytes = dataWriter->bytesWritten();
    dataWriter->commit();
  }
  writer.commit();
  result.modelBytes = size;
  return result;
}

}  // namespace effdl::ir
