// ModelProto → ir::Model: parse with protobuf limits, validate, run ONNX's checker and shape
// inference, then convert, moving tensor bytes out of the proto instead of copying them.
#include "ir/onnx_import.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <onnx/checker.h>
#include <onnx/defs/data_type_utils.h>
#include <onnx/defs/schema.h>
#include <onnx/defs/parser.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "core/error.h"
#include "core/mapped_file.h"
#include "ir/external_data.h"
#include "ir/model_validator.h"
#include "ir/proto_convert.h"
#include "ir/rank_preinference.h"

namespace fs = std::filesystem;

namespace effdl::ir {
namespace {

// Protobuf counts message nesting; each subgraph level costs 3 (graph → node → attribute).
// The limit lets effdl's own depth check (with its clear message) run first.
constexpr int kProtoRecursionLimit = 400;

struct BoundDim {
  std::string input;
  int index;
  std::string param;
};

// Sets symbolic input dims to values before shape inference; returns what was bound, by name,
// and where (so the importer can put the symbol's name back beside its value).
std::vector<std::pair<std::string, int64_t>> bindDims(onnx::ModelProto& proto, const LoadOptions& options,
                                                      const std::string& display, std::vector<BoundDim>& where) {
  std::vector<std::pair<std::string, int64_t>> bound;
  if (options.dimBindings.empty() && !options.defaultDimValue) return bound;
  std::set<std::string> used;
  for (auto& in : *proto.mutable_graph()->mutable_input()) {
    if (!in.type().has_tensor_type() || !in.type().tensor_type().has_shape()) continue;
    int index = -1;
    for (auto& d : *in.mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim()) {
      ++index;
      if (d.has_dim_value()) continue;
      std::string name = d.has_dim_param() ? d.dim_param() : std::string();
      std::optional<int64_t> value = options.defaultDimValue;
      for (const auto& [n, v] : options.dimBindings)
        if (!name.empty() && n == name) {
          value = v;
          used.insert(n);
        }
      if (!value) continue;
      d.set_dim_value(*value);  // dim_value and dim_param are a oneof: the name goes to `where`
      if (!name.empty()) where.push_back(BoundDim{in.name(), index, name});
      bool seen = false;
      for (const auto& [n, v] : bound) seen = seen || n == name;
      if (!seen) bound.emplace_back(name.empty() ? "?" : name, *value);
    }
  }
  for (const auto& [name, value] : options.dimBindings)
    if (!used.count(name))
      throwUsage(display + ": --dim " + name + "=" + std::to_string(value) + ": no input has a dim named '" + name + "'");
  return bound;
}

// libonnx's messages span lines: the problem (itself split, e.g. around a printed node), then
// "==> Context: <the node>" (checker) or "Error context: <the whole text>" (parser). effdl's
// errors are one line: the lines joined, the checker's context kept, the parser's quoted text not.
std::string oneLine(const std::string& message) {
  std::string out, line;
  std::istringstream lines(message);
  while (std::getline(lines, line)) {
    if (line.rfind("Error context", 0) == 0) continue;
    if (line.rfind("==> Context: ", 0) == 0) line = "(context: " + line.substr(13) + ")";
    while (!line.empty() && line.back() == ' ') line.pop_back();
    while (!out.empty() && !line.empty() && line.front() == ' ') line.erase(0, 1);
    if (line.empty()) continue;
    out += (out.empty() ? "" : " ") + line;
  }
  return out;
}

void runChecker(onnx::ModelProto& proto, const std::string& display) {
  try {
    onnx::checker::check_model(proto);
  } catch (const std::exception& e) {
    throwInvalid(display + ": ONNX checker: " + oneLine(e.what()));
  }
}

// libonnx's inference functions trust the node to match its schema (Scan-8 dereferences its
// required num_scan_inputs attribute unchecked), yet its checker runs after inference (it needs
// the inferred output shapes). So each node is verified against its schema first: attributes
// required and of the right type, input and output counts. Nodes without a schema are left to
// the checker.
// libonnx 1.12's inference reads past its vectors when a Conv's weight rank differs from its
// input's (x [1,1,3] with w [1,1,2,2]) and when Gemm gets a non-matrix (both found by fuzz_model).
// Checked on declared ranks (inputs, initializers, value_info) here, and on ranks that arrive
// through other nodes after rank pre-inference (rank_preinference.h); the runtime checks the rest.
void checkRanks(const onnx::NodeProto& n, const std::string& display,
                const std::function<int(const std::string&)>& rankOf) {
  if (!inferenceTrustsRanks(n)) return;
  // Gemm's inference indexes dims 0 and 1 of A and B without checking their rank.
  if (n.op_type() == "Gemm")
    for (int i = 0; i < 2 && i < n.input_size(); ++i) {
      const int r = rankOf(n.input(i));
      if (r >= 0 && r != 2)
        throwInvalid(display + ": node '" + n.name() + "' (Gemm): input '" + n.input(i) + "' has rank " +
                     std::to_string(r) + "; Gemm takes matrices");
    }
  // LayerNormalization's inference adds the rank to a negative axis and indexes the mean's dims
  // from there: an axis below -rank reads before them (found by fuzz_text).
  if (n.op_type() == "LayerNormalization") {
    const int r = n.input_size() > 0 ? rankOf(n.input(0)) : -1;
    for (const auto& a : n.attribute())
      if (a.name() == "axis" && r >= 0 && (a.i() < -r || a.i() >= r))
        throwInvalid(display + ": node '" + n.name() + "' (LayerNormalization): axis " + std::to_string(a.i()) +
                     " is outside [-" + std::to_string(r) + ", " + std::to_string(r - 1) + "] for input '" +
                     n.input(0) + "' of rank " + std::to_string(r));
    return;
  }
  static const std::map<std::string, int> weightInput = {
      {"Conv", 1}, {"ConvInteger", 1}, {"ConvTranspose", 1}, {"QLinearConv", 3}};
  auto op = weightInput.find(n.op_type());
  if (op == weightInput.end() || n.input_size() <= op->second) return;
  const int xRank = rankOf(n.input(0)), wRank = rankOf(n.input(op->second));
  if (xRank >= 0 && wRank >= 0 && wRank != xRank)
    throwInvalid(display + ": node '" + n.name() + "' (" + n.op_type() + "): weight rank " + std::to_string(wRank) +
                 " differs from input rank " + std::to_string(xRank));
}

// Conv and pooling inference divides by strides and dilations (a 0 stride: SIGFPE).
void checkWindowAttributes(const onnx::NodeProto& n, const std::string& display) {
  if (!(n.domain().empty() || n.domain() == "ai.onnx")) return;
  static const std::set<std::string> windowed = {"Conv",    "ConvInteger", "ConvTranspose", "QLinearConv",
                                                 "MaxPool", "AveragePool", "LpPool",        "MaxUnpool"};
  if (windowed.count(n.op_type()))
    for (const auto& a : n.attribute())
      if (a.name() == "strides" || a.name() == "dilations" || a.name() == "kernel_shape")
        for (int64_t v : a.ints())
          if (v <= 0)
            throwInvalid(display + ": node '" + n.name() + "' (" + n.op_type() + "): attribute '" + a.name() +
                         "' has " + std::to_string(v) + "; it must be positive");
}

int declaredRank(const onnx::GraphProto& g, const std::string& name) {
  for (const auto* list : {&g.input(), &g.value_info()})
    for (const auto& v : *list)
      if (v.name() == name && v.type().has_tensor_type() && v.type().tensor_type().has_shape())
        return v.type().tensor_type().shape().dim_size();
  for (const auto& t : g.initializer())
    if (t.name() == name) return t.dims_size();
  return -1;
}

bool hasGuardedNode(const onnx::GraphProto& g) {
  for (const auto& n : g.node()) {
    if (inferenceTrustsRanks(n) || inferenceLoopsOverDims(n)) return true;
    for (const auto& a : n.attribute()) {
      if (a.has_g() && hasGuardedNode(a.g())) return true;
      for (const auto& sg : a.graphs())
        if (hasGuardedNode(sg)) return true;
    }
  }
  return false;
}

// With auto_pad SAME_*, libonnx's inference loops input-size / stride times per spatial dim.
constexpr int64_t kMaxSamePadDim = int64_t{1} << 28;

void checkSamePadDims(const onnx::NodeProto& n, const std::string& display, const std::vector<int64_t>* dims) {
  if (!dims || !inferenceLoopsOverDims(n)) return;
  for (size_t i = 2; i < dims->size(); ++i)
    if ((*dims)[i] > kMaxSamePadDim)
      throwInvalid(display + ": node '" + n.name() + "' (" + n.op_type() + "): input '" + n.input(0) + "' has dim " +
                   std::to_string((*dims)[i]) + " with auto_pad SAME_*; effdl takes at most " +
                   std::to_string(kMaxSamePadDim));
}

// Shapes from pre-inference, graph by graph; a name not found there counts as unknown.
void checkInferredShapes(const onnx::GraphProto& g, const ShapeTable& table, const std::string& display) {
  auto it = table.find(&g);
  auto shapeOf = [&](const std::string& name) -> const std::vector<int64_t>* {
    if (it == table.end()) return nullptr;
    auto s = it->second.find(name);
    return s == it->second.end() ? nullptr : &s->second;
  };
  for (const auto& n : g.node()) {
    checkRanks(n, display, [&](const std::string& name) {
      const auto* s = shapeOf(name);
      return s ? static_cast<int>(s->size()) : -1;
    });
    if (n.input_size() > 0) checkSamePadDims(n, display, shapeOf(n.input(0)));
    for (const auto& a : n.attribute()) {
      if (a.has_g()) checkInferredShapes(a.g(), table, display);
      for (const auto& sg : a.graphs()) checkInferredShapes(sg, table, display);
    }
  }
}

// libonnx's inference functions take a sparse tensor input with a shape for a dense one and read
// dims that are not there (ConvTranspose with a sparse W crashed it; found by fuzz_model): a graph
// input declared sparse where the node's schema takes no sparse tensor is refused first. (Other
// kinds have no shape libonnx would read this way.)
void checkInputKinds(const onnx::GraphProto& g, const onnx::NodeProto& n, const onnx::OpSchema& schema,
                     const std::string& display) {
  if (schema.inputs().empty()) return;
  for (int i = 0; i < n.input_size(); ++i) {
    if (n.input(i).empty()) continue;
    const onnx::TypeProto* type = nullptr;
    for (const auto& v : g.input())
      if (v.name() == n.input(i)) type = &v.type();
    if (!type || type->value_case() != onnx::TypeProto::kSparseTensorType) continue;
    const auto& formal = schema.inputs()[std::min<size_t>(static_cast<size_t>(i), schema.inputs().size() - 1)];
    try {
      if (formal.GetTypes().count(onnx::Utils::DataTypeUtils::ToType(*type))) continue;
    } catch (const std::exception&) {
      // A type libonnx cannot name: not one the schema takes either.
    }
    throwInvalid(display + ": node '" + n.name() + "' (" + n.op_type() + "): input '" + n.input(i) +
                 "' is declared as a sparse tensor, which " + n.op_type() + " does not take");
  }
}

// libonnx 1.12 infers an Einsum without '->' by counting labels in an array of the 26 lower-case
// letters: an upper-case label writes outside it (found by fuzz_text, ASan: a bad free).
void checkEinsumEquation(const onnx::NodeProto& n, const std::string& display) {
  if (n.op_type() != "Einsum" || !(n.domain().empty() || n.domain() == "ai.onnx")) return;
  for (const auto& a : n.attribute()) {
    if (a.name() != "equation") continue;
    const std::string& eq = a.s();
    if (eq.find("->") != std::string::npos) return;
    for (char c : eq)
      if (c >= 'A' && c <= 'Z')
        throwUnsupported(display + ": node '" + n.name() + "' (Einsum): equation '" + eq +
                         "' has upper-case labels and no '->' output; effdl needs the output spelled out there");
  }
}

void verifyNodeSchemas(const onnx::GraphProto& g, const std::map<std::string, int64_t>& opsets,
                       const std::string& display) {
  for (const auto& n : g.node()) {
    checkWindowAttributes(n, display);
    checkEinsumEquation(n, display);
    checkRanks(n, display, [&](const std::string& name) { return declaredRank(g, name); });
    for (const auto& a : n.attribute()) {
      if (a.has_g()) verifyNodeSchemas(a.g(), opsets, display);
      for (const auto& sg : a.graphs()) verifyNodeSchemas(sg, opsets, display);
    }
    const std::string domain = n.domain() == "ai.onnx" ? "" : n.domain();
    auto it = opsets.find(domain);
    if (it == opsets.end()) continue;
    const onnx::OpSchema* schema =
        onnx::OpSchemaRegistry::Schema(n.op_type(), static_cast<int>(it->second), domain);
    if (!schema) continue;
    try {
      schema->Verify(n);
    } catch (const std::exception& e) {
      throwInvalid(display + ": node '" + n.name() + "' (" + n.op_type() + "): " + oneLine(e.what()));
    }
    checkInputKinds(g, n, *schema, display);
  }
}

void inferShapes(onnx::ModelProto& proto, const std::string& display) {
  try {
    const bool dataProp = dataPropagationSafe(proto.graph());
    onnx::ShapeInferenceOptions opts(/*check_type=*/false, /*error_mode=*/0, dataProp);
    onnx::shape_inference::InferShapes(proto, onnx::OpSchemaRegistry::Instance(), opts);
  } catch (const std::exception& e) {
    throwInvalid(display + ": shape inference: " + oneLine(e.what()));
  }
}

// The checker stats external files relative to the working directory; point it at the files we
// already resolved and validated.
void absolutizeExternalLocations(onnx::GraphProto& g, const fs::path& baseDir) {
  for (auto& t : *g.mutable_initializer()) {
    if (!(t.has_data_location() && t.data_location() == onnx::TensorProto::EXTERNAL)) continue;
    for (auto& e : *t.mutable_external_data())
      if (e.key() == "location") e.set_value(fs::absolute(baseDir / e.value()).string());
  }
}

}  // namespace

namespace {

onnx::ModelProto parseModel(google::protobuf::io::ZeroCopyInputStream& in, size_t size, const std::string& display) {
  if (size == 0) throwInvalid(display + ": empty file; not an ONNX model");
  if (size > static_cast<size_t>(INT_MAX))
    throwInvalid(display + ": a protobuf message cannot exceed 2 GiB; store the weights as external data");
  onnx::ModelProto proto;
  google::protobuf::io::CodedInputStream cis(&in);
  cis.SetRecursionLimit(kProtoRecursionLimit);
  cis.SetTotalBytesLimit(INT_MAX);
  if (!proto.ParseFromCodedStream(&cis) || !cis.ConsumedEntireMessage())
    throwInvalid(display + ": not an ONNX model (protobuf parse failed: corrupt, truncated or nested too deeply)");
  if (!proto.has_graph() && !proto.has_ir_version())
    throwInvalid(display + ": not an ONNX model (no graph and no ir_version)");
  return proto;
}

}  // namespace

std::unique_ptr<Model> loadModelFromBytes(const void* data, size_t size, const fs::path& baseDir,
                                          const std::string& display, const LoadOptions& options) {
  google::protobuf::io::ArrayInputStream ais(data, static_cast<int>(std::min<size_t>(size, INT_MAX)));
  return importProto(parseModel(ais, size, display), baseDir, display, options);
}

// Hands protobuf the mapped file in 16 MiB chunks without a copy, and drops the pages of chunks
// parsed two chunks ago: only the parsed copy stays resident, as with the descriptor's reads,
// without the read copy and the block buffer. Dropping is advisory: a page still referenced
// would fault back in from the page cache.
class MapChunkStream final : public google::protobuf::io::ZeroCopyInputStream {
 public:
  explicit MapChunkStream(const MappedFile& f) : f_(f) {}
  bool Next(const void** data, int* size) override {
    if (pos_ >= f_.size()) return false;
    if (pos_ >= 2 * kChunk) f_.dropPages(f_.data() + dropped_, pos_ - kChunk - dropped_), dropped_ = pos_ - kChunk;
    const size_t n = std::min(kChunk, f_.size() - pos_);
    *data = f_.data() + pos_;
    *size = static_cast<int>(n);
    pos_ += n;
    return true;
  }
  void BackUp(int count) override { pos_ -= static_cast<size_t>(count); }
  bool Skip(int count) override {
    const size_t left = f_.size() - pos_;
    pos_ += std::min(left, static_cast<size_t>(count));
    return static_cast<size_t>(count) <= left;
  }
  int64_t ByteCount() const override { return static_cast<int64_t>(pos_); }

