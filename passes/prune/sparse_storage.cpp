// Sparse weight storage (COO sparse_initializer or in-graph bitmask decode); see the header.
#include "passes/prune/sparse_storage.h"

#include <cstring>

#include "core/error.h"
#include "passes/common/storage_markers.h"

namespace effdl::passes {
namespace {

enum class Format { kAuto, kDense, kCoo, kBitmask };

// Bytes in the file, about, of one tensor's decode nodes and small constants (measured on the
// digits CNN: 320 + the weight's name 4 times, in its mask's and values' names and uses), and of
// the tables all decodes share (measured: ~500).
int64_t bitmaskOverhead(const std::string& name) { return 320 + 4 * static_cast<int64_t>(name.size()); }
constexpr int64_t kTablesOverhead = 500;

bool encodable(ir::DataType t) {
  using D = ir::DataType;
  return t == D::kFloat || t == D::kFloat16 || t == D::kBfloat16 || t == D::kDouble || t == D::kInt8 ||
         t == D::kUint8 || t == D::kInt16 || t == D::kUint16 || t == D::kInt32 || t == D::kInt64;
}

class SparseStorage : public Pass {
 public:
  SparseStorage(Format f, int64_t minSize, double minSparsity, double bitmaskGain)
      : format_(f), minSize_(minSize), minSparsity_(minSparsity), bitmaskGain_(bitmaskGain) {}

  PassResult run(ir::Model& model, PassContext&) override {
    PassResult r;
    if (format_ == Format::kDense) return r;
    ir::Graph& g = *model.graph;
    const int64_t opset = model.opsetFor("").value_or(1);
    int64_t before = 0, after = 0;
    r.layerColumns = {"elements", "sparsity", "dense_bytes", "stored_bytes", "format"};  // format: 1 coo, 2 bitmask
    // Decide every tensor first, then encode: the tables all decodes share are paid once, by the
    // set of bitmask tensors as a whole (charging them to whichever tensor came first had kept a
    // conv weight dense that wins once the tables exist).
    struct Choice {
      ir::Value* v;
      int64_t nnz, elem, dense, stored;
      double sparsity;
      Format f, fallback;  // fallback: the best decode-free format, if the bitmask set is dropped
    };
    std::vector<Choice> choices;
    int64_t bitmaskSaving = 0;
    for (ir::Value* v : g.initializers()) {
      if (!v->isConstant() || v->isGraphOutput() || !v->hasUses()) continue;
      const ir::Tensor& t = v->initializer();
      if (!encodable(t.dtype())) continue;
      const int64_t n = t.numel();
      const auto elem = static_cast<int64_t>(ir::dtypeSize(t.dtype()));
      if (n < minSize_ || static_cast<int64_t>(t.nbytes()) != n * elem) continue;
      bool implicit = false;
      for (const ir::Use& u : v->uses()) implicit = implicit || u.index == ir::Use::kImplicit;
      if (implicit) {
        r.decline("weight read by a subgraph");
        continue;
      }
      int64_t nnz = 0;
      for (int64_t i = 0; i < n; ++i) nnz += !isZero(t.data() + i * elem, elem);
      const double sparsity = 1.0 - static_cast<double>(nnz) / static_cast<double>(n);
      if (sparsity < minSparsity_) {
        r.decline("below min-sparsity");
        continue;
      }
      const int64_t dense = n * elem, coo = nnz * (elem + 8);
      const int64_t bitmask = (nnz + 1) * elem + (n + 7) / 8 + bitmaskOverhead(v->name());
      Format f = format_;
      if (f == Format::kBitmask && opset < 12) {
        r.decline("bitmask decode needs opset >= 12");
        continue;
      }
      Format fallback = f;
      if (f == Format::kAuto) {
        f = Format::kDense;
        int64_t best = dense;
        if (coo <= best) f = Format::kCoo, best = coo;
        fallback = f;
        // The decode costs session-load time (resnet18 at 50%: ~2.3x ORT's dense load), so bitmask
        // must beat the best decode-free format by `bitmask-gain` of the dense bytes.
        if (opset >= 12 && n < (int64_t{1} << 30) && static_cast<double>(best - bitmask) >= bitmaskGain_ * static_cast<double>(dense)) {
          bitmaskSaving += best - bitmask;
          f = Format::kBitmask;
        }
      }
      if (f == Format::kBitmask && n >= (int64_t{1} << 30)) {
        r.decline("bitmask decode indexes at most 2^30 elements");
        continue;
      }
      choices.push_back({v, nnz, elem, dense, f == Format::kCoo ? coo : f == Format::kBitmask ? bitmask : dense, sparsity, f, fallback});
    }
    // auto: the bitmask set must also pay for the shared tables.
    const bool dropBitmask = format_ == Format::kAuto && bitmaskSaving > 0 && bitmaskSaving < kTablesOverhead;
    bool tablesCharged = false;
    for (Choice& c : choices) {
      if (c.f == Format::kBitmask && dropBitmask) {
        c.f = c.fallback;
        c.stored = c.f == Format::kCoo ? c.nnz * (c.elem + 8) : c.dense;
      }
      if (c.f == Format::kDense) {
        r.decline("dense kept: no format smaller by enough");
        continue;
      }
      if (c.f == Format::kBitmask && !tablesCharged) c.stored += kTablesOverhead, tablesCharged = true;
      r.layers.push_back({c.v->name(), {static_cast<double>(c.dense / c.elem), c.sparsity, static_cast<double>(c.dense),
                                        static_cast<double>(c.stored), c.f == Format::kCoo ? 1.0 : 2.0}});
      before += c.dense;
      after += c.stored;
      if (c.f == Format::kCoo) encodeCoo(g, c.v, c.nnz, c.elem);
      else encodeBitmask(g, c.v, c.nnz, c.elem);
      r.count(c.f == Format::kCoo ? "weights stored as coo" : "weights stored as bitmask");
      r.changed = true;
    }
    if (r.changed) {
      r.count("bytes before", before);
      r.count("bytes after", after);
    }
    return r;
  }

