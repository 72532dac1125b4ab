// Embedding hashing; see the header for the rewrite.
#include "passes/hash_embeddings/hash_embeddings.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "core/error.h"
#include "passes/common/activation_tap.h"
#include "passes/hash_embeddings/find_embeddings.h"
#include "passes/hash_embeddings/table_fit.h"

namespace effdl::passes {
namespace {

constexpr int64_t kPrime = 2147483647;  // 2^31 - 1: a·i + b stays below 2^63 for any V < p
// Bytes set aside for the scalar constants of the index math when sizing the tables.
constexpr size_t kConstantReserve = 512;
constexpr int kHashCandidates = 32;

enum class Mode { kPlain, kQr, kCluster };

struct HashOptions {
  double ratio = 0.25;
  int64_t buckets = 0;
  Mode mode = Mode::kPlain;
  int64_t keepTop = 0;
  std::vector<int64_t> keepIds;
  bool expandTied = false;
  bool product = false;
  int iterations = 10;
  int64_t minRows = 1024;
  std::vector<std::string> tables;
};

HashOptions parseOptions(const PassOptions& o) {
  HashOptions h;
  h.ratio = o.getFloat("ratio");
  if (!(h.ratio > 0 && h.ratio <= 1)) throwUsage("hash-embeddings: ratio must be in (0, 1], got " + o.getString("ratio"));
  h.buckets = o.getInt("buckets");
  if (h.buckets < 0) throwUsage("hash-embeddings: buckets must be >= 0");
  const std::string mode = o.getString("mode");
  h.mode = mode == "qr" ? Mode::kQr : mode == "cluster" ? Mode::kCluster : Mode::kPlain;
  h.keepTop = o.getInt("keep-top");
  if (h.keepTop < 0) throwUsage("hash-embeddings: keep-top must be >= 0");
  for (const std::string& s : o.getList("keep-ids")) {
    size_t used = 0;
    int64_t v = 0;
    try {
      v = std::stoll(s, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != s.size() || v < 0) throwUsage("hash-embeddings: keep-ids: '" + s + "' is not a non-negative id");
    h.keepIds.push_back(v);
  }
  if (h.mode != Mode::kPlain && (h.keepTop > 0 || !h.keepIds.empty()))
    throwUsage("hash-embeddings: keep-top/keep-ids apply to mode plain (qr keeps every id unique; cluster "
               "has an index per id)");
  h.expandTied = o.getString("tied") == "expand";
  h.product = o.getString("combine") == "product";
  h.iterations = static_cast<int>(o.getInt("iters"));
  if (h.iterations < 1 || h.iterations > 1000) throwUsage("hash-embeddings: iters must be in [1, 1000]");
  h.minRows = o.getInt("min-rows");
  h.tables = o.getList("tables");
  return h;
}

// Emits nodes before `before`, with fresh names from `prefix`.
struct Builder {
  ir::Graph& g;
  ir::Node* before;
  std::string prefix;
  size_t constantBytes = 0;

  ir::Value* op(const std::string& type, const std::vector<ir::Value*>& in, ir::DataType out,
                std::vector<ir::Attribute> attrs = {}) {
    ir::Node* n = g.createNode(type, in, {prefix + "_" + type}, before);
    n->setName(g.names().fresh(prefix + "/" + type));
    for (auto& a : attrs) n->setAttr(std::move(a));
    ir::ValueType t;
    t.kind = ir::ValueType::Kind::kTensor;
    t.elemType = out;
    n->output(0)->setType(t);
    return n->output(0);
  }
  ir::Value* i64(int64_t v) {
    constantBytes += sizeof(int64_t);
    return g.addInitializer(prefix + "_c" + std::to_string(v), ir::Tensor::fromVector(ir::DataType::kInt64, {}, std::vector<int64_t>{v}), true);
  }
  ir::Value* castTo(ir::Value* v, ir::DataType to) {
    std::vector<ir::Attribute> a;
    a.push_back(ir::Attribute::makeInt("to", static_cast<int64_t>(to)));
    return op("Cast", {v}, to, std::move(a));
  }
};

// One table's replacement: the new tensors and what the lookup computes.
struct Plan {
  Mode mode = Mode::kPlain;
  bool product = false;  // qr: combine by Mul
  int64_t rows = 0, dim = 0;
  // plain
  int64_t hashBuckets = 0;
  uint64_t a = 0, b = 0;
  std::vector<int32_t> keep;  // sorted
  // qr
  int64_t m = 0;
  // storage: plain T; qr E1, E2; cluster C and the index
  hashfit::Matrix t1, t2;
  std::vector<int64_t> index;  // cluster: id → centroid
  std::vector<int64_t> bucket;  // every id's row in t1 (for loads)
  int64_t buckets = 0;          // rows of t1
  double error = 0;
  double weightedError = -1;  // by calibration frequency (the error per token seen); -1 without
  hashfit::BucketLoads loads;
  size_t bytesAfter = 0;
  std::string metadata;
};

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  return h;
}

int64_t plainHash(const Plan& p, int64_t id) {
  const int64_t x = (static_cast<int64_t>(p.a) * id + static_cast<int64_t>(p.b)) % kPrime;
  return x % p.hashBuckets;
}

std::string fmtBytes(size_t b) { return std::to_string(b) + " bytes"; }

// Builds the lookup of `ids` (any integer type) against the plan's tables; returns [..., D].
ir::Value* buildLookup(Builder& bld, const Plan& p, ir::Value* ids, const std::vector<ir::Value*>& stored) {
  ir::Value* x = ids->type().elemType == ir::DataType::kInt64 ? ids : bld.castTo(ids, ir::DataType::kInt64);
  x = bld.op("Mod", {x, bld.i64(p.rows)}, ir::DataType::kInt64);
  if (p.mode == Mode::kQr) {
    ir::Value* m = bld.i64(p.m);
    ir::Value* r = bld.op("Gather", {stored[0], bld.op("Mod", {x, m}, ir::DataType::kInt64)}, ir::DataType::kFloat);
    ir::Value* q = bld.op("Gather", {stored[1], bld.op("Div", {x, m}, ir::DataType::kInt64)}, ir::DataType::kFloat);
    return bld.op(p.product ? "Mul" : "Add", {r, q}, ir::DataType::kFloat);
  }
  if (p.mode == Mode::kCluster) {
    ir::Value* c = bld.op("Gather", {stored[1], x}, stored[1]->initializer().dtype());
    return bld.op("Gather", {stored[0], bld.castTo(c, ir::DataType::kInt64)}, ir::DataType::kFloat);
  }
  ir::Value* h = bld.op("Add", {bld.op("Mul", {x, bld.i64(static_cast<int64_t>(p.a))}, ir::DataType::kInt64),
                                bld.i64(static_cast<int64_t>(p.b))},
                        ir::DataType::kInt64);
  h = bld.op("Mod", {h, bld.i64(kPrime)}, ir::DataType::kInt64);
  h = bld.op("Mod", {h, bld.i64(p.hashBuckets)}, ir::DataType::kInt64);
  if (p.keep.empty()) return bld.op("Gather", {stored[0], h}, ir::DataType::kFloat);
  // Kept ids: pos = #{kept ≤ i} by binary lifting over the sorted list S (an index past the end is
  // clamped to N-1; it only overshoots when S[N-1] ≤ i, where the answer is N anyway).
  const int64_t n = static_cast<int64_t>(p.keep.size());
  ir::Value* s = stored[1];
  ir::Value* x32 = bld.castTo(x, ir::DataType::kInt32);
  ir::Value* nm1 = bld.i64(n - 1);
  ir::Value* pos = bld.op("Mul", {x, bld.i64(0)}, ir::DataType::kInt64);
  int64_t step = 1;
  while (step * 2 <= n) step *= 2;
  for (; step >= 1; step /= 2) {
    ir::Value* probe = bld.op("Min", {bld.op("Add", {pos, bld.i64(step - 1)}, ir::DataType::kInt64), nm1},
                              ir::DataType::kInt64);
    ir::Value* le = bld.op("LessOrEqual", {bld.op("Gather", {s, probe}, ir::DataType::kInt32), x32},
                           ir::DataType::kBool);
    pos = bld.op("Where", {le, bld.op("Add", {pos, bld.i64(step)}, ir::DataType::kInt64), pos}, ir::DataType::kInt64);
  }
  ir::Value* nConst = bld.i64(n);
  ir::Value* last = bld.op("Max", {bld.op("Sub", {bld.op("Min", {pos, nConst}, ir::DataType::kInt64), bld.i64(1)},
                                          ir::DataType::kInt64),
                                   bld.i64(0)},
                           ir::DataType::kInt64);
  ir::Value* found = bld.op("Equal", {bld.op("Gather", {s, last}, ir::DataType::kInt32), x32}, ir::DataType::kBool);
  ir::Value* row = bld.op("Where", {found, last, bld.op("Add", {h, nConst}, ir::DataType::kInt64)}, ir::DataType::kInt64);
  return bld.op("Gather", {stored[0], row}, ir::DataType::kFloat);
}

class HashEmbeddings : public Pass {
 public:
  explicit HashEmbeddings(HashOptions o) : o_(std::move(o)) {}
  PassResult run(ir::Model& model, PassContext& ctx) override;

