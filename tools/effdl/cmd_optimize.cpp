// `effdl optimize MODEL [-o OUT]` or `effdl optimize MODELS... --out-dir OUT`: the flags, validated
// once into an OptimizeJob, then one model (optimize_job.cpp) or a batch (optimize_batch.cpp).
#include <iostream>

#include "cli_common.h"
#include "commands.h"
#include "core/error.h"
#include "pass_flags.h"
#include "optimize_batch.h"
#include "optimize_job.h"
#include "report_files.h"
#include "variants.h"

namespace fs = std::filesystem;

namespace effdl::cli {
namespace {

// The fixed order: cleanup first and last, the rewrites that change values in between.
constexpr const char* kDefaultPipeline = "cleanup,fold-batchnorm,cleanup";

}  // namespace

void registerOptimize(CLI::App& app) {
  struct Args {
    std::vector<std::string> models;
    std::string outDir;
    int jobs = 1;
    std::string output, passes, recipe, externalData = "auto", calib, decisions;
    bool force = false, verify = false, json = false, noMeasure = false;
    int threads = 0, benchIters = 20, fidelitySamples = 8;
    uint64_t seed = 0;
    std::string evalData, evalLabels, failIf, variants, select, color = "auto";
    std::vector<std::string> reports;
    LoadFlags load;
    PassFlags passFlags;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("optimize", "run a pipeline of passes and report the model before and after");
  cmd->add_option("models", args->models, "input ONNX model(s), or folders of them (a batch)")->required();
  auto* outputOpt =
      cmd->add_option("-o,--output", args->output, "output model (default: MODEL.opt.onnx beside the input)");
  cmd->add_option("--out-dir", args->outDir,
                  "batch: write each model to DIR/<its path relative to the folder given, or its file name>")
      ->excludes(outputOpt)
      ->type_name("DIR");
  cmd->add_option("--jobs", args->jobs, "batch: models optimized at once, each in its own process")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
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
  cmd->add_option("--decisions", args->decisions,
                  "replay the timing-dependent choices (--quantize-latency-guard) recorded in the JSON report of an "
                  "earlier run: the same bytes again, without timing")
      ->type_name("REPORT.json");
  cmd->add_option("--seed", args->seed, "seed for random calibration/fidelity inputs and seeded passes")
      ->capture_default_str();
  cmd->add_option("--threads", args->threads, "threads for passes, calibration and measurements (default: all cores)")
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
  cmd->add_option("--report", args->reports,
                  "also write the report to FILE: .json (docs/report.schema.json), .md (Markdown for CI summaries) "
                  "or .html (one self-contained page with SVG charts); repeatable")
      ->type_name("FILE");
  cmd->add_option("--variants", args->variants,
                  "build and measure several variants, ';'-separated, items '+'-joined: e.g. "
                  "\"baseline;int8;prune=0.5;prune=0.5+int8\"; marks the Pareto-optimal ones")
      ->type_name("LIST");
  cmd->add_option("--select", args->select,
                  "with --variants: write the variant that minimizes size or latency within a quality drop, "
                  "e.g. \"max-drop=1%,minimize=latency\"")
      ->type_name("RULE");
  cmd->add_flag("--no-measure", args->noMeasure, "skip the runtime measurements (latency, agreement, accuracy)");
  addColorOption(*cmd, args->color);
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
      "  effdl optimize model.onnx --eval-data x.npy --eval-labels y.npy --fail-if \"size>0.5x,accuracy-drop>1pt\"\n"
      "  effdl optimize a.onnx b.onnx models/ --out-dir out/ --jobs 2   # a batch; exit code 6 if any failed\n"
      "  effdl optimize model.onnx --variants \"baseline;int8;prune=0.5+int8\" --select \"max-drop=1%,minimize=size\"\n"
      "  effdl optimize model.onnx --report report.html --report report.md");
  cmd->callback([args] {
    outputMode() = {args->json, "optimize"};
    // Everything the user typed is validated before any work starts.
    if (args->passFlags.any() && (!args->passes.empty() || !args->recipe.empty()))
      throwUsage(args->passFlags.firstGiven() + " cannot be combined with --passes or --recipe (write the pass "
                 "into the pipeline instead, e.g. prune{sparsity=0.5})");
    passes::Pipeline pipeline = args->passFlags.any()     ? args->passFlags.toPipeline()
                                : !args->recipe.empty() ? passes::loadRecipeFile(args->recipe)
                                : passes::parsePipelineSpec(args->passes.empty() ? kDefaultPipeline : args->passes);
    OptimizeJob job;
    job.pipeline = std::move(pipeline);
    job.loadOptions = args->load.toOptions();
    job.saveOptions.externalData = args->externalData == "always" ? ir::ExternalDataMode::kAlways
                                   : args->externalData == "never" ? ir::ExternalDataMode::kNever
                                                                   : ir::ExternalDataMode::kAuto;
    if (!args->failIf.empty()) job.gates = report::parseGates(args->failIf);
    job.verify = args->verify;
    job.seed = args->seed;
    job.threads = args->threads;
    job.decisions = args->decisions;
    if (!job.decisions.empty()) {
      bool timed = false;
      for (const auto& st : job.pipeline.steps)
        timed = timed || (st.info->name == "quantize" && st.options.getBool("latency-guard"));
      if (!timed)
        throwUsage("--decisions: no pass in the pipeline makes timing-dependent choices (add --quantize-latency-guard)");
    }
    job.measureEnabled = !args->noMeasure;
    std::map<std::string, int64_t> dims;
    for (const auto& [k, v] : job.loadOptions.dimBindings) dims[k] = v;
    MeasureOptions& mo = job.measure;
    mo.threads = args->threads;
    mo.iterations = args->benchIters;
    mo.fidelitySamples = args->fidelitySamples;
    mo.seed = args->seed;
    mo.dims = dims;
    mo.maxTensorBytes = job.loadOptions.maxTensorBytes;
    loadEvalData(args->evalData, args->evalLabels, mo);
    if (!args->calib.empty())
      job.calib.emplace(eval::SampleSet::open(args->calib, job.loadOptions.maxTensorBytes, args->seed, dims));

    std::vector<VariantSpec> variants;
    std::optional<SelectRule> selectRule;
    if (!args->variants.empty()) {
      if (args->passFlags.any() || !args->passes.empty() || !args->recipe.empty())
        throwUsage("--variants sets the pipelines itself; drop the pass flags, --passes and --recipe");
      if (args->noMeasure) throwUsage("--variants compares measurements; drop --no-measure");
      variants = parseVariants(args->variants, job.calib.has_value());
    }
    if (!args->select.empty()) {
      if (variants.empty()) throwUsage("--select chooses among --variants");
      selectRule = parseSelect(args->select);
    }
    for (const auto& f : args->reports) {
      auto ext = fs::path(f).extension();
      if (ext != ".json" && ext != ".md" && ext != ".html")
        throwUsage("--report " + f + ": the file name must end in .json, .md or .html");
    }

    const bool batch = !args->outDir.empty() || args->models.size() > 1 || fs::is_directory(args->models[0]);
    if (batch) {
      if (args->outDir.empty()) throwUsage("several models (or a folder) need --out-dir DIR");
      if (!variants.empty() || !args->reports.empty())
        throwUsage("--variants and --report work on one model; a batch prints its summary (--json for all reports)");
      auto items = planBatch(args->models, args->outDir, args->force);
      size_t failed = runBatch(job, items, args->jobs, args->json, useColor(args->color), std::cout);
      if (failed > 0) {
        outputMode().resultPrinted = true;
        throw Error(ErrorKind::kBatchPartial, std::to_string(failed) + " of " + std::to_string(items.size()) +
                                                  " models failed (see the summary)");
      }
      return;
    }
    fs::path input = args->models[0];
    fs::path output = args->output.empty() ? defaultOutputPath(input) : fs::path(args->output);
    checkOutputPath(input, output, args->force);
    report::OptimizeReport rep;
    bool selected = true;
    if (variants.empty()) {
      rep = optimizeModel(job, input, output);
    } else {
      rep.input = input.string();
      rep.output = selectRule ? output.string() : "(none: --variants without --select writes no model)";
      selected = runVariants(job, variants, selectRule ? &*selectRule : nullptr, input, output, rep);
      if (selected && selectRule)
        for (const auto& g : report::evaluateGates(job.gates, rep)) rep.gates.push_back({g.gate.text, g.reason, g.value, g.failed});
    }
    rep.environment = currentEnvironment(job, rep.measured);
    for (const auto& f : args->reports) writeReportFile(rep, f);
    if (args->json) report::renderOptimizeJson(rep, std::cout);
    else report::renderOptimizeTable(rep, std::cout, useColor(args->color));
    if (!selected) {
      outputMode().resultPrinted = true;
      throw Error(ErrorKind::kGateFailed, rep.selection);
    }
    std::string gates = failedGatesMessage(rep);
    if (!gates.empty()) {
      outputMode().resultPrinted = true;
      throw Error(ErrorKind::kGateFailed, gates);
    }
  });
}

}  // namespace effdl::cli
