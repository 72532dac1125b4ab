// What a model input or output holds at run time, from its declared ONNX type: a tensor, a
// sequence of tensors, an optional (of a tensor or a sequence), or something the runtime does not
// run (maps, sparse tensors, sequences of sequences).
#pragma once

#include "ir/value_type.h"

namespace effdl::runtime {

enum class TypeClass { kTensor, kSequence, kOptional, kUnsupported };

TypeClass classifyType(const ir::ValueType& t);

}  // namespace effdl::runtime
