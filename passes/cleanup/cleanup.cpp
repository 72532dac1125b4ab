// Fixed-point driver over the cleanup passes.
#include "passes/cleanup/cleanup.h"

#include "passes/registry.h"

namespace effdl::passes {
namespace {

constexpr int kMaxRounds = 5;

class Cleanup : public Pass {
 public:
  PassResult run(ir::Model& model, PassContext& ctx) override {
    PassResult total;
    for (int round = 0; round < kMaxRounds; ++round) {
      bool changed = false;
      for (const std::string& name : cleanupSteps()) {
        const PassInfo* info = findPass(name);
        auto pass = info->create(PassOptions(&info->options, {}));
        PassResult r = pass->run(model, ctx);
        changed = changed || r.changed;
        total.merge(r);
      }
      total.count("rounds");
      if (!changed) break;
    }
    return total;
  }
};

}  // namespace

const std::vector<std::string>& cleanupSteps() {
  static const std::vector<std::string> steps = {
      "constants-to-initializers",
      "eliminate-noop",
      "fold-shapes",
      "fold-constants",
      "dedup-initializers",
      "eliminate-dead",
  };
  return steps;
}

PassInfo cleanupInfo() {
  return PassInfo{"cleanup", "run the cleanup passes until the graph stops changing", {},
                  [](const PassOptions&) { return std::make_unique<Cleanup>(); }};
}

}  // namespace effdl::passes
