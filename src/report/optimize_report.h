// What `effdl optimize` prints: the model before and after, what each pass did, and where the
// output went — as an aligned table for people or JSON (schema: docs/report.schema.json).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "eval/agreement.h"
#include "report/model_summary.h"

namespace effdl::report {

struct PassRecord {
  std::string name;
  double seconds = 0;
  int64_t nodesBefore = 0, nodesAfter = 0;
  std::vector<std::pair<std::string, int64_t>> counters;
  std::map<std::string, int64_t> declined;
  std::vector<std::string> notes;
  std::vector<std::string> layerColumns;
  std::vector<std::pair<std::string, std::vector<double>>> layers;
};

struct Latency {
  double p50Ms = 0, p90Ms = 0;
  // Measured peak memory of the run: what the runtime's activation buffers held (the estimate
  // from shapes is the summary's peak_activation_bytes).
  uint64_t activationBytes = 0;
};

// What effdl's runtime measured on both models (same threads, same seeded inputs). Each part is
// absent when it was not asked for or could not run; `notMeasured` then says why.
struct Measurements {
  int threads = 0;
  int iterations = 0;  // timed runs per model
  std::optional<Latency> before, after;
  std::string fidelityInputs;  // "8 seeded random samples (seed 0)"
  std::optional<eval::Agreement> agreement;
  std::optional<double> accuracyBefore, accuracyAfter;
  int64_t accuracySamples = 0;
  std::vector<std::string> notMeasured;
  std::vector<std::pair<std::string, std::vector<int64_t>>> inputShapes;  // of the timed runs
};

// Where the measurements were taken, so a report read later says what it means.
struct Environment {
  std::string effdlVersion;
  std::string cpu;                 // model name from /proc/cpuinfo
  std::string int8Support;         // "avx512_vnni", "avx2 (no VNNI: int8 gains are smaller)", ...
  int threads = 0;                 // for calibration and measurements
  std::vector<std::pair<std::string, std::vector<int64_t>>> inputShapes;  // of the measurement inputs
};

// One variant of `--variants`: its pipeline, footprint and quality, and where it lies.
struct VariantRecord {
  std::string name;      // as written ("prune=0.5+int8")
  std::string pipeline;  // canonical spec
  std::string error;     // non-empty: the variant failed (other fields empty)
  ModelSummary after;
  Measurements measured;
  double quality = 0;            // what --select and the frontier compare (see qualityName)
  bool sizeFrontier = false;     // Pareto-optimal for file size vs quality
  bool latencyFrontier = false;  // Pareto-optimal for latency vs quality
  bool selected = false;
};

struct OptimizeReport {
  std::string input, output;
  std::string pipeline;  // canonical spec
  ModelSummary before, after;
  std::vector<PassRecord> passes;
  Measurements measured;
  // --fail-if results (empty without gates); "ok" in JSON is false when one failed.
  struct GateLine {
    std::string gate, reason;
    std::optional<double> value;
    bool failed = false;
  };
  std::vector<GateLine> gates;
  Environment environment;
  std::vector<VariantRecord> variants;  // --variants, in the order given
  std::string qualityName;              // "accuracy" or "top-1 agreement" or "cosine"
  std::string selection;                // --select rule and what it chose, or empty
  bool hasAfter = true;                  // false: no model was written (--variants without a choice)
};

inline constexpr int kReportSchemaVersion = 1;

// `color`: paint better/worse ratio cells and failed gates (the CLI decides: a TTY, no NO_COLOR/CI).
void renderOptimizeTable(const OptimizeReport& r, std::ostream& os, bool color = false);
void renderOptimizeJson(const OptimizeReport& r, std::ostream& os);
// Markdown for CI summaries and pull-request comments.
void renderOptimizeMarkdown(const OptimizeReport& r, std::ostream& os);
// One self-contained HTML file with SVG charts (no script, no network).
void renderOptimizeHtml(const OptimizeReport& r, std::ostream& os);

}  // namespace effdl::report
