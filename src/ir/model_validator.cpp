// Validation of an untrusted ModelProto (see model_validator.h).
#include "ir/model_validator.h"

#include <onnx/onnx_pb.h>

#include <functional>
#include <map>
#include <set>
#include <vector>
#include <cstring>
#include <unistd.h>

#include "core/checked_math.h"
#include "core/error.h"
#include "ir/dtype.h"

namespace effdl::ir {
namespace {

std::string tensorLabel(const onnx::TensorProto& t, const std::string& where) {
  return where + ": tensor '" + t.name() + "'";
}

// Typed-field element count, or -1 when the tensor has no typed data.
int64_t typedCount(const onnx::TensorProto& t, int& fields) {
  int64_t n = -1;
  fields = 0;
  auto take = [&](int64_t c) {
    if (c > 0) {
      ++fields;
      n = c;
    }
  };
  take(t.float_data_size());
  take(t.int32_data_size());
  take(t.string_data_size());
  take(t.int64_data_size());
  take(t.double_data_size());
  take(t.uint64_data_size());
  return n;
}

// Elements per typed-field entry (complex numbers take two).
int64_t perElement(DataType dt) { return dt == DataType::kComplex64 || dt == DataType::kComplex128 ? 2 : 1; }

bool typedFieldMatches(const onnx::TensorProto& t, DataType dt) {
  switch (dt) {
    case DataType::kFloat:
    case DataType::kComplex64: return t.float_data_size() > 0;
    case DataType::kInt32:
    case DataType::kInt16:
    case DataType::kInt8:
    case DataType::kUint16:
    case DataType::kUint8:
    case DataType::kBool:
    case DataType::kFloat16:
    case DataType::kBfloat16: return t.int32_data_size() > 0;
    case DataType::kString: return t.string_data_size() > 0;
    case DataType::kInt64: return t.int64_data_size() > 0;
    case DataType::kDouble:
    case DataType::kComplex128: return t.double_data_size() > 0;
    case DataType::kUint32:
    case DataType::kUint64: return t.uint64_data_size() > 0;
    case DataType::kUndefined: return false;
  }
  return false;
}

struct Walker {
  std::string display;
  const LoadOptions& options;
  std::set<std::string> importedDomains;  // "" for the default domain; empty set: functions
  bool checkDomains = true;
  bool checkNames = true;  // off in function bodies, whose names are the call's
  std::vector<std::set<std::string>> scopes;  // names visible in the graph being walked, outermost first

  void graph(const onnx::GraphProto& g, int depth) {
    if (depth > options.maxSubgraphDepth)
      throwInvalid(display + ": subgraphs nested deeper than effdl's limit of " +
                   std::to_string(options.maxSubgraphDepth) + " levels (graph '" + g.name() + "')");
    const std::string where = display + (depth == 0 ? "" : ": subgraph '" + g.name() + "'");
    for (const auto& t : g.initializer()) validateTensor(t, where);
    for (const auto& s : g.sparse_initializer()) validateSparseTensor(s, where);
    for (const auto* list : {&g.input(), &g.output(), &g.value_info()})
      for (const auto& v : *list) validateType(v.type(), where + ": value '" + v.name() + "'");
    // libonnx's shape inference reads the type of every main-graph input (subgraph inputs get
    // theirs from the node); one without a type crashes it.
    if (depth == 0)
      for (const auto& v : g.input())
        if (v.type().value_case() == onnx::TypeProto::VALUE_NOT_SET)
          throwInvalid(where + ": graph input '" + v.name() + "' has no type");
    if (checkNames) {
      // Single assignment, as ONNX's checker demands, checked before libonnx's inference: with two
      // graph inputs of one name it reads the other's type (a ConvTranspose weight of rank 1 then
      // crashed it; found by fuzz_model).
      auto twice = [&](const std::string& what, const std::string& name) {
        throwInvalid(where + ": " + what + " '" + name + "' is defined twice (names must be assigned once)");
      };
      std::set<std::string>& names = scopes.emplace_back();
      for (const auto& v : g.input())
        if (!names.insert(v.name()).second) twice("graph input", v.name());
      std::set<std::string> weights;  // an initializer may repeat an input (its default value)
      for (const auto& t : g.initializer())
        if (!weights.insert(t.name()).second) twice("initializer", t.name());
      for (const auto& s : g.sparse_initializer())
        if (!weights.insert(s.values().name()).second) twice("initializer", s.values().name());
      names.insert(weights.begin(), weights.end());
      for (const auto& n : g.node())
        for (const auto& o : n.output())
          if (!o.empty() && !names.insert(o).second) twice("value", o);
    }
    for (const auto& n : g.node()) {
      if (checkNames) checkInputsDefined(n, where);
      node(n, depth, where);
    }
    if (checkNames) scopes.pop_back();
    checkAcyclic(g, where);
  }

