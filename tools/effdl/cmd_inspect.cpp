// `effdl inspect MODEL`: interface, opsets, ops, parameters, FLOPs/MACs and activation memory.
#include <iostream>

#include "analysis/model_stats.h"
#include "cli_common.h"
#include "commands.h"
#include "ir/onnx_import.h"
#include "report/inspect_report.h"

namespace fs = std::filesystem;

namespace effdl::cli {

void registerInspect(CLI::App& app) {
  struct Args {
    std::string model;
    bool json = false;
    std::string color = "auto";
    size_t top = 20;
    LoadFlags load;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("inspect", "show a model's inputs, ops, parameters, FLOPs and memory");
  cmd->add_option("model", args->model, "ONNX model")->required();
  cmd->add_flag("--json", args->json, "machine-readable output (all nodes' costs included)");
  cmd->add_option("--top", args->top, "how many of the costliest nodes the table lists")->capture_default_str();
  addColorOption(*cmd, args->color);
  args->load.add(*cmd);
  cmd->footer(
      "Examples:\n"
      "  effdl inspect model.onnx\n"
      "  effdl inspect model.onnx --dim batch=8       # symbolic dims count as 1 unless bound\n"
      "  effdl inspect model.onnx --json | jq .compute.macs");
  cmd->callback([args] {
    outputMode() = {args->json, "inspect"};
    ir::LoadOptions lo = args->load.toOptions();
    lo.defaultDimValue = 1;  // symbolic dims not given with --dim count as 1
    auto model = ir::loadModel(args->model, lo);
    report::InspectReport r;
    r.path = args->model;
    std::error_code ec;
    r.fileBytes = fs::file_size(args->model, ec);
    r.stats = analysis::computeModelStats(*model);
    r.boundDims = model->boundDims;
    r.perNodeLimit = args->top;
    r.missingKernels = runtime::missingKernels(*model);
    if (args->json) report::renderInspectJson(r, std::cout);
    else report::renderInspectText(r, std::cout, useColor(args->color));
  });
}

}  // namespace effdl::cli
