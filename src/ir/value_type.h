// The static type of a value: for tensors, element type and (possibly symbolic) shape. Other
// kinds (sequence, map, optional) are carried as ONNX's serialized TypeProto, untouched.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ir/dtype.h"

namespace effdl::ir {

struct Dim {
  std::optional<int64_t> value;  // known size
  std::string param;             // symbolic name ("batch"); both empty: unknown
  std::string denotation;
  static Dim known(int64_t v) { return Dim{v, {}, {}}; }
  static Dim symbolic(std::string p) { return Dim{std::nullopt, std::move(p), {}}; }
  bool operator==(const Dim&) const = default;
};

struct ValueType {
  enum class Kind { kUnknown, kTensor, kSparseTensor, kOther };
  Kind kind = Kind::kUnknown;
  DataType elemType = DataType::kUndefined;
  std::optional<std::vector<Dim>> shape;  // nullopt: rank unknown
  std::string denotation;
  std::string opaque;  // serialized onnx::TypeProto when kind == kOther

  static ValueType tensor(DataType t, std::vector<Dim> dims) {
    ValueType v;
    v.kind = Kind::kTensor;
    v.elemType = t;
    v.shape = std::move(dims);
    return v;
  }
  // All dims known: the concrete shape.
  std::optional<std::vector<int64_t>> staticShape() const;
  bool operator==(const ValueType&) const = default;
};

}  // namespace effdl::ir