 private:
  static bool isZero(const uint8_t* p, int64_t elem) {
    for (int64_t i = 0; i < elem; ++i)
      if (p[i]) return false;
    return true;
  }

  static void encodeCoo(ir::Graph& g, ir::Value* v, int64_t nnz, int64_t elem) {
    const ir::Tensor& t = v->initializer();
    std::vector<uint8_t> vals(static_cast<size_t>(nnz * elem));
    std::vector<int64_t> idx;
    idx.reserve(static_cast<size_t>(nnz));
    for (int64_t i = 0, k = 0; i < t.numel(); ++i) {
      if (isZero(t.data() + i * elem, elem)) continue;
      std::memcpy(vals.data() + k * elem, t.data() + i * elem, static_cast<size_t>(elem));
      idx.push_back(i);
      ++k;
    }
    ir::SparseTensor s;
    s.dims = t.dims();
    s.values = ir::Tensor::fromVector(t.dtype(), {nnz}, vals);
    s.indices = ir::Tensor::fromVector(ir::DataType::kInt64, {nnz}, idx);
    s.indices.setName(g.names().fresh(v->name() + "_indices"));
    g.setSparseInitializer(v, std::move(s));
  }

  ir::Value* constant(ir::Graph& g, const std::string& hint, ir::Tensor t) { return g.addInitializer(hint, std::move(t), true); }

