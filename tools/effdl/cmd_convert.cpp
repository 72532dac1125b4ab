// `effdl convert MODEL -o OUT`: load and save with no passes — a validated copy, optionally with
// the weights moved to (or back from) an external-data file.
#include <iostream>

#include "cli_common.h"
#include "commands.h"
#include "core/error.h"
#include "ir/onnx_export.h"
#include "ir/onnx_import.h"

namespace effdl::cli {

void registerConvert(CLI::App& app) {
  struct Args {
    std::string model, output;
    bool force = false;
    std::string externalData = "auto";
    LoadFlags load;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("convert", "load, validate and save a model unchanged (optionally with external data)");
  cmd->add_option("model", args->model, "input ONNX model")->required();
  cmd->add_option("-o,--output", args->output, "output model file")->required();
  cmd->add_flag("--force", args->force, "replace an existing output file");
  cmd->add_option("--external-data", args->externalData,
                  "auto: external data only above 2 GiB; always: weights to OUT.data; never: all inline")
      ->check(CLI::IsMember({"auto", "always", "never"}));
  args->load.add(*cmd);
  cmd->footer(
      "Examples:\n"
      "  effdl convert model.onnx -o copy.onnx\n"
      "  effdl convert big.onnx -o out/big.onnx --external-data always");
  cmd->callback([args] {
    checkOutputPath(args->model, args->output, args->force);
    auto model = ir::loadModel(args->model, args->load.toOptions());
    ir::SaveOptions so;
    so.externalData = args->externalData == "always" ? ir::ExternalDataMode::kAlways
                      : args->externalData == "never" ? ir::ExternalDataMode::kNever
                                                      : ir::ExternalDataMode::kAuto;
    ir::saveModel(*model, args->output, so);
  });
}

}  // namespace effdl::cli
