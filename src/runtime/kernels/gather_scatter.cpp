// Ops driven by index data: Gather, GatherElements, GatherND, ScatterND, ScatterElements (and the
// deprecated Scatter), OneHot, NonZero, Compress. Every index read from a tensor is checked
// against the dim it addresses before it is used: the indices come from the model, or from its
// user, and neither is trusted.
#include <algorithm>
#include <cstring>
#include <string>

#include "core/checked_math.h"
#include "runtime/kernel_registry.h"
#include "runtime/kernels/families.h"
#include "runtime/kernels/shape_numeric.h"
#include "runtime/kernels/shape_util.h"

namespace effdl::runtime {
namespace {

using namespace shape_detail;

// An index into a dim of size d, negative counting from the end, or a run error naming both.
int64_t checkIndex(const KernelIo& io, int64_t v, int64_t d, const char* what) {
  if (v < -d || v >= d)
    throwRunError(
        io, std::string(what) + " " + std::to_string(v) + " is out of range for a dim of size " + std::to_string(d));
  return v < 0 ? v + d : v;
}

// Calls f(position, coords) for every index of dims in row-major order.
template <typename F>
void forEachIndex(const Shape& dims, F&& f) {
  for (int64_t d : dims)
    if (d == 0) return;
  std::vector<int64_t> idx(dims.size(), 0);
  int64_t pos = 0;
  for (;;) {
    f(pos++, idx);
    size_t k = dims.size();
    for (;;) {
      if (k == 0) return;
      --k;
      if (++idx[k] < dims[k]) break;
      idx[k] = 0;
    }
  }
}

// ----------------------------------------------------------------------------------- reductions
enum class Reduction { kNone, kAdd, kMul };

Reduction reductionOf(const KernelBuildContext& ctx) {
  const std::string r = ctx.node.attrString("reduction", "none");
  if (r == "none") return Reduction::kNone;
  if (r == "add") return Reduction::kAdd;
  if (r == "mul") return Reduction::kMul;
  ctx.unsupported("reduction '" + r + "'");
}

// dst[i] (op)= src[i] for n elements of dtype dt.
void combine(const KernelIo& io, ir::DataType dt, Reduction red, uint8_t* dst, const uint8_t* src, int64_t n) {
  const size_t es = ir::dtypeSize(dt);
  if (red == Reduction::kNone) {
    std::memcpy(dst, src, static_cast<size_t>(n) * es);
    return;
  }
  const bool ok = dispatchNumeric(dt, [&](auto tag) {
    using T = decltype(tag);
    using A = Arith<T>;
    for (int64_t i = 0; i < n; ++i) {
      T a, b;
      std::memcpy(&a, dst + i * static_cast<int64_t>(es), sizeof(T));
      std::memcpy(&b, src + i * static_cast<int64_t>(es), sizeof(T));
      const auto c = red == Reduction::kAdd ? wrapAdd(A::load(a), A::load(b)) : wrapMul(A::load(a), A::load(b));
      const T r = A::store(c);
      std::memcpy(dst + i * static_cast<int64_t>(es), &r, sizeof(T));
    }
  });
  if (!ok) throwRunError(io, "reduction on type " + std::string(ir::dtypeName(dt)) + " is not supported");
}

// -------------------------------------------------------------------------------------- Gather
// Indices are read in their own type and checked as they are used: no int64 copy of them, which
// for a sparse decode's per-weight indices (millions) cost more than the gather itself.
template <typename I>
int64_t gatherIndex(const KernelIo& io, const I* idx, int64_t i, int64_t d) {
  const int64_t v = static_cast<int64_t>(idx[i]);
  return v >= 0 && v < d ? v : checkIndex(io, v, d, "index");  // the call only off the common path
}

// out[o][i] = base[o][idx[i]] for blocks of N bytes; fixed-size memcpy compiles to plain loads and
// stores (vector moves for 16/32), and tolerates unaligned tensors.
template <size_t N, typename I>
void gatherBlocks(const KernelIo& io, const uint8_t* data, const I* idx, int64_t n, int64_t outer, int64_t d,
                  uint8_t* out) {
  for (int64_t o = 0; o < outer; ++o) {
    const uint8_t* base = data + static_cast<size_t>(o * d) * N;
    for (int64_t i = 0; i < n; ++i)
      std::memcpy(out + static_cast<size_t>(i) * N, base + static_cast<size_t>(gatherIndex(io, idx, i, d)) * N, N);
    out += static_cast<size_t>(n) * N;
  }
}

template <typename I>
void gatherAll(const KernelIo& io, const uint8_t* data, const I* idx, int64_t n, int64_t outer, int64_t d,
               size_t block, uint8_t* out) {
  switch (block) {
    case 1: return gatherBlocks<1>(io, data, idx, n, outer, d, out);
    case 2: return gatherBlocks<2>(io, data, idx, n, outer, d, out);
    case 4: return gatherBlocks<4>(io, data, idx, n, outer, d, out);
    case 8: return gatherBlocks<8>(io, data, idx, n, outer, d, out);
    case 16: return gatherBlocks<16>(io, data, idx, n, outer, d, out);
    case 32: return gatherBlocks<32>(io, data, idx, n, outer, d, out);
    default: break;
  }
  for (int64_t o = 0; o < outer; ++o) {
    const uint8_t* base = data + static_cast<size_t>(o * d) * block;
    for (int64_t i = 0; i < n; ++i) {
      std::memcpy(out, base + static_cast<size_t>(gatherIndex(io, idx, i, d)) * block, block);
      out += block;
    }
  }
}

class GatherKernel : public Kernel {
 public:
  explicit GatherKernel(int64_t axis) : axis_(axis) {}
  void run(KernelIo& io) override {
    const RtTensor& data = requireInput(io, 0);
    const RtTensor& indices = requireInput(io, 1);
    const size_t r = data.rank();
    if (r == 0) throwRunError(io, "data must have rank >= 1");
    const size_t axis = static_cast<size_t>(normalizeAxis(io, axis_, static_cast<int64_t>(r), "axis"));
    if (indices.dtype != ir::DataType::kInt32 && indices.dtype != ir::DataType::kInt64)
      throwRunError(io, "indices must be int32 or int64, got " + std::string(ir::dtypeName(indices.dtype)));
    const int64_t n = indices.numel();
    const int64_t d = data.dims[axis];
    Shape dims(data.dims.begin(), data.dims.begin() + static_cast<std::ptrdiff_t>(axis));
    dims.insert(dims.end(), indices.dims.begin(), indices.dims.end());
    dims.insert(dims.end(), data.dims.begin() + static_cast<std::ptrdiff_t>(axis) + 1, data.dims.end());
    const size_t es = elementSize(io, data);
    RtTensor& y = io.allocOutput(0, data.dtype, dims);
    const int64_t outer = product(data.dims, 0, axis);
    const size_t block = static_cast<size_t>(product(data.dims, axis + 1, r)) * es;
    if (y.nbytes == 0) {
      // Nothing to write, but an index out of range is still an error (as before: all are checked).
      for (int64_t i = 0; i < n; ++i) {
        if (indices.dtype == ir::DataType::kInt32) gatherIndex(io, indices.as<int32_t>(), i, d);
        else gatherIndex(io, indices.as<int64_t>(), i, d);
      }
      return;
    }
    if (indices.dtype == ir::DataType::kInt32)
      gatherAll(io, bytesOf(data), indices.as<int32_t>(), n, outer, d, block, bytesOf(y));
    else
      gatherAll(io, bytesOf(data), indices.as<int64_t>(), n, outer, d, block, bytesOf(y));
  }