  void encodeBitmask(ir::Graph& g, ir::Value* v, int64_t nnz, int64_t elem) {
    const ir::Tensor t = v->initializer();
    const int64_t n = t.numel();
    const int64_t bytes = (n + 7) / 8;
    std::vector<uint8_t> mask(static_cast<size_t>(bytes), 0), vals(static_cast<size_t>((nnz + 1) * elem), 0);
    for (int64_t i = 0, k = 1; i < n; ++i) {
      if (isZero(t.data() + i * elem, elem)) continue;
      mask[static_cast<size_t>(i / 8)] |= static_cast<uint8_t>(1u << (i % 8));
      std::memcpy(vals.data() + k * elem, t.data() + i * elem, static_cast<size_t>(elem));
      ++k;
    }
    if (!rankTable_) {
      anchor_ = g.numNodes() ? g.nodes().front() : nullptr;
      buildTables(g);
    }
    const std::string& name = v->name();
    // Intermediate values get short generated names ("s<k><letter>"): each appears twice per use,
    // and names built from the weight's were ~1/3 of the decode's bytes. Deterministic: k counts
    // the tensors this pass encoded, in initializer order.
    const std::string tag = "s" + std::to_string(encoded_++);
    ir::Value* maskV = constant(g, name + "_mask", ir::Tensor::fromVector(ir::DataType::kUint8, {bytes}, mask));
    ir::Value* nzV = constant(g, name + "_nz", ir::Tensor::fromBytes(t.dtype(), {nnz + 1}, vals.data(), vals.size()));
    ir::Value* dimsV = constant(g, tag + "s", ir::Tensor::fromVector(ir::DataType::kInt64, {t.rank()}, t.dims()));
    auto node = [&](const std::string& op, std::vector<ir::Value*> in, const std::string& hint) {
      return decodeNode(g, op, std::move(in), tag + hint);
    };
    ir::Node* cast = node("Cast", {maskV}, "i");
    cast->setAttr(ir::Attribute::makeInt("to", static_cast<int64_t>(ir::DataType::kInt32)));
    ir::Value* bitRank = node("Gather", {rankTable_, cast->output(0)}, "r")->output(0);      // [B, 8]
    ir::Value* byteCount = node("Gather", {countTable_, cast->output(0)}, "c")->output(0);  // [B, 1]
    ir::Node* before = node("CumSum", {byteCount, zero32_}, "b");
    before->setAttr(ir::Attribute::makeInt("exclusive", 1));
    ir::Value* rank = node("Add", {bitRank, before->output(0)}, "k")->output(0);
    ir::Value* idx = node("Max", {rank, zero32_}, "x")->output(0);  // 0 (nz[0] = 0) where pruned
    if (bytes * 8 != n) {
      ir::Value* flat = constant(g, tag + "f", ir::Tensor::fromVector(ir::DataType::kInt64, {1}, std::vector<int64_t>{-1}));
      ir::Value* zero = constant(g, tag + "0", ir::Tensor::fromVector(ir::DataType::kInt64, {1}, std::vector<int64_t>{0}));
      ir::Value* end = constant(g, tag + "e", ir::Tensor::fromVector(ir::DataType::kInt64, {1}, std::vector<int64_t>{n}));
      idx = node("Reshape", {idx, flat}, "y")->output(0);
      idx = node("Slice", {idx, zero, end}, "n")->output(0);
    }
    idx = node("Reshape", {idx, dimsV}, "z")->output(0);
    ir::Node* shape = node("Gather", {nzV, idx}, "w");  // takes the index tensor's shape
    std::vector<ir::Dim> dims;
    for (int64_t d : t.dims()) dims.push_back(ir::Dim::known(d));
    shape->output(0)->setType(ir::ValueType::tensor(t.dtype(), dims));
    g.replaceAllUsesWith(v, shape->output(0));
    g.removeInitializer(v);
    g.collectGarbage();
  }

  Format format_;
  int64_t minSize_;
  double minSparsity_;
  double bitmaskGain_;
  // A decode node (each chain's first nodes are marked so that cleanup leaves it). All go before
  // the graph's first node as the pass found it, in creation order (tables, then each tensor's).
  ir::Node* decodeNode(ir::Graph& g, const std::string& op, std::vector<ir::Value*> in, const std::string& hint) {
    // Only nodes that read constants alone carry the marker (fold-constants and
    // fold-shape-computations skip them); every other decode node reads a marked node's output,
    // so it is never constant either, and one doc string per chain is enough.
    bool roots = true;
    for (const ir::Value* x : in) roots = roots && x->isConstant();
    ir::Node* nd = g.createNode(op, in, {hint}, anchor_);
    if (roots) nd->setDocString(kSparseDecodeDoc);
    return nd;
  }

