// Element types, numbered as ONNX's TensorProto.DataType so conversion is a cast.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace effdl::ir {

enum class DataType : int32_t {
  kUndefined = 0,
  kFloat = 1,
  kUint8 = 2,
  kInt8 = 3,
  kUint16 = 4,
  kInt16 = 5,
  kInt32 = 6,
  kInt64 = 7,
  kString = 8,
  kBool = 9,
  kFloat16 = 10,
  kDouble = 11,
  kUint32 = 12,
  kUint64 = 13,
  kComplex64 = 14,
  kComplex128 = 15,
  kBfloat16 = 16,
};

// Bytes per element; 0 for kUndefined and kString (variable size) and unknown values.
size_t dtypeSize(DataType t);
// ONNX's lower-case spelling ("float", "int64", "bfloat16"), as in the text syntax.
std::string_view dtypeName(DataType t);
bool isKnownDtype(int32_t v);
bool isFloatingPoint(DataType t);
bool isInteger(DataType t);

}  // namespace effdl::ir
