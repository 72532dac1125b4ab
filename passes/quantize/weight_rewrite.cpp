// Weight, bias and embedding-table rewrites; see the header.
#include "passes/quantize/weight_rewrite.h"

#include <algorithm>

#include "passes/quantize/quant_math.h"

namespace effdl::passes::quant {
namespace {

const ir::Value* outermost(const ir::Value* v) {
  while (v && v->outer()) v = v->outer();
  return v;
}

std::string baseName(const ir::Value* v) { return outermost(v)->name(); }

int64_t product(const std::vector<int64_t>& d, size_t from, size_t to) {
  int64_t p = 1;
  for (size_t i = from; i < to && i < d.size(); ++i) p *= d[i];
  return p;
}

ir::Tensor scalarOrVector(std::vector<float> s) {
  if (s.size() == 1) return ir::Tensor::fromVector(ir::DataType::kFloat, {}, s);
  int64_t n = static_cast<int64_t>(s.size());
  return ir::Tensor::fromVector(ir::DataType::kFloat, {n}, s);
}

// Drops the pages of a mapped weight as the quantizer finishes reading them.
DoneFn pageReleaser(const ir::Tensor& t) {
  if (!t.sourceFile()) return {};
  return [&t](size_t first, size_t count) { t.releasePages(first * sizeof(float), count * sizeof(float)); };
}

}  // namespace

bool isDefaultDomain(const ir::Node& n) { return n.domain().empty() || n.domain() == "ai.onnx"; }

const ir::Tensor* floatConstant(const ir::Value* v) {
  v = outermost(v);
  if (!v || !v->isConstant()) return nullptr;
  const ir::Tensor& t = v->initializer();
  if (t.dtype() != ir::DataType::kFloat || t.nbytes() != static_cast<size_t>(t.numel()) * sizeof(float)) return nullptr;
  return &t;
}

std::optional<WeightLayout> weightLayout(const ir::Node& n, const ir::Tensor& w) {
  const auto& d = w.dims();
  const size_t r = d.size();
  WeightLayout l;
  const std::string& op = n.opType();
  if (op == "Conv") {
    if (r < 3) return std::nullopt;
    l = {0, 1, d[0], product(d, 1, r), d[0], product(d, 1, r), 1};
  } else if (op == "ConvTranspose") {
    if (r < 3) return std::nullopt;
    l = {1, d[0], d[1], product(d, 2, r), 1, d[0], product(d, 1, r)};
  } else if (op == "Gemm") {
    if (r != 2 || n.attrInt("transA", 0) != 0) return std::nullopt;
    if (n.attrInt("transB", 0) != 0)
      l = {0, 1, d[0], d[1], d[0], d[1], 1};
    else
      l = {1, d[0], d[1], 1, 1, d[0], d[1]};
  } else if (op == "MatMul") {
    if (r < 2) return std::nullopt;
    l = {static_cast<int>(r - 1), product(d, 0, r - 1), d[r - 1], 1, product(d, 0, r - 2), d[r - 2], d[r - 1]};
  } else {
    return std::nullopt;
  }
  return l;
}

std::vector<float> WeightRewriter::dequantizeWeight(ir::Node& n, const WeightLayout& l) {
  const ir::Value* wv = n.input(1);
  const ir::Tensor& w = *floatConstant(wv);
  const bool blocks = o_.blockSize > 0 && l.rows % o_.blockSize == 0 && l.rows > o_.blockSize;
  if (o_.blockSize > 0 && !blocks) r_.decline("block size does not divide the reduction axis: per-channel used");
  const int key = blocks ? -1 - static_cast<int>(o_.blockSize) : (o_.perChannel ? l.axis : 1000);
  auto it = done_.find({outermost(wv), key});
  if (it != done_.end()) {
    n.setInput(1, it->second.first);
    return it->second.second;
  }
  const std::string name = baseName(wv);
  auto span = w.values<float>();
  ir::Value* out = nullptr;
  std::vector<float> channelScales;
  if (blocks) {
    const int64_t nb = l.rows / o_.blockSize;
    Quantized q = quantizeBlocks(span, l.blockOuter, l.rows, l.blockInner, o_.blockSize, o_.reduceRange);
    ir::Value* qv = constant(
        name + "_q", ir::Tensor::adopt(ir::DataType::kInt8, {l.blockOuter, nb, o_.blockSize, l.blockInner}, std::move(q.q)));
    ir::Value* sv = constant(
        name + "_scale", ir::Tensor::fromVector(ir::DataType::kFloat, {l.blockOuter, nb, 1, l.blockInner}, q.scales));
    ir::Value* shape = constant(
        name + "_shape", ir::Tensor::fromVector(ir::DataType::kInt64, {static_cast<int64_t>(w.rank())}, w.dims()));
    ir::Node* cast = createNamed(g_, "Cast", {qv}, {name + "_f"}, &n);
    cast->setAttr(ir::Attribute::makeInt("to", static_cast<int64_t>(ir::DataType::kFloat)));
    ir::Node* mul = createNamed(g_, "Mul", {cast->output(0), sv}, {name + "_blocks"}, &n);
    ir::Node* reshape = createNamed(g_, "Reshape", {mul->output(0), shape}, {name + "_dq"}, &n);
    out = reshape->output(0);
    r_.count("weights int8 per block");
  } else {
    const bool perChannel = o_.perChannel;
    const DoneFn release = pageReleaser(w);
    Quantized q = perChannel ? quantizeAxis(span, l.outer, l.channels, l.inner, o_.reduceRange, release)
                             : quantizeAxis(span, static_cast<int64_t>(span.size()), 1, 1, o_.reduceRange, release);
    const size_t nScales = q.scales.size();
    if (o_.simulate) {
      std::vector<float> dq(q.q.size());
      for (size_t e = 0; e < dq.size(); ++e)
        dq[e] =
            q.q[e] * q.scales[nScales == 1 ? 0 : static_cast<size_t>((static_cast<int64_t>(e) / l.inner) % l.channels)];
      out = constant(name + "_sim", ir::Tensor::fromVector(ir::DataType::kFloat, w.dims(), dq));
      channelScales = std::move(q.scales);
      done_[{outermost(wv), key}] = {out, channelScales};
      n.setInput(1, out);
      return channelScales;
    }
    ir::Value* qv = constant(name + "_q", ir::Tensor::adopt(ir::DataType::kInt8, w.dims(), std::move(q.q)));
    ir::Value* sv = constant(name + "_scale", scalarOrVector(q.scales));
    std::vector<int8_t> zeros(nScales, 0);
    ir::Value* zv =
        constant(name + "_zp",
                 nScales == 1 ? ir::Tensor::fromVector(ir::DataType::kInt8, {}, zeros)
                              : ir::Tensor::fromVector(ir::DataType::kInt8, {static_cast<int64_t>(nScales)}, zeros));
    ir::Node* dq = createNamed(g_, "DequantizeLinear", {qv, sv, zv}, {name + "_dq"}, &n);
    if (nScales > 1) dq->setAttr(ir::Attribute::makeInt("axis", l.axis));
    out = dq->output(0);
    channelScales = std::move(q.scales);
    r_.count(perChannel ? "weights int8 per channel" : "weights int8 per tensor");
  }
  done_[{outermost(wv), key}] = {out, channelScales};
  n.setInput(1, out);
  return channelScales;
}

WeightRewriter::Int8Weight WeightRewriter::int8Weight(const ir::Value* wv, bool transpose) {
  auto it = doneInt8_.find({outermost(wv), transpose});
  if (it != doneInt8_.end()) return it->second;
  const ir::Tensor& w = *floatConstant(wv);
  const int64_t rows = w.dims()[0], cols = w.dims()[1];
  auto span = w.values<float>();
  std::vector<float> kn(span.begin(), span.end());
  int64_t k = rows, nOut = cols;
  if (transpose) {
    k = cols;
    nOut = rows;
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j)
        kn[static_cast<size_t>(j * rows + i)] = span[static_cast<size_t>(i * cols + j)];
  }
  Quantized q =
      o_.perChannel ? quantizeAxis(kn, k, nOut, 1, o_.reduceRange) : quantizeAxis(kn, k * nOut, 1, 1, o_.reduceRange);
  Int8Weight r;
  r.q = constant(baseName(wv) + "_q", ir::Tensor::adopt(ir::DataType::kInt8, {k, nOut}, std::move(q.q)));
  r.scales = std::move(q.scales);
  r_.count(o_.perChannel ? "weights int8 per channel" : "weights int8 per tensor");
  doneInt8_[{outermost(wv), transpose}] = r;
  return r;
}

