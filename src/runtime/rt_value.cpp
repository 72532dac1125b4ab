// Conversions between owned tensors and run-time views, and KernelIo's defaults for callers that
// only handle tensors.
#include "runtime/rt_value.h"

#include <cstring>

#include "runtime/kernel.h"

namespace effdl::runtime {

RtTensor viewOf(const ir::Tensor& t) {
  if (t.dtype() == ir::DataType::kString)
    return RtTensor{t.dtype(), t.dims(), const_cast<std::string*>(t.strings().data()), 0};
  return RtTensor{t.dtype(), t.dims(), const_cast<uint8_t*>(t.data()), t.nbytes()};
}

ir::Tensor ownedCopy(const RtTensor& t) {
  if (t.dtype == ir::DataType::kString) {
    const auto* s = t.as<std::string>();
    return ir::Tensor::fromStrings(t.dims, std::vector<std::string>(s, s + t.numel()));
  }
  return ir::Tensor::fromBytes(t.dtype, t.dims, t.data, t.nbytes);
}

const char* kindName(ValueKind k) {
  switch (k) {
    case ValueKind::kTensor: return "tensor";
    case ValueKind::kSequence: return "sequence";
    case ValueKind::kNone: return "empty optional";
  }
  return "value";
}

ValueKind KernelIo::inputKind(size_t i) const { return input(i) ? ValueKind::kTensor : ValueKind::kNone; }

RtValue KernelIo::inputValue(size_t i) const {
  const RtTensor* t = input(i);
  if (!t) return RtValue{ValueKind::kNone, {}, nullptr};
  return RtValue{ValueKind::kTensor, *t, nullptr};
}

RtValue KernelIo::implicitInputValue(size_t i) const {
  const RtTensor* t = implicitInput(i);
  if (!t) return RtValue{ValueKind::kNone, {}, nullptr};
  return RtValue{ValueKind::kTensor, *t, nullptr};
}

void KernelIo::setOutputValue(size_t i, const RtValue& v) {
  if (v.kind != ValueKind::kTensor)
    throwUnsupported(describe() + ": " + kindName(v.kind) + " values are not supported here");
  if (v.t.dtype == ir::DataType::kString) {
    RtTensor& o = allocStringOutput(i, v.t.dims);
    const auto* src = v.t.as<std::string>();
    auto* dst = o.as<std::string>();
    for (int64_t k = 0, n = o.numel(); k < n; ++k) dst[k] = src[k];
    return;
  }
  RtTensor& o = allocOutput(i, v.t.dtype, v.t.dims);
  if (v.t.nbytes) std::memcpy(o.data, v.t.data, v.t.nbytes);
}

RtTensor& KernelIo::allocStringOutput(size_t, const Shape&) {
  throwUnsupported(describe() + ": string tensors are not supported here");
}

}  // namespace effdl::runtime
