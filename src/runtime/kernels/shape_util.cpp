// Shared helpers of the shape and data-movement kernels (see shape_util.h).
#include "runtime/kernels/shape_util.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/checked_math.h"
#include "runtime/limits.h"

namespace effdl::runtime::shape_detail {

const RtTensor& requireInput(const KernelIo& io, size_t i) {
  const RtTensor* t = io.input(i);
  if (!t) throwRunError(io, "input " + std::to_string(i) + " is missing");
  return *t;
}

const RtTensor* optionalInput(const KernelIo& io, size_t i) { return i < io.numInputs() ? io.input(i) : nullptr; }

size_t elementSize(const KernelIo& io, const RtTensor& t) {
  size_t es = ir::dtypeSize(t.dtype);
  if (es == 0) throwRunError(io, "element type " + std::string(ir::dtypeName(t.dtype)) + " is not supported");
  return es;
}

std::vector<int64_t> readInts(const KernelIo& io, const RtTensor& t, const char* what) {
  const int64_t n = t.numel();
  std::vector<int64_t> v(static_cast<size_t>(n));
  if (t.dtype == ir::DataType::kInt64) {
    if (n) std::memcpy(v.data(), t.data, static_cast<size_t>(n) * sizeof(int64_t));
  } else if (t.dtype == ir::DataType::kInt32) {
    for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = t.as<int32_t>()[i];
  } else {
    throwRunError(io, std::string(what) + " must be int32 or int64, got " + std::string(ir::dtypeName(t.dtype)));
  }
  return v;
}

int64_t readScalarInt(const KernelIo& io, const RtTensor& t, const char* what) {
  if (t.numel() != 1) throwRunError(io, std::string(what) + " must have one element, got shape " + shapeString(t.dims));
  return readInts(io, t, what)[0];
}

int64_t readScalarAsInt(const KernelIo& io, const RtTensor& t, const char* what) {
  if (t.numel() != 1) throwRunError(io, std::string(what) + " must have one element, got shape " + shapeString(t.dims));
  double d;
  switch (t.dtype) {
    case ir::DataType::kInt64:
      return t.as<int64_t>()[0];
    case ir::DataType::kInt32:
      return t.as<int32_t>()[0];
    case ir::DataType::kInt16:
      return t.as<int16_t>()[0];
    case ir::DataType::kInt8:
      return t.as<int8_t>()[0];
    case ir::DataType::kUint8:
      return t.as<uint8_t>()[0];
    case ir::DataType::kUint16:
      return t.as<uint16_t>()[0];
    case ir::DataType::kUint32:
      return t.as<uint32_t>()[0];
    case ir::DataType::kUint64: {
      uint64_t u = t.as<uint64_t>()[0];
      if (u > static_cast<uint64_t>(INT64_MAX)) throwRunError(io, std::string(what) + " is out of range");
      return static_cast<int64_t>(u);
    }
    case ir::DataType::kFloat:
      d = t.as<float>()[0];
      break;
    case ir::DataType::kDouble:
      d = t.as<double>()[0];
      break;
    default:
      throwRunError(io, std::string(what) + " has unsupported type " + std::string(ir::dtypeName(t.dtype)));
  }
  // Bounds before the cast: converting an out-of-range double to int64 is undefined behaviour.
  if (!(std::fabs(d) < 9.2e18)) throwRunError(io, std::string(what) + " is out of range");
  return static_cast<int64_t>(d);
}

int64_t normalizeAxis(const KernelIo& io, int64_t axis, int64_t rank, const char* what) {
  if (axis < -rank || axis >= rank)
    throwRunError(io,
                  std::string(what) + " " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
  return axis < 0 ? axis + rank : axis;
}

std::vector<int64_t> contiguousStrides(const Shape& dims) {
  std::vector<int64_t> s(dims.size());
  int64_t acc = 1;
  for (size_t i = dims.size(); i-- > 0;) {
    s[i] = acc;
    acc *= dims[i];
  }
  return s;
}

int64_t checkedNumel(const KernelIo& io, const Shape& dims) {
  auto n = checkedElementCount(dims);
  if (!n) throwRunError(io, "output shape " + shapeString(dims) + " is invalid or too large");
  return *n;
}

void checkTensorSize(const KernelIo& io, ir::DataType dtype, const Shape& dims) { checkedOutputBytes(io, dtype, dims); }

void copyUnlessSame(RtTensor& y, const RtTensor& x) {
  if (y.data != x.data && x.nbytes) std::memcpy(y.data, x.data, std::min(x.nbytes, y.nbytes));
}

// ----------------------------------------------------------------------------------- strided copy
namespace {

template <size_t ES>
struct Elem {
  unsigned char b[ES];
};

// Calls f(srcOffset) for every index of dims[0..n) in row-major order.
template <typename F>
void forEachOuter(const int64_t* dims, const int64_t* strides, size_t n, F&& f) {
  if (n == 0) {
    f(int64_t{0});
    return;
  }
  std::vector<int64_t> idx(n, 0);
  int64_t off = 0;
  for (;;) {
    f(off);
    size_t k = n;
    while (k > 0) {
      --k;
      if (++idx[k] < dims[k]) {
        off += strides[k];
        break;
      }
      off -= strides[k] * (dims[k] - 1);
      idx[k] = 0;
      if (k == 0) return;
    }
  }
}

template <typename E>
void copyTyped(E* dst, const E* src, const std::vector<int64_t>& d, const std::vector<int64_t>& s) {
  const size_t r = d.size();
  if (r == 1) {
    const int64_t n = d[0], st = s[0];
    for (int64_t i = 0; i < n; ++i) dst[i] = src[i * st];
    return;
  }
  // The last two dims in tiles, so that a transpose reads and writes whole cache lines.
  constexpr int64_t kTile = 32;
  const int64_t d0 = d[r - 2], d1 = d[r - 1], s0 = s[r - 2], s1 = s[r - 1];
  E* out = dst;
  forEachOuter(d.data(), s.data(), r - 2, [&](int64_t base) {
    const E* in = src + base;
    for (int64_t ib = 0; ib < d0; ib += kTile) {
      const int64_t ie = std::min(d0, ib + kTile);
      for (int64_t jb = 0; jb < d1; jb += kTile) {
        const int64_t je = std::min(d1, jb + kTile);
        for (int64_t i = ib; i < ie; ++i)
          for (int64_t j = jb; j < je; ++j) out[i * d1 + j] = in[i * s0 + j * s1];
      }
    }
    out += d0 * d1;
  });
}

}  // namespace

void stridedCopy(void* dst, const void* src, const Shape& dims, const std::vector<int64_t>& srcStrides,
                 size_t elemSize) {
  // Drop unit dims, then merge neighbours that are contiguous in the source.
  std::vector<int64_t> d, s;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] == 0) return;
    if (dims[i] == 1) continue;
    if (!d.empty() && s.back() == srcStrides[i] * dims[i]) {
      d.back() *= dims[i];
      s.back() = srcStrides[i];
    } else {
      d.push_back(dims[i]);
      s.push_back(srcStrides[i]);
    }
  }
  auto* out = static_cast<uint8_t*>(dst);
  const auto* in = static_cast<const uint8_t*>(src);
  if (d.empty()) {
    std::memcpy(out, in, elemSize);
    return;
  }
  if (s.back() == 1) {  // contiguous rows
    const size_t rowBytes = static_cast<size_t>(d.back()) * elemSize;
    forEachOuter(d.data(), s.data(), d.size() - 1, [&](int64_t off) {
      std::memcpy(out, in + off * static_cast<int64_t>(elemSize), rowBytes);
      out += rowBytes;
    });
    return;
  }
  switch (elemSize) {
    case 1:
      return copyTyped(reinterpret_cast<Elem<1>*>(out), reinterpret_cast<const Elem<1>*>(in), d, s);
    case 2:
      return copyTyped(reinterpret_cast<Elem<2>*>(out), reinterpret_cast<const Elem<2>*>(in), d, s);
    case 4:
      return copyTyped(reinterpret_cast<Elem<4>*>(out), reinterpret_cast<const Elem<4>*>(in), d, s);
    case 8:
      return copyTyped(reinterpret_cast<Elem<8>*>(out), reinterpret_cast<const Elem<8>*>(in), d, s);
    case 16:
      return copyTyped(reinterpret_cast<Elem<16>*>(out), reinterpret_cast<const Elem<16>*>(in), d, s);
    default: {  // no such dtype today; kept correct anyway
      const int64_t es = static_cast<int64_t>(elemSize);
      forEachOuter(d.data(), s.data(), d.size(), [&](int64_t off) {
        std::memcpy(out, in + off * es, elemSize);
        out += elemSize;
      });
    }
  }
}

