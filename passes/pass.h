// The Pass interface. A pass rewrites a model in place and returns what it did; its name, summary
// and typed options live in the registry (passes/registry.cpp), which the CLI, `effdl passes` and
// the recipe reader all read.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ir/graph.h"
#include "ir/load_options.h"

namespace effdl::eval {
class SampleSet;
}

namespace effdl::passes {

enum class OptionType { kBool, kInt, kFloat, kString, kEnum, kStringList };

struct OptionSpec {
  std::string name;  // kebab-case, as written on the command line and in recipes
  OptionType type;
  std::string defaultValue;
  std::string help;
  std::vector<std::string> choices;  // kEnum
};

// Option values of one pass instance, validated against its specs when the pipeline is built.
class PassOptions {
 public:
  PassOptions() = default;
  PassOptions(const std::vector<OptionSpec>* specs, std::map<std::string, std::string> values)
      : specs_(specs), values_(std::move(values)) {}
  bool getBool(const std::string& name) const;
  int64_t getInt(const std::string& name) const;
  double getFloat(const std::string& name) const;
  std::string getString(const std::string& name) const;
  std::vector<std::string> getList(const std::string& name) const;
  // Values that differ from the defaults, for logs and reproducers.
  const std::map<std::string, std::string>& explicitValues() const { return values_; }

 private:
  const std::string& raw(const std::string& name) const;
  const std::vector<OptionSpec>* specs_ = nullptr;
  std::map<std::string, std::string> values_;
};

// What a pass did, for the log and the report. Counters keep insertion order; `declined` says
// why a rewrite did not apply ("BN output has two users") and how often.
struct PassResult {
  std::vector<std::pair<std::string, int64_t>> counters;
  std::map<std::string, int64_t> declined;
  std::vector<std::string> notes;
  bool changed = false;
  // Per-layer details for the report (sparsity, SQNR, bucket loads...): one row per node or
  // tensor, numeric columns named in `layerColumns` ("sparsity", "sqnr_db").
  std::vector<std::string> layerColumns;
  std::vector<std::pair<std::string, std::vector<double>>> layers;

  void count(const std::string& key, int64_t n = 1);
  void decline(const std::string& reason, int64_t n = 1) { declined[reason] += n; }
  int64_t counter(const std::string& key) const;
  // Adds another result's counts into this one (composite passes).
  void merge(const PassResult& other);
};

struct PassContext {
  ir::LoadOptions limits;  // memory budget etc. for anything a pass materialises
  uint64_t seed = 0;
  // `--calib DIR|random:N`: the samples data-driven passes run (eval/sample_set.h; passes/common/
  // activation_tap.h runs the model over them);
  // null when the user gave none — a pass that needs data then fails with a usage error that
  // names --calib, or falls back to random samples and says so in its notes.
  const eval::SampleSet* calib = nullptr;
  int threads = 0;  // for runs of the model inside a pass and its own parallel loops (0: all cores)
  // Long steps inside a pass (calibration runs) report (step, done, total) here: done == 0 starts
  // the step, done == total ends it. Empty: nobody is watching. The CLI draws it on stderr.
  std::function<void(const std::string& step, size_t done, size_t total)> progress;
  // `--decisions REPORT.json`: passes whose choices depend on timings (the quantize latency
  // guard) replay the choices recorded in this report instead of timing again.
  std::string decisionsFile;
};

class Pass {
 public:
  virtual ~Pass() = default;
  virtual PassResult run(ir::Model& model, PassContext& ctx) = 0;
};

struct PassInfo {
  std::string name;
  std::string summary;
  std::vector<OptionSpec> options;
  std::function<std::unique_ptr<Pass>(const PassOptions&)> create;
  // Passes `effdl optimize` reaches through a flag of their own (--quantize MODE, --prune S,
  // --hash-embeddings R): `cliFlag` sets option `primaryOption`; every other option X is the flag
  // `--<cliOptionPrefix>-X` (one scheme for all passes: --prune-mode, --quantize-exclude-nodes,
  // --hash-mode; the prefix defaults to cliFlag).
  // Such passes run in a fixed order whatever the order of the flags: cleanup → fold-batchnorm →
  // [fixedOrder 1..9: hashing 1, pruning 2, quantization 3] → cleanup → [fixedOrder ≥ 10: storage
  // encodings that cleanup must not undo, e.g. sparse weight formats].
  std::string cliFlag{};
  std::string primaryOption{};
  std::string cliOptionPrefix{};
  int fixedOrder = 0;
};

}  // namespace effdl::passes
