// One `effdl optimize` job: everything the command line asks for, validated once before any work
// (pipeline, gates, calibration and eval data), then applied to one model or to every model of a
// batch.
#pragma once

#include <filesystem>
#include <optional>
#include <vector>

#include "eval/sample_set.h"
#include "ir/load_options.h"
#include "ir/onnx_export.h"
#include "measure.h"
#include "passes/pipeline.h"
#include "report/gates.h"
#include "report/optimize_report.h"

namespace effdl::cli {

struct OptimizeJob {
  passes::Pipeline pipeline;
  ir::LoadOptions loadOptions;
  ir::SaveOptions saveOptions;
  std::vector<report::Gate> gates;
  MeasureOptions measure;
  bool measureEnabled = true;
  bool verify = false;
  std::optional<eval::SampleSet> calib;
  uint64_t seed = 0;
  int threads = 0;
  // Prefix of this job's progress steps, e.g. the variant's name ("int8: bench optimized").
  std::string progressLabel;
  std::string decisions;  // --decisions: a report whose timing-dependent choices are replayed
};

// Optimizes `input` into `output` (atomically; removed again if it does not load back) and returns
// the report with gates evaluated. Throws effdl::Error for a model that cannot be optimized.
report::OptimizeReport optimizeModel(const OptimizeJob& job, const std::filesystem::path& input,
                                     const std::filesystem::path& output);

// The one-line summary of failed gates, empty when none failed.
std::string failedGatesMessage(const report::OptimizeReport& r);

}  // namespace effdl::cli