  // Declared element types must be ones effdl knows (0: not given), at any depth of nesting.
  void validateType(const onnx::TypeProto& t, const std::string& label) {
    auto check = [&](int32_t elem) {
      if (elem != 0 && !isKnownDtype(elem)) throwInvalid(label + ": unknown element type " + std::to_string(elem));
    };
    if (t.has_tensor_type()) check(t.tensor_type().elem_type());
    if (t.has_sparse_tensor_type()) check(t.sparse_tensor_type().elem_type());
    if (t.has_sequence_type()) validateType(t.sequence_type().elem_type(), label);
    if (t.has_optional_type()) validateType(t.optional_type().elem_type(), label);
    if (t.has_map_type()) validateType(t.map_type().value_type(), label);
  }

  // libonnx's shape inference dereferences the type of every node input: one that nothing
  // defines (no graph input, initializer, node output, or enclosing scope's value) crashes it.
  void checkInputsDefined(const onnx::NodeProto& n, const std::string& where) {
    for (const auto& in : n.input()) {
      if (in.empty()) continue;  // an omitted optional input
      bool found = false;
      for (auto s = scopes.rbegin(); s != scopes.rend() && !found; ++s) found = s->count(in) > 0;
      if (!found)
        throwInvalid(where + ": node '" + n.name() + "' (" + n.op_type() + ") reads '" + in +
                     "', which no graph input, initializer or node defines");
    }
  }

  // ONNX wants nodes topologically sorted, and the checker says so when they are not; a cycle
  // can never be sorted, so it gets its own message naming a node on it. Kahn's algorithm over
  // the graph's own edges (names produced outside it are inputs, initializers or outer scope).
  void checkAcyclic(const onnx::GraphProto& g, const std::string& where) {
    const int n = g.node_size();
    std::map<std::string, int> producer;
    for (int i = 0; i < n; ++i)
      for (const auto& o : g.node(i).output())
        if (!o.empty()) producer.emplace(o, i);
    std::vector<int> pending(static_cast<size_t>(n), 0);
    std::vector<std::vector<int>> users(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i)
      for (const auto& in : g.node(i).input()) {
        auto it = producer.find(in);
        if (it == producer.end()) continue;
        ++pending[static_cast<size_t>(i)];
        users[static_cast<size_t>(it->second)].push_back(i);
      }
    std::vector<int> ready;
    for (int i = 0; i < n; ++i)
      if (pending[static_cast<size_t>(i)] == 0) ready.push_back(i);
    int done = 0;
    while (!ready.empty()) {
      int i = ready.back();
      ready.pop_back();
      ++done;
      for (int u : users[static_cast<size_t>(i)])
        if (--pending[static_cast<size_t>(u)] == 0) ready.push_back(u);
    }
    if (done == n) return;
    // An unsorted node always has an unsorted producer: walking back n steps from one ends on
    // the cycle itself, not on a node merely downstream of it.
    int at = 0;
    while (pending[static_cast<size_t>(at)] == 0) ++at;
    for (int step = 0; step < n; ++step)
      for (const auto& in : g.node(at).input()) {
        auto it = producer.find(in);
        if (it != producer.end() && pending[static_cast<size_t>(it->second)] > 0) {
          at = it->second;
          break;
        }
      }
    const auto& node = g.node(at);
    throwInvalid(where + ": the graph has a cycle through node '" + node.name() + "' (" + node.op_type() +
                 "), which depends on its own output");
  }