 private:
  int64_t axis_;
};

// ------------------------------------------------------------------------------ GatherElements
// Shared checks of GatherElements and ScatterElements: same rank, indices within data elsewhere.
void checkElementsShapes(const KernelIo& io, const RtTensor& data, const RtTensor& indices, size_t axis) {
  if (indices.rank() != data.rank())
    throwRunError(io,
                  "indices " + shapeString(indices.dims) + " and data " + shapeString(data.dims) + " differ in rank");
  for (size_t k = 0; k < data.rank(); ++k)
    if (k != axis && indices.dims[k] > data.dims[k])
      throwRunError(io, "indices " + shapeString(indices.dims) + " exceed data " + shapeString(data.dims) +
                            " on axis " + std::to_string(k));
}

class GatherElementsKernel : public Kernel {
 public:
  explicit GatherElementsKernel(int64_t axis) : axis_(axis) {}
  void run(KernelIo& io) override {
    const RtTensor& data = requireInput(io, 0);
    const RtTensor& indices = requireInput(io, 1);
    const size_t r = data.rank();
    if (r == 0) throwRunError(io, "data must have rank >= 1");
    const size_t axis = static_cast<size_t>(normalizeAxis(io, axis_, static_cast<int64_t>(r), "axis"));
    checkElementsShapes(io, data, indices, axis);
    const auto idx = readInts(io, indices, "indices");
    RtTensor& y = io.allocOutput(0, data.dtype, indices.dims);
    if (y.nbytes == 0) return;
    const size_t es = elementSize(io, data);
    const auto st = contiguousStrides(data.dims);
    const int64_t d = data.dims[axis];
    forEachIndex(indices.dims, [&](int64_t pos, const std::vector<int64_t>& c) {
      int64_t off = checkIndex(io, idx[static_cast<size_t>(pos)], d, "index") * st[axis];
      for (size_t k = 0; k < r; ++k)
        if (k != axis) off += c[k] * st[k];
      std::memcpy(bytesOf(y) + static_cast<size_t>(pos) * es, bytesOf(data) + static_cast<size_t>(off) * es, es);
    });
  }

