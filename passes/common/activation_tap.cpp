#include "passes/common/activation_tap.h"

#include "core/error.h"
#include "runtime/session.h"

namespace effdl::passes {
namespace {

// Restores the graph's outputs however the run ends.
class OutputsGuard {
 public:
  explicit OutputsGuard(ir::Graph& g) : g_(g), count_(g.outputs().size()) {}
  ~OutputsGuard() { g_.truncateOutputs(count_); }
  OutputsGuard(const OutputsGuard&) = delete;
  OutputsGuard& operator=(const OutputsGuard&) = delete;

 private:
  ir::Graph& g_;
  size_t count_;
};

}  // namespace

void forEachActivation(ir::Model& model, const std::vector<std::string>& taps, const eval::SampleSet& calib,
                       const TapOptions& options,
                       const std::function<void(size_t, const std::vector<const ir::Tensor*>&)>& visit) {
  ir::Graph& g = *model.graph;
  OutputsGuard guard(g);
  // Where each tap's tensor comes from: a real graph input (index into the sample) or a session
  // output (index into the run's results).
  struct Source {
    bool fromInput;
    size_t index;
  };
  std::vector<Source> sources;
  for (const std::string& name : taps) {
    ir::Value* v = g.findValue(name);
    if (!v) throwInternal("activation tap: no value '" + name + "' in the main graph");
    if (v->isGraphInput() && !v->isInitializer()) {
      sources.push_back({true, 0});
      continue;
    }
    if (v->isConstant()) throwInternal("activation tap: '" + name + "' is a constant, not an activation");
    const auto& outs = g.outputs();
    auto it = std::find(outs.begin(), outs.end(), v);
    if (it == outs.end()) {
      g.addOutput(v);
      sources.push_back({false, g.outputs().size() - 1});
    } else {
      sources.push_back({false, static_cast<size_t>(it - outs.begin())});
    }
  }
  runtime::Session session(model, runtime::SessionOptions{options.threads});
  std::vector<const ir::Tensor*> values(taps.size());
  if (options.progress) options.progress(0, calib.size());
  for (size_t s = 0; s < calib.size(); ++s) {
    eval::NamedInputs inputs = calib.sample(s, model);
    std::vector<runtime::NamedInput> named;
    for (const auto& [name, t] : inputs) named.push_back({name, &t});
    std::vector<ir::Tensor> outputs = session.run(named);
    for (size_t i = 0; i < taps.size(); ++i) {
      if (sources[i].fromInput) {
        auto it = std::find_if(inputs.begin(), inputs.end(), [&](const auto& p) { return p.first == taps[i]; });
        values[i] = &it->second;
      } else {
        values[i] = &outputs[sources[i].index];
      }
    }
    visit(s, values);
    if (options.progress) options.progress(s + 1, calib.size());
  }
}

TapOptions tapOptions(const PassContext& ctx, const std::string& step) {
  TapOptions o;
  o.threads = ctx.threads;
  if (ctx.progress) o.progress = [progress = ctx.progress, step](size_t done, size_t total) { progress(step, done, total); };
  return o;
}

}  // namespace effdl::passes
