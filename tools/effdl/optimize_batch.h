// `effdl optimize a.onnx b.onnx models/ --out-dir OUT [--jobs N]`: many models in one call. Each
// model is optimized in its own child process (fork), so a model that crashes or exhausts memory
// fails alone; the batch goes on, prints one line per model as it finishes and a summary, and
// exits with code 6 when any model failed. Models are independent: the same flags give the same
// bytes whatever --jobs is.
#pragma once

#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include "optimize_job.h"

namespace effdl::cli {

struct BatchItem {
  std::filesystem::path input, output;
};

// Expands folders (every *.onnx below, recursively, in name order, without following symlinked
// folders) and maps each model to OUT/<path relative to the folder given> or OUT/<file name>.
// Throws kUsage for an input that does not exist, two models with the same output, an output that
// is an input, or an existing output without --force — all before any work.
std::vector<BatchItem> planBatch(const std::vector<std::string>& inputs, const std::filesystem::path& outDir,
                                 bool force);

// Runs the batch; prints the summary (table, coloured when `color`, or with json one JSON document)
// on `os`. Returns the number of models that failed.
size_t runBatch(const OptimizeJob& job, const std::vector<BatchItem>& items, int jobs, bool json, bool color,
                std::ostream& os);

}  // namespace effdl::cli