 private:
  int64_t axis_;
};

// ---------------------------------------------------------------------------- ScatterElements
class ScatterElementsKernel : public Kernel {
 public:
  ScatterElementsKernel(int64_t axis, Reduction red) : axis_(axis), red_(red) {}
  void run(KernelIo& io) override {
    const RtTensor& data = requireInput(io, 0);
    const RtTensor& indices = requireInput(io, 1);
    const RtTensor& updates = requireInput(io, 2);
    const size_t r = data.rank();
    if (r == 0) throwRunError(io, "data must have rank >= 1");
    const size_t axis = static_cast<size_t>(normalizeAxis(io, axis_, static_cast<int64_t>(r), "axis"));
    checkElementsShapes(io, data, indices, axis);
    if (updates.dims != indices.dims || updates.dtype != data.dtype)
      throwRunError(io, "updates " + shapeString(updates.dims) + " must match indices " + shapeString(indices.dims) +
                            " and have the data's type");
    const auto idx = readInts(io, indices, "indices");
    RtTensor& y = io.allocOutputInPlace(0, 0, data.dtype, data.dims);
    copyUnlessSame(y, data);
    if (y.nbytes == 0) return;
    const size_t es = elementSize(io, data);
    const auto st = contiguousStrides(data.dims);
    const int64_t d = data.dims[axis];
    forEachIndex(indices.dims, [&](int64_t pos, const std::vector<int64_t>& c) {
      int64_t off = checkIndex(io, idx[static_cast<size_t>(pos)], d, "index") * st[axis];
      for (size_t k = 0; k < r; ++k)
        if (k != axis) off += c[k] * st[k];
      combine(io, data.dtype, red_, bytesOf(y) + static_cast<size_t>(off) * es,
              bytesOf(updates) + static_cast<size_t>(pos) * es, 1);
    });
  }

