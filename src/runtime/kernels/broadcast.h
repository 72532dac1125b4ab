// Numpy-style (multidirectional) broadcasting for elementwise kernels, and the legacy opset < 7
// `broadcast=1, axis=k` rule. A BroadcastPlan collapses the output into as few dims as the
// inputs' broadcast patterns allow and walks it row by row, so the common cases — same shapes, a
// scalar operand, a bias along the last dim or along channels — run as plain contiguous loops
// with no per-element index arithmetic.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "runtime/rt_tensor.h"

namespace effdl::runtime {

// The shape all `shapes` broadcast to (numpy rules: align right, a dim of 1 stretches), or
// nullopt when two dims differ and neither is 1.
std::optional<Shape> broadcastShapes(std::span<const Shape* const> shapes);
std::optional<Shape> broadcastShapes(const Shape& a, const Shape& b);

// Whether `from` broadcasts to exactly `to` (unidirectional: `to` is kept), as PRelu's slope,
// Gemm's C or Expand's input do.
bool broadcastsTo(const Shape& from, const Shape& to);

// Opset < 7 `broadcast=1`: B is matched against A's dims starting at `axis` (default: B's dims
// are A's trailing dims); a B of one element is a scalar. Returns B's dims padded with 1s to A's
// rank, ready for broadcastsTo(result, a), or nullopt when B does not fit there.
std::optional<Shape> legacyBroadcastShape(const Shape& a, const Shape& b, std::optional<int64_t> axis);

// The legacy rule as an op's attributes state it (opset < 7 Add/Sub/Mul/Div/Pow/And/Or/Xor/
// Equal/Greater/Less, Gemm's C): read once when the kernel is built.
struct LegacyBroadcast {
  bool enabled = false;  // broadcast=1
  std::optional<int64_t> axis;
};

// "[2,3]" and "[4]" for messages.
std::string shapesString(std::span<const Shape* const> shapes);

class BroadcastPlan {
 public:
  static constexpr size_t kMaxInputs = 3;
  // Below this many output elements a kernel runs on one thread: OpenMP's fork/join costs more
  // than it saves on small tensors.
  static constexpr int64_t kParallelThreshold = 1 << 16;

  // Plans `inputs` (each must broadcast to `out`; at most kMaxInputs) for output shape `out`.
  // Returns false when an input does not broadcast to `out`.
  bool init(const Shape& out, std::span<const Shape* const> inputs);

  int64_t numel() const { return numel_; }
  // The collapsed dims, outermost first (never empty; all 1s count as one dim of 1).
  const std::vector<int64_t>& dims() const { return dims_; }
  // Input i's element stride along collapsed dim d (0 where it is broadcast).
  int64_t stride(size_t input, size_t d) const { return strides_[input][d]; }
  // Whether input i advances along the innermost dim (stride 1); if not, it is constant along
  // each row.
  bool innerVaries(size_t input) const { return strides_[input].back() != 0; }
  size_t numInputs() const { return numInputs_; }

  // Calls fn(outOffset, inOffsets, len) for maximal runs of output elements [begin, end) that
  // lie in one row of the innermost collapsed dim; inOffsets[i] is input i's element offset at
  // outOffset. Along a run input i advances by 1 per element if innerVaries(i), else by 0.
  template <typename Fn>
  void forRange(int64_t begin, int64_t end, Fn&& fn) const;

  // forRange over all of the output, split into chunks run by OpenMP threads when the output is
  // large. fn must be safe to call concurrently on disjoint ranges.
  template <typename Fn>
  void run(Fn&& fn) const;

 private:
  int64_t numel_ = 0;
  size_t numInputs_ = 0;
  std::vector<int64_t> dims_;
  std::array<std::vector<int64_t>, kMaxInputs> strides_;
};

// Runs fn(begin, end) over [0, n) split into chunks that OpenMP threads share when n is large
// (>= BroadcastPlan::kParallelThreshold). For kernels whose output is contiguous and unbroadcast.
template <typename Fn>
void parallelChunks(int64_t n, Fn&& fn) {
  constexpr int64_t kChunk = 1 << 15;
  if (n < BroadcastPlan::kParallelThreshold) {
    if (n > 0) fn(int64_t{0}, n);
    return;
  }
  const int64_t chunks = (n + kChunk - 1) / kChunk;
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < chunks; ++c) fn(c * kChunk, std::min(n, (c + 1) * kChunk));
}

// Runs fn(rowBegin, rowEnd) over [0, rows) of rows of `cols` elements, split among OpenMP
// threads like parallelChunks when rows · cols is large.
template <typename Fn>
void parallelRows(int64_t rows, int64_t cols, Fn&& fn) {
  constexpr int64_t kChunk = 1 << 15;  // elements per chunk, as parallelChunks
  const int64_t per = std::max<int64_t>(1, kChunk / std::max<int64_t>(cols, 1));
  if (rows * cols < BroadcastPlan::kParallelThreshold) {
    if (rows > 0) fn(int64_t{0}, rows);
    return;
  }
  const int64_t chunks = (rows + per - 1) / per;
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < chunks; ++c) fn(c * per, std::min(rows, (c + 1) * per));
}

// Copies `src` (elements of elemSize bytes, shape srcDims) broadcast to outDims into dst, which
// holds numel(outDims) elements. srcDims must broadcast to outDims (broadcastsTo). For Expand,
// Gemm's C and the first operand of variadic ops.
void broadcastCopy(const void* src, const Shape& srcDims, void* dst, const Shape& outDims, size_t elemSize);

// ------------------------------------------------------------------------------ implementation
template <typename Fn>
void BroadcastPlan::forRange(int64_t begin, int64_t end, Fn&& fn) const {
  if (begin >= end) return;
  const size_t rank = dims_.size();
  const size_t outer = rank - 1;
  const int64_t inner = dims_.back();
  // Odometer over the outer collapsed dims; ranks past 8 after collapsing are rare.
  int64_t idxBuf[8];
  std::vector<int64_t> idxHeap;
  int64_t* idx = idxBuf;
  if (outer > 8) {
    idxHeap.resize(outer);
    idx = idxHeap.data();
  }
  int64_t row = begin / inner;
  int64_t col = begin % inner;
  std::array<int64_t, kMaxInputs> base{};  // each input's offset at the start of the current row
  for (size_t d = outer; d-- > 0;) {
    idx[d] = row % dims_[d];
    row /= dims_[d];
    for (size_t k = 0; k < numInputs_; ++k) base[k] += idx[d] * strides_[k][d];
  }
  std::array<int64_t, kMaxInputs> off{};
  int64_t pos = begin;
  for (;;) {
    const int64_t len = std::min(inner - col, end - pos);
    for (size_t k = 0; k < numInputs_; ++k) off[k] = base[k] + col * strides_[k][outer];
    fn(pos, static_cast<const int64_t*>(off.data()), len);
    pos += len;
    if (pos >= end) return;
    col = 0;
    for (size_t d = outer; d-- > 0;) {
      if (++idx[d] < dims_[d]) {
        for (size_t k = 0; k < numInputs_; ++k) base[k] += strides_[k][d];
        break;
      }
      idx[d] = 0;
      for (size_t k = 0; k < numInputs_; ++k) base[k] -= (dims_[d] - 1) * strides_[k][d];
    }
  }
}

template <typename Fn>
void BroadcastPlan::run(Fn&& fn) const {
  parallelChunks(numel_, [&](int64_t begin, int64_t end) { forRange(begin, end, fn); });
}

}  // namespace effdl::runtime
