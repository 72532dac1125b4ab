// Calibration observers: the range [lo, hi] an activation is quantized to, from values streamed
// one sample at a time (memory does not grow with the number of samples).
//   minmax      the extremes seen
//   percentile  |x| threshold t below which `percentile` % of all values fall; [max(min,-t), min(max,t)]
//   entropy     the threshold t minimising KL(P || Q) between the |x| histogram clipped at t and
//               its 128-level quantization (TensorRT's calibration), then as above
// The |x| histogram has a fixed number of bins over [0, top]; when a sample exceeds top, top
// doubles and pairs of bins merge. The resolution thus follows the order in which values arrive:
// the same samples in the same order give the same range (calibration is deterministic); split
// differently they may move it by a few bins.
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "passes/quantize/quantize_modes.h"

namespace effdl::passes::quant {

class RangeObserver {
 public:
  static constexpr size_t kBins = 2048;
  explicit RangeObserver(bool histogram) : histogram_(histogram) {}
  void observe(std::span<const float> x);
  // NaN/Inf are skipped; an observer that saw nothing returns [0, 0].
  std::pair<float, float> range(CalibMethod method, double percentile) const;

 private:
  void grow(float absMax);
  float threshold(CalibMethod method, double percentile) const;
  bool histogram_;
  bool seen_ = false;
  float min_ = 0, max_ = 0;
  float top_ = 0;  // histogram covers |x| in [0, top_)
  std::vector<uint64_t> hist_;
};

}  // namespace effdl::passes::quant
