// See fuzz_limits.h.
#include "fuzz_limits.h"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>

#include "runtime/limits.h"

namespace effdl::fuzz {

void applyLimits() {
  static const bool done = [] {
    runtime::setRuntimeMaxTensorBytes(kMaxRuntimeBytes);
    spdlog::set_level(spdlog::level::off);  // passes log their declines; the fuzzer needs none
    return true;
  }();
  (void)done;
}

void noteError(const char* stage, const char* message) {
  static const bool verbose = std::getenv("EFFDL_FUZZ_VERBOSE") != nullptr;
  if (verbose) std::fprintf(stderr, "  %s: %s\n", stage, message);
}

}  // namespace effdl::fuzz