 private:
  static constexpr size_t kChunk = size_t{16} << 20;
  const MappedFile& f_;
  size_t pos_ = 0, dropped_ = 0;
};

std::unique_ptr<Model> loadModel(const fs::path& path, const LoadOptions& options) {
  const std::string display = path.string();
  std::error_code ec;
  if (fs::is_directory(path, ec)) throwIo(display + ": is a directory, not a model file");
  auto file = MappedFile::open(path);
  // Parsed from the descriptor in chunks, not from the map: the parse copies each raw_data into
  // the proto anyway, and reading through the map would also leave the file's pages resident —
  // twice the weights of a large inline model in memory.
  // Large blocks: protobuf appends a long raw_data block by block. A 256 MiB inline model parsed
  // in 8 KiB blocks took 2.2x the time of a parse from the map; in 64 MiB blocks 1.4x, with 0.63x
  // its peak RSS.
  if (options.parseFromMap) {
    MapChunkStream in(*file);
    return importProto(parseModel(in, file->size(), display), path.parent_path(), display, options);
  }
  constexpr size_t kMaxBlock = size_t{64} << 20;
  const int block = static_cast<int>(std::clamp<size_t>(file->size(), 4096, kMaxBlock));
  google::protobuf::io::FileInputStream in(file->fd(), block);
  onnx::ModelProto proto;
  try {
    proto = parseModel(in, file->size(), display);
  } catch (const Error&) {
    if (in.GetErrno() != 0) throwIo(display + ": read failed: " + std::strerror(in.GetErrno()));
    throw;
  }
  return importProto(std::move(proto), path.parent_path(), display, options);
}

std::unique_ptr<Model> loadModelFromText(const std::string& text, const LoadOptions& options) {
  onnx::ModelProto proto;
  onnx::OnnxParser parser(text.c_str());
  onnx::Common::Status status;
  try {
    status = parser.Parse(proto);
  } catch (const std::exception& e) {
    // libonnx 1.12 parses numbers with std::stof/stoll, which throw on "/.0" or out-of-range values.
    throwInvalid(std::string("<text>: parse error: bad number (") + e.what() + ")");
  }
  if (!status.IsOK()) {
    throwInvalid("<text>: parse error: " + oneLine(status.ErrorMessage()));
  }
  if (!parser.EndOfInput()) throwInvalid("<text>: unexpected text after the model");
  return importProto(std::move(proto), fs::path("."), "<text>", options);
}

std::unique_ptr<Model> importProto(onnx::ModelProto&& proto, const fs::path& baseDir, const std::string& display,
                                   const LoadOptions& options) {
  validateModelProto(proto, display, options);
  LoadOptions opts = options;
  if (opts.maxTensorBytes == 0) opts.maxTensorBytes = defaultMaxTensorBytes();
  ExternalDataResolver resolver(baseDir, opts.allowDataRoot, display);
  // Resolve external data before the checker so that escapes are reported as such.
  ExternalViews views = resolveExternalData(proto.graph(), resolver, display);
  std::vector<BoundDim> where;
  auto bound = bindDims(proto, opts, display, where);
  std::set<std::string> fileValueInfo;
  for (const auto& vi : proto.graph().value_info()) fileValueInfo.insert(vi.name());
  if (opts.inferShapes) {
    std::map<std::string, int64_t> opsets;
    for (const auto& o : proto.opset_import()) opsets[o.domain() == "ai.onnx" ? "" : o.domain()] = o.version();
    if (proto.opset_import_size() == 0) opsets[""] = 1;
    verifyNodeSchemas(proto.graph(), opsets, display);
    if (hasGuardedNode(proto.graph()))
      checkInferredShapes(proto.graph(), preinferShapes(proto, dataPropagationSafe(proto.graph())), display);
    inferShapes(proto, display);
  }
  if (opts.runChecker) {
    absolutizeExternalLocations(*proto.mutable_graph(), baseDir);
    runChecker(proto, display);
  }
  auto model = protoToModel(std::move(proto), views, fileValueInfo, display, opts);
  model->boundDims = std::move(bound);
  for (const auto& b : where) {
    Value* v = model->graph->findValue(b.input);
    if (!v || !v->type().shape || static_cast<size_t>(b.index) >= v->type().shape->size()) continue;
    ValueType t = v->type();
    (*t.shape)[static_cast<size_t>(b.index)].param = b.param;
    v->setType(std::move(t));
  }
  return model;
}

}  // namespace effdl::ir
