// How closely a candidate model's outputs agree with a reference model's on the same inputs
// (fidelity): per output, the max abs error, the output's scale, cosine similarity and, for
// logits-like outputs (floating point, last dim ≥ 2), the share of rows whose argmax agrees.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "ir/tensor.h"

namespace effdl::eval {

struct OutputAgreement {
  std::string name{};
  double maxAbsError = 0;
  double referenceScale = 0;  // max |reference value|
  double cosine = 1;          // over all samples' elements together
  double worstCosine = 1;     // the lowest per-sample cosine
  std::optional<double> top1Agreement{};  // fraction of rows (0..1)
  int64_t rows = 0;                     // rows compared for top-1
};

struct Agreement {
  size_t samples = 0;
  std::vector<OutputAgreement> outputs;
  // The summary numbers the report shows: worst over outputs.
  double maxAbsError() const;
  double worstCosine() const;
  std::optional<double> top1Agreement() const;
};

// Accumulates sample by sample (memory stays that of one sample).
class AgreementAccumulator {
 public:
  explicit AgreementAccumulator(std::vector<std::string> outputNames);
  // One sample's outputs of both models, in output order. Throws kInvalidModel when a candidate
  // output's shape differs from the reference's.
  void add(const std::vector<ir::Tensor>& reference, const std::vector<ir::Tensor>& candidate);
  Agreement result() const;

 private:
  struct Acc {
    double dot = 0, refNorm = 0, candNorm = 0;
    int64_t rowsAgree = 0;
  };
  Agreement agreement_;
  std::vector<Acc> acc_;
};

// Index of the largest value of each row of the last axis (first index on ties).
std::vector<int64_t> argmaxLastAxis(const ir::Tensor& t);

}  // namespace effdl::eval
