// Parameter statistics of a model: how many weights, how many bytes, in which dtypes, feeding
// which ops, how sparse, and how much lives in external data — for `effdl inspect` and the
// before/after columns of the optimize report.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "ir/dtype.h"
#include "ir/graph.h"

namespace effdl::analysis {

// Where a weight tensor comes from.
enum class WeightSource { kInitializer, kSparseInitializer, kConstantNode };
const char* weightSourceName(WeightSource s);  // "initializer", "sparse_initializer", "constant"

struct DtypeTotal {
  ir::DataType dtype = ir::DataType::kUndefined;
  int64_t params = 0;  // elements of this dtype
  int64_t bytes = 0;   // includes the int64 indices of sparse initializers (with params 0)
  int64_t tensors = 0;
};

// Weights grouped by the op that reads them.
struct OpTypeTotal {
  std::string opType;  // opLabel(): "Conv", or "domain:Op"; kSharedOp / kUnusedOp
  int64_t params = 0;
  int64_t bytes = 0;
  int64_t tensors = 0;
};

struct WeightInfo {
  std::string name;
  WeightSource source = WeightSource::kInitializer;
  ir::DataType dtype = ir::DataType::kUndefined;
  std::vector<int64_t> dims;  // dense dims (a sparse initializer's full shape)
  int64_t params = 0;         // stored elements (NNZ for sparse)
  int64_t bytes = 0;          // stored bytes (values + indices for sparse)
  bool external = false;
  std::string consumer;  // as OpTypeTotal::opType
};

struct ParameterStats {
  // Consumer buckets. A weight read by more than one op type (e.g. a tied embedding read by
  // Gather and MatMul) goes to "(shared)" rather than to its first consumer: the first
  // consumer depends on node order, and a shared weight split in two would double-count.
  static constexpr const char* kSharedOp = "(shared)";
  static constexpr const char* kUnusedOp = "(unused)";

  int64_t tensors = 0;      // weight tensors counted
  int64_t totalParams = 0;  // elements; sparse initializers count their stored values (NNZ)
  int64_t totalBytes = 0;   // bytes as stored; sparse: values + indices; strings: their lengths
  // Elements of weights read only as BatchNormalization's mean/variance (inputs 3, 4). PyTorch
  // counts these as buffers and Keras as "non-trainable params": totalParams minus this is the
  // number a framework's parameter count shows.
  int64_t batchNormStatisticsParams = 0;

  std::vector<DtypeTotal> byDtype;    // bytes desc, then dtype name
  std::vector<OpTypeTotal> byOpType;  // params desc, then name
  std::vector<WeightInfo> largest;    // the ParameterOptions::largestCount largest, bytes desc, then name

  // Sparsity over floating-point weights (float, double, float16, bfloat16), counted on their
  // dense form: a sparse initializer contributes prod(dims) elements, its implicit zeros and any
  // stored zeros. -0.0 is a zero.
  int64_t floatElements = 0;
  int64_t floatZeros = 0;
  double sparsity() const {
    return floatElements == 0 ? 0.0 : static_cast<double>(floatZeros) / static_cast<double>(floatElements);
  }

  int64_t externalBytes = 0;  // of tensors whose bytes come from external data files
  int64_t externalTensors = 0;

  // Constant nodes with a `sparse_value`: effdl carries that attribute opaquely, so it is not
  // counted above.
  int64_t uncountedConstants = 0;
};

struct ParameterOptions {
  size_t largestCount = 10;
};

// Weights are every dense and sparse initializer and every Constant node's value (value,
// value_float(s), value_int(s), value_string(s)), in the main graph and all subgraphs. An
// initializer that is also a graph input (IR < 4: an overridable default) is counted too: its
// bytes are in the file. Identity nodes between a weight and its reader are looked through when
// finding the consumer (exporters deduplicate weights that way).
ParameterStats computeParameterStats(const ir::Model& model, const ParameterOptions& options = {});

}  // namespace effdl::analysis
