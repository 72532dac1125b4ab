// Parameter statistics (see parameters.h): one pass over every weight of every scope.
#include "analysis/parameters.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <set>
#include <unordered_set>

#include "analysis/graph_walk.h"
#include "core/checked_math.h"

namespace effdl::analysis {
namespace {

// One weight tensor as the statistics see it.
struct Weight {
  WeightInfo info;
  const ir::Value* value = nullptr;  // whose readers decide the consumer bucket
  int64_t indexBytes = 0;            // sparse indices, accounted under indexDtype
  ir::DataType indexDtype = ir::DataType::kUndefined;
  int64_t denseElements = 0;  // for sparsity; floating-point weights only
  int64_t zeros = 0;
};

// Stored values may sit at any byte offset (external data, packed protobuf strings), so they are
// read through memcpy rather than through a typed pointer.
template <typename T>
[[gnu::always_inline]] inline int64_t countZerosAs(const uint8_t* data, int64_t count) {
  int64_t zeros = 0;
#pragma omp simd reduction(+ : zeros)
  for (int64_t i = 0; i < count; ++i) {
    T v;
    std::memcpy(&v, data + i * static_cast<int64_t>(sizeof(T)), sizeof(T));
    if (v == T(0)) ++zeros;
  }
  return zeros;
}

// 16-bit floats: zero when every bit but the sign is clear.
[[gnu::always_inline]] inline int64_t countZeros16(const uint8_t* data, int64_t count) {
  int64_t zeros = 0;
#pragma omp simd reduction(+ : zeros)
  for (int64_t i = 0; i < count; ++i) {
    uint16_t v;
    std::memcpy(&v, data + i * 2, 2);
    if ((v & 0x7fff) == 0) ++zeros;
  }
  return zeros;
}

// GCC also builds the slab count for AVX2 and AVX-512 and picks one when the library loads: the
// build targets baseline x86-64, and counting a mapped 1 GiB model's zeros is a full scan of it
// (the before-summary of every optimize). Clang builds (the sanitizer tree) keep the baseline loop.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define EFFDL_COUNT_CLONES __attribute__((target_clones("default", "avx2", "arch=x86-64-v4")))
#else
#define EFFDL_COUNT_CLONES
#endif

// -1 for a dtype whose zeros are not counted.
EFFDL_COUNT_CLONES int64_t countZerosSlab(ir::DataType dtype, const uint8_t* p, int64_t n) {
  switch (dtype) {
    case ir::DataType::kFloat: return countZerosAs<float>(p, n);
    case ir::DataType::kDouble: return countZerosAs<double>(p, n);
    case ir::DataType::kFloat16:
    case ir::DataType::kBfloat16: return countZeros16(p, n);
    default: return -1;
  }
}

// Counted in slabs whose pages are dropped once read, so that a mapped multi-GiB model is counted
// with a resident set of one slab (inspect's memory ceiling).
int64_t countZeros(const ir::Tensor& t) {
  constexpr int64_t kSlabBytes = int64_t{16} << 20;
  const int64_t size = static_cast<int64_t>(ir::dtypeSize(t.dtype()));
  if (size == 0 || !t.data()) return 0;
  const int64_t count = std::min<int64_t>(t.numel(), static_cast<int64_t>(t.nbytes()) / size);
  const int64_t perSlab = kSlabBytes / size;
  int64_t zeros = 0;
  for (int64_t first = 0; first < count; first += perSlab) {
    const int64_t n = std::min(perSlab, count - first);
    const uint8_t* p = t.data() + first * size;
    const int64_t z = countZerosSlab(t.dtype(), p, n);
    if (z < 0) return 0;
    zeros += z;
    t.releasePages(static_cast<size_t>(first * size), static_cast<size_t>(n * size));
  }
  return zeros;
}

int64_t storedBytes(const ir::Tensor& t) {
  if (t.dtype() != ir::DataType::kString) return static_cast<int64_t>(t.nbytes());
  int64_t n = 0;
  for (const auto& s : t.strings()) n += static_cast<int64_t>(s.size());
  return n;
}

Weight denseWeight(const std::string& name, WeightSource source, const ir::Tensor& t, const ir::Value* value) {
  Weight w;
  w.info.name = name;
  w.info.source = source;
  w.info.dtype = t.dtype();
  w.info.dims = t.dims();
  w.info.params = t.numel();
  w.info.bytes = storedBytes(t);
  w.info.external = t.fromExternalData();
  w.value = value;
  if (ir::isFloatingPoint(t.dtype())) {
    w.denseElements = w.info.params;
    w.zeros = countZeros(t);
  }
  return w;
}

Weight sparseWeight(const std::string& name, const ir::SparseTensor& st, const ir::Value* value) {
  Weight w;
  w.info.name = name;
  w.info.source = WeightSource::kSparseInitializer;
  w.info.dtype = st.values.dtype();
  w.info.dims = st.dims;
  w.info.params = st.values.numel();
  w.info.bytes = storedBytes(st.values) + storedBytes(st.indices);
  w.info.external = st.values.fromExternalData() || st.indices.fromExternalData();
  w.indexBytes = storedBytes(st.indices);
  w.indexDtype = st.indices.dtype();
  w.value = value;
  if (ir::isFloatingPoint(st.values.dtype())) {
    // Dims were validated at load; the checked product only guards against a hand-built IR.
    int64_t dense = checkedElementCount(st.dims).value_or(w.info.params);
    w.denseElements = std::max(dense, w.info.params);
    w.zeros = (w.denseElements - w.info.params) + countZeros(st.values);
  }
  return w;
}

// A Constant's scalar/list forms (value_float, value_ints, ...) as a weight.
Weight listWeight(const std::string& name, ir::DataType dtype, std::vector<int64_t> dims, int64_t count,
                  int64_t bytes, int64_t zeros, const ir::Value* value) {
  Weight w;
  w.info.name = name;
  w.info.source = WeightSource::kConstantNode;
  w.info.dtype = dtype;
  w.info.dims = std::move(dims);
  w.info.params = count;
  w.info.bytes = bytes;
  w.value = value;
  if (ir::isFloatingPoint(dtype)) {
    w.denseElements = count;
    w.zeros = zeros;
  }
  return w;
}

// Returns false for a Constant whose value effdl cannot see (sparse_value, carried opaquely).
bool constantWeight(const ir::Node& n, std::vector<Weight>& out) {
  const ir::Value* v = n.output(0);
  std::string name = v ? v->name() : n.name();
  for (const ir::Attribute& a : n.attributes()) {
    if (a.name == "value") {
      out.push_back(denseWeight(name, WeightSource::kConstantNode, a.t, v));
      return true;
    }
    if (a.name == "value_float") {
      out.push_back(listWeight(name, ir::DataType::kFloat, {}, 1, 4, a.f == 0.0f ? 1 : 0, v));
      return true;
    }
    if (a.name == "value_floats") {
      auto count = static_cast<int64_t>(a.floats.size());
      auto zeros = static_cast<int64_t>(std::count(a.floats.begin(), a.floats.end(), 0.0f));
      out.push_back(listWeight(name, ir::DataType::kFloat, {count}, count, 4 * count, zeros, v));
      return true;
    }
    if (a.name == "value_int") {
      out.push_back(listWeight(name, ir::DataType::kInt64, {}, 1, 8, 0, v));
      return true;
    }
    if (a.name == "value_ints") {
      auto count = static_cast<int64_t>(a.ints.size());
      out.push_back(listWeight(name, ir::DataType::kInt64, {count}, count, 8 * count, 0, v));
      return true;
    }
    if (a.name == "value_string") {
      out.push_back(listWeight(name, ir::DataType::kString, {}, 1, static_cast<int64_t>(a.s.size()), 0, v));
      return true;
    }
    if (a.name == "value_strings") {
      auto count = static_cast<int64_t>(a.strings.size());
      int64_t bytes = 0;
      for (const auto& s : a.strings) bytes += static_cast<int64_t>(s.size());
      out.push_back(listWeight(name, ir::DataType::kString, {count}, count, bytes, 0, v));
      return true;
    }
  }
  return false;
}

struct Reader {
  const ir::Node* node;
  int index;
};

// The nodes that read v, looking through Identity nodes and into subgraphs that capture v.
void collectReaders(const ir::Value* v, std::vector<Reader>& out, std::unordered_set<const ir::Value*>& seen) {
  if (!v || !seen.insert(v).second) return;
  for (const ir::Use& u : v->uses()) {
    if (u.index == ir::Use::kImplicit) {
      forEachSubgraph(*u.node, [&](const ir::Graph& sg) {
        for (const ir::Value* cap : sg.captures())
          if (cap->outer() == v) collectReaders(cap, out, seen);
      });
      continue;
    }
    const ir::Value* through = u.node->output(0);
    if (u.node->opType() == "Identity" && isDefaultDomain(u.node->domain()) && through && through->hasUses()) {
      collectReaders(through, out, seen);
      continue;
    }
    out.push_back({u.node, u.index});
  }
}

void classify(Weight& w, bool& batchNormStatistics) {
  std::vector<Reader> readers;
  std::unordered_set<const ir::Value*> seen;
  collectReaders(w.value, readers, seen);
  std::set<std::string> labels;
  batchNormStatistics = !readers.empty();
  for (const Reader& r : readers) {
    labels.insert(opLabel(*r.node));
    bool isStat = r.node->opType() == "BatchNormalization" && isDefaultDomain(r.node->domain()) &&
                  (r.index == 3 || r.index == 4);
    batchNormStatistics = batchNormStatistics && isStat;
  }
  if (labels.empty()) w.info.consumer = ParameterStats::kUnusedOp;
  else if (labels.size() == 1) w.info.consumer = *labels.begin();
  else w.info.consumer = ParameterStats::kSharedOp;
}

}  // namespace

const char* weightSourceName(WeightSource s) {
  switch (s) {
    case WeightSource::kInitializer: return "initializer";
    case WeightSource::kSparseInitializer: return "sparse_initializer";
    case WeightSource::kConstantNode: return "constant";
  }
  return "initializer";
}

ParameterStats computeParameterStats(const ir::Model& model, const ParameterOptions& options) {
  ParameterStats stats;
  if (!model.graph) return stats;

  std::vector<Weight> weights;
  forEachGraph(*model.graph, [&](const ir::Graph& g, int) {
    for (const ir::Value* v : g.initializers())
      weights.push_back(denseWeight(v->name(), WeightSource::kInitializer, v->initializer(), v));
    for (const ir::Value* v : g.sparseInitializers())
      weights.push_back(sparseWeight(v->name(), v->sparseInitializer(), v));
    for (const ir::Node* n : g.nodes())
      if (n->opType() == "Constant" && isDefaultDomain(n->domain()) && !constantWeight(*n, weights))
        ++stats.uncountedConstants;
  });

  std::map<ir::DataType, DtypeTotal> byDtype;
  std::map<std::string, OpTypeTotal> byOp;
  for (Weight& w : weights) {
    bool bnStatistics = false;
    classify(w, bnStatistics);
    const WeightInfo& i = w.info;
    ++stats.tensors;
    stats.totalParams += i.params;
    stats.totalBytes += i.bytes;
    if (bnStatistics) stats.batchNormStatisticsParams += i.params;

    DtypeTotal& d = byDtype[i.dtype];
    d.dtype = i.dtype;
    d.params += i.params;
    d.bytes += i.bytes - w.indexBytes;
    ++d.tensors;
    if (w.indexBytes > 0) {
      DtypeTotal& idx = byDtype[w.indexDtype];
      idx.dtype = w.indexDtype;
      idx.bytes += w.indexBytes;
    }

    OpTypeTotal& o = byOp[i.consumer];
    o.opType = i.consumer;
    o.params += i.params;
    o.bytes += i.bytes;
    ++o.tensors;

    stats.floatElements += w.denseElements;
    stats.floatZeros += w.zeros;
    if (i.external) {
      stats.externalBytes += i.bytes;
      ++stats.externalTensors;
    }
  }

  for (auto& [_, d] : byDtype) stats.byDtype.push_back(d);
  std::sort(stats.byDtype.begin(), stats.byDtype.end(), [](const DtypeTotal& a, const DtypeTotal& b) {
    if (a.bytes != b.bytes) return a.bytes > b.bytes;
    return ir::dtypeName(a.dtype) < ir::dtypeName(b.dtype);
  });
  for (auto& [_, o] : byOp) stats.byOpType.push_back(o);
  std::sort(stats.byOpType.begin(), stats.byOpType.end(), [](const OpTypeTotal& a, const OpTypeTotal& b) {
    if (a.params != b.params) return a.params > b.params;
    return a.opType < b.opType;
  });

  // Names are unique across all scopes of a model, so this order is total (deterministic).
  std::vector<const Weight*> order;
  order.reserve(weights.size());
  for (const Weight& w : weights) order.push_back(&w);
  size_t n = std::min(options.largestCount, order.size());
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(n), order.end(),
                    [](const Weight* a, const Weight* b) {
                      if (a->info.bytes != b->info.bytes) return a->info.bytes > b->info.bytes;
                      return a->info.name < b->info.name;
                    });
  for (size_t k = 0; k < n; ++k) stats.largest.push_back(order[k]->info);
  return stats;
}

}  // namespace effdl::analysis
