// Limits shared by the fuzz targets: small enough that one input cannot take the fuzzer's memory
// (libFuzzer's default RSS limit is 2 GiB) and large enough for the seed models.
#pragma once

#include <cstdint>

namespace effdl::fuzz {

inline constexpr uint64_t kMaxTensorBytes = uint64_t{64} << 20;  // loader and readers
inline constexpr int64_t kMaxRuntimeBytes = int64_t{64} << 20;   // any one runtime allocation
inline constexpr int64_t kMaxInputElements = 1 << 16;            // a seeded input of the run target
inline constexpr int64_t kSymbolicDim = 2;                       // value bound to symbolic dims

// Sets the process-wide limits once (the runtime's allocation limit is a global).
void applyLimits();

// Prints an expected error when EFFDL_FUZZ_VERBOSE is set (replaying one input by hand).
void noteError(const char* stage, const char* message);

}  // namespace effdl::fuzz
