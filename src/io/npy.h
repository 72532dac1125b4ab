// NumPy .npy files: one array, a Python-literal header and the raw bytes in C order.
//   Read: format versions 1.0, 2.0 and 3.0; dtypes f2 f4 f8 i1 i2 i4 i8 u1 u2 u4 u8 b1 c8 c16 in
//   little-endian, '|' or big-endian byte order (big-endian is converted). Refused with a clear
//   error: object (pickled) arrays, strings, structured and datetime dtypes, Fortran order
//   (unless the layout is the same as C order), trailing bytes after the data.
//   Write: version 1.0 (2.0 when the header does not fit), laid out as numpy.save does.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>

#include "ir/tensor.h"

namespace effdl::io {

// Reads `path`. Every error names the file: kIo when it cannot be opened, kInvalidModel when it
// is malformed, kUnsupported for valid arrays effdl does not read or above `maxBytes` of data.
ir::Tensor readNpy(const std::filesystem::path& path, uint64_t maxBytes);

// Reads a .npy held in memory (an .npz member, a fuzzer input); `display` names it in errors.
// The data is copied, unless `owner` keeps `bytes` alive and the data is aligned and
// little-endian: then the tensor is a view on `bytes` (which may then be modified in place, to
// canonicalise bool values).
ir::Tensor readNpyBytes(std::span<const uint8_t> bytes, const std::string& display, uint64_t maxBytes,
                        std::shared_ptr<const void> owner = nullptr);

// The bytes before the data in a .npy of `t` (magic, version, header length, header), as
// numpy.save writes them. Throws kUnsupported for dtypes .npy cannot hold (string, bfloat16).
std::string npyHeader(const ir::Tensor& t, const std::string& display);

// Writes `t` to `path` atomically (kIo on failure).
void writeNpy(const std::filesystem::path& path, const ir::Tensor& t);

}  // namespace effdl::io
