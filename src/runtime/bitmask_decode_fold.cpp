// The bitmask decode chain matched and computed in one pass (see the header for the math).
#include "runtime/bitmask_decode_fold.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <type_traits>
#include <vector>

#include <sys/mman.h>

#include "core/checked_math.h"
#include "runtime/kernels/elementwise.h"
#include "runtime/limits.h"

#if EFFDL_EW_WIDE
#include <immintrin.h>
#endif

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

// One mask byte's W entries: indices first (an add and a clamp each, vectorised for W = 8, the
// width sparse-storage writes), one range check for all, then the copies. kW 0: W at run time.
template <typename T, size_t ES, int64_t kW>
[[gnu::always_inline]] inline bool expandRow(const T* row, int64_t width, T base, T lo, const uint8_t* values, int64_t k,
                                             uint8_t* o) {
  using U = std::make_unsigned_t<T>;
  const int64_t w = kW ? kW : width;
  U bad = 0;
  for (int64_t t = 0; t < w; ++t) {
    T x = static_cast<T>(row[t] + base);
    x = x < lo ? lo : x;
    // Gather would wrap a negative index or fail on a large one: both are left to it.
    bad |= static_cast<U>(static_cast<U>(x) >= static_cast<U>(k));
  }
  if (bad) return false;
  for (int64_t t = 0; t < w; ++t) {
    T x = static_cast<T>(row[t] + base);
    x = x < lo ? lo : x;
    std::memcpy(o + static_cast<size_t>(t) * ES, values + static_cast<size_t>(x) * ES, ES);
  }
  return true;
}

// What a decode reads and writes.
template <typename T>
struct Decode {
  const uint8_t* mask;
  const T* ranks;
  int64_t width;
  const T* pops;
  bool exclusive;
  T lo;
  const uint8_t* values;
  int64_t k;
  uint8_t* out;
  T rowMin = 0, rowMax = 0;  // the extremes of the table rows a mask byte can select

  // Adds mask byte `byte`'s popcount to the running sum and sets `base`, the offset its row's
  // ranks get. False when the sum, or base plus any row entry, would leave T (checked once per
  // byte against the tables' extremes, so the row itself needs no check).
  bool advance(int64_t byte, T& run, T& base) const {
    const T before = run;
    if (__builtin_add_overflow(run, pops[byte], &run)) return false;
    base = exclusive ? before : run;
    T sum;
    return !__builtin_add_overflow(rowMax, base, &sum) && !__builtin_add_overflow(rowMin, base, &sum);
  }
};

// Mask bytes [j0, j1), the running sum being `run` at j0. False (nothing promised about out) when
// a sum would leave T (checked once per byte, against the tables' extremes) or an index V.
template <typename T, size_t ES>
bool decodeRange(const Decode<T>& d, int64_t j0, int64_t j1, T run) {
  for (int64_t j = j0; j < j1; ++j) {
    const int64_t byte = d.mask[j];
    T base;
    if (!d.advance(byte, run, base)) return false;
    const T* row = d.ranks + byte * d.width;
    uint8_t* o = d.out + static_cast<size_t>(j * d.width) * ES;
    if (d.width == 8) {
      if (!expandRow<T, ES, 8>(row, 8, base, d.lo, d.values, d.k, o)) return false;
    } else if (!expandRow<T, ES, 0>(row, d.width, base, d.lo, d.values, d.k, o)) {
      return false;
    }
  }
  return true;
}

#if EFFDL_EW_WIDE
// decodeRange<int32_t, 4> for W = 8 (sparse-storage's tables, float or int32 values) with AVX2:
// a byte's eight indices in one vector, one check, eight loads, one store (plain loads measured
// faster than vpgatherdd here: 9 vs 13 ms for resnet18's 11M weights).
EFFDL_TARGET_AVX2 bool decodeRangeAvx2(const Decode<int32_t>& d, int64_t j0, int64_t j1, int32_t run) {
  const __m256i vlo = _mm256_set1_epi32(d.lo);
  const __m256i vlast = _mm256_set1_epi32(static_cast<int32_t>(std::min<int64_t>(d.k - 1, INT32_MAX)));
  const __m256i zero = _mm256_setzero_si256();
  for (int64_t j = j0; j < j1; ++j) {
    const int64_t byte = d.mask[j];
    int32_t base;
    if (!d.advance(byte, run, base)) return false;
    const __m256i row = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(d.ranks + byte * 8));
    const __m256i x = _mm256_max_epi32(_mm256_add_epi32(row, _mm256_set1_epi32(base)), vlo);
    // Gather would wrap a negative index or fail on a large one: both are left to it.
    const __m256i bad = _mm256_or_si256(_mm256_cmpgt_epi32(zero, x), _mm256_cmpgt_epi32(x, vlast));
    if (!_mm256_testz_si256(bad, bad)) return false;
    alignas(32) int32_t xi[8];
    _mm256_store_si256(reinterpret_cast<__m256i*>(xi), x);
    const int32_t* vals = reinterpret_cast<const int32_t*>(d.values);
    const __m256i v = _mm256_setr_epi32(vals[xi[0]], vals[xi[1]], vals[xi[2]], vals[xi[3]], vals[xi[4]], vals[xi[5]],
                                        vals[xi[6]], vals[xi[7]]);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(d.out + j * 32), v);
  }
  return true;
}
#endif

