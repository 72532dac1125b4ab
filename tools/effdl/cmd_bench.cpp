// `effdl bench MODEL`: latency of the model in effdl's runtime on seeded random inputs.
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli_common.h"
#include "commands.h"
#include "core/progress.h"
#include "ir/onnx_import.h"
#include "report/table.h"
#include "runtime/benchmark.h"

namespace effdl::cli {

void registerBench(CLI::App& app) {
  struct Args {
    std::string model;
    int threads = 0, warmup = 5, iters = 50;
    uint64_t seed = 0;
    bool json = false;
    LoadFlags load;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("bench", "measure a model's latency in effdl's runtime");
  cmd->add_option("model", args->model, "ONNX model")->required();
  cmd->add_option("--threads", args->threads, "threads (default: all cores)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--warmup", args->warmup, "untimed runs first")->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--iters", args->iters, "timed runs")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--seed", args->seed, "seed of the random inputs")->capture_default_str();
  cmd->add_flag("--json", args->json, "machine-readable output");
  args->load.add(*cmd);
  cmd->footer(
      "Inputs are seeded random values of each input's dtype; integer inputs that index a Gather stay\n"
      "within its table. Symbolic dims are 1 unless given with --dim.\n"
      "Examples:\n"
      "  effdl bench model.onnx\n"
      "  effdl bench model.onnx --threads 1 --iters 200 --dim batch=8 --json");
  cmd->callback([args] {
    outputMode() = {args->json, "bench"};
    ir::LoadOptions lo = args->load.toOptions();
    auto model = ir::loadModel(args->model, lo);
    runtime::BenchOptions bo;
    bo.threads = args->threads;
    bo.warmup = args->warmup;
    bo.iterations = args->iters;
    bo.seed = args->seed;
    for (const auto& [k, v] : lo.dimBindings) bo.dims[k] = v;
    auto progress = progressReporter();
    bo.progress = [&](size_t done, size_t total) { progress("bench", done, total); };
    auto r = runtime::benchmark(*model, bo);
    if (args->json) {
      nlohmann::json j;
      j["schema_version"] = 1;
      j["command"] = "bench";
      j["ok"] = true;
      j["model"] = args->model;
      j["threads"] = r.threads;
      j["warmup"] = args->warmup;
      j["iterations"] = args->iters;
      j["session_build_ms"] = r.buildMs;
      j["latency_ms"] = {{"p50", r.p50Ms}, {"p90", r.p90Ms}, {"p99", r.p99Ms}, {"min", r.minMs}, {"mean", r.meanMs}};
      j["throughput_per_s"] = r.throughput;
      j["peak_rss_bytes"] = r.peakRssBytes;
      j["activation_pool_bytes"] = r.activationPoolBytes;
      j["inputs"] = nlohmann::json::array();
      for (const auto& [name, dims] : r.inputShapes) j["inputs"].push_back({{"name", name}, {"shape", dims}});
      std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
      return;
    }
    auto ms = [](double v) {
      char b[32];
      if (v < 1.0) std::snprintf(b, sizeof b, "%.1f us", v * 1000.0);
      else std::snprintf(b, sizeof b, "%.3f ms", v);
      return std::string(b);
    };
    std::cout << args->model << "  (" << r.threads << " thread" << (r.threads == 1 ? "" : "s") << ", " << args->iters
              << " runs after " << args->warmup << " warm-up)\n";
    std::cout << "  latency    p50 " << ms(r.p50Ms) << "   p90 " << ms(r.p90Ms) << "   p99 " << ms(r.p99Ms)
              << "   min " << ms(r.minMs) << "\n";
    char buf[96];
    std::snprintf(buf, sizeof buf, "  throughput %.1f inferences/s\n", r.throughput);
    std::cout << buf << "  session build " << ms(r.buildMs) << "\n";
    std::cout << "  peak RSS " << report::formatBytes(r.peakRssBytes) << ", activation buffers "
              << report::formatBytes(r.activationPoolBytes) << "\n";
  });
}

}  // namespace effdl::cli
