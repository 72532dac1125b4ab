// Runs a reference and a candidate model on the same samples in effdl's runtime and measures how
// closely they agree (eval/agreement.h), and accuracy on labeled data.
#pragma once

#include <optional>

#include "eval/agreement.h"
#include "eval/sample_set.h"
#include "ir/graph.h"

namespace effdl::eval {

// Both models must have the same real inputs and outputs (names, order). Throws kInvalidModel
// when the candidate's interface differs.
Agreement compareModels(const ir::Model& reference, const ir::Model& candidate, const SampleSet& samples,
                        int threads);

struct Accuracy {
  double accuracy = 0;  // fraction of samples whose argmax matches the label
  int64_t samples = 0;
};

// Accuracy of a single-input model on `x` ([N, ...], one row per sample) and `labels` ([N]
// integers): argmax of the first output's last axis against the label. Runs in batches of at most
// `batch` rows when the input's first dim is symbolic, else in batches of that fixed dim (N must
// be a multiple of it). Throws kUsage when shapes or dtypes do not fit the model.
Accuracy accuracy(const ir::Model& model, const ir::Tensor& x, const ir::Tensor& labels, int threads,
                  int64_t batch = 256);

}  // namespace effdl::eval
