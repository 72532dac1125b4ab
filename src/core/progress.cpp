// Progress lines on stderr (see progress.h).
#include "core/progress.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>

namespace effdl {
namespace {

ProgressMode gMode = ProgressMode::kLines;

std::string formatEta(double seconds) {
  char b[32];
  const long s = static_cast<long>(seconds + 0.5);
  if (s < 60) std::snprintf(b, sizeof b, "%lds", s);
  else if (s < 3600) std::snprintf(b, sizeof b, "%ldm%02lds", s / 60, s % 60);
  else std::snprintf(b, sizeof b, "%ldh%02ldm", s / 3600, (s % 3600) / 60);
  return b;
}

}  // namespace

bool ciEnvironment() {
  const char* ci = std::getenv("CI");
  return ci && *ci && std::string(ci) != "false" && std::string(ci) != "0";
}

ProgressMode detectProgressMode(bool quiet) {
  if (quiet) return ProgressMode::kOff;
  const char* term = std::getenv("TERM");
  if (::isatty(STDERR_FILENO) && !ciEnvironment() && !(term && std::string(term) == "dumb")) return ProgressMode::kLive;
  return ProgressMode::kLines;
}

void setProgressMode(ProgressMode mode) { gMode = mode; }
ProgressMode progressMode() { return gMode; }

std::string progressLine(const std::string& step, size_t done, size_t total, double elapsedSeconds) {
  std::string s = step + " " + std::to_string(done) + "/" + std::to_string(total);
  if (done > 0 && done < total)
    s += " [eta " + formatEta(elapsedSeconds / static_cast<double>(done) * static_cast<double>(total - done)) + "]";
  return s;
}

Progress::Progress(std::string step, size_t total, ProgressMode mode, std::ostream* os)
    : step_(std::move(step)), total_(total), mode_(mode), os_(os ? *os : std::cerr),
      start_(std::chrono::steady_clock::now()), lastDraw_(start_) {
  if (mode_ == ProgressMode::kLines) os_ << "effdl: " << step_ << ": 0/" << total_ << "\n" << std::flush;
  if (mode_ == ProgressMode::kLive) draw();
}

Progress::~Progress() {
  if (!finished_ && mode_ == ProgressMode::kLive) clear();
}

void Progress::update(size_t done) {
  done_ = std::min(done, total_);
  if (mode_ != ProgressMode::kLive) return;
  auto now = std::chrono::steady_clock::now();
  if (done_ == total_ || now - lastDraw_ >= std::chrono::milliseconds(100)) draw();
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  if (mode_ == ProgressMode::kLive) clear();
  if (mode_ == ProgressMode::kLines) {
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    char b[32];
    std::snprintf(b, sizeof b, " in %.1f s", s);
    os_ << "effdl: " << step_ << ": " << done_ << "/" << total_ << b << "\n" << std::flush;
  }
}

void Progress::note(const std::string& line) {
  if (mode_ == ProgressMode::kLive) clear();
  os_ << line << "\n";
  if (mode_ == ProgressMode::kLive && !finished_) draw();
  os_ << std::flush;
}

void Progress::draw() {
  lastDraw_ = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(lastDraw_ - start_).count();
  std::string line = progressLine(step_, done_, total_, elapsed);
  // Pad over the previous, possibly longer line instead of relying on terminal escape codes.
  const size_t width = line.size();
  if (line.size() < drawnWidth_) line += std::string(drawnWidth_ - line.size(), ' ');
  drawnWidth_ = width;
  os_ << "\r" << line << std::flush;
}

void Progress::clear() {
  if (drawnWidth_ == 0) return;
  os_ << "\r" << std::string(drawnWidth_, ' ') << "\r" << std::flush;
  drawnWidth_ = 0;
}

ProgressCallback progressReporter(std::ostream* os) {
  auto current = std::make_shared<std::unique_ptr<Progress>>();
  return [current, os](const std::string& step, size_t done, size_t total) {
    if (progressMode() == ProgressMode::kOff) return;
    auto& p = *current;
    if (done == 0 || !p) p = std::make_unique<Progress>(step, total, progressMode(), os);
    p->update(done);
    if (done >= total) {
      p->finish();
      p.reset();
    }
  };
}

}  // namespace effdl