  void node(const onnx::NodeProto& n, int depth, const std::string& where) {
    if (checkDomains) {
      std::string d = n.domain() == "ai.onnx" ? "" : n.domain();
      if (!importedDomains.count(d))
        throwInvalid(where + ": node '" + n.name() + "' (" + n.op_type() + ") uses domain '" + n.domain() +
                     "', which has no opset import");
    }
    for (const auto& a : n.attribute()) {
      const std::string aw = where + ": node '" + n.name() + "' (" + n.op_type() + ") attribute '" + a.name() + "'";
      if (a.has_t()) validateTensor(a.t(), aw);
      for (const auto& t : a.tensors()) validateTensor(t, aw);
      if (a.has_sparse_tensor()) validateSparseTensor(a.sparse_tensor(), aw);
      for (const auto& s : a.sparse_tensors()) validateSparseTensor(s, aw);
      if (a.has_g()) graph(a.g(), depth + 1);
      for (const auto& g : a.graphs()) graph(g, depth + 1);
    }
  }
};

void checkVersions(const onnx::ModelProto& m, const std::string& display) {
  const auto& sv = supportedVersions();
  if (!m.has_ir_version() || m.ir_version() <= 0)
    throwInvalid(display + ": no ir_version set; not an ONNX model?");
  if (m.ir_version() > sv.maxIrVersion)
    throwUnsupported(display + ": IR version " + std::to_string(m.ir_version()) +
                     " is above what effdl supports (IR <= " + std::to_string(sv.maxIrVersion) + ", opset <= " +
                     std::to_string(sv.maxDefaultOpset) + ")");
  std::set<std::string> seen;
  for (const auto& o : m.opset_import()) {
    std::string d = o.domain() == "ai.onnx" ? "" : o.domain();
    if (!seen.insert(d).second) throwInvalid(display + ": opset for domain '" + o.domain() + "' imported twice");
    if (d.empty() && o.version() > sv.maxDefaultOpset)
      throwUnsupported(display + ": opset " + std::to_string(o.version()) +
                       " is above what effdl supports (opset <= " + std::to_string(sv.maxDefaultOpset) + ")");
    if (d.empty() && o.version() < sv.minDefaultOpset)
      throwInvalid(display + ": opset version " + std::to_string(o.version()) + " is not valid");
    if (d == "ai.onnx.ml" && o.version() > sv.maxMlOpset)
      throwUnsupported(display + ": ai.onnx.ml opset " + std::to_string(o.version()) +
                       " is above what effdl supports (<= " + std::to_string(sv.maxMlOpset) + ")");
  }
}

void checkFunctionCycles(const onnx::ModelProto& m, const std::string& display) {
  std::map<std::pair<std::string, std::string>, const onnx::FunctionProto*> fns;
  for (const auto& f : m.functions()) fns[{f.domain(), f.name()}] = &f;
  std::map<const onnx::FunctionProto*, int> state;  // 1: on stack, 2: done
  std::function<void(const onnx::FunctionProto*)> visit = [&](const onnx::FunctionProto* f) {
    state[f] = 1;
    for (const auto& n : f->node()) {
      auto it = fns.find({n.domain(), n.op_type()});
      if (it == fns.end()) continue;
      int s = state[it->second];
      if (s == 1)
        throwInvalid(display + ": function '" + f->name() + "' calls '" + n.op_type() + "' recursively (a cycle)");
      if (s == 0) visit(it->second);
    }
    state[f] = 2;
  };
  for (const auto& [k, f] : fns)
    if (state[f] == 0) visit(f);
}

}  // namespace

const SupportedVersions& supportedVersions() {
  static const SupportedVersions v;
  return v;
}

uint64_t defaultMaxTensorBytes() {
  // Half the physical RAM: one tensor that size already crowds out everything else.
  long pages = sysconf(_SC_PHYS_PAGES);
  long pageSize = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || pageSize <= 0) return uint64_t{4} << 30;
  return static_cast<uint64_t>(pages) * static_cast<uint64_t>(pageSize) / 2;
}

uint64_t validateTensor(const onnx::TensorProto& t, const std::string& where) {
  const std::string label = tensorLabel(t, where);
  if (!isKnownDtype(t.data_type()))
    throwInvalid(label + ": unknown data type " + std::to_string(t.data_type()));
  if (t.has_segment()) throwUnsupported(label + ": segmented tensors are not supported");
  DataType dt = static_cast<DataType>(t.data_type());
  std::vector<int64_t> dims(t.dims().begin(), t.dims().end());
  for (int64_t d : dims)
    if (d < 0) throwInvalid(label + ": negative dim " + std::to_string(d));
  auto numel = checkedElementCount(dims);
  if (!numel) throwInvalid(label + ": the product of its dims overflows");
  const bool external = t.has_data_location() && t.data_location() == onnx::TensorProto::EXTERNAL;
  int fields = 0;
  int64_t typed = typedCount(t, fields);
  if (dt == DataType::kString) {
    if (t.has_raw_data() || external) throwInvalid(label + ": string tensors must use string_data");
    if (t.string_data_size() != *numel)
      throwInvalid(label + ": has " + std::to_string(t.string_data_size()) + " strings but its dims call for " +
                   std::to_string(*numel));
    return 0;
  }
  auto bytes = checkedMul(*numel, static_cast<int64_t>(dtypeSize(dt)));
  if (!bytes) throwInvalid(label + ": its byte size overflows");
  const int sources = fields + (t.has_raw_data() ? 1 : 0) + (external ? 1 : 0);
  if (sources > 1) throwInvalid(label + ": data is given in more than one field");
  if (external) {
    bool hasLocation = false;
    for (const auto& e : t.external_data())
      if (e.key() == "location") hasLocation = true;
    if (!hasLocation) throwInvalid(label + ": external data without a location");
    return static_cast<uint64_t>(*bytes);
  }
  if (t.has_raw_data()) {
    if (t.raw_data().size() != static_cast<uint64_t>(*bytes))
      throwInvalid(label + ": raw_data holds " + std::to_string(t.raw_data().size()) + " bytes but its dims " +
                   "and type need " + std::to_string(*bytes));
    return static_cast<uint64_t>(*bytes);
  }
  if (typed < 0) {
    if (*numel != 0) throwInvalid(label + ": has no data for its " + std::to_string(*numel) + " elements");
    return 0;
  }
  if (!typedFieldMatches(t, dt))
    throwInvalid(label + ": data is stored in a field that does not match its type " + std::string(dtypeName(dt)));
  auto want = checkedMul(*numel, perElement(dt));
  if (!want || typed != *want)
    throwInvalid(label + ": has " + std::to_string(typed) + " values but its dims call for " +
                 std::to_string(want ? *want : -1));
  return static_cast<uint64_t>(*bytes);
}

