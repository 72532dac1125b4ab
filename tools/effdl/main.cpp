// effdl's entry point: parses the command line, runs one subcommand, and turns every error into
// one line on stderr (and a JSON error object with --json) and the documented exit code.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli_common.h"
#include "commands.h"
#include "pass_flags.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/log.h"
#include "core/progress.h"
#include "ir/load_options.h"
#include "omp_wait_policy.h"

namespace {

std::string versionText() {
  const auto& v = effdl::ir::supportedVersions();
  return "effdl " EFFDL_VERSION " (ONNX IR <= " + std::to_string(v.maxIrVersion) + ", opset 1.." +
         std::to_string(v.maxDefaultOpset) + ", ai.onnx.ml <= " + std::to_string(v.maxMlOpset) + "; libonnx 1.12)";
}

int fail(effdl::ErrorKind kind, const std::string& message) {
  std::cerr << "effdl: " << message << "\n";
  const auto& mode = effdl::cli::outputMode();
  if (mode.json && !mode.resultPrinted) {
    nlohmann::json j;
    j["schema_version"] = 1;
    if (!mode.command.empty()) j["command"] = mode.command;
    j["ok"] = false;
    j["error"] = {{"kind", std::string(effdl::kindName(kind))},
                  {"message", message},
                  {"exit_code", effdl::exitCode(kind)}};
    std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  }
  return effdl::exitCode(kind);
}

}  // namespace

int main(int argc, char** argv) {
  effdl::cli::ensureShortOmpSpin(argv);
  effdl::installSignalCleanup();
  CLI::App app{"effdl: make ONNX models smaller and faster, and measure it."};
  app.set_version_flag("--version", versionText());
  app.require_subcommand(1);
  app.fallthrough();  // -v/-q also after the subcommand
  app.footer(
      "Examples:\n"
      "  effdl inspect model.onnx\n"
      "  effdl optimize model.onnx -o model.opt.onnx\n"
      "  effdl optimize model.onnx --passes cleanup,fold-batchnorm --verify --json\n"
      "  effdl run model.onnx --input input=x.npy --output-dir out/\n"
      "  effdl bench model.onnx --threads 1\n"
      "  effdl passes\n"
      "Exit codes: 0 ok, 1 usage, 2 invalid model, 3 unsupported, 4 I/O, 5 gate failed, 6 batch partly failed,\n"
      "70 internal error.");
  bool verbose = false, quiet = false;
  app.add_flag("-v,--verbose", verbose, "log details (per-pass statistics and timing) to stderr");
  app.add_flag("-q,--quiet", quiet, "log errors only");
  app.parse_complete_callback([&] {
    effdl::setLogLevel(verbose ? effdl::LogLevel::kDebug : quiet ? effdl::LogLevel::kError : effdl::LogLevel::kWarn);
    if (verbose) effdl::setLogLevel(effdl::LogLevel::kDebug);
    effdl::setProgressMode(effdl::detectProgressMode(quiet && !verbose));
  });
  effdl::cli::registerInspect(app);
  effdl::cli::registerOptimize(app);
  effdl::cli::registerConvert(app);
  effdl::cli::registerPasses(app);
  effdl::cli::registerRun(app);
  effdl::cli::registerBench(app);
  try {
    app.name(argv[0]);  // what parse(argc, argv) would take for usage lines
    std::vector<std::string> args(argv + 1, argv + argc);
    effdl::cli::normalizePassSwitches(args);
    std::reverse(args.begin(), args.end());  // CLI11 takes them last first
    app.parse(args);
    return 0;
  } catch (const CLI::Success& e) {
    // --help (of the app or a subcommand) and --version.
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // CLI11's own codes are >= 100; every parse problem is a usage error here. It comes before
    // any command's callback, so --json and the command are read from argv for the JSON error.
    auto& mode = effdl::cli::outputMode();
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      if (a == "--json") mode.json = true;
      if (mode.command.empty())
        for (const auto* sub : app.get_subcommands(std::function<bool(CLI::App*)>()))
          if (sub->get_name() == a) mode.command = a;
    }
    return fail(effdl::ErrorKind::kUsage, std::string(e.what()) + " (see effdl --help)");
  } catch (const effdl::Error& e) {
    return fail(e.kind(), e.what());
  } catch (const std::bad_alloc&) {
    return fail(effdl::ErrorKind::kInternal, "out of memory");
  } catch (const std::exception& e) {
    return fail(effdl::ErrorKind::kInternal, std::string("internal error: ") + e.what());
  }
}
