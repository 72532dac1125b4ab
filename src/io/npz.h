// NumPy .npz files: a zip archive of .npy members, as numpy.savez (stored) and
// numpy.savez_compressed (deflate) write them. Member "x.npy" is the tensor "x".
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "io/named_tensor.h"

namespace effdl::io {

// Reads every member, in archive order. `maxBytes` bounds the sum of the members' uncompressed
// sizes (checked before each member is read). Errors name the file and the member: kIo when it
// cannot be opened, kInvalidModel when malformed (including members that are not .npy),
// kUnsupported for encryption, other compression methods, or sizes above `maxBytes`.
std::vector<NamedTensor> readNpz(const std::filesystem::path& path, uint64_t maxBytes);
// The same for an archive held in memory; `display` names it in errors.
std::vector<NamedTensor> readNpzBytes(std::span<const uint8_t> bytes, const std::string& display, uint64_t maxBytes);

// Writes the tensors as stored members "<name>.npy" in the given order, atomically. Names must
// be unique and non-empty (kUsage otherwise).
void writeNpz(const std::filesystem::path& path, const std::vector<NamedTensor>& tensors);

}  // namespace effdl::io
