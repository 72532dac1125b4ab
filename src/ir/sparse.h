// Dense form of an ONNX sparse tensor (COO: values [NNZ], indices [NNZ] linear or [NNZ, rank]):
// how effdl's runtime reads sparse_initializers, and how tests check a sparse encoding.
#pragma once

#include <cstdint>
#include <string>

#include "ir/tensor.h"

namespace effdl::ir {

// Throws kInvalidModel naming `name` on an index out of range or a bad index shape, kUnsupported
// above `maxBytes` (0: no limit).
Tensor densify(const SparseTensor& s, const std::string& name, uint64_t maxBytes);

}  // namespace effdl::ir