 private:
  int64_t axis_;
  Reduction red_;
};

// ------------------------------------------------------------------------- GatherND, ScatterND
// Where index tuples point into data: for each tuple, the element offset of its slice.
struct NdPlan {
  int64_t tuples = 0, sliceElems = 1;
  std::vector<int64_t> offsets;
};

NdPlan planNd(const KernelIo& io, const RtTensor& data, const RtTensor& indices, int64_t batchDims) {
  const size_t r = data.rank(), q = indices.rank();
  if (q == 0) throwRunError(io, "indices must have rank >= 1");
  if (batchDims < 0 || static_cast<size_t>(batchDims) >= std::min(q, r))
    throwRunError(io, "batch_dims " + std::to_string(batchDims) + " must be below the ranks of data and indices");
  const size_t b = static_cast<size_t>(batchDims);
  for (size_t k = 0; k < b; ++k)
    if (data.dims[k] != indices.dims[k])
      throwRunError(
          io, "batch dims of data " + shapeString(data.dims) + " and indices " + shapeString(indices.dims) + " differ");
  const int64_t m = indices.dims[q - 1];
  if (m < 1 || static_cast<size_t>(m) > r - b)
    throwRunError(io,
                  "the last dim of indices (" + std::to_string(m) + ") must be in [1, " + std::to_string(r - b) + "]");
  const auto idx = readInts(io, indices, "indices");
  const auto st = contiguousStrides(data.dims);
  NdPlan p;
  p.sliceElems = product(data.dims, b + static_cast<size_t>(m), r);
  const int64_t batches = product(data.dims, 0, b);
  const int64_t perBatch = product(indices.dims, b, q - 1);
  const int64_t batchStride = product(data.dims, b, r);
  p.tuples = batches * perBatch;
  p.offsets.resize(static_cast<size_t>(p.tuples));
  for (int64_t bi = 0; bi < batches; ++bi) {
    for (int64_t t = 0; t < perBatch; ++t) {
      const int64_t tuple = bi * perBatch + t;
      int64_t off = bi * batchStride;
      for (int64_t j = 0; j < m; ++j) {
        const size_t ax = b + static_cast<size_t>(j);
        off += checkIndex(io, idx[static_cast<size_t>(tuple * m + j)], data.dims[ax], "index") * st[ax];
      }
      p.offsets[static_cast<size_t>(tuple)] = off;
    }
  }
  return p;
}

class GatherNdKernel : public Kernel {
 public:
  explicit GatherNdKernel(int64_t batchDims) : batchDims_(batchDims) {}
  void run(KernelIo& io) override {
    const RtTensor& data = requireInput(io, 0);
    const RtTensor& indices = requireInput(io, 1);
    const NdPlan p = planNd(io, data, indices, batchDims_);
    const size_t q = indices.rank();
    Shape dims(indices.dims.begin(), indices.dims.end() - 1);
    const size_t sliceFrom = static_cast<size_t>(batchDims_ + indices.dims[q - 1]);
    dims.insert(dims.end(), data.dims.begin() + static_cast<std::ptrdiff_t>(sliceFrom), data.dims.end());
    RtTensor& y = io.allocOutput(0, data.dtype, dims);
    if (y.nbytes == 0) return;
    const size_t es = elementSize(io, data), block = static_cast<size_t>(p.sliceElems) * es;
    for (int64_t t = 0; t < p.tuples; ++t)
      std::memcpy(bytesOf(y) + static_cast<size_t>(t) * block,
                  bytesOf(data) + static_cast<size_t>(p.offsets[static_cast<size_t>(t)]) * es, block);
  }

 private:
  int64_t batchDims_;
};

class ScatterNdKernel : public Kernel {
 public:
  explicit ScatterNdKernel(Reduction red) : red_(red) {}
  void run(KernelIo& io) override {
    const RtTensor& data = requireInput(io, 0);
    const RtTensor& indices = requireInput(io, 1);
    const RtTensor& updates = requireInput(io, 2);
    if (data.rank() == 0) throwRunError(io, "data must have rank >= 1");
    const NdPlan p = planNd(io, data, indices, 0);
    Shape want(indices.dims.begin(), indices.dims.end() - 1);
    want.insert(want.end(), data.dims.begin() + static_cast<std::ptrdiff_t>(indices.dims.back()), data.dims.end());
    if (updates.dims != want || updates.dtype != data.dtype)
      throwRunError(io, "updates must have shape " + shapeString(want) + " and the data's type, got " +
                            shapeString(updates.dims));
    RtTensor& y = io.allocOutputInPlace(0, 0, data.dtype, data.dims);
    copyUnlessSame(y, data);
    if (y.nbytes == 0) return;
    const size_t es = elementSize(io, data);
    for (int64_t t = 0; t < p.tuples; ++t)
      combine(io, data.dtype, red_, bytesOf(y) + static_cast<size_t>(p.offsets[static_cast<size_t>(t)]) * es,
              bytesOf(updates) + static_cast<size_t>(t * p.sliceElems) * es, p.sliceElems);
  }

