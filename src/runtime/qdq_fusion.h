// QDQ fusion: when a session is built, groups of DequantizeLinear → op → QuantizeLinear nodes
// are matched and each group is given to one integer kernel, as ONNX Runtime runs QDQ models.
// The model is not modified: the executor runs a group's kernel at the place of its last node
// and skips the others. Matched groups (all parameters constant; per-tensor activations):
//   conv:   DQ(x_q), DQ(w_q) [, bias float or DQ(int32)] → Conv → [Relu | Clip] → Q
//   matmul: DQ(a_q), DQ(w_q 2-D) → MatMul / Gemm (transA = 0) [+ bias] → [Relu | Clip] → Q
//   both also without the final Q (a float output, e.g. a classifier's last Gemm)
//   add:    DQ(a_q), DQ(b_q) → Add (same static shapes) → [Relu] → Q
//   moves:  DQ(x_q) → MaxPool / Reshape / Flatten / Transpose / Squeeze / Unsqueeze → Q, and
//           DQ(a_q), DQ(b_q), … → Concat → Q, all with the same scale and zero point: the op's
//           own kernel on the integers (exact)
// A DQ whose output has other readers stays (it runs for them); the group reads its x_q itself.
// A DQ all of whose readers were fused is dropped.
// An intermediate value that is a graph output or read twice keeps the group unfused.
// Quantized values that only conv and Add groups pass between them stay channels-last, as in
// conv_fusion.h (the Add is elementwise over equal shapes; it converts an input in the other layout).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "runtime/fusion_util.h"
#include "runtime/kernel.h"

namespace effdl::runtime {

struct FusedGroup {
  std::vector<const ir::Node*> nodes;     // the nodes the group replaces; the last in graph order is `last`
  const ir::Node* anchor = nullptr;       // the Conv/MatMul/Add/…: names the group in errors
  const ir::Node* last = nullptr;         // the QuantizeLinear: the group runs at its place
  std::vector<const ir::Value*> inputs;   // read at run time, in the kernel's input order (nullptr: omitted)
  std::vector<const ir::Value*> outputs;  // written
  std::unique_ptr<Kernel> kernel;
  std::string description;  // "node 'conv1' (Conv, opset 13, fused QDQ int8)"
};

std::vector<FusedGroup> findQdqGroups(const ir::Model& model, const ir::Graph& graph, int threads,
                                      const ConstantMap& computed = {});

}  // namespace effdl::runtime
