// Densifying COO sparse tensors; see the header.
#include "ir/sparse.h"

#include <cstring>
#include <vector>

#include "core/error.h"

namespace effdl::ir {

Tensor densify(const SparseTensor& s, const std::string& name, uint64_t maxBytes) {
  const std::string what = "sparse tensor '" + name + "'";
  const DataType dtype = s.values.dtype();
  const size_t elem = dtypeSize(dtype);
  if (elem == 0 || dtype == DataType::kString) throwUnsupported(what + ": values must be a fixed-size numeric type");
  uint64_t numel = 1;
  for (int64_t d : s.dims) {
    if (d < 0) throwInvalid(what + ": negative dim");
    numel *= static_cast<uint64_t>(d);
  }
  if (maxBytes > 0 && numel * elem > maxBytes)
    throwUnsupported(what + ": dense form of " + std::to_string(numel * elem) + " bytes exceeds the tensor limit");
  const auto nnz = static_cast<uint64_t>(s.values.numel());
  if (s.values.nbytes() != nnz * elem) throwInvalid(what + ": values size does not match their type");
  if (s.indices.dtype() != DataType::kInt64) throwInvalid(what + ": indices must be int64");
  auto idx = s.indices.values<int64_t>();
  const auto rank = s.dims.size();
  const bool linear = s.indices.rank() == 1;
  if (!(linear && idx.size() == nnz) && !(s.indices.rank() == 2 && idx.size() == nnz * rank))
    throwInvalid(what + ": indices shape must be [NNZ] or [NNZ, rank]");
  std::vector<uint8_t> out(numel * elem, 0);
  for (uint64_t i = 0; i < nnz; ++i) {
    uint64_t pos = 0;
    if (linear) {
      if (idx[i] < 0 || static_cast<uint64_t>(idx[i]) >= numel) throwInvalid(what + ": index out of range");
      pos = static_cast<uint64_t>(idx[i]);
    } else {
      for (size_t k = 0; k < rank; ++k) {
        const int64_t c = idx[i * rank + k];
        if (c < 0 || c >= s.dims[k]) throwInvalid(what + ": index out of range");
        pos = pos * static_cast<uint64_t>(s.dims[k]) + static_cast<uint64_t>(c);
      }
    }
    std::memcpy(out.data() + pos * elem, s.values.data() + i * elem, elem);
  }
  return Tensor::fromVector(dtype, s.dims, out);
}

}  // namespace effdl::ir
