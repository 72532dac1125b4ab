// `effdl optimize MODEL [-o OUT]`: load, run a pipeline of passes, save, and report the model
// before and after.
#include <iostream>

#include "cli_common.h"
#include "commands.h"
#include "core/error.h"
#include "eval/sample_set.h"
#include "measure.h"
#include "pass_flags.h"
#include "ir/onnx_export.h"
#include "ir/onnx_import.h"
#include "passes/pipeline.h"
#include "report/model_summary.h"
#include "report/gates.h"
#include "report/optimize_report.h"

namespace fs = std::filesystem;

namespace effdl::cli {
namespace {

// The fixed order: cleanup first and last, the rewrites that change values in between.
constexpr const char* kDefaultPipeline = "cleanup,fold-batchnorm,cleanup";

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

void registerOptimize(CLI::App& app) {
  struct Args {
    std::string model, output, passes, recipe, externalData = "auto", calib;
    bool force = false, verify = false, json = false, noMeasure = false;
    int threads = 0, benchIters = 20, fidelitySamples = 8;
    uint64_t seed = 0;
    std::string evalData, evalLabels, failIf;
    LoadFlags load;
    PassFlags passFlags;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("optimize", "run a pipeline of passes and report the model before and after");
  cmd->add_option("model", args->model, "input ONNX model")->required();
  cmd->add_option("-o,--output", args->output, "output model (default: MODEL.opt.onnx beside the input)");
  cmd->add_flag("--force", args->force, "replace an existing output file");
  auto* passesOpt = cmd->add_option("--passes", args->passes,
                                    std::string("comma-separated passes with options in braces (default: ") +
                                        kDefaultPipeline + "); see `effdl passes`");
  cmd->add_option("--recipe", args->recipe, "a JSON recipe file with the pipeline")->excludes(passesOpt);
  cmd->add_flag("--verify", args->verify,
                "run ONNX's checker and shape inference after every pass; name the pass that breaks the model");
  cmd->add_flag("--json", args->json, "print the report as JSON on stdout (logs stay on stderr)");
  cmd->add_option("--external-data", args->externalData,
                  "auto: external data only above 2 GiB; always: weights to OUT.data; never: all inline")
      ->check(CLI::IsMember({"auto", "always", "never"}));
  cmd->add_option("--calib", args->calib,
                  "calibration data for passes that need it: a folder of samples (.npz, or folders of .npy/.pb "
                  "named after the model's inputs) or random:N seeded random samples")
      ->type_name("DIR|random:N");
  cmd->add_option("--seed", args->seed, "seed for random calibration/fidelity inputs and seeded passes")
      ->capture_default_str();
  cmd->add_option("--threads", args->threads, "threads for calibration and measurements (default: all cores)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--bench-iters", args->benchIters, "timed runs per model for the latency rows (0: skip)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--fidelity-samples", args->fidelitySamples,
                  "seeded random inputs on which the optimized model is compared with the original (0: skip)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--eval-data", args->evalData, "inputs [N, ...] (.npy) for accuracy before/after")->type_name("X.npy");
  cmd->add_option("--eval-labels", args->evalLabels, "integer labels [N] (.npy) for --eval-data")->type_name("Y.npy");
  cmd->add_option("--fail-if", args->failIf,
                  "CI gates: exit with code 5 when any clause holds, e.g. \"size>0.3x, latency>0.8x, "
                  "top1-agreement<99%, accuracy-drop>1pt\" (metrics: size, params, macs, latency, max-abs-error, "
                  "cosine, top1-agreement, accuracy, accuracy-drop)")
      ->type_name("GATES");
  cmd->add_flag("--no-measure", args->noMeasure, "skip the runtime measurements (latency, agreement, accuracy)");
  args->load.add(*cmd);
  args->passFlags.add(*cmd);
  cmd->footer(
      "Pass flags (--quantize, --prune, --hash-embeddings, each with --<flag>-<option>) build the\n"
      "pipeline cleanup, fold-batchnorm, hashing, pruning, quantization, cleanup, in that order.\n"
      "Examples:\n"
      "  effdl optimize model.onnx                       # writes model.opt.onnx\n"
      "  effdl optimize model.onnx -o small.onnx --force\n"
      "  effdl optimize model.onnx --passes \"cleanup,fold-batchnorm\" --verify\n"
      "  effdl optimize model.onnx --recipe recipe.json --json > report.json\n"
      "  effdl optimize model.onnx --eval-data x.npy --eval-labels y.npy --fail-if \"size>0.5x,accuracy-drop>1pt\"");
  cmd->callback([args] {
    outputMode() = {args->json, "optimize"};
    // Everything the user typed is validated before any work starts.
    if (args->passFlags.any() && (!args->passes.empty() || !args->recipe.empty()))
      throwUsage(args->passFlags.firstGiven() + " cannot be combined with --passes or --recipe (write the pass "
                 "into the pipeline instead, e.g. prune{sparsity=0.5})");
    passes::Pipeline pipeline = args->passFlags.any()     ? args->passFlags.toPipeline()
                                : !args->recipe.empty() ? passes::loadRecipeFile(args->recipe)
                                : passes::parsePipelineSpec(args->passes.empty() ? kDefaultPipeline : args->passes);
    ir::LoadOptions loadOptions = args->load.toOptions();
    fs::path input = args->model;
    fs::path output = args->output.empty() ? defaultOutputPath(input) : fs::path(args->output);
    checkOutputPath(input, output, args->force);
    std::vector<report::Gate> gates;
    if (!args->failIf.empty()) gates = report::parseGates(args->failIf);

    std::map<std::string, int64_t> dims;
    for (const auto& [k, v] : loadOptions.dimBindings) dims[k] = v;
    MeasureOptions mo;
    mo.threads = args->threads;
    mo.iterations = args->benchIters;
    mo.fidelitySamples = args->fidelitySamples;
    mo.seed = args->seed;
    mo.dims = dims;
    mo.maxTensorBytes = loadOptions.maxTensorBytes;
    loadEvalData(args->evalData, args->evalLabels, mo);
    std::optional<eval::SampleSet> calib;
    if (!args->calib.empty()) calib.emplace(eval::SampleSet::open(args->calib, loadOptions.maxTensorBytes, args->seed, dims));

    auto model = ir::loadModel(input, loadOptions);
    report::OptimizeReport rep;
    rep.input = input.string();
    rep.output = output.string();
    rep.pipeline = pipeline.toSpec();
    // Costs are counted with symbolic dims bound (1 unless --dim says otherwise), on copies
    // loaded for that; the model the passes see keeps its symbolic dims.
    ir::LoadOptions countOptions = loadOptions;
    countOptions.defaultDimValue = 1;
    rep.before = report::summarize(*ir::loadModel(input, countOptions), input);

    passes::PassContext ctx;
    ctx.limits = loadOptions;
    ctx.seed = args->seed;
    ctx.threads = args->threads;
    ctx.calib = calib ? &*calib : nullptr;
    passes::RunOptions run;
    run.verify = args->verify;
    run.reproducerDir = output.parent_path().empty() ? fs::path(".") : output.parent_path();
    for (const auto& step : passes::runPipeline(*model, pipeline, ctx, run)) rep.passes.push_back(toRecord(step));

    ir::SaveOptions so;
    so.externalData = args->externalData == "always" ? ir::ExternalDataMode::kAlways
                      : args->externalData == "never" ? ir::ExternalDataMode::kNever
                                                      : ir::ExternalDataMode::kAuto;
    ir::saveModel(*model, output, so);
    // "After" is measured on the written file, as any consumer will load it.
    std::unique_ptr<ir::Model> written;
    try {
      written = ir::loadModel(output, countOptions);
    } catch (const Error& e) {
      std::error_code ec;
      fs::remove(output, ec);
      throwInternal(std::string("the optimized model does not load back (removed it; rerun with --verify to find "
                                "the pass): ") + e.what());
    }
    rep.after = report::summarize(*written, output);
    if (!args->noMeasure) {
      rep.measured = measureModels(*ir::loadModel(input, countOptions), *written, mo);
    }
    size_t failedGates = 0;
    for (const auto& g : report::evaluateGates(gates, rep)) {
      rep.gates.push_back({g.gate.text, g.reason, g.value, g.failed});
      failedGates += g.failed;
    }
    if (args->json) report::renderOptimizeJson(rep, std::cout);
    else report::renderOptimizeTable(rep, std::cout);
    if (failedGates > 0) {
      outputMode().resultPrinted = true;
      std::string reasons;
      for (const auto& g : rep.gates)
        if (g.failed) reasons += (reasons.empty() ? "" : "; ") + g.reason;
      throw Error(ErrorKind::kGateFailed, std::to_string(failedGates) + " of " + std::to_string(rep.gates.size()) +
                                              " --fail-if gates failed: " + reasons);
    }
  });
}

}  // namespace effdl::cli