void WeightRewriter::dequantizeBias(ir::Node& n, float sx, const std::vector<float>& sw) {
  const ir::Value* bv = n.input(2);
  const ir::Tensor& b = *floatConstant(bv);
  std::vector<int32_t> q = quantizeBias(b.values<float>(), sx, sw);
  std::vector<float> scales(b.values<float>().size());
  for (size_t i = 0; i < scales.size(); ++i) scales[i] = sx * (sw.size() == 1 ? sw[0] : sw[i]);
  const std::string name = baseName(bv);
  if (o_.simulate) {
    std::vector<float> dq(q.size());
    for (size_t i = 0; i < dq.size(); ++i) dq[i] = static_cast<float>(static_cast<double>(q[i]) * scales[i]);
    n.setInput(2, constant(name + "_sim", ir::Tensor::fromVector(ir::DataType::kFloat, b.dims(), dq)));
    return;
  }
  ir::Value* qv = constant(name + "_q", ir::Tensor::fromVector(ir::DataType::kInt32, b.dims(), q));
  const bool vec = sw.size() > 1;
  ir::Value* sv = constant(
      name + "_scale", vec ? ir::Tensor::fromVector(ir::DataType::kFloat, {static_cast<int64_t>(scales.size())}, scales)
                           : ir::Tensor::fromVector(ir::DataType::kFloat, {}, std::vector<float>{scales[0]}));
  ir::Node* dq = createNamed(g_, "DequantizeLinear", {qv, sv}, {name + "_dq"}, &n);
  if (vec) dq->setAttr(ir::Attribute::makeInt("axis", 0));
  n.setInput(2, dq->output(0));
  r_.count("biases int32");
}

