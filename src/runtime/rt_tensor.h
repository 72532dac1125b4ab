// A tensor as the runtime sees it while a model runs: dtype, dims and a pointer into a pooled
// buffer, a weight (a view of the model's bytes) or a caller's input. It does not own its data.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "ir/dtype.h"

namespace effdl::runtime {

using Shape = std::vector<int64_t>;

struct RtTensor {
  ir::DataType dtype = ir::DataType::kUndefined;
  Shape dims;
  void* data = nullptr;
  size_t nbytes = 0;

  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : dims) n *= d;
    return n;
  }
  size_t rank() const { return dims.size(); }
  template <typename T>
  const T* as() const {
    return static_cast<const T*>(data);
  }
  template <typename T>
  T* as() {
    return static_cast<T*>(data);
  }
};

std::string shapeString(const Shape& s);  // "[1,3,224,224]"

}  // namespace effdl::runtime