void transposeCopy(void* dst, const void* src, const Shape& inDims, const std::vector<int64_t>& perm, size_t elemSize) {
  const auto inStrides = contiguousStrides(inDims);
  Shape outDims(perm.size());
  std::vector<int64_t> strides(perm.size());
  for (size_t k = 0; k < perm.size(); ++k) {
    outDims[k] = inDims[static_cast<size_t>(perm[k])];
    strides[k] = inStrides[static_cast<size_t>(perm[k])];
  }
  stridedCopy(dst, src, outDims, strides, elemSize);
}

void fillElements(void* dst, int64_t count, const void* elem, size_t elemSize) {
  if (count <= 0) return;
  auto* out = static_cast<uint8_t*>(dst);
  bool allZero = true;
  for (size_t b = 0; b < elemSize; ++b) allZero = allZero && static_cast<const uint8_t*>(elem)[b] == 0;
  if (allZero || elemSize == 1) {
    std::memset(out, allZero ? 0 : *static_cast<const uint8_t*>(elem), static_cast<size_t>(count) * elemSize);
    return;
  }
  // Doubling copies: log2(count) memcpy calls.
  std::memcpy(out, elem, elemSize);
  size_t done = elemSize;
  const size_t total = static_cast<size_t>(count) * elemSize;
  while (done < total) {
    const size_t n = std::min(done, total - done);
    std::memcpy(out + done, out, n);
    done += n;
  }
}

}  // namespace effdl::runtime::shape_detail
