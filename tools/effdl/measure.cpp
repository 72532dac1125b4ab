#include "measure.h"

#include "core/error.h"
#include "core/progress.h"
#include "eval/compare_models.h"
#include "io/tensor_file.h"
#include "runtime/benchmark.h"
#include "runtime/session.h"

namespace effdl::cli {
namespace {

ir::Tensor readSingleTensor(const std::string& flag, const std::string& path, uint64_t maxBytes) {
  auto tensors = io::readTensorFile(path, maxBytes);
  if (tensors.size() != 1) throwUsage(flag + " " + path + ": expected one array, found " + std::to_string(tensors.size()));
  return std::move(tensors[0].tensor);
}

// A Loop with a constant trip count and no (or a constant true) condition runs exactly that many
// iterations: above this, measuring would take minutes, so it is refused up front.
constexpr int64_t kMaxMeasuredLoopTrips = 1'000'000;

std::optional<std::string> tooLongToRun(const ir::Model& model) {
  std::optional<std::string> why;
  auto constInt = [](const ir::Value* v) -> std::optional<int64_t> {
    if (!v || !v->isConstant() || v->initializer().numel() != 1) return std::nullopt;
    const ir::Tensor& t = v->initializer();
    if (t.dtype() == ir::DataType::kInt64) return t.values<int64_t>()[0];
    if (t.dtype() == ir::DataType::kBool) return t.values<uint8_t>()[0];
    return std::nullopt;
  };
  ir::forEachNodeRecursive(*model.graph, [&](const ir::Node& n) {
    if (why || n.opType() != "Loop" || !n.domain().empty()) return;
    auto trips = constInt(n.input(0));
    const ir::Value* cond = n.numInputs() > 1 ? n.input(1) : nullptr;
    bool alwaysTrue = !cond || constInt(cond).value_or(0) != 0;
    if (trips && alwaysTrue && *trips > kMaxMeasuredLoopTrips)
      why = "Loop '" + n.name() + "' would run " + std::to_string(*trips) + " iterations (more than " +
            std::to_string(kMaxMeasuredLoopTrips) + ")";
  });
  return why;
}

}  // namespace

void loadEvalData(const std::string& dataPath, const std::string& labelsPath, MeasureOptions& o) {
  if (dataPath.empty() && labelsPath.empty()) return;
  if (dataPath.empty() || labelsPath.empty()) throwUsage("--eval-data and --eval-labels go together");
  ir::Tensor x = readSingleTensor("--eval-data", dataPath, o.maxTensorBytes);
  ir::Tensor y = readSingleTensor("--eval-labels", labelsPath, o.maxTensorBytes);
  if (x.rank() < 1 || x.dims()[0] <= 0) throwUsage("--eval-data " + dataPath + ": expected an array of shape [N, ...]");
  const int64_t n = x.dims()[0];
  if (y.rank() != 1 || y.dims()[0] != n)
    throwUsage("--eval-labels " + labelsPath + ": expected " + std::to_string(n) + " labels (shape [" +
               std::to_string(n) + "]) for the " + std::to_string(n) + " rows of --eval-data");
  if (!ir::isInteger(y.dtype())) throwUsage("--eval-labels " + labelsPath + ": labels must be integers");
  o.evalX = std::move(x);
  o.evalY = std::move(y);
}

report::Measurements measureModels(const ir::Model& before, const ir::Model& after, const MeasureOptions& o) {
  report::Measurements m;
  m.threads = o.threads > 0 ? o.threads : runtime::availableCores();
  m.iterations = o.iterations;
  auto attempt = [&](const std::string& what, const auto& fn) {
    try {
      fn();
    } catch (const Error& e) {
      m.notMeasured.push_back(what + ": " + e.what());
    }
  };
  if (auto why = tooLongToRun(before)) {
    m.notMeasured.push_back("latency, agreement and accuracy: " + *why);
    return m;
  }
  if (o.iterations > 0) {
    attempt("latency", [&] {
      runtime::BenchOptions bo;
      bo.threads = m.threads;
      bo.iterations = o.iterations;
      bo.warmup = std::max(1, o.iterations / 5);
      bo.seed = o.seed;
      bo.dims = o.dims;
      // One after the other, with the same options, so both see the same machine load.
      auto progress = progressReporter();
      const std::string prefix = o.progressLabel.empty() ? "" : o.progressLabel + ": ";
      bo.progress = [&](size_t done, size_t total) { progress(prefix + "bench original", done, total); };
      auto b = runtime::benchmark(before, bo);
      bo.progress = [&](size_t done, size_t total) { progress(prefix + "bench optimized", done, total); };
      auto a = runtime::benchmark(after, bo);
      m.before = report::Latency{b.p50Ms, b.p90Ms, b.activationPoolBytes};
      m.after = report::Latency{a.p50Ms, a.p90Ms, a.activationPoolBytes};
      m.inputShapes = b.inputShapes;
    });
  }
  if (o.fidelitySamples > 0) {
    attempt("agreement", [&] {
      auto samples = eval::SampleSet::open("random:" + std::to_string(o.fidelitySamples), o.maxTensorBytes, o.seed, o.dims);
      m.fidelityInputs = samples.describe();
      m.agreement = eval::compareModels(before, after, samples, m.threads);
    });
  }
  if (o.evalX) {
    attempt("accuracy", [&] {
      auto b = eval::accuracy(before, *o.evalX, *o.evalY, m.threads);
      auto a = eval::accuracy(after, *o.evalX, *o.evalY, m.threads);
      m.accuracyBefore = b.accuracy;
      m.accuracyAfter = a.accuracy;
      m.accuracySamples = b.samples;
    });
  }
  return m;
}

}  // namespace effdl::cli
