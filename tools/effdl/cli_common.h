// Options and helpers shared by the subcommands: model-loading flags, output paths, JSON mode.
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "ir/load_options.h"

namespace effdl::cli {

// Flags every command that reads a model takes.
struct LoadFlags {
  std::vector<std::string> dims;  // name=value
  std::string allowDataRoot;
  std::string maxTensorBytes;  // e.g. 4G, 512M, 1000000
  void add(CLI::App& cmd);
  ir::LoadOptions toOptions() const;
};

// Whether this run writes machine output (--json). Errors then also go to stdout as JSON.
struct OutputMode {
  bool json = false;
  std::string command;
  // The command already printed its JSON result (with "ok": false): an error then only goes to
  // stderr, so stdout stays one JSON document.
  bool resultPrinted = false;
};
OutputMode& outputMode();

// "model.onnx" → "model.opt.onnx", beside the input.
std::filesystem::path defaultOutputPath(const std::filesystem::path& input);
// Refuses an output that is the input (or one of its names) and an existing output without
// --force. Throws kUsage; kIo when the output's folder does not exist, unless the caller creates it.
void checkOutputPath(const std::filesystem::path& input, const std::filesystem::path& output, bool force,
                     bool folderMayBeCreated = false);

// Whether stdout is a terminal and CI is not set (core/progress.h: ciEnvironment).
bool interactive();
// --color auto|always|never. auto: only when stdout is a terminal, CI is not set, NO_COLOR is not
// set (to anything non-empty, as no-color.org says) and TERM is not "dumb".
bool useColor(const std::string& mode);
// Adds `--color WHEN` to a command that prints tables.
void addColorOption(CLI::App& cmd, std::string& mode);

}  // namespace effdl::cli
