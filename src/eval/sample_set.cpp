#include "eval/sample_set.h"

#include <charconv>

#include "core/error.h"
#include "runtime/random_inputs.h"

namespace effdl::eval {

SampleSet SampleSet::open(const std::string& spec, uint64_t maxSampleBytes, uint64_t seed,
                                    std::map<std::string, int64_t> dims) {
  SampleSet c;
  c.spec_ = spec;
  c.seed_ = seed;
  c.dims_ = std::move(dims);
  const std::string prefix = "random:";
  if (spec.rfind(prefix, 0) == 0) {
    std::string n = spec.substr(prefix.size());
    size_t count = 0;
    auto [end, ec] = std::from_chars(n.data(), n.data() + n.size(), count);
    if (ec != std::errc() || end != n.data() + n.size() || count == 0 || count > 1000000)
      throwUsage("--calib " + spec + ": expected random:N with N between 1 and 1000000");
    c.random_ = true;
    c.randomCount_ = count;
    return c;
  }
  if (spec.empty()) throwUsage("--calib: expected a folder of samples or random:N");
  c.reader_.emplace(io::DatasetReader::open(spec, maxSampleBytes));
  return c;
}

std::string SampleSet::describe() const {
  if (random_) return std::to_string(randomCount_) + " seeded random samples (seed " + std::to_string(seed_) + ")";
  return "folder " + spec_ + " (" + std::to_string(reader_->size()) + " samples)";
}

NamedInputs SampleSet::sample(size_t i, const ir::Model& model) const {
  if (random_) {
    runtime::RandomInputOptions o;
    // Each sample its own stream; sample 0 matches `effdl bench --seed S` for the same seed.
    o.seed = seed_ + i;
    o.dims = dims_;
    return runtime::makeRandomInputs(model, o);
  }
  std::vector<io::NamedTensor> tensors = reader_->sample(i);
  NamedInputs inputs;
  for (const ir::Value* in : model.graph->inputs()) {
    if (in->isInitializer()) continue;
    auto it = std::find_if(tensors.begin(), tensors.end(), [&](const io::NamedTensor& t) { return t.name == in->name(); });
    if (it == tensors.end())
      throwUsage("--calib " + spec_ + ": sample '" + reader_->sampleName(i) + "' has no tensor for model input '" +
                 in->name() + "'");
    inputs.emplace_back(in->name(), std::move(it->tensor));
  }
  return inputs;
}

}  // namespace effdl::eval
