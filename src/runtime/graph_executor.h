// Runs one ir::Graph (the model's, or an If/Loop/Scan body): a kernel per node chosen when the
// executor is built, values in slots, activation buffers from a pool and released after their
// last reader. Weights are views of the model's bytes; the model must outlive the executor.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "runtime/buffer_pool.h"
#include "runtime/kernel.h"

namespace effdl::runtime {

struct ExecOptions {
  int threads = 1;
  // Run DequantizeLinear → Conv/MatMul/Gemm/Add/… → QuantizeLinear groups as one integer kernel
  // (runtime/qdq_fusion.h). Off: every node on its own kernel (tests compare the two).
  bool fuseQdq = true;
  // Run float Conv → BatchNormalization → Add → Relu/Clip as one kernel, with channels-last
  // activations between such kernels (runtime/conv_fusion.h). Off: node by node (tests compare).
  bool fuseConv = true;
  // Fold sparse-storage's bitmask decodes in one pass each (runtime/bitmask_decode_fold.h).
  // Off: node by node with the ordinary kernels (tests compare the two).
  bool foldBitmaskDecode = true;
};

class GraphExecutor {
 public:
  // Throws kUnsupported naming the first node without a kernel.
  GraphExecutor(const ir::Model& model, const ir::Graph& graph, const ExecOptions& options);
  ~GraphExecutor();

  const ir::Graph& graph() const { return graph_; }
  // Runs the graph. `inputs` in graph-input order, `captures` in graph.captures() order. Returns
  // views of the outputs (valid until the next run or until the executor is destroyed).
  std::vector<const RtTensor*> run(const std::vector<const RtTensor*>& inputs,
                                   const std::vector<const RtTensor*>& captures = {});
  // The same for graphs whose inputs, captures or outputs may be sequences or empty optionals
  // (control-flow bodies, Session::runValues). Returned tensors are views, as above.
  std::vector<RtValue> runValues(const std::vector<RtValue>& inputs, const std::vector<RtValue>& captures = {});
  // Graph inputs that are weights with an overridable default (IR < 4) may be omitted (nullptr).
  size_t numInputs() const { return inputSlots_.size(); }
  // Kernels run per inference: nodes, less those a fused group (runtime/qdq_fusion.h) replaced.
  size_t numSteps() const { return steps_.size(); }
  // Bitmask decodes folded in one pass each when built (runtime/bitmask_decode_fold.h).
  size_t bitmaskDecodesFolded() const { return bitmaskDecodesFolded_; }
  const BufferPool& pool() const { return pool_; }

 private:
  struct Slot {
    RtTensor t;
    int buffer = -1;       // pool buffer, or -1 (weight, caller's tensor, capture)
    int64_t lastUse = -1;  // index of the last node that reads it; INT64_MAX for graph outputs
    bool isWeight = false;
    ValueKind kind = ValueKind::kTensor;  // kSequence: `seq`; kNone: an empty optional
    std::shared_ptr<const Sequence> seq;
    std::vector<std::string> strings;  // a string tensor output's elements (t.data points here)
  };
  struct Step {
    const ir::Node* node;
    std::unique_ptr<Kernel> kernel;
    std::vector<int> inputs, outputs, implicitInputs;  // slot ids, -1 for omitted
    std::string description;
  };
  class StepIo;
  friend class StepIo;

  int slotOf(const ir::Value* v) const;
  void releaseAfter(size_t stepIndex);
  void bindInput(size_t i, const RtTensor* t);
  void runSteps();

  const ir::Graph& graph_;
  ExecOptions options_;
  std::vector<Slot> slots_;
  std::vector<const ir::Value*> slotValues_;
  std::vector<Step> steps_;
  std::vector<int> inputSlots_, captureSlots_, outputSlots_;
  std::vector<RtTensor> outputCopies_;
  size_t bitmaskDecodesFolded_ = 0;
  std::vector<std::unique_ptr<ir::Tensor>> densified_;  // dense copies of sparse initializers, folded nodes' outputs
  BufferPool pool_;
};

}  // namespace effdl::runtime