 private:
  Reduction red_;
};

// -------------------------------------------------------------------------------------- OneHot
// Any numeric tensor's values as int64 (floats truncated, out-of-range values saturated).
std::vector<int64_t> readAsInt64(const KernelIo& io, const RtTensor& t, const char* what) {
  if (t.dtype == ir::DataType::kInt64 || t.dtype == ir::DataType::kInt32) return readInts(io, t, what);
  std::vector<int64_t> v(static_cast<size_t>(t.numel()));
  const bool ok = dispatchNumeric(t.dtype, [&](auto tag) {
    using T = decltype(tag);
    for (size_t i = 0; i < v.size(); ++i) {
      const T x = t.as<T>()[i];
      if constexpr (std::is_same_v<T, uint64_t>)
        v[i] = x > static_cast<uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<int64_t>(x);
      else if constexpr (std::is_integral_v<T>)
        v[i] = static_cast<int64_t>(x);
      else
        v[i] = fromDouble<int64_t>(static_cast<double>(Arith<T>::load(x)));
    }
  });
  if (!ok) throwRunError(io, std::string(what) + " has unsupported type " + std::string(ir::dtypeName(t.dtype)));
  return v;
}

class OneHotKernel : public Kernel {
 public:
  explicit OneHotKernel(int64_t axis) : axis_(axis) {}
  void run(KernelIo& io) override {
    const RtTensor& indices = requireInput(io, 0);
    const RtTensor& values = requireInput(io, 2);
    const int64_t depth = readScalarAsInt(io, requireInput(io, 1), "depth");
    if (depth < 1) throwRunError(io, "depth " + std::to_string(depth) + " must be positive");
    if (values.numel() != 2) throwRunError(io, "values must have two elements, got shape " + shapeString(values.dims));
    const int64_t outRank = static_cast<int64_t>(indices.rank()) + 1;
    const size_t axis = static_cast<size_t>(normalizeAxis(io, axis_, outRank, "axis"));
    Shape dims = indices.dims;
    dims.insert(dims.begin() + static_cast<std::ptrdiff_t>(axis), depth);
    checkTensorSize(io, values.dtype, dims);  // before the indices are copied
    const auto idx = readAsInt64(io, indices, "indices");
    RtTensor& y = io.allocOutput(0, values.dtype, dims);
    if (y.nbytes == 0) return;
    const size_t es = elementSize(io, values);
    const uint8_t* off = bytesOf(values);
    const uint8_t* on = off + es;
    fillElements(y.data, y.numel(), off, es);
    const int64_t outer = product(indices.dims, 0, axis), inner = product(indices.dims, axis, indices.rank());
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t i = 0; i < inner; ++i) {
        int64_t v = idx[static_cast<size_t>(o * inner + i)];
        if (v < 0 && v >= -depth) v += depth;
        if (v < 0 || v >= depth) continue;  // out of range: all off, as the spec says
        std::memcpy(bytesOf(y) + static_cast<size_t>((o * depth + v) * inner + i) * es, on, es);
      }
    }
  }

 private:
  int64_t axis_;
};

// ------------------------------------------------------------------------------------- NonZero
// Whether an element is non-zero by its bytes; -0.0 is zero, so float types ignore the sign bit.
bool nonZeroAt(const uint8_t* p, size_t es, bool isFloat) {
  uint64_t bits = 0;
  switch (es) {
    case 1:
      return p[0] != 0;
    case 2: {
      uint16_t v;
      std::memcpy(&v, p, 2);
      bits = isFloat ? (v & 0x7fffu) : v;
      break;
    }
    case 4: {
      uint32_t v;
      std::memcpy(&v, p, 4);
      bits = isFloat ? (v & 0x7fffffffu) : v;
      break;
    }
    case 8: {
      uint64_t v;
      std::memcpy(&v, p, 8);
      bits = isFloat ? (v & 0x7fffffffffffffffull) : v;
      break;
    }
    default:
      for (size_t i = 0; i < es; ++i) bits |= p[i];
  }
  return bits != 0;
}

class NonZeroKernel : public Kernel {
 public:
  void run(KernelIo& io) override {
    const RtTensor& x = requireInput(io, 0);
    const size_t es = elementSize(io, x);
    const bool isFloat = ir::isFloatingPoint(x.dtype);
    const int64_t n = x.numel();
    int64_t count = 0;
    for (int64_t i = 0; i < n; ++i) count += nonZeroAt(bytesOf(x) + static_cast<size_t>(i) * es, es, isFloat);
    // A scalar counts as a one-element vector (numpy's atleast_1d), as ONNX Runtime does.
    const Shape shape = x.rank() == 0 ? Shape{1} : x.dims;
    const int64_t r = static_cast<int64_t>(shape.size());
    RtTensor& y = io.allocOutput(0, ir::DataType::kInt64, {r, count});
    if (count == 0) return;
    int64_t* out = y.as<int64_t>();
    int64_t j = 0;
    forEachIndex(shape, [&](int64_t pos, const std::vector<int64_t>& c) {
      if (!nonZeroAt(bytesOf(x) + static_cast<size_t>(pos) * es, es, isFloat)) return;
      for (int64_t k = 0; k < r; ++k) out[k * count + j] = c[static_cast<size_t>(k)];
      ++j;
    });
  }
};

