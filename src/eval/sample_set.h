// The one sample source for calibration (every data-driven pass) and fidelity checks:
// `--calib DIR` (a folder of samples, see io/dataset.h) or `--calib random:N` (N seeded random
// samples shaped for the model, integer ids kept inside the Gather tables they index). Samples are
// read one at a time, so a dataset of any size costs the memory of one sample.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "io/dataset.h"
#include "ir/graph.h"

namespace effdl::eval {

using NamedInputs = std::vector<std::pair<std::string, ir::Tensor>>;

class SampleSet {
 public:
  // Parses and opens `spec` ("DIR" or "random:N"); errors are kUsage (bad spec, empty folder) or
  // kIo. `maxSampleBytes` bounds each sample's tensor bytes; `seed` seeds random samples;
  // `dims` binds symbolic dims of random samples (others 1).
  static SampleSet open(const std::string& spec, uint64_t maxSampleBytes, uint64_t seed,
                             std::map<std::string, int64_t> dims = {});

  size_t size() const { return random_ ? randomCount_ : reader_->size(); }
  bool isRandom() const { return random_; }
  // "folder data/ (100 samples)" or "32 seeded random samples (seed 0)": for logs and reports.
  std::string describe() const;
  // Sample i as model inputs, named after the model's real inputs. A folder sample must hold a
  // tensor for every real input of `model` (kUsage naming the sample and the missing input).
  NamedInputs sample(size_t i, const ir::Model& model) const;
  const std::string& spec() const { return spec_; }

 private:
  SampleSet() = default;
  std::string spec_;
  bool random_ = false;
  size_t randomCount_ = 0;
  uint64_t seed_ = 0;
  std::map<std::string, int64_t> dims_;
  std::optional<io::DatasetReader> reader_;
};

}  // namespace effdl::eval
