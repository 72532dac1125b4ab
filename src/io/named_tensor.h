// A tensor with the name it is known by in a tensor file (npz member, TensorProto name, .npy
// stem), which is how samples are matched to model inputs.
#pragma once

#include <string>

#include "ir/tensor.h"

namespace effdl::io {

struct NamedTensor {
  std::string name;
  ir::Tensor tensor;
};

}  // namespace effdl::io
