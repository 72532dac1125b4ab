// Seeded random inputs of the right dtype and shape for `effdl bench`, calibration with
// --calib random:N and fidelity checks. Integer inputs that index a Gather (through Cast,
// Reshape, Unsqueeze, Squeeze, Flatten, Identity) stay within the gathered table.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace effdl::runtime {

struct RandomInputOptions {
  uint64_t seed = 0;
  // Values for symbolic dims (others: 1).
  std::map<std::string, int64_t> dims;
};

// One tensor per real graph input (initializer-backed inputs excluded), in graph input order.
// Floats: uniform in [-1, 1); integers: [0, bound) where bound is the smallest Gather table
// the input indexes, else [0, 10); bool: 0/1. Named symbolic dims take options.dims, else 1;
// an anonymous unknown dim (no size, no name) throws kUsage, since no flag can bind it.
std::vector<std::pair<std::string, ir::Tensor>> makeRandomInputs(const ir::Model& model,
                                                                 const RandomInputOptions& options);

// The exclusive upper bound for integer values of input `v`, when it indexes a Gather table.
std::optional<int64_t> gatherIndexBound(const ir::Value& v);

}  // namespace effdl::runtime
