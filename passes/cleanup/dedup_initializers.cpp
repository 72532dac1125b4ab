// Initializer deduplication; see the header.
#include "passes/cleanup/dedup_initializers.h"

#include <unordered_map>

namespace effdl::passes {
namespace {

// Bytes hashed per window, and windows per tensor (start, evenly spaced, end).
constexpr size_t kWindowBytes = 4096;
constexpr size_t kWindows = 8;

// FNV-1a over dtype, dims, size and a sample of the content: only a bucket key, sameContent()
// decides. A sample, not every byte: weights of the same shape are common (every layer of an
// MLP), and hashing gigabytes of them byte by byte cost seconds when none were equal; a full
// comparison runs only for tensors whose samples agree.
uint64_t contentHash(const ir::Tensor& t) {
  uint64_t h = 1469598103934665603ull;
  auto mix = [&h](const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    for (size_t i = 0; i < n; ++i) {
      h ^= b[i];
      h *= 1099511628211ull;
    }
  };
  int32_t dtype = static_cast<int32_t>(t.dtype());
  mix(&dtype, sizeof dtype);
  for (int64_t d : t.dims()) mix(&d, sizeof d);
  if (t.dtype() == ir::DataType::kString) {
    for (const std::string& s : t.strings()) {
      uint64_t len = s.size();
      mix(&len, sizeof len);
      mix(s.data(), s.size());
    }
    return h;
  }
  const size_t n = t.nbytes();
  mix(&n, sizeof n);
  if (n <= kWindows * kWindowBytes) {
    if (n > 0) mix(t.data(), n);
    return h;
  }
  const size_t stride = (n - kWindowBytes) / (kWindows - 1);
  for (size_t w = 0; w < kWindows; ++w) mix(t.data() + w * stride, kWindowBytes);
  return h;
}

uint64_t payloadBytes(const ir::Tensor& t) {
  if (t.dtype() != ir::DataType::kString) return t.nbytes();
  uint64_t n = 0;
  for (const std::string& s : t.strings()) n += s.size();
  return n;
}

void dedup(ir::Graph& g, PassResult& r) {
  for (ir::Node* n : g.nodes()) {
    for (auto& a : n->attributes()) {
      if (a.g) dedup(*a.g, r);
      for (auto& sg : a.graphs) dedup(*sg, r);
    }
  }
  std::unordered_map<uint64_t, std::vector<ir::Value*>> kept;  // per bucket, in initializer order
  bool merged = false;
  for (ir::Value* v : g.initializers()) {
    if (!v->isConstant()) continue;
    std::vector<ir::Value*>& bucket = kept[contentHash(v->initializer())];
    ir::Value* first = nullptr;
    for (ir::Value* k : bucket) {
      if (k->initializer().sameContent(v->initializer())) {
        first = k;
        break;
      }
    }
    if (!first) {
      bucket.push_back(v);
      continue;
    }
    if (!g.canReplaceAllUses(v, first)) {
      r.decline("initializer is a graph output");
      continue;
    }
    uint64_t bytes = payloadBytes(v->initializer());
    g.replaceAllUsesWith(v, first);
    g.removeInitializer(v);
    r.count("initializers merged");
    r.count("bytes saved", static_cast<int64_t>(bytes));
    merged = true;
  }
  if (merged) g.collectGarbage();
}

}  // namespace

PassResult DedupInitializers::run(ir::Model& model, PassContext&) {
  PassResult r;
  dedup(*model.graph, r);
  r.changed = r.counter("initializers merged") > 0;
  return r;
}

PassInfo dedupInitializersInfo() {
  return PassInfo{"dedup-initializers", "merge initializers with identical type, shape and bytes", {},
                  [](const PassOptions&) { return std::make_unique<DedupInitializers>(); }};
}

}  // namespace effdl::passes
