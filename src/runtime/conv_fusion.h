// Float conv fusion: when a session is built, each float 2-D Conv with constant weights becomes one
// kernel with what follows it, as ONNX Runtime fuses at session load:
//   Conv → [BatchNormalization (inference, constant)] → [Add(residual of the same shape)] → [Relu | Clip]
// The BatchNormalization is folded into the weights and bias; the Add and the clamp are oneDNN
// post-ops. The model is not modified: the group runs at the place of its last node.
// Layout: a value that a group writes and only groups read (as their conv input or residual), and
// that is not a graph output, stays channels-last (NHWC) between them, so the convs of a CNN run
// on channels-last data without converting it around every conv.
// An intermediate value that is a graph output or read by anything else ends the group there.
#pragma once

#include <unordered_set>
#include <vector>

#include "runtime/qdq_fusion.h"

namespace effdl::runtime {

// `taken`: nodes already in other groups (QDQ), left alone.
std::vector<FusedGroup> findConvGroups(const ir::Model& model, const ir::Graph& graph, int threads,
                                       const ConstantMap& computed, const std::unordered_set<const ir::Node*>& taken);

}  // namespace effdl::runtime
