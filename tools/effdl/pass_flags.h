// The flags `effdl optimize` derives from the pass registry: `--<flag> VALUE` for each pass that
// has a CLI flag (PassInfo::cliFlag) and `--<flag>-<option> VALUE` for its other options, e.g.
// `--prune 0.5 --prune-mode channels` or `--quantize static --quantize-exclude-nodes conv1,fc`.
// One scheme for every pass; the same options are written `prune{sparsity=0.5,mode=channels}` in
// --passes and in recipes.
#pragma once

#include <CLI/CLI.hpp>
#include <map>
#include <string>
#include <vector>

#include "passes/pipeline.h"

namespace effdl::cli {

// A yes/no pass option given as a bare switch takes no value from the next argument unless that
// argument is `true` or `false`: `--prune-reconstruct model.onnx` must not read model.onnx as the value.
// Rewrites such a switch to `--NAME=true` in `args` (the arguments after the program name).
void normalizePassSwitches(std::vector<std::string>& args);

class PassFlags {
 public:
  void add(CLI::App& cmd);
  bool any() const;
  // The fixed-order pipeline (cleanup, fold-batchnorm, flagged passes, cleanup). Throws kUsage for
  // an option flag whose pass flag is missing ("--prune-mode needs --prune").
  passes::Pipeline toPipeline() const;
  // The first flag given, for "cannot combine with --passes" messages.
  std::string firstGiven() const;

 private:
  struct Flag {
    std::string pass, option;  // option of `pass` the flag sets
    bool primary = false;
    std::string value;
    CLI::Option* opt = nullptr;
  };
  std::map<std::string, Flag> flags_;  // by flag name without dashes; node-stable for CLI11
};

}  // namespace effdl::cli