template <typename T>
bool decodeRangeAny(const Decode<T>& d, size_t es, int64_t j0, int64_t j1, T run) {
#if EFFDL_EW_WIDE
  if constexpr (std::is_same_v<T, int32_t>)
    if (es == 4 && d.width == 8 && d.k > 0 && elementwise::simdLevel() != elementwise::SimdLevel::kBaseline)
      return decodeRangeAvx2(d, j0, j1, run);
#endif
  switch (es) {
    case 1: return decodeRange<T, 1>(d, j0, j1, run);
    case 2: return decodeRange<T, 2>(d, j0, j1, run);
    case 4: return decodeRange<T, 4>(d, j0, j1, run);
    case 8: return decodeRange<T, 8>(d, j0, j1, run);
    default: return false;
  }
}

// Mask bytes per chunk that a thread decodes on its own; a decode runs on one thread below
// BroadcastPlan::kParallelThreshold output elements, as the kernels do.
constexpr int64_t kChunkBytes = 1 << 13;

// The whole decode, on one thread or, when large, in chunks on up to `threads` OpenMP threads
// after one pass over the mask for the running sum at each chunk's start.
template <typename T>
bool decodeAll(Decode<T>& d, size_t es, int64_t m, int threads) {
  if (d.width > 0) {
    const auto [lo, hi] = std::minmax_element(d.ranks, d.ranks + 256 * d.width);
    d.rowMin = *lo;
    d.rowMax = *hi;
  }
  const int64_t chunks = (m + kChunkBytes - 1) / kChunkBytes;
  if (threads <= 1 || chunks <= 1 || m * d.width < BroadcastPlan::kParallelThreshold)
    return decodeRangeAny(d, es, 0, m, T{0});
  std::vector<T> starts(static_cast<size_t>(chunks));
  T run = 0;
  for (int64_t j = 0; j < m; ++j) {
    if (j % kChunkBytes == 0) starts[static_cast<size_t>(j / kChunkBytes)] = run;
    if (__builtin_add_overflow(run, d.pops[d.mask[j]], &run)) return false;
  }
  int failed = 0;
#pragma omp parallel for num_threads(threads) schedule(static) reduction(| : failed)
  for (int64_t c = 0; c < chunks; ++c)
    failed |= !decodeRangeAny(d, es, c * kChunkBytes, std::min(m, (c + 1) * kChunkBytes), starts[static_cast<size_t>(c)]);
  return !failed;
}

// The decoded weight's storage. On one thread, large ones are mapped with MAP_POPULATE: the kernel
// fills the pages in one call instead of one page fault per 4 KiB as the decode first writes them
// (on more threads, the threads' first writes fault their own pages in parallel).
std::shared_ptr<uint8_t[]> outputBuffer(size_t bytes, int threads) {
  if (threads <= 1 && bytes >= (size_t{1} << 20)) {
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (p != MAP_FAILED)
      return std::shared_ptr<uint8_t[]>(static_cast<uint8_t*>(p), [bytes](uint8_t* q) { munmap(q, bytes); });
  }
  return std::shared_ptr<uint8_t[]>(new uint8_t[std::max<size_t>(bytes, 1)]);
}

}  // namespace

std::optional<BitmaskDecodeFold> foldBitmaskDecode(const ir::Model& model, const ir::Node& cast,
                                                   const std::function<const ir::Tensor*(const ir::Value*)>& constantOf,
                                                   int threads) {
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

  std::shared_ptr<uint8_t[]> buf = outputBuffer(static_cast<size_t>(*bytes), threads);
  const bool exclusive = cumsum->attrInt("exclusive", 0) != 0;
  const int64_t k = values->dims()[0];
  bool ok;
  if (t == DataType::kInt32) {
    Decode<int32_t> d{mask->data(), ranks->values<int32_t>().data(), width, pops->values<int32_t>().data(),
                      exclusive, lo->values<int32_t>()[0], values->data(), k, buf.get()};
    ok = decodeAll(d, es, m, threads);
  } else {
    Decode<int64_t> d{mask->data(), ranks->values<int64_t>().data(), width, pops->values<int64_t>().data(),
                      exclusive, lo->values<int64_t>()[0], values->data(), k, buf.get()};
    ok = decodeAll(d, es, m, threads);
  }
  if (!ok) return std::nullopt;
  BitmaskDecodeFold f;
  f.nodes = {&cast, gatherR, gatherP, cumsum, add, max, reshape, gatherV};
  f.output = gatherV->output(0);
  f.result = ir::Tensor(values->dtype(), std::move(dims), std::shared_ptr<const void>(buf, buf.get()), buf.get(),
                        static_cast<size_t>(*bytes));
  return f;
}

}  // namespace effdl::runtime
