// Helpers shared by the shape and data-movement kernels (shape_ops, layout_ops, gather_scatter,
// cast, sort_search, einsum): reading index tensors, normalising axes, output sizes checked
// against the runtime's limit, and one strided byte copy that serves Transpose, Slice, Expand,
// DepthToSpace and friends for every dtype (they move bytes, never interpret them).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/kernel.h"

namespace effdl::runtime::shape_detail {

// Input i, or a run error naming the node when it is omitted.
const RtTensor& requireInput(const KernelIo& io, size_t i);
// Input i, or nullptr when it is omitted or beyond the node's inputs.
const RtTensor* optionalInput(const KernelIo& io, size_t i);
// Bytes per element; a run error for dtypes without a fixed size (string, undefined).
size_t elementSize(const KernelIo& io, const RtTensor& t);

// An int32/int64 tensor's values (a run error for other dtypes), named `what` in errors.
std::vector<int64_t> readInts(const KernelIo& io, const RtTensor& t, const char* what);
// The single value of a one-element int32/int64 tensor.
int64_t readScalarInt(const KernelIo& io, const RtTensor& t, const char* what);
// Any numeric tensor's single value as int64 (truncating floats; OneHot's depth may be float).
int64_t readScalarAsInt(const KernelIo& io, const RtTensor& t, const char* what);

// axis in [-rank, rank) → [0, rank), or a run error.
int64_t normalizeAxis(const KernelIo& io, int64_t axis, int64_t rank, const char* what);

// A tensor's storage as bytes (data-movement kernels never interpret elements).
inline uint8_t* bytesOf(RtTensor& t) { return static_cast<uint8_t*>(t.data); }
inline const uint8_t* bytesOf(const RtTensor& t) { return static_cast<const uint8_t*>(t.data); }
// d[from] · … · d[to - 1] (dims already validated: no overflow check).
inline int64_t product(const Shape& d, size_t from, size_t to) {
  int64_t n = 1;
  for (size_t i = from; i < to; ++i) n *= d[i];
  return n;
}

// Row-major element strides.
std::vector<int64_t> contiguousStrides(const Shape& dims);
// Element count, or a run error when a dim is negative or the product overflows.
int64_t checkedNumel(const KernelIo& io, const Shape& dims);
// A run error when a tensor of this shape would exceed runtimeMaxTensorBytes(), checked before
// work that precedes the allocation (allocOutput itself checks the same through checkedOutputBytes).
void checkTensorSize(const KernelIo& io, ir::DataType dtype, const Shape& dims);
// Copies x's bytes into y unless the executor gave y x's buffer.
void copyUnlessSame(RtTensor& y, const RtTensor& x);

// dst (contiguous, row-major over `dims`) = src[sum(index[k] * srcStrides[k])]. Strides are in
// elements and may be 0 (broadcast) or negative (reversed slices).
void stridedCopy(void* dst, const void* src, const Shape& dims, const std::vector<int64_t>& srcStrides,
                 size_t elemSize);
// dst = src transposed: output dim k is input dim perm[k].
void transposeCopy(void* dst, const void* src, const Shape& inDims, const std::vector<int64_t>& perm, size_t elemSize);
// Writes `count` copies of the element at `elem`.
void fillElements(void* dst, int64_t count, const void* elem, size_t elemSize);

}  // namespace effdl::runtime::shape_detail
