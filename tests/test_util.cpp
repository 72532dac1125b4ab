// Shared test helpers (see test_util.h).
#include "test_util.h"

#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>

#include "ir/onnx_import.h"
#include "ir/printer.h"
#include "passes/pipeline.h"

namespace fs = std::filesystem;

namespace effdl::test {

std::unique_ptr<ir::Model> parse(const std::string& text) { return ir::loadModelFromText(text); }

std::string print(const ir::Model& m) { return ir::printModel(m); }

std::string canonical(const std::string& expectedText) { return print(*parse(expectedText)); }

std::string floatList(std::mt19937& rng, int64_t n, float lo, float hi) {
  std::uniform_real_distribution<float> d(lo, hi);
  std::string s = "{";
  for (int64_t i = 0; i < n; ++i) s += (i ? ", " : "") + std::to_string(d(rng));
  return s + "}";
}

ir::Tensor randomInput(std::vector<int64_t> dims, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.f, 1.f);
  int64_t n = 1;
  for (auto v : dims) n *= v;
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& e : v) e = d(rng);
  return ir::Tensor::fromVector(ir::DataType::kFloat, std::move(dims), v);
}

passes::PassResult runPass(ir::Model& m, const std::string& passSpec) {
  auto pipeline = passes::parsePipelineSpec(passSpec);
  passes::PassContext ctx;
  auto reports = passes::runPipeline(m, pipeline, ctx);
  return reports.empty() ? passes::PassResult{} : reports.back().result;
}

ErrorKind kindOf(const std::function<void()>& f, std::string* message) {
  try {
    f();
  } catch (const Error& e) {
    if (message) *message = e.what();
    return e.kind();
  }
  return ErrorKind::kInternal;
}

void expectError(const std::function<void()>& f, ErrorKind kind, const std::string& part) {
  try {
    f();
    ADD_FAILURE() << "no error; expected one containing: " << part;
  } catch (const Error& e) {
    EXPECT_EQ(kindName(e.kind()), kindName(kind)) << e.what();
    EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << "message: " << e.what() << "\nexpected: " << part;
  }
}

TempDir::TempDir() {
  std::random_device rd;
  path_ = fs::temp_directory_path() / ("effdl-test-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
  fs::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  // Tests may leave read-only folders behind; make them writable so they can be removed.
  for (auto it = fs::recursive_directory_iterator(path_, ec); it != fs::recursive_directory_iterator(); ++it)
    fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ec);
  fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ec);
  fs::remove_all(path_, ec);
}

CommandResult runCommand(const std::string& command) {
  TempDir tmp;
  std::string full = command + " >" + (tmp / "out").string() + " 2>" + (tmp / "err").string();
  int status = std::system(full.c_str());
  CommandResult r;
  r.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = readFile(tmp / "out");
  r.err = readFile(tmp / "err");
  return r;
}

CommandResult runEffdl(const std::string& args) { return runCommand(std::string(EFFDL_BINARY) + " " + args); }

fs::path sourceDir() { return fs::path(EFFDL_SOURCE_DIR); }

void writeFile(const fs::path& p, const std::string& bytes) {
  std::ofstream f(p, std::ios::binary);
  f << bytes;
}

std::string readFile(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace effdl::test
