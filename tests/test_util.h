// Helpers shared by the tests: models from ONNX text, golden comparison, temp folders, and
// running the effdl binary.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "ir/graph.h"
#include "passes/pass.h"

namespace effdl::test {

// Parses ONNX text syntax into a model (runs the loader's checks; throws effdl::Error).
std::unique_ptr<ir::Model> parse(const std::string& text);
// The model printed in ONNX text syntax (what golden tests compare).
std::string print(const ir::Model& m);
// `expected` parsed and printed, so that formatting differences do not matter.
std::string canonical(const std::string& expectedText);

// Runs a pipeline spec ("pass{k=v},...", as on the command line) on the model in place and
// returns the last pass's result (counters and decline reasons).
passes::PassResult runPass(ir::Model& m, const std::string& passSpec);

// The kind of effdl::Error that f throws (kInternal when it throws none); the message too.
ErrorKind kindOf(const std::function<void()>& f, std::string* message = nullptr);
// Expects f to throw an effdl::Error of `kind` whose message contains `part`.
void expectError(const std::function<void()>& f, ErrorKind kind, const std::string& part);

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

// n uniform floats in [lo, hi) from rng, as an ONNX text list "{a, b, ...}" (weights in tests).
std::string floatList(std::mt19937& rng, int64_t n, float lo, float hi);
// A float32 tensor of `dims` with standard-normal values, the same for the same seed.
ir::Tensor randomInput(std::vector<int64_t> dims, unsigned seed);

std::filesystem::path sourceDir();
void writeFile(const std::filesystem::path& p, const std::string& bytes);
std::string readFile(const std::filesystem::path& p);

}  // namespace effdl::test
