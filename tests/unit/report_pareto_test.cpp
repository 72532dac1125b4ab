// Pareto frontier on synthetic points: dominated points are dropped, ties and extremes kept.
#include <gtest/gtest.h>

#include "report/pareto.h"

namespace effdl::test {
namespace {

using report::TradeoffPoint;

TEST(ReportPareto, MarksNonDominatedPoints) {
  // cost (size MiB), quality (accuracy %)
  std::vector<TradeoffPoint> pts = {
      {10, 99.7},  // baseline: best quality
      {3, 99.5},   // int8: smaller, slightly worse
      {5, 99.4},   // dominated by {3, 99.5}
      {2, 97.0},   // smallest
      {3, 99.0},   // same size as int8 but worse: dominated
      {12, 99.7},  // bigger, same quality: dominated by the baseline
  };
  EXPECT_EQ(report::paretoFrontier(pts), (std::vector<bool>{true, true, false, true, false, false}));
}

TEST(ReportPareto, EqualPointsAndSinglePointStay) {
  EXPECT_EQ(report::paretoFrontier({{1, 1}, {1, 1}}), (std::vector<bool>{true, true}));
  EXPECT_EQ(report::paretoFrontier({{4, 0.5}}), (std::vector<bool>{true}));
  EXPECT_TRUE(report::paretoFrontier({}).empty());
}

TEST(ReportPareto, AStrictlyBetterPointDominatesEverything) {
  EXPECT_EQ(report::paretoFrontier({{5, 90}, {1, 99}, {3, 95}}), (std::vector<bool>{false, true, false}));
}

}  // namespace
}  // namespace effdl::test
