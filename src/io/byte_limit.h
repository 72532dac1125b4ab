// The byte limit every tensor-file reader takes: a file's sizes are checked against it before
// anything is allocated, so a hostile header cannot make effdl allocate what the user did not allow.
#pragma once

#include <cstdint>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "core/error.h"
#include "ir/tensor.h"

namespace effdl::io {

// Bytes a tensor holds in memory (string tensors: the strings' lengths).
inline uint64_t materializedBytes(const ir::Tensor& t) {
  if (t.dtype() != ir::DataType::kString) return t.nbytes();
  uint64_t n = 0;
  for (const auto& s : t.strings()) n += s.size();
  return n;
}

// Throws kUnsupported when `need` exceeds `maxBytes`. A file that is merely large is valid, so
// this is "unsupported" (raise the limit), not "invalid". Readers of several tensors pass what
// is left after the earlier ones, hence the wording.
inline void checkByteLimit(uint64_t need, uint64_t maxBytes, const std::string& what) {
  if (need > maxBytes)
    throwUnsupported(what + ": needs " + std::to_string(need) + " bytes, more than the " + std::to_string(maxBytes) +
                     " bytes left under the byte limit");
}

// A zeroed buffer of `size` bytes (size already checked against the limit); running out of
// memory becomes an effdl::Error instead of std::bad_alloc escaping to the caller.
inline std::shared_ptr<std::vector<uint8_t>> allocateBytes(uint64_t size, const std::string& what) {
  try {
    return std::make_shared<std::vector<uint8_t>>(static_cast<size_t>(size));
  } catch (const std::bad_alloc&) {
    throwUnsupported(what + ": cannot allocate " + std::to_string(size) + " bytes");
  } catch (const std::length_error&) {
    throwUnsupported(what + ": cannot allocate " + std::to_string(size) + " bytes");
  }
}

// A tensor viewing (and keeping alive) all of `buf`.
inline ir::Tensor tensorOwning(ir::DataType dtype, std::vector<int64_t> dims,
                               std::shared_ptr<std::vector<uint8_t>> buf) {
  const uint8_t* p = buf->data();
  size_t n = buf->size();
  return ir::Tensor(dtype, std::move(dims), std::shared_ptr<const void>(buf, buf.get()), p, n);
}

}  // namespace effdl::io
