#include "report/pareto.h"

namespace effdl::report {

std::vector<bool> paretoFrontier(const std::vector<TradeoffPoint>& points) {
  std::vector<bool> onFrontier(points.size(), true);
  for (std::size_t i = 0; i < points.size(); ++i)
    for (std::size_t j = 0; j < points.size() && onFrontier[i]; ++j) {
      const TradeoffPoint &a = points[i], &b = points[j];
      bool noWorse = b.cost <= a.cost && b.quality >= a.quality;
      bool better = b.cost < a.cost || b.quality > a.quality;
      if (j != i && noWorse && better) onFrontier[i] = false;
    }
  return onFrontier;
}

}  // namespace effdl::report
