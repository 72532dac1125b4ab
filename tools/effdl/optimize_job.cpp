#include "optimize_job.h"

#include "core/error.h"
#include "core/progress.h"
#include "ir/onnx_import.h"
#include "report/model_summary.h"
#include "runtime/run_failure.h"

namespace fs = std::filesystem;

namespace effdl::cli {
namespace {

report::PassRecord toRecord(const passes::StepReport& s) {
  report::PassRecord r;
  r.name = s.pass;
  r.seconds = s.seconds;
  r.nodesBefore = static_cast<int64_t>(s.nodesBefore);
  r.nodesAfter = static_cast<int64_t>(s.nodesAfter);
  r.counters = s.result.counters;
  r.declined = s.result.declined;
  r.notes = s.result.notes;
  r.layerColumns = s.result.layerColumns;
  r.layers = s.result.layers;
  return r;
}

}  // namespace

report::OptimizeReport optimizeModel(const OptimizeJob& job, const fs::path& input, const fs::path& output) {
  auto model = ir::loadModel(input, job.loadOptions);
  report::OptimizeReport rep;
  rep.input = input.string();
  rep.output = output.string();
  rep.pipeline = job.pipeline.toSpec();
  // Costs are counted with symbolic dims bound (1 unless --dim says otherwise), on copies
  // loaded for that; the model the passes see keeps its symbolic dims.
  ir::LoadOptions countOptions = job.loadOptions;
  countOptions.defaultDimValue = 1;
  rep.before = report::summarize(*ir::loadModel(input, countOptions), input);

  passes::PassContext ctx;
  ctx.limits = job.loadOptions;
  ctx.seed = job.seed;
  ctx.threads = job.threads;
  ctx.calib = job.calib ? &*job.calib : nullptr;
  ctx.progress = [report = progressReporter(), prefix = job.progressLabel.empty() ? "" : job.progressLabel + ": "](
                     const std::string& step, size_t done, size_t total) { report(prefix + step, done, total); };
  ctx.decisionsFile = job.decisions;
  passes::RunOptions run;
  run.verify = job.verify;
  run.reproducerDir = output.parent_path().empty() ? fs::path(".") : output.parent_path();
  try {
    for (const auto& step : passes::runPipeline(*model, job.pipeline, ctx, run)) rep.passes.push_back(toRecord(step));
  } catch (const Error& e) {
    // What a pass finds wrong with the input names the input file.
    const std::string prefix = input.string() + ": ";
    if (e.kind() == ErrorKind::kInternal || std::string_view(e.what()).starts_with(prefix)) throw;
    throw Error(e.kind(), prefix + e.what());
  }

  // What made this file, so that it can be made again (issue 9: seeds recorded in metadata).
  model->setMetadata("effdl.pipeline", rep.pipeline);
  model->setMetadata("effdl.seed", std::to_string(job.seed));
  ir::saveModel(*model, output, job.saveOptions);
  model.reset();  // the weights it owns are on disk now: do not hold them while loading them back
  // "After" is measured on the written file, as any consumer will load it.
  std::unique_ptr<ir::Model> written;
  try {
    ir::LoadOptions backOptions = countOptions;
    backOptions.parseFromMap = true;  // no read copy or block buffer: see LoadOptions
    written = ir::loadModel(output, backOptions);
  } catch (const Error& e) {
    std::error_code ec;
    fs::remove(output, ec);
    // Folding can expose what the input hid behind computed values; an input that fails when run
    // is the model's fault (exit 2), anything else effdl's.
    if (auto why = runtime::invalidWhenRun(*ir::loadModel(input, countOptions)))
      throwInvalid(input.string() + ": the model fails when run (" + *why + "); its optimized form does not load: " +
                   e.what());
    throwInternal(std::string("the optimized model does not load back (removed it; rerun with --verify to find "
                              "the pass): ") + e.what());
  }
  rep.after = report::summarize(*written, output);
  if (job.measureEnabled) {
    MeasureOptions mo = job.measure;
    mo.progressLabel = job.progressLabel;
    rep.measured = measureModels(*ir::loadModel(input, countOptions), *written, mo);
  }
  for (const auto& g : report::evaluateGates(job.gates, rep)) rep.gates.push_back({g.gate.text, g.reason, g.value, g.failed});
  return rep;
}

std::string failedGatesMessage(const report::OptimizeReport& r) {
  size_t failed = 0;
  std::string reasons;
  for (const auto& g : r.gates)
    if (g.failed) {
      ++failed;
      reasons += (reasons.empty() ? "" : "; ") + g.reason;
    }
  if (failed == 0) return "";
  return std::to_string(failed) + " of " + std::to_string(r.gates.size()) + " --fail-if gates failed: " + reasons;
}

}  // namespace effdl::cli
