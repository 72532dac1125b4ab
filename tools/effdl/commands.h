// One registration function per subcommand; each adds its CLI11 subcommand and the callback
// that runs it. main.cpp calls them in order.
#pragma once

#include <CLI/CLI.hpp>

namespace effdl::cli {

void registerInspect(CLI::App& app);
void registerOptimize(CLI::App& app);
void registerConvert(CLI::App& app);
void registerPasses(CLI::App& app);
void registerBench(CLI::App& app);
void registerRun(CLI::App& app);

}  // namespace effdl::cli