  // The tables every decode shares, for mask byte m (rows) and bit j (columns): rank[m, j] is bit
  // j's 1-based rank among m's set bits, or kNotKept where it is clear; count[m] is m's popcount.
  // Built in-graph from a few scalars (9 KiB stored would outweigh a small model's weights):
  //   bits = Mod(Div(Reshape(Range(0, 256, 1), [256, 1]), {1, 2, ..., 128}), 2)       # [256, 8]
  //   incl = CumSum(bits, 1)    rank = incl·bits + (bits − 1)·2^30    count = incl[:, 7:8]
  // Short generated names (st0..st19) keep the file small; the formula above says what each is.
  void buildTables(ir::Graph& g) {
    auto i32 = [&](const std::string& hint, std::vector<int64_t> dims, std::vector<int32_t> v) {
      return constant(g, hint, ir::Tensor::fromVector(ir::DataType::kInt32, std::move(dims), v));
    };
    auto i64 = [&](const std::string& hint, std::vector<int64_t> v) {
      const auto n = static_cast<int64_t>(v.size());
      return constant(g, hint, ir::Tensor::fromVector(ir::DataType::kInt64, {n}, v));
    };
    zero32_ = i32("st0", {}, {0});
    ir::Value* one = i32("st1", {}, {1});
    ir::Node* rng = decodeNode(g, "Range", {zero32_, i32("st2", {}, {256}), one}, "st10");
    ir::Node* col = decodeNode(g, "Reshape", {rng->output(0), i64("st3", {256, 1})}, "st11");
    ir::Node* div = decodeNode(g, "Div", {col->output(0), i32("st4", {1, 8}, {1, 2, 4, 8, 16, 32, 64, 128})}, "st12");
    ir::Node* bit = decodeNode(g, "Mod", {div->output(0), i32("st5", {}, {2})}, "st13");
    ir::Node* cum = decodeNode(g, "CumSum", {bit->output(0), one}, "st14");
    ir::Node* kept = decodeNode(g, "Mul", {cum->output(0), bit->output(0)}, "st15");
    ir::Node* off = decodeNode(g, "Sub", {bit->output(0), one}, "st16");
    ir::Node* big = decodeNode(g, "Mul", {off->output(0), i32("st6", {}, {-kNotKept})}, "st17");
    rankTable_ = decodeNode(g, "Add", {kept->output(0), big->output(0)}, "st18")->output(0);
    countTable_ = decodeNode(g, "Slice", {cum->output(0), i64("st7", {7}), i64("st8", {8}), i64("st9", {1})},
                             "st19")->output(0);
  }

  static constexpr int32_t kNotKept = -(1 << 30);  // plus any rank (< 2^30) stays negative
  ir::Value *rankTable_ = nullptr, *countTable_ = nullptr, *zero32_ = nullptr;
  ir::Node* anchor_ = nullptr;
  int64_t encoded_ = 0;
};

}  // namespace

PassInfo sparseStorageInfo() {
  PassInfo info{
      "sparse-storage",
      "store sparse weights (pruned, float or int8) as ONNX sparse initializers (coo) or values + bit mask decoded in-graph",
      {
          {"format", OptionType::kEnum, "auto", "smallest per tensor, or one format for all", {"auto", "dense", "coo", "bitmask"}},
          {"min-size", OptionType::kInt, "1024", "tensors with fewer elements stay dense", {}},
          {"min-sparsity", OptionType::kFloat, "0.2", "tensors with a smaller fraction of zeros stay dense", {}},
          {"bitmask-gain", OptionType::kFloat, "0.2",
           "auto: bitmask (decoded at load) only if it saves this fraction of the dense bytes over dense/coo", {}},
      },
      [](const PassOptions& o) {
        const std::string f = o.getString("format");
        Format fmt = f == "dense" ? Format::kDense : f == "coo" ? Format::kCoo : f == "bitmask" ? Format::kBitmask : Format::kAuto;
        const double ms = o.getFloat("min-sparsity");
        if (!(ms >= 0 && ms <= 1)) throwUsage("sparse-storage: min-sparsity must be in [0, 1]");
        const double gain = o.getFloat("bitmask-gain");
        if (!(gain >= 0 && gain <= 1)) throwUsage("sparse-storage: bitmask-gain must be in [0, 1]");
        return std::make_unique<SparseStorage>(fmt, o.getInt("min-size"), ms, gain);
      }};
  info.cliFlag = "sparse-format";
  info.primaryOption = "format";
  info.cliOptionPrefix = "sparse";
  info.fixedOrder = 10;
  return info;
}

}  // namespace effdl::passes