void validateSparseTensor(const onnx::SparseTensorProto& s, const std::string& where) {
  const std::string label = where + ": sparse tensor '" + s.values().name() + "'";
  std::vector<int64_t> dims(s.dims().begin(), s.dims().end());
  for (int64_t d : dims)
    if (d < 0) throwInvalid(label + ": negative dim " + std::to_string(d));
  auto dense = checkedElementCount(dims);
  if (!dense) throwInvalid(label + ": the product of its dense dims overflows");
  validateTensor(s.values(), where);
  validateTensor(s.indices(), where);
  if (s.values().dims_size() != 1) throwInvalid(label + ": values must be 1-D");
  const int64_t nnz = s.values().dims(0);
  const auto& ix = s.indices();
  if (ix.data_type() != onnx::TensorProto::INT64) throwInvalid(label + ": indices must be int64");
  if (ix.has_data_location() && ix.data_location() == onnx::TensorProto::EXTERNAL)
    throwUnsupported(label + ": external sparse indices are not supported");
  const int64_t rank = static_cast<int64_t>(dims.size());
  bool linear = ix.dims_size() == 1;
  if (linear ? ix.dims(0) != nnz : !(ix.dims_size() == 2 && ix.dims(0) == nnz && ix.dims(1) == rank))
    throwInvalid(label + ": indices shape must be [NNZ] or [NNZ, rank]");
  auto index = [&](int64_t k) -> int64_t {
    if (ix.has_raw_data()) {
      int64_t v;
      std::memcpy(&v, ix.raw_data().data() + k * 8, 8);
      return v;
    }
    return ix.int64_data(static_cast<int>(k));
  };
  if (linear) {
    int64_t prev = -1;
    for (int64_t k = 0; k < nnz; ++k) {
      int64_t v = index(k);
      if (v < 0 || v >= *dense) throwInvalid(label + ": index " + std::to_string(v) + " is out of range");
      if (v <= prev) throwInvalid(label + ": indices are not sorted and unique");
      prev = v;
    }
  } else {
    for (int64_t k = 0; k < nnz; ++k) {
      int order = k == 0 ? 1 : 0;  // lexicographic comparison with the previous row
      for (int64_t r = 0; r < rank; ++r) {
        int64_t v = index(k * rank + r);
        if (v < 0 || v >= dims[static_cast<size_t>(r)])
          throwInvalid(label + ": index " + std::to_string(v) + " is out of range for dim " + std::to_string(r));
        if (order == 0) {
          int64_t p = index((k - 1) * rank + r);
          order = v > p ? 1 : (v < p ? -1 : 0);
        }
      }
      if (order <= 0) throwInvalid(label + ": indices are not sorted and unique");
    }
  }
}

void validateModelProto(const onnx::ModelProto& model, const std::string& display, const LoadOptions& options) {
  checkVersions(model, display);
  if (!model.has_graph()) throwInvalid(display + ": the model has no graph");
  Walker w{display, options, {}, true, true, {}};
  for (const auto& o : model.opset_import()) w.importedDomains.insert(o.domain() == "ai.onnx" ? "" : o.domain());
  // IR < 3 models have no opset imports: the default domain is implied.
  if (model.opset_import_size() == 0) w.importedDomains.insert("");
  w.graph(model.graph(), 0);
  w.checkDomains = false;  // functions import their own opsets
  w.checkNames = false;
  for (const auto& f : model.functions())
    for (const auto& n : f.node()) w.node(n, 1, display + ": function '" + f.name() + "'");
  checkFunctionCycles(model, display);
}

}  // namespace effdl::ir
