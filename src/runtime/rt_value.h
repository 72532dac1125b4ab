// Values that are not plain tensors: sequences of tensors (SequenceConstruct, SplitToSequence, …)
// and empty optionals. A slot of the executor holds a tensor view, a shared immutable sequence, or
// "none"; an optional holding something is just that tensor or sequence. Tensor kernels never see
// these (KernelIo::input throws for them), so tensor-only graphs pay nothing for them.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ir/tensor.h"
#include "runtime/rt_tensor.h"

namespace effdl::runtime {

enum class ValueKind : uint8_t { kTensor, kSequence, kNone };

// Owned, immutable once built (kernels build a new one): shared between slots without copying.
struct Sequence {
  ir::DataType elemType = ir::DataType::kUndefined;  // may be undefined for an empty sequence
  std::vector<ir::Tensor> items;
};

// A run-time value as kernels exchange it: `t` for a tensor (a view), `seq` for a sequence.
struct RtValue {
  ValueKind kind = ValueKind::kTensor;
  RtTensor t;
  std::shared_ptr<const Sequence> seq;
};

// An owned value at the session's boundary (model inputs and outputs, test data).
struct Value {
  ValueKind kind = ValueKind::kTensor;
  ir::Tensor tensor;
  std::shared_ptr<const Sequence> seq;

  static Value ofTensor(ir::Tensor t) { return Value{ValueKind::kTensor, std::move(t), nullptr}; }
  static Value ofSequence(std::shared_ptr<const Sequence> s) { return Value{ValueKind::kSequence, {}, std::move(s)}; }
  static Value none() { return Value{ValueKind::kNone, {}, nullptr}; }
};

// A view of an owned tensor (string tensors: data points at its std::string elements, nbytes 0).
RtTensor viewOf(const ir::Tensor& t);
// An owned copy of a view (string elements copied as strings).
ir::Tensor ownedCopy(const RtTensor& t);
// "tensor", "sequence", "none" for messages.
const char* kindName(ValueKind k);

}  // namespace effdl::runtime