 private:
  Plan plan(const EmbeddingTable& t, const std::vector<double>& counts, bool haveCounts, uint64_t seed) const;
  HashOptions o_;
};

Plan HashEmbeddings::plan(const EmbeddingTable& t, const std::vector<double>& counts, bool haveCounts,
                          uint64_t seed) const {
  const std::string& name = t.table->name();
  Plan p;
  p.mode = o_.mode;
  p.product = o_.product;
  p.rows = t.rows;
  p.dim = t.dim;
  const int64_t v = t.rows, d = t.dim;
  const size_t rowBytes = static_cast<size_t>(d) * sizeof(float);
  const size_t budget = static_cast<size_t>(std::floor(o_.ratio * static_cast<double>(t.bytes)));
  std::vector<double> weight;
  if (haveCounts) {
    weight.resize(static_cast<size_t>(v));
    for (int64_t i = 0; i < v; ++i) weight[static_cast<size_t>(i)] = counts[static_cast<size_t>(i)] + 1.0;
  }
  auto rowsFor = [&](size_t extra) -> int64_t {
    if (o_.buckets > 0) return o_.buckets;
    const size_t fixed = extra + kConstantReserve;
    return budget > fixed ? static_cast<int64_t>((budget - fixed) / rowBytes) : 0;
  };
  std::span<const float> e = t.table->initializer().values<float>();
  uint64_t s = hashfit::mix64(seed ^ fnv1a(name));
  std::string meta;
  if (o_.mode == Mode::kPlain) {
    std::set<int64_t> keep;
    for (int64_t id : o_.keepIds) {
      if (id >= v) throwUsage("hash-embeddings: keep-ids: id " + std::to_string(id) + " is outside table '" + name +
                              "' (" + std::to_string(v) + " rows)");
      keep.insert(id);
    }
    if (o_.keepTop > 0) {
      std::vector<int64_t> order(static_cast<size_t>(v));
      for (int64_t i = 0; i < v; ++i) order[static_cast<size_t>(i)] = i;
      std::stable_sort(order.begin(), order.end(), [&](int64_t x, int64_t y) {
        return counts[static_cast<size_t>(x)] > counts[static_cast<size_t>(y)];
      });
      for (int64_t i = 0; i < std::min(o_.keepTop, v); ++i) keep.insert(order[static_cast<size_t>(i)]);
    }
    p.keep.assign(keep.begin(), keep.end());
    const int64_t n = static_cast<int64_t>(p.keep.size());
    p.buckets = rowsFor(p.keep.size() * sizeof(int32_t));
    p.hashBuckets = p.buckets - n;
    if (p.hashBuckets < 1)
      throwUsage("hash-embeddings: table '" + name + "': the budget leaves " + std::to_string(p.buckets) +
                 " rows for " + std::to_string(n) + " kept ids and the hash buckets; raise the ratio or keep fewer");
    // A universal family bounds collisions only on average over (a, b); on a structured key set
    // (consecutive ids) one draw can load buckets unevenly. Draw kHashCandidates seeded pairs and
    // keep the one with the fewest colliding pairs Σ_k load_k². (Weighting this by frequency was
    // worse: the padding id's bucket dominated the score and 321 of 4992 buckets stayed empty.)
    double bestScore = -1;
    uint64_t bestA = 0, bestB = 0;
    std::vector<double> mass(static_cast<size_t>(p.hashBuckets));
    for (int c = 0; c < kHashCandidates; ++c) {
      p.a = 1 + (s = hashfit::mix64(s)) % (kPrime - 1);
      p.b = (s = hashfit::mix64(s)) % kPrime;
      std::fill(mass.begin(), mass.end(), 0.0);
      for (int64_t i = 0; i < v; ++i)
        if (!std::binary_search(p.keep.begin(), p.keep.end(), static_cast<int32_t>(i)))
          mass[static_cast<size_t>(plainHash(p, i))] += 1;
      double score = 0;
      for (double m : mass) score += m * m;
      if (bestScore < 0 || score < bestScore) {
        bestScore = score;
        bestA = p.a;
        bestB = p.b;
      }
    }
    p.a = bestA;
    p.b = bestB;
    p.bucket.resize(static_cast<size_t>(v));
    for (int64_t i = 0; i < v; ++i) {
      auto it = std::lower_bound(p.keep.begin(), p.keep.end(), i);
      p.bucket[static_cast<size_t>(i)] =
          it != p.keep.end() && *it == i ? it - p.keep.begin() : n + plainHash(p, i);
    }
    p.t1 = hashfit::bucketMeans(e, d, p.bucket, p.buckets, weight);
    meta = "mode=plain;rows=" + std::to_string(v) + ";kept=" + std::to_string(n) + ";row=kept position, else " +
           std::to_string(n) + " + ((a*id + b) mod p) mod " + std::to_string(p.hashBuckets) +
           ";hash_buckets=" + std::to_string(p.hashBuckets) + ";a=" + std::to_string(p.a) + ";b=" + std::to_string(p.b) + ";p=" + std::to_string(kPrime);
  } else if (o_.mode == Mode::kQr) {
    const int64_t budgetRows = rowsFor(0);
    int64_t m = std::min(budgetRows - 1, v);
    while (m >= 1 && m + (v + m - 1) / m > budgetRows) --m;
    if (m < 1 || m + (v + m - 1) / m > budgetRows)
      throwUsage("hash-embeddings: table '" + name + "': " + std::to_string(budgetRows) +
                 " rows cannot hold a quotient-remainder pair for " + std::to_string(v) + " ids; raise the ratio");
    p.m = m;
    auto qr = hashfit::fitQuotientRemainder(e, v, d, m, o_.product, weight, o_.iterations);
    p.t1 = std::move(qr.remainder);
    p.t2 = std::move(qr.quotient);
    p.buckets = m;
    p.bucket.resize(static_cast<size_t>(v));
    for (int64_t i = 0; i < v; ++i) p.bucket[static_cast<size_t>(i)] = i % m;
    meta = "mode=qr;rows=" + std::to_string(v) + ";m=" + std::to_string(m) + ";combine=" +
           (o_.product ? "product" : "sum") + ";iters=" + std::to_string(o_.iterations);
  } else {
    int64_t k = rowsFor(static_cast<size_t>(v) * sizeof(int16_t));
    if (k > 32768) k = std::max<int64_t>(32768, rowsFor(static_cast<size_t>(v) * sizeof(int32_t)));
    k = std::min(k, v);
    if (k < 1) throwUsage("hash-embeddings: table '" + name + "': the budget leaves no room for centroids beside the index; raise the ratio");
    p.buckets = k;
    p.t1 = hashfit::kMeans(e, v, d, k, weight, s, o_.iterations, p.index);
    p.bucket = p.index;
    meta = "mode=cluster;rows=" + std::to_string(v) + ";centroids=" + std::to_string(k) + ";iters=" +
           std::to_string(o_.iterations) + ";init_seed=" + std::to_string(s);
  }
  hashfit::ErrorAccumulator err, werr;
  std::vector<float> approx(static_cast<size_t>(d));
  for (int64_t i = 0; i < v; ++i) {
    const float* a = p.t1.row(p.bucket[static_cast<size_t>(i)]);
    if (p.mode == Mode::kQr) {
      const float* q = p.t2.row(i / p.m);
      for (int64_t j = 0; j < d; ++j) approx[static_cast<size_t>(j)] = p.product ? a[j] * q[j] : a[j] + q[j];
      a = approx.data();
    }
    err.add(e.data() + i * d, a, d);
    if (haveCounts) werr.add(e.data() + i * d, a, d, counts[static_cast<size_t>(i)]);
  }
  p.error = err.relative();
  if (haveCounts) p.weightedError = werr.relative();
  p.loads = hashfit::bucketLoads(p.bucket, p.buckets);
  p.metadata = meta + ";seed=" + std::to_string(seed) + (haveCounts ? ";weights=calibration frequency + 1" : "");
  return p;
}

PassResult HashEmbeddings::run(ir::Model& model, PassContext& ctx) {
  PassResult r;
  ir::Graph& g = *model.graph;
  std::vector<std::string> notLookups;
  std::vector<EmbeddingTable> found = findEmbeddingTables(g, &notLookups);
  for (const auto& why : notLookups) r.decline(why);
  r.count("embedding tables found", static_cast<int64_t>(found.size()));

  // The index math uses Mod (opset 10), Range (11) and LessOrEqual (12).
  const bool opsetOk = model.opsetFor("").value_or(1) >= 12;
  std::vector<EmbeddingTable*> chosen;
  for (EmbeddingTable& t : found) {
    std::string desc = "table '" + t.table->name() + "' [" + std::to_string(t.rows) + " x " + std::to_string(t.dim) +
                       "] " + fmtBytes(t.bytes) + ", " + std::to_string(t.gathers.size()) + " lookup(s)" +
                       (t.idsSource.empty() ? "" : ", ids from '" + t.idsSource + "'");
    if (!t.otherUses.empty())
      desc += ", shared with " + std::to_string(t.otherUses.size()) + " other reader(s) (first: " +
              (t.otherUses[0].node->opType()) + " '" + t.otherUses[0].node->name() + "')";
    std::string why;
    if (!o_.tables.empty() && std::find(o_.tables.begin(), o_.tables.end(), t.table->name()) == o_.tables.end())
      why = "not in tables";
    else if (t.rows < 1 || t.dim < 1)
      why = "empty table";
    else if (!opsetOk)
      why = "model opset below 12";
    else if (t.rows < o_.minRows)
      why = "fewer rows than min-rows";
    else if (!t.otherUses.empty() && !o_.expandTied)
      why = "table shared with other readers (tied); --hash-tied expand hashes it";
    else if (std::any_of(t.otherUses.begin(), t.otherUses.end(), [](const ir::Use& u) { return u.index == ir::Use::kImplicit; }))
      why = "table read inside a subgraph";
    else if (t.rows >= kPrime)
      why = "table has 2^31 rows or more";
    r.notes.push_back(desc + (why.empty() ? "" : ": left alone (" + why + ")"));
    if (!why.empty()) r.decline(why);
    else chosen.push_back(&t);
  }
  if (chosen.empty()) return r;

  // Token frequencies: the ids reaching each chosen Gather over the calibration samples.
  const bool needCounts = o_.keepTop > 0;
  if (needCounts && !ctx.calib)
    throwUsage("hash-embeddings: keep-top needs token frequencies: give calibration ids with --calib DIR");
  std::vector<std::vector<double>> counts(chosen.size());
  for (size_t c = 0; c < chosen.size(); ++c) counts[c].assign(static_cast<size_t>(chosen[c]->rows), 0.0);
  if (ctx.calib) {
    std::vector<std::string> taps;
    std::vector<size_t> tapTable;
    for (size_t c = 0; c < chosen.size(); ++c)
      for (ir::Node* n : chosen[c]->gathers) {
        taps.push_back(n->input(1)->name());
        tapTable.push_back(c);
      }
    TapOptions topt = tapOptions(ctx, "hash-embeddings id counts");
    forEachActivation(model, taps, *ctx.calib, topt, [&](size_t, const std::vector<const ir::Tensor*>& ts) {
      for (size_t k = 0; k < ts.size(); ++k) {
        auto& cnt = counts[tapTable[k]];
        const int64_t v = static_cast<int64_t>(cnt.size());
        auto add = [&](int64_t id) {
          if (id >= -v && id < v) cnt[static_cast<size_t>(id < 0 ? id + v : id)] += 1;
        };
        if (ts[k]->dtype() == ir::DataType::kInt64)
          for (int64_t id : ts[k]->values<int64_t>()) add(id);
        else if (ts[k]->dtype() == ir::DataType::kInt32)
          for (int32_t id : ts[k]->values<int32_t>()) add(id);
      }
    });
    r.notes.push_back("token frequencies from " + ctx.calib->describe());
  }

  r.layerColumns = {"rows", "dim", "stored_rows", "bytes_before", "bytes_after", "bytes_saved",
                    "load_max", "load_mean", "load_empty", "rel_frobenius_error"};
  if (ctx.calib) r.layerColumns.push_back("freq_weighted_error");
  int64_t saved = 0;
  for (size_t c = 0; c < chosen.size(); ++c) {
    EmbeddingTable& t = *chosen[c];
    const std::string name = t.table->name();
    Plan p = plan(t, counts[c], ctx.calib != nullptr, ctx.seed);

    // --- the graph edit ---
    std::vector<ir::Value*> stored;
    auto add = [&](const std::string& suffix, ir::Tensor tensor) {
      p.bytesAfter += tensor.nbytes();
      stored.push_back(g.addInitializer(name + suffix, std::move(tensor), true));
    };
    if (p.mode == Mode::kPlain) {
      add("_hashed", ir::Tensor::fromVector(ir::DataType::kFloat, {p.buckets, p.dim}, p.t1.data));
      if (!p.keep.empty())
        add("_kept_ids", ir::Tensor::fromVector(ir::DataType::kInt32, {static_cast<int64_t>(p.keep.size())}, p.keep));
    } else if (p.mode == Mode::kQr) {
      add("_qr_remainder", ir::Tensor::fromVector(ir::DataType::kFloat, {p.t1.rows, p.dim}, p.t1.data));
      add("_qr_quotient", ir::Tensor::fromVector(ir::DataType::kFloat, {p.t2.rows, p.dim}, p.t2.data));
    } else {
      add("_centroids", ir::Tensor::fromVector(ir::DataType::kFloat, {p.buckets, p.dim}, p.t1.data));
      if (p.buckets <= 32768) {
        std::vector<int16_t> idx(p.index.begin(), p.index.end());
        add("_cluster_index", ir::Tensor::fromVector(ir::DataType::kInt16, {p.rows}, idx));
      } else {
        std::vector<int32_t> idx(p.index.begin(), p.index.end());
        add("_cluster_index", ir::Tensor::fromVector(ir::DataType::kInt32, {p.rows}, idx));
      }
    }
    for (ir::Node* n : t.gathers) {
      Builder bld{g, n, n->name().empty() ? name + "_hash" : n->name() + "_hash"};
      ir::Value* out = buildLookup(bld, p, n->input(1), stored);
      p.bytesAfter += bld.constantBytes;
      g.replaceAllUsesWith(n->output(0), out);
      g.eraseNode(n);
    }
    if (!t.otherUses.empty()) {
      // Tied readers get the whole table back, computed in-graph from the stored tables.
      Builder bld{g, g.nodes().front(), name + "_expand"};
      ir::Value* ids = bld.op("Range", {bld.i64(0), bld.i64(p.rows), bld.i64(1)}, ir::DataType::kInt64);
      ir::Value* full = buildLookup(bld, p, ids, stored);
      p.bytesAfter += bld.constantBytes;
      for (const ir::Use& u : t.otherUses) u.node->setInput(static_cast<size_t>(u.index), full);
      r.count("tied readers fed the expanded table", static_cast<int64_t>(t.otherUses.size()));
    }
    g.removeInitializer(t.table);
    model.setMetadata("effdl.hash_embeddings." + name, p.metadata);

    const int64_t before = static_cast<int64_t>(t.bytes), after = static_cast<int64_t>(p.bytesAfter);
    saved += before - after;
    std::vector<double> row{static_cast<double>(p.rows), static_cast<double>(p.dim),
                         static_cast<double>(p.mode == Mode::kQr ? p.t1.rows + p.t2.rows : p.buckets),
                         static_cast<double>(before), static_cast<double>(after), static_cast<double>(before - after),
                         static_cast<double>(p.loads.max), p.loads.mean, static_cast<double>(p.loads.empty), p.error};
    if (ctx.calib) row.push_back(p.weightedError);
    r.layers.push_back({name, std::move(row)});
    char buf[256];
    std::snprintf(buf, sizeof buf, "%s: %lld -> %lld rows (%s), %lld -> %lld bytes (%.3fx), loads max %lld mean %.2f empty %lld, rel. error %.4f",
                  name.c_str(), static_cast<long long>(p.rows),
                  static_cast<long long>(p.mode == Mode::kQr ? p.t1.rows + p.t2.rows : p.buckets),
                  p.mode == Mode::kPlain ? "plain" : p.mode == Mode::kQr ? "qr" : "cluster",
                  static_cast<long long>(before), static_cast<long long>(after),
                  static_cast<double>(after) / static_cast<double>(before), static_cast<long long>(p.loads.max),
                  p.loads.mean, static_cast<long long>(p.loads.empty), p.error);
    r.notes.push_back(buf);
    if (ctx.calib) {
      std::snprintf(buf, sizeof buf, "%s: frequency-weighted rel. error %.4f (per calibration token)", name.c_str(),
                    p.weightedError);
      r.notes.push_back(buf);
    }
    r.count("tables hashed");
  }
  g.collectGarbage();
  r.count("bytes saved", saved);
  r.changed = true;
  return r;
}

}  // namespace

PassInfo hashEmbeddingsInfo() {
  PassInfo info{
      "hash-embeddings",
      "shrink embedding tables (Gather on a [V, D] initializer) by hashing, quotient-remainder or clustering",
      {
          {"ratio", OptionType::kFloat, "0.25", "byte budget as a fraction of each table's bytes (everything stored counts)", {}},
          {"buckets", OptionType::kInt, "0", "stored rows per table instead of the ratio (0: from the ratio)", {}},
          {"mode", OptionType::kEnum, "plain", "plain hashing, qr (quotient-remainder), cluster (k-means + index)",
           {"plain", "qr", "cluster"}},
          {"keep-top", OptionType::kInt, "0", "plain: the N most frequent ids in --calib keep rows of their own", {}},
          {"keep-ids", OptionType::kStringList, "", "plain: ids that keep rows of their own (padding, specials)", {}},
          {"tied", OptionType::kEnum, "skip",
           "tables with other readers: skip, or expand (they read the table rebuilt in-graph)", {"skip", "expand"}},
          {"combine", OptionType::kEnum, "sum", "qr: how the two rows combine", {"sum", "product"}},
          {"iters", OptionType::kInt, "10", "qr: alternating least-squares rounds; cluster: k-means iterations", {}},
          {"min-rows", OptionType::kInt, "1024", "tables with fewer rows are left alone", {}},
          {"tables", OptionType::kStringList, "", "only these tables (initializer names); empty: all", {}},
      },
      [](const PassOptions& o) { return std::make_unique<HashEmbeddings>(parseOptions(o)); }};
  info.cliFlag = "hash-embeddings";
  info.primaryOption = "ratio";
  info.cliOptionPrefix = "hash";
  info.fixedOrder = 1;
  return info;
}

}  // namespace effdl::passes
