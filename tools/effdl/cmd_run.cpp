// `effdl run MODEL --input NAME=FILE ...`: run a model once in effdl's runtime on given inputs
// (.npy/.npz/.pb) or seeded random ones, and write or summarise the outputs.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli_common.h"
#include "commands.h"
#include "core/error.h"
#include "io/tensor_file.h"
#include "ir/onnx_import.h"
#include "runtime/random_inputs.h"
#include "runtime/session.h"

namespace fs = std::filesystem;

namespace effdl::cli {
namespace {

std::string safeFileName(const std::string& name) {
  std::string s;
  for (char c : name) s += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.') ? c : '_';
  if (s.empty() || s == "." || s == "..") s = "output";
  return s;
}

// min/max/mean of a float tensor (the summary without --output-dir).
std::string summary(const ir::Tensor& t) {
  if (t.dtype() != ir::DataType::kFloat || t.numel() == 0) return "";
  auto v = t.values<float>();
  double mn = v[0], mx = v[0], sum = 0;
  for (float x : v) {
    mn = std::min<double>(mn, x);
    mx = std::max<double>(mx, x);
    sum += x;
  }
  char buf[128];
  std::snprintf(buf, sizeof buf, "min %.6g  max %.6g  mean %.6g", mn, mx, sum / static_cast<double>(v.size()));
  return buf;
}

}  // namespace

void registerRun(CLI::App& app) {
  struct Args {
    std::string model, outputDir, saveInputs, format = "npy";
    std::vector<std::string> inputs;
    int threads = 0;
    int64_t random = -1;
    bool json = false, force = false;
    LoadFlags load;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("run", "run a model once in effdl's runtime");
  cmd->add_option("model", args->model, "ONNX model")->required();
  cmd->add_option("-i,--input", args->inputs,
                  "an input: NAME=FILE.npy|.pb, or FILE.npz (members by input name), or FILE.pb (its name field)")
      ->type_name("NAME=FILE");
  cmd->add_option("--random", args->random, "use seeded random inputs instead (symbolic dims from --dim, else 1)")
      ->type_name("SEED");
  cmd->add_option("--output-dir", args->outputDir, "write each output to DIR/NAME.npy (or .pb)");
  cmd->add_option("--save-inputs", args->saveInputs,
                  "also write the inputs used (e.g. the --random ones) as DIR/input_N.pb, named TensorProtos in\n"
                  "ONNX test-data layout, for running the same inputs elsewhere (ONNX Runtime)")
      ->type_name("DIR");
  cmd->add_option("--output-format", args->format, "npy or pb")->check(CLI::IsMember({"npy", "pb"}));
  cmd->add_flag("--force", args->force, "replace existing output files");
  cmd->add_option("--threads", args->threads, "threads (default: all cores)")->check(CLI::NonNegativeNumber);
  cmd->add_flag("--json", args->json, "machine-readable output");
  args->load.add(*cmd);
  cmd->footer(
      "Examples:\n"
      "  effdl run model.onnx --input input=x.npy --output-dir out/\n"
      "  effdl run model.onnx --input sample.npz --json\n"
      "  effdl run model.onnx --random 0 --dim batch=4");
  cmd->callback([args] {
    outputMode() = {args->json, "run"};
    ir::LoadOptions lo = args->load.toOptions();
    const uint64_t maxBytes = lo.maxTensorBytes ? lo.maxTensorBytes : ir::defaultMaxTensorBytes();
    if (args->inputs.empty() && args->random < 0) throwUsage("no inputs: pass --input NAME=FILE (or --random SEED)");
    if (!args->inputs.empty() && args->random >= 0) throwUsage("--input and --random exclude each other");
    auto model = ir::loadModel(args->model, lo);
    std::vector<std::pair<std::string, ir::Tensor>> inputs;
    if (args->random >= 0) {
      runtime::RandomInputOptions ro;
      ro.seed = static_cast<uint64_t>(args->random);
      for (const auto& [k, v] : lo.dimBindings) ro.dims[k] = v;
      inputs = runtime::makeRandomInputs(*model, ro);
    }
    for (const std::string& spec : args->inputs) {
      auto eq = spec.find('=');
      std::string name = eq == std::string::npos ? "" : spec.substr(0, eq);
      fs::path file = eq == std::string::npos ? spec : spec.substr(eq + 1);
      if (!fs::exists(file)) throwIo(file.string() + ": no such file");
      auto tensors = io::readTensorFile(file, maxBytes);
      if (!name.empty()) {
        if (tensors.size() != 1) throwUsage(spec + ": NAME=FILE needs a file with one tensor (an .npz maps members by name)");
        inputs.emplace_back(name, std::move(tensors[0].tensor));
      } else {
        for (auto& t : tensors) {
          if (t.name.empty()) throwUsage(file.string() + ": the tensor has no name; write NAME=" + file.string());
          inputs.emplace_back(t.name, std::move(t.tensor));
        }
      }
    }
    for (const std::string& dir : {args->outputDir, args->saveInputs}) {
      std::error_code ec;
      if (!dir.empty() && !fs::is_directory(dir, ec)) throwIo(dir + ": output folder does not exist");
    }
    runtime::Session session(*model, runtime::SessionOptions{args->threads});
    std::vector<runtime::NamedInput> named;
    for (const auto& [n, t] : inputs) named.push_back({n, &t});
    auto outputs = session.run(named);
    if (!args->saveInputs.empty()) {
      // In the session's input order, so that input_N.pb matches the model's N-th input.
      for (size_t i = 0; i < session.inputs().size(); ++i) {
        const std::string& name = session.inputs()[i]->name();
        auto it = std::find_if(inputs.begin(), inputs.end(), [&](const auto& p) { return p.first == name; });
        fs::path p = fs::path(args->saveInputs) / ("input_" + std::to_string(i) + ".pb");
        if (fs::exists(p) && !args->force) throwUsage(p.string() + ": already exists; pass --force to replace it");
        io::writeTensorFile(p, {{name, it->second}});
      }
    }

    nlohmann::json j;
    j["schema_version"] = 1;
    j["command"] = "run";
    j["ok"] = true;
    j["outputs"] = nlohmann::json::array();
    for (size_t i = 0; i < outputs.size(); ++i) {
      const std::string& name = session.outputs()[i]->name();
      const ir::Tensor& t = outputs[i];
      nlohmann::json oj{{"name", name}, {"dtype", std::string(ir::dtypeName(t.dtype()))}, {"shape", t.dims()}};
      if (!args->outputDir.empty()) {
        fs::path p = fs::path(args->outputDir) / (safeFileName(name) + "." + args->format);
        if (fs::exists(p) && !args->force) throwUsage(p.string() + ": already exists; pass --force to replace it");
        io::writeTensorFile(p, {{name, t}});
        oj["file"] = p.string();
      }
      j["outputs"].push_back(oj);
      if (!args->json) {
        std::cout << name << "  " << ir::dtypeName(t.dtype()) << "[";
        for (size_t d = 0; d < t.dims().size(); ++d) std::cout << (d ? "," : "") << t.dims()[d];
        std::cout << "]  " << summary(t);
        if (oj.contains("file")) std::cout << "  -> " << oj["file"].get<std::string>();
        std::cout << "\n";
      }
    }
    if (args->json) std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  });
}

}  // namespace effdl::cli
