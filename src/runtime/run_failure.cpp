#include "runtime/run_failure.h"

#include "core/error.h"
#include "runtime/random_inputs.h"
#include "runtime/session.h"

namespace effdl::runtime {

std::optional<std::string> invalidWhenRun(const ir::Model& model) {
  try {
    SessionOptions options;
    options.threads = 1;
    Session session(model, options);
    auto inputs = makeRandomInputs(model, {});
    std::vector<NamedInput> named;
    for (const auto& [name, t] : inputs) named.push_back({name, &t});
    session.run(named);
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::kInvalidModel) return std::string(e.what());
  }
  return std::nullopt;
}

}  // namespace effdl::runtime
