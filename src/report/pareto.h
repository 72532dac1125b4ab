// The Pareto frontier of variants: a point is on it when no other point is at least as good on
// both axes and better on one (lower cost — size or latency — and higher quality).
#pragma once

#include <cstddef>
#include <vector>

namespace effdl::report {

struct TradeoffPoint {
  double cost = 0;     // lower is better (bytes, ms)
  double quality = 0;  // higher is better (accuracy, agreement)
};

// One flag per point, true when it is Pareto-optimal. Equal points are all kept.
std::vector<bool> paretoFrontier(const std::vector<TradeoffPoint>& points);

}  // namespace effdl::report
