// The bitmask decode chain matched and computed in one pass (see the header for the math).
#include "runtime/bitmask_decode_fold.h"

#include <cstring>
#include <memory>

#include "core/checked_math.h"
#include "runtime/limits.h"

namespace effdl::runtime {
namespace {

bool isInt(ir::DataType t) { return t == ir::DataType::kInt32 || t == ir::DataType::kInt64; }

// The node reading v, when v has exactly one use (input `index` of an `op` node), is not a
// graph output, and that node is a plain default-domain node with one output.
const ir::Node* soleUser(const ir::Value* v, const char* op, int index, size_t numInputs) {
  if (!v || v->isGraphOutput() || v->uses().size() != 1) return nullptr;
  const ir::Use& u = v->uses()[0];
  const ir::Node* n = u.node;
  if (u.index != index || n->opType() != op || !(n->domain().empty() || n->domain() == "ai.onnx")) return nullptr;
  if (n->numInputs() != numInputs || n->numOutputs() != 1 || !n->output(0) || n->hasSubgraphs() ||
      !n->implicitInputs().empty())
    return nullptr;
  return n;
}

// A constant integer tensor's element k as int64.
int64_t intAt(const ir::Tensor& t, int64_t k) {
  if (t.dtype() == ir::DataType::kInt32) return t.values<int32_t>()[static_cast<size_t>(k)];
  return t.values<int64_t>()[static_cast<size_t>(k)];
}

// Decodes into out; false (nothing promised about out) when a sum would leave T or an index V.
template <typename T, size_t ES>
bool decode(const uint8_t* mask, int64_t m, const T* ranks, int64_t width, const T* pops, bool exclusive, T lo,
            const uint8_t* values, int64_t k, uint8_t* out) {
  T run = 0;
  for (int64_t j = 0; j < m; ++j) {
    const int64_t byte = mask[j];
    const T before = run;
    if (__builtin_add_overflow(run, pops[byte], &run)) return false;
    const T base = exclusive ? before : run;
    const T* row = ranks + byte * width;
    uint8_t* o = out + static_cast<size_t>(j * width) * ES;
    for (int64_t t = 0; t < width; ++t) {
      T x;
      if (__builtin_add_overflow(row[t], base, &x)) return false;
      if (x < lo) x = lo;
      if (x < 0 || x >= k) return false;  // Gather would wrap negatives or fail: leave that to it
      std::memcpy(o + static_cast<size_t>(t) * ES, values + static_cast<size_t>(x) * ES, ES);
    }
  }
  return true;
}

template <typename T>
bool decodeAny(size_t es, const uint8_t* mask, int64_t m, const T* ranks, int64_t width, const T* pops, bool exclusive,
               T lo, const uint8_t* values, int64_t k, uint8_t* out) {
  switch (es) {
    case 1: return decode<T, 1>(mask, m, ranks, width, pops, exclusive, lo, values, k, out);
    case 2: return decode<T, 2>(mask, m, ranks, width, pops, exclusive, lo, values, k, out);
    case 4: return decode<T, 4>(mask, m, ranks, width, pops, exclusive, lo, values, k, out);
    case 8: return decode<T, 8>(mask, m, ranks, width, pops, exclusive, lo, values, k, out);
    default: return false;
  }
}

}  // namespace

std::optional<BitmaskDecodeFold> foldBitmaskDecode(const ir::Model& model, const ir::Node& cast,
                                                   const std::function<const ir::Tensor*(const ir::Value*)>& constantOf) {
  using ir::DataType;
  // CumSum (opset 11) and integer Max (opset 12): any opset this chain can be written in.
  const auto opset = model.opsetFor("");
  if (!opset || *opset < 12) return std::nullopt;
  if (cast.opType() != "Cast" || !(cast.domain().empty() || cast.domain() == "ai.onnx") || cast.numInputs() != 1 ||
      cast.numOutputs() != 1 || !cast.output(0))
    return std::nullopt;
  const ir::Tensor* mask = cast.input(0) ? constantOf(cast.input(0)) : nullptr;
  if (!mask || mask->dtype() != DataType::kUint8 || mask->rank() != 1) return std::nullopt;
  const int64_t m = mask->dims()[0];
  const ir::Value* i = cast.output(0);
  const DataType indexType = static_cast<DataType>(cast.attrInt("to", 0));
  if (!isInt(indexType) || i->isGraphOutput() || i->uses().size() != 2) return std::nullopt;

  // i's two readers: Gather(R, i) → Add, Gather(P, i) → CumSum, in either order.
  const ir::Node* gatherR = nullptr;
  const ir::Node* gatherP = nullptr;
  for (const ir::Use& u : i->uses()) {
    const ir::Node* g = u.node;
    if (u.index != 1 || g->opType() != "Gather" || !(g->domain().empty() || g->domain() == "ai.onnx") ||
        g->numInputs() != 2 || g->numOutputs() != 1 || !g->output(0) || g->attrInt("axis", 0) != 0 ||
        g->input(0) == i)
      return std::nullopt;
    const ir::Value* out = g->output(0);
    if (out->uses().size() == 1 && out->uses()[0].node->opType() == "CumSum") gatherP = g;
    else gatherR = g;
  }
  if (!gatherR || !gatherP || gatherR == gatherP) return std::nullopt;
  const ir::Node* cumsum = soleUser(gatherP->output(0), "CumSum", 0, 2);
  const ir::Node* add = soleUser(gatherR->output(0), "Add", 0, 2);
  if (!cumsum || !add || soleUser(cumsum->output(0), "Add", 1, 2) != add) return std::nullopt;
  const ir::Node* max = soleUser(add->output(0), "Max", 0, 2);
  const ir::Node* reshape = max ? soleUser(max->output(0), "Reshape", 0, 2) : nullptr;
  const ir::Node* gatherV = reshape ? soleUser(reshape->output(0), "Gather", 1, 2) : nullptr;
  if (!gatherV || gatherV->output(0)->isGraphOutput() || gatherV->attrInt("axis", 0) != 0 || cumsum->attrInt("reverse", 0) != 0 ||
      reshape->attrInt("allowzero", 0) != 0)
    return std::nullopt;

  // The constants: tables R [N, W] and P [N, 1] of one integer type T, lo a single T, the axis
  // 0, the shape S positive with M·W elements, the values V 1-D.
  const ir::Tensor* ranks = constantOf(gatherR->input(0));
  const ir::Tensor* pops = constantOf(gatherP->input(0));
  const ir::Tensor* axis = cumsum->input(1) ? constantOf(cumsum->input(1)) : nullptr;
  const ir::Tensor* lo = max->input(1) ? constantOf(max->input(1)) : nullptr;
  const ir::Tensor* shape = reshape->input(1) ? constantOf(reshape->input(1)) : nullptr;
  const ir::Tensor* values = gatherV->input(0) ? constantOf(gatherV->input(0)) : nullptr;
  if (!ranks || !pops || !axis || !lo || !shape || !values) return std::nullopt;
  const DataType t = ranks->dtype();
  if (!isInt(t) || pops->dtype() != t || lo->dtype() != t || !isInt(axis->dtype()) || shape->dtype() != DataType::kInt64)
    return std::nullopt;
  if (ranks->rank() != 2 || pops->rank() != 2 || pops->dims()[1] != 1 || pops->dims()[0] != ranks->dims()[0] ||
      ranks->dims()[0] < 256 || lo->numel() != 1 || lo->rank() > 2 || axis->numel() != 1 || axis->rank() > 1 ||
      shape->rank() != 1 || values->rank() != 1)
    return std::nullopt;
  const int64_t ax = intAt(*axis, 0);
  if (ax != 0 && ax != -2) return std::nullopt;  // c is [M, 1]: the scan runs over the mask bytes
  const int64_t width = ranks->dims()[1];
  std::vector<int64_t> dims;
  std::optional<int64_t> count = 1;
  for (int64_t d = 0; d < shape->numel(); ++d) {
    const int64_t v = intAt(*shape, d);
    if (v <= 0) return std::nullopt;
    dims.push_back(v);
    count = checkedMul(*count, v);
    if (!count) return std::nullopt;
  }
  const auto elems = checkedMul(m, width);
  if (!elems || *elems != *count) return std::nullopt;
  const size_t es = ir::dtypeSize(values->dtype());
  if (values->dtype() == DataType::kString || es == 0) return std::nullopt;
  const auto bytes = checkedMul(*count, static_cast<int64_t>(es));
  if (!bytes || *bytes > runtimeMaxTensorBytes()) return std::nullopt;

  std::shared_ptr<uint8_t[]> buf(new uint8_t[std::max<size_t>(static_cast<size_t>(*bytes), 1)]);
  const bool exclusive = cumsum->attrInt("exclusive", 0) != 0;
  const int64_t k = values->dims()[0];
  const bool ok = t == DataType::kInt32
                      ? decodeAny<int32_t>(es, mask->data(), m, ranks->values<int32_t>().data(), width,
                                           pops->values<int32_t>().data(), exclusive, lo->values<int32_t>()[0],
                                           values->data(), k, buf.get())
                      : decodeAny<int64_t>(es, mask->data(), m, ranks->values<int64_t>().data(), width,
                                           pops->values<int64_t>().data(), exclusive, lo->values<int64_t>()[0],
                                           values->data(), k, buf.get());
  if (!ok) return std::nullopt;
  BitmaskDecodeFold f;
  f.nodes = {&cast, gatherR, gatherP, cumsum, add, max, reshape, gatherV};
  f.output = gatherV->output(0);
  f.result = ir::Tensor(values->dtype(), std::move(dims), std::shared_ptr<const void>(buf, buf.get()), buf.get(),
                        static_cast<size_t>(*bytes));
  return f;
}

}  // namespace effdl::runtime
