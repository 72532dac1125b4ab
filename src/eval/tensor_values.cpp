#include "eval/tensor_values.h"

#include "core/error.h"
#include "runtime/kernels/half.h"

namespace effdl::eval {
namespace {

template <typename T>
std::vector<double> widen(const ir::Tensor& t) {
  auto v = t.values<T>();
  return std::vector<double>(v.begin(), v.end());
}

}  // namespace

std::vector<double> valuesAsDouble(const ir::Tensor& t) {
  using ir::DataType;
  switch (t.dtype()) {
    case DataType::kFloat: return widen<float>(t);
    case DataType::kDouble: return widen<double>(t);
    case DataType::kInt8: return widen<int8_t>(t);
    case DataType::kUint8: return widen<uint8_t>(t);
    case DataType::kInt16: return widen<int16_t>(t);
    case DataType::kUint16: return widen<uint16_t>(t);
    case DataType::kInt32: return widen<int32_t>(t);
    case DataType::kUint32: return widen<uint32_t>(t);
    case DataType::kInt64: return widen<int64_t>(t);
    case DataType::kUint64: return widen<uint64_t>(t);
    case DataType::kBool: return widen<uint8_t>(t);
    case DataType::kFloat16:
    case DataType::kBfloat16: {
      auto v = t.values<uint16_t>();
      std::vector<double> out(v.size());
      for (size_t i = 0; i < v.size(); ++i)
        out[i] = t.dtype() == DataType::kFloat16 ? runtime::halfToFloat(v[i]) : runtime::bfloat16ToFloat(v[i]);
      return out;
    }
    default:
      throwUnsupported(std::string("cannot compare tensors of type ") + std::string(ir::dtypeName(t.dtype())));
  }
}

}  // namespace effdl::eval