bool WeightRewriter::quantizeGather(ir::Node& n) {
  const ir::Tensor* t = floatConstant(n.input(0));
  if (!t || t->rank() != 2 || n.attrInt("axis", 0) != 0 || !n.input(1) || !n.output(0)) {
    r_.decline("Gather table not a float [rows, dim] constant gathered on axis 0");
    return false;
  }
  const ir::Value* tv = n.input(0);
  const std::string name = baseName(tv);
  if (o_.simulate) {
    const int64_t rows = t->dims()[0], dim = t->dims()[1];
    Quantized q = quantizeAxis(t->values<float>(), 1, rows, dim, o_.reduceRange);
    std::vector<float> dq(q.q.size());
    for (size_t e = 0; e < dq.size(); ++e) dq[e] = q.q[e] * q.scales[e / static_cast<size_t>(dim)];
    n.setInput(0, constant(name + "_sim", ir::Tensor::fromVector(ir::DataType::kFloat, {rows, dim}, dq)));
    return true;
  }
  auto& [qv, sv] = doneGather_[outermost(tv)];
  if (!qv) {
    const int64_t rows = t->dims()[0], dim = t->dims()[1];
    Quantized q = quantizeAxis(t->values<float>(), 1, rows, dim, o_.reduceRange, pageReleaser(*t));
    qv = constant(name + "_q", ir::Tensor::adopt(ir::DataType::kInt8, {rows, dim}, std::move(q.q)));
    sv = constant(name + "_row_scale", ir::Tensor::fromVector(ir::DataType::kFloat, {rows, 1}, q.scales));
  }
  ir::Node* gq = createNamed(g_, "Gather", {qv, n.input(1)}, {name + "_rows_q"}, &n);
  ir::Node* gs = createNamed(g_, "Gather", {sv, n.input(1)}, {name + "_rows_scale"}, &n);
  ir::Node* cast = createNamed(g_, "Cast", {gq->output(0)}, {name + "_rows_f"}, &n);
  cast->setAttr(ir::Attribute::makeInt("to", static_cast<int64_t>(ir::DataType::kFloat)));
  ir::Node* mul = createNamed(g_, "Mul", {cast->output(0), gs->output(0)}, {name + "_rows"}, &n);
  if (!g_.canReplaceAllUses(n.output(0), mul->output(0))) {
    r_.decline("Gather output cannot be redirected");
    for (ir::Node* x : {mul, cast, gs, gq}) g_.eraseNode(x);
    return false;
  }
  g_.replaceAllUsesWith(n.output(0), mul->output(0));
  g_.eraseNode(&n);
  r_.count("embedding tables int8 per row");
  return true;
}

}  // namespace effdl::passes::quant