// ------------------------------------------------------------------------------------ Compress
class CompressKernel : public Kernel {
 public:
  explicit CompressKernel(std::optional<int64_t> axis) : axis_(axis) {}
  void run(KernelIo& io) override {
    const RtTensor& x = requireInput(io, 0);
    const RtTensor& cond = requireInput(io, 1);
    if (cond.dtype != ir::DataType::kBool || cond.rank() != 1) throwRunError(io, "condition must be a 1-D bool tensor");
    const size_t es = elementSize(io, x);
    size_t axis = 0;
    Shape view = {x.numel()};  // no axis: the flattened input
    if (axis_) {
      axis = static_cast<size_t>(normalizeAxis(io, *axis_, static_cast<int64_t>(x.rank()), "axis"));
      view = x.dims;
    }
    // Condition entries beyond the axis are ignored, as missing ones count as false.
    const int64_t d = view[axis], len = std::min(d, cond.dims[0]);
    std::vector<int64_t> keep;
    for (int64_t i = 0; i < len; ++i)
      if (cond.as<uint8_t>()[i]) keep.push_back(i);
    Shape dims = view;
    dims[axis] = static_cast<int64_t>(keep.size());
    RtTensor& y = io.allocOutput(0, x.dtype, dims);
    if (y.nbytes == 0) return;
    const int64_t outer = product(view, 0, axis);
    const size_t block = static_cast<size_t>(product(view, axis + 1, view.size())) * es;
    uint8_t* out = bytesOf(y);
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t k : keep) {
        std::memcpy(out, bytesOf(x) + static_cast<size_t>(o * d + k) * block, block);
        out += block;
      }
    }
  }

 private:
  std::optional<int64_t> axis_;
};

}  // namespace

void registerGatherScatterKernels(KernelRegistry& r) {
  r.add(KernelEntry{"", "Gather", 1, 1000, [](const KernelBuildContext& ctx) -> std::unique_ptr<Kernel> {
                      return std::make_unique<GatherKernel>(ctx.node.attrInt("axis", 0));
                    }});
  r.add(KernelEntry{"", "GatherElements", 11, 1000, [](const KernelBuildContext& ctx) -> std::unique_ptr<Kernel> {
                      return std::make_unique<GatherElementsKernel>(ctx.node.attrInt("axis", 0));
                    }});
  r.add(KernelEntry{"", "GatherND", 11, 1000, [](const KernelBuildContext& ctx) -> std::unique_ptr<Kernel> {
                      return std::make_unique<GatherNdKernel>(ctx.node.attrInt("batch_dims", 0));
                    }});
  r.add(KernelEntry{"", "ScatterND", 11, 1000, [](const KernelBuildContext& ctx) -> std::unique_ptr<Kernel> {
                      return std::make_unique<ScatterNdKernel>(reductionOf(ctx));
                    }});
  r.add(KernelEntry{"", "ScatterElements", 11, 1000, [](const KernelBuildContext& ctx) -> std::unique_ptr<Kernel> {
                      return std::make_unique<ScatterElementsKernel>(ctx.node.attrInt("axis", 0), reductionOf(ctx));
                    }});
  // Scatter (opsets 9-10) is ScatterElements before it was renamed.
  r.add(KernelEntry{"", "Scatter", 9, 10, [](const KernelBuildContext& ctx) -> std::unique_ptr<Kernel> {
                      return std::make_unique<ScatterElementsKernel>(ctx.node.attrInt("axis", 0), Reduction::kNone);
                    }});
  r.add(KernelEntry{"", "OneHot", 9, 1000, [](const KernelBuildContext& ctx) -> std::unique_ptr<Kernel> {
                      return std::make_unique<OneHotKernel>(ctx.node.attrInt("axis", -1));
                    }});
  r.add(KernelEntry{"", "NonZero", 9, 1000, [](const KernelBuildContext&) -> std::unique_ptr<Kernel> {
                      return std::make_unique<NonZeroKernel>();
                    }});
  r.add(KernelEntry{"", "Compress", 9, 1000, [](const KernelBuildContext& ctx) -> std::unique_ptr<Kernel> {
                      std::optional<int64_t> axis;
                      if (ctx.node.attr("axis")) axis = ctx.node.attrInt("axis", 0);
                      return std::make_unique<CompressKernel>(axis);
                    }});
}

}  // namespace effdl::runtime
