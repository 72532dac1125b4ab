// Helpers shared by the tests: models from ONNX text, golden comparison, temp folders, and
// running the effdl binary.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "ir/graph.h"

namespace effdl::test {

// Parses ONNX text syntax into a model (runs the loader's checks; throws effdl::Error).
std::unique_ptr<ir::Model> parse(const std::string& text);
// The model printed in ONNX text syntax (what golden tests compare).
std::string print(const ir::Model& m);
// `expected` parsed and printed, so that formatting differences do not matter.
std::string canonical(const std::string& expectedText);

// Runs the pass (with options "k=v,..." as on the command line) on the model in place.
void runPass(ir::Model& m, const std::string& passSpec);

// A fresh, empty folder removed at destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

struct CommandResult {
  int exitCode = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};
// Runs the effdl binary with `args` (a shell-quoted string).
CommandResult runEffdl(const std::string& args);
// Runs any shell command.
CommandResult runCommand(const std::string& command);

std::filesystem::path sourceDir();
void writeFile(const std::filesystem::path& p, const std::string& bytes);
std::string readFile(const std::filesystem::path& p);

}  // namespace effdl::test
