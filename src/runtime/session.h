// A compiled model, run many times: the user-facing runtime API. Inputs and outputs by name,
// checked against the model's declared types (one-line errors for a wrong name, dtype, rank or
// dim); a thread count for the kernels (OpenMP, shared with oneDNN).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ir/graph.h"
#include "runtime/graph_executor.h"

namespace effdl::runtime {

struct SessionOptions {
  int threads = 0;  // 0: all cores
  bool fuseQdq = true;  // see ExecOptions
  bool fuseConv = true;  // see ExecOptions
  bool foldBitmaskDecode = true;  // see ExecOptions
};

struct NamedInput {
  std::string name;
  const ir::Tensor* tensor;
};

// An input that may be a sequence or an optional (runtime/rt_value.h).
struct NamedValue {
  std::string name;
  const Value* value;
};

class Session {
 public:
  // The model must outlive the session (weights are not copied). Throws kUnsupported naming the
  // first node without a kernel.
  Session(const ir::Model& model, const SessionOptions& options = {});
  ~Session();

  // The graph's real inputs (initializer-backed inputs excluded) and outputs.
  const std::vector<const ir::Value*>& inputs() const { return inputs_; }
  const std::vector<const ir::Value*>& outputs() const { return outputs_; }
  int threads() const { return threads_; }

  // Runs and returns the outputs (copied, in graph output order). Throws kUsage for inputs that
  // do not match the model (unknown or missing name, dtype, rank, dim).
  std::vector<ir::Tensor> run(const std::vector<NamedInput>& inputs);
  // The same for models whose inputs or outputs may be sequences or optionals: each input must
  // match its declared kind (a tensor, a sequence, or for an optional any of them or none).
  std::vector<Value> runValues(const std::vector<NamedValue>& inputs);
  // Lower-overhead form: inputs in inputs() order; returned views are valid until the next run.
  std::vector<const RtTensor*> runViews(const std::vector<const RtTensor*>& inputs);
  const BufferPool& pool() const { return executor_->pool(); }
  size_t numKernels() const { return executor_->numSteps(); }
  size_t bitmaskDecodesFolded() const { return executor_->bitmaskDecodesFolded(); }

 private:
  size_t inputIndex(const std::string& name) const;
  void checkInput(const ir::Value& v, const RtTensor& t, std::map<std::string, int64_t>& symbols) const;

  std::unique_ptr<GraphExecutor> executor_;
  std::vector<const ir::Value*> inputs_, outputs_;
  std::vector<int> inputPosition_;  // executor input index for each of inputs_
  int threads_ = 1;
};

// The number of cores this process may use.
int availableCores();

}  // namespace effdl::runtime
