// Progress of long steps (calibration, benchmarking, batches) on stderr. On a terminal: one line
// redrawn in place, "quantize calibration 37/100 [eta 4s]", cleared when the step ends. Otherwise
// (a pipe, a CI log): one line when the step starts and one when it ends, never a carriage return.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <ostream>
#include <string>

namespace effdl {

enum class ProgressMode { kOff, kLines, kLive };

// Whether the CI environment variable is set (to anything but "", "0" or "false").
bool ciEnvironment();
// kOff when quiet; kLive when stderr is a terminal, CI is not set and TERM is not "dumb"; else kLines.
ProgressMode detectProgressMode(bool quiet);
// The process-wide mode (kLines until the CLI sets it).
void setProgressMode(ProgressMode mode);
ProgressMode progressMode();

// "quantize calibration 37/100 [eta 4s]" (no ETA before the first unit is done).
std::string progressLine(const std::string& step, size_t done, size_t total, double elapsedSeconds);

class Progress {
 public:
  // Starts the step: a start line (kLines) or the live line at 0/total (kLive). `os` defaults to
  // std::cerr.
  Progress(std::string step, size_t total, ProgressMode mode = progressMode(), std::ostream* os = nullptr);
  // Clears a live line. A step that did not finish (an error is on its way) ends without a line.
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // `done` of `total` units are finished; the live line is redrawn at most every 100 ms.
  void update(size_t done);
  // Ends the step: clears the live line, or prints "step: N/N in 1.2 s" (kLines).
  void finish();
  // A whole line (e.g. one model of a batch) printed above the live line, so the two do not mix.
  void note(const std::string& line);

 private:
  void draw();
  void clear();
  std::string step_;
  size_t total_, done_ = 0;
  ProgressMode mode_;
  std::ostream& os_;
  std::chrono::steady_clock::time_point start_, lastDraw_;
  size_t drawnWidth_ = 0;
  bool finished_ = false;
};

// Library code reports progress through a plain callback (step, done, total): done == 0 starts a
// step, done == total ends it. This one drives a Progress in the process-wide mode, on `os`
// (default std::cerr).
using ProgressCallback = std::function<void(const std::string& step, size_t done, size_t total)>;
ProgressCallback progressReporter(std::ostream* os = nullptr);

}  // namespace effdl
