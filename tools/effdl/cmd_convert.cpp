// `effdl convert MODEL -o OUT`: load and save with no passes — a validated copy, optionally with
// the weights moved to (or back from) an external-data file.
#include <iostream>
#include <nlohmann/json.hpp>

#include "analysis/parameters.h"
#include "cli_common.h"
#include "commands.h"
#include "core/error.h"
#include "ir/onnx_export.h"
#include "ir/onnx_import.h"

namespace fs = std::filesystem;

namespace effdl::cli {

void registerConvert(CLI::App& app) {
  struct Args {
    std::string model, output;
    bool force = false, json = false;
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
  cmd->add_flag("--json", args->json, "print what was written as JSON (docs/convert.schema.json)");
  args->load.add(*cmd);
  cmd->footer(
      "Examples:\n"
      "  effdl convert model.onnx -o copy.onnx\n"
      "  effdl convert model.onnx -o copy.onnx --json\n"
      "  effdl convert big.onnx -o out/big.onnx --external-data always");
  cmd->callback([args] {
    outputMode() = {args->json, "convert"};
    checkOutputPath(args->model, args->output, args->force);
    auto model = ir::loadModel(args->model, args->load.toOptions());
    ir::SaveOptions so;
    so.externalData = args->externalData == "always" ? ir::ExternalDataMode::kAlways
                      : args->externalData == "never" ? ir::ExternalDataMode::kNever
                                                      : ir::ExternalDataMode::kAuto;
    ir::saveModel(*model, args->output, so);
    if (!args->json) return;
    // The sizes as written, read back from the file (and its external data) like any consumer.
    auto written = ir::loadModel(args->output, args->load.toOptions());
    const auto params = analysis::computeParameterStats(*written);
    std::error_code ec;
    const uint64_t onDisk = fs::file_size(args->output, ec);
    int64_t nodes = 0;
    ir::forEachNodeRecursive(static_cast<const ir::Graph&>(*written->graph), [&](const ir::Node&) { ++nodes; });
    nlohmann::json j;
    j["schema_version"] = 1;
    j["command"] = "convert";
    j["ok"] = true;
    j["input"] = args->model;
    j["output"] = args->output;
    j["external_data"] = args->externalData;
    j["file_bytes"] = onDisk + static_cast<uint64_t>(params.externalBytes);
    j["external_data_bytes"] = params.externalBytes;
    j["parameters"] = params.totalParams;
    j["nodes"] = nodes;
    std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  });
}

}  // namespace effdl::cli
