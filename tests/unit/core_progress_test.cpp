// Progress lines: a live line redrawn with carriage returns and cleared at the end on a terminal;
// one start and one end line, no carriage return, otherwise; nothing when off.
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "core/progress.h"

namespace effdl::test {
namespace {

TEST(CoreProgress, LineShowsCountAndEta) {
  EXPECT_EQ(progressLine("quantize calibration", 0, 100, 0.0), "quantize calibration 0/100");
  EXPECT_EQ(progressLine("quantize calibration", 37, 100, 2.4), "quantize calibration 37/100 [eta 4s]");
  EXPECT_EQ(progressLine("batch", 1, 4, 50.0), "batch 1/4 [eta 2m30s]");
  EXPECT_EQ(progressLine("batch", 1, 2, 4000.0), "batch 1/2 [eta 1h06m]");
  EXPECT_EQ(progressLine("bench", 10, 10, 3.0), "bench 10/10");
}

TEST(CoreProgress, LinesModeWritesOneLineAtStartAndAtEnd) {
  std::ostringstream os;
  {
    Progress p("bench", 50, ProgressMode::kLines, &os);
    for (size_t i = 1; i <= 50; ++i) p.update(i);
    p.finish();
  }
  const std::string s = os.str();
  EXPECT_EQ(s.find('\r'), std::string::npos) << s;
  EXPECT_EQ(std::count(s.begin(), s.end(), '\n'), 2) << s;
  EXPECT_EQ(s.rfind("effdl: bench: 0/50\neffdl: bench: 50/50 in ", 0), 0u) << s;
}

TEST(CoreProgress, LiveModeRedrawsInPlaceAndClearsTheLine) {
  std::ostringstream os;
  {
    Progress p("batch", 3, ProgressMode::kLive, &os);
    p.update(1);
    p.note("[1/3] ok a.onnx");
    p.update(3);
    p.finish();
  }
  const std::string s = os.str();
  EXPECT_EQ(s.rfind("\rbatch 0/3", 0), 0u) << s;
  // The note is printed on a cleared line and the live line comes back under it.
  EXPECT_NE(s.find("\r" + std::string(9, ' ') + "\r[1/3] ok a.onnx\n\rbatch 1/3"), std::string::npos) << s;
  EXPECT_NE(s.find("\rbatch 3/3"), std::string::npos) << s;
  // Cleared at the end: the last thing written is blanks and a carriage return.
  EXPECT_EQ(s.substr(s.size() - 11), "\r" + std::string(9, ' ') + "\r") << s;
  EXPECT_EQ(std::count(s.begin(), s.end(), '\n'), 1) << "only the note ends a line";
}

TEST(CoreProgress, UnfinishedLiveStepIsClearedAndOffPrintsNothing) {
  std::ostringstream live, off;
  {
    Progress p("calibrate", 10, ProgressMode::kLive, &live);
    p.update(2);
  }  // e.g. an error unwinds: the line is cleared, no end line.
  EXPECT_EQ(live.str().back(), '\r');
  EXPECT_EQ(live.str().find('\n'), std::string::npos);
  {
    Progress p("calibrate", 10, ProgressMode::kOff, &off);
    p.update(10);
    p.finish();
  }
  EXPECT_TRUE(off.str().empty());
}

TEST(CoreProgress, ReporterStartsAndEndsStepsFromCallbacks) {
  const ProgressMode saved = progressMode();
  std::ostringstream lines, off;
  setProgressMode(ProgressMode::kLines);
  auto report = progressReporter(&lines);
  for (size_t i = 0; i <= 3; ++i) report("quantize calibration", i, 3);
  report("bench original", 0, 1);
  report("bench original", 1, 1);
  setProgressMode(ProgressMode::kOff);
  auto quiet = progressReporter(&off);
  quiet("bench", 0, 2);
  quiet("bench", 2, 2);
  setProgressMode(saved);
  const std::string s = lines.str();
  EXPECT_EQ(std::count(s.begin(), s.end(), '\n'), 4) << s;
  EXPECT_EQ(s.rfind("effdl: quantize calibration: 0/3\neffdl: quantize calibration: 3/3 in ", 0), 0u) << s;
  EXPECT_NE(s.find("\neffdl: bench original: 0/1\neffdl: bench original: 1/1 in "), std::string::npos) << s;
  EXPECT_TRUE(off.str().empty()) << off.str();
}

}  // namespace
}  // namespace effdl::test
