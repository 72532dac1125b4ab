// The kernel interface. A kernel is created once per node when a session is built (it may
// precompute from constant inputs: reordered weights, parsed attributes) and run many times.
// At run time it reads its inputs, decides its output shapes (they may depend on input values,
// as for Reshape or Range) and asks KernelIo for output buffers.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "ir/graph.h"
#include "runtime/rt_tensor.h"
#include "runtime/rt_value.h"

namespace effdl::runtime {

class GraphExecutor;

// What a kernel factory sees of its node when the session is built.
struct KernelBuildContext {
  const ir::Node& node;
  int64_t opset;  // of the node's domain
  int threads;
  const ir::Model* model;  // for subgraph executors (If, Loop, Scan)
  // Per input: the constant value when the input is an initializer (nullptr otherwise).
  std::vector<const ir::Tensor*> constInputs;

  const ir::Value* input(size_t i) const { return node.input(i); }
  const ir::Tensor* constInput(size_t i) const { return i < constInputs.size() ? constInputs[i] : nullptr; }
  size_t numInputs() const { return node.numInputs(); }
  // "node 'conv1' (Conv, opset 17)": the prefix of every error about this node.
  std::string describe() const;
  [[noreturn]] void unsupported(const std::string& what) const;  // throws kUnsupported
  [[noreturn]] void invalid(const std::string& what) const;      // throws kInvalidModel
};

// A kernel's view of one run: inputs, outputs, and (for If/Loop/Scan) the enclosing scope.
class KernelIo {
 public:
  virtual ~KernelIo() = default;
  virtual size_t numInputs() const = 0;
  // nullptr for an omitted optional input.
  virtual const RtTensor* input(size_t i) const = 0;
  virtual size_t numOutputs() const = 0;
  // Whether output i is wanted (not omitted); unwanted outputs need not be computed.
  virtual bool hasOutput(size_t i) const = 0;
  // Allocates output i with this type and shape (from the session's buffer pool).
  virtual RtTensor& allocOutput(size_t i, ir::DataType dtype, const Shape& dims) = 0;
  // Output i shares input j's buffer when input j is not read after this node and not a weight or
  // a caller's tensor; otherwise a new buffer. The kernel must cope with either (compare pointers).
  virtual RtTensor& allocOutputInPlace(size_t i, size_t j, ir::DataType dtype, const Shape& dims) = 0;
  // Values of enclosing scopes read by this node's subgraphs, in Node::implicitInputs() order.
  virtual const RtTensor* implicitInput(size_t i) const = 0;
  // "node 'x' (Op)": for errors raised at run time (index out of range, bad shapes).
  virtual const std::string& describe() const = 0;

  // Sequences, empty optionals and string tensors (runtime/rt_value.h). input() throws for a
  // sequence or none, so only kernels of ops that take them call these. The defaults serve
  // tensor-only callers (one-node evaluation for constant folding).
  // Omitted input: kind kNone.
  virtual ValueKind inputKind(size_t i) const;
  virtual RtValue inputValue(size_t i) const;
  virtual RtValue implicitInputValue(size_t i) const;
  // A sequence or none is shared; a tensor (strings included) is copied into output i.
  virtual void setOutputValue(size_t i, const RtValue& v);
  // Output i as a string tensor: numel empty std::string elements (nbytes 0) the kernel fills.
  virtual RtTensor& allocStringOutput(size_t i, const Shape& dims);
};

class Kernel {
 public:
  virtual ~Kernel() = default;
  virtual void run(KernelIo& io) = 0;
};

using KernelFactory = std::function<std::unique_ptr<Kernel>(const KernelBuildContext&)>;

// Run-time error about a node's data (bad shape, index out of range): kInvalidModel.
[[noreturn]] void throwRunError(const KernelIo& io, const std::string& what);

// Bytes of an output of this type and shape. Every KernelIo allocates through this, so no kernel
// can allocate past runtimeMaxTensorBytes() (runtime/limits.h) or with an overflowing shape.
size_t checkedOutputBytes(const KernelIo& io, ir::DataType dtype, const Shape& dims);

}  // namespace effdl::runtime
