// Numeric tensor elements as doubles, whatever their dtype: what comparisons and metrics read.
#pragma once

#include <vector>

#include "ir/tensor.h"

namespace effdl::eval {

// Throws kUnsupported for strings and complex numbers.
std::vector<double> valuesAsDouble(const ir::Tensor& t);

}  // namespace effdl::eval
