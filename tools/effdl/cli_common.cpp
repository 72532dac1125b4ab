// Shared CLI helpers (see cli_common.h).
#include "cli_common.h"

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/progress.h"
#include "runtime/limits.h"

namespace fs = std::filesystem;

namespace effdl::cli {
namespace {

uint64_t parseByteSize(const std::string& s) {
  if (s.empty()) throwUsage("--max-tensor-bytes: empty value");
  size_t pos = 0;
  double v = 0;
  try {
    v = std::stod(s, &pos);
  } catch (...) {
    throwUsage("--max-tensor-bytes: '" + s + "' is not a size (e.g. 4G, 512M, 1000000)");
  }
  std::string unit = s.substr(pos);
  double mult = 1;
  if (unit == "" || unit == "B") mult = 1;
  else if (unit == "K" || unit == "KiB") mult = 1024.0;
  else if (unit == "M" || unit == "MiB") mult = 1024.0 * 1024;
  else if (unit == "G" || unit == "GiB") mult = 1024.0 * 1024 * 1024;
  else throwUsage("--max-tensor-bytes: unknown unit '" + unit + "' (use K, M or G)");
  if (v <= 0) throwUsage("--max-tensor-bytes: must be positive");
  return static_cast<uint64_t>(v * mult);
}

}  // namespace

void LoadFlags::add(CLI::App& cmd) {
  cmd.add_option("--dim", dims, "bind a symbolic input dim, e.g. --dim batch=8 (default: unbound dims count as unknown)")
      ->type_name("NAME=VALUE");
  cmd.add_option("--allow-data-root", allowDataRoot,
                 "also accept external data that resolves (through symlinks) inside DIR, e.g. a Hugging Face cache")
      ->type_name("DIR");
  cmd.add_option("--max-tensor-bytes", maxTensorBytes,
                 "largest tensor effdl materialises itself, loading or running (default: half the RAM when loading, 16 GiB when running)")
      ->type_name("SIZE");
}

ir::LoadOptions LoadFlags::toOptions() const {
  ir::LoadOptions o;
  for (const auto& d : dims) {
    auto eq = d.find('=');
    if (eq == std::string::npos || eq == 0) throwUsage("--dim '" + d + "': expected NAME=VALUE");
    std::string name = d.substr(0, eq), value = d.substr(eq + 1);
    size_t pos = 0;
    long long v = -1;
    try {
      v = std::stoll(value, &pos);
    } catch (...) {
      pos = 0;
    }
    if (pos == 0 || pos != value.size() || v < 0) throwUsage("--dim '" + d + "': VALUE must be a non-negative integer");
    o.dimBindings.emplace_back(name, v);
  }
  if (!allowDataRoot.empty()) {
    std::error_code ec;
    if (!fs::is_directory(allowDataRoot, ec)) throwUsage("--allow-data-root '" + allowDataRoot + "': not a folder");
    o.allowDataRoot = fs::path(allowDataRoot);
  }
  o.maxTensorBytes = maxTensorBytes.empty() ? ir::defaultMaxTensorBytes() : parseByteSize(maxTensorBytes);
  // The same bound for what the runtime allocates (run, bench, constant folding): one flag.
  if (!maxTensorBytes.empty())
    runtime::setRuntimeMaxTensorBytes(static_cast<int64_t>(std::min<uint64_t>(o.maxTensorBytes, INT64_MAX)));
  return o;
}

OutputMode& outputMode() {
  static OutputMode m;
  return m;
}

fs::path defaultOutputPath(const fs::path& input) {
  fs::path out = input;
  if (input.extension() == ".onnx") out.replace_extension(".opt.onnx");
  else out += ".opt.onnx";
  return out;
}

void checkOutputPath(const fs::path& input, const fs::path& output, bool force, bool folderMayBeCreated) {
  std::error_code ec;
  if (output.empty()) throwUsage("empty output path");
  if (fs::weakly_canonical(input, ec) == fs::weakly_canonical(output, ec) || sameFile(input, output))
    throwUsage(output.string() + ": the output would overwrite the input model; choose another -o");
  if (fs::is_directory(output, ec)) throwUsage(output.string() + ": is a folder; -o takes a file name");
  if (fs::exists(fs::symlink_status(output, ec)) && !force)
    throwUsage(output.string() + ": already exists; pass --force to replace it");
  fs::path dir = output.parent_path();
  if (!folderMayBeCreated && !dir.empty() && !fs::is_directory(dir, ec)) throwIo(output.string() + ": folder '" + dir.string() + "' does not exist");
}

bool interactive() { return ::isatty(STDOUT_FILENO) && !effdl::ciEnvironment(); }

bool useColor(const std::string& mode) {
  if (mode == "always") return true;
  if (mode == "never") return false;
  const char* noColor = std::getenv("NO_COLOR");
  const char* term = std::getenv("TERM");
  return interactive() && !(noColor && *noColor) && !(term && std::string(term) == "dumb");
}

void addColorOption(CLI::App& cmd, std::string& mode) {
  cmd.add_option("--color", mode,
                 "colour better/worse cells: auto (a terminal without NO_COLOR, CI or TERM=dumb), always, never")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->type_name("WHEN");
}

}  // namespace effdl::cli
