// Timing loop (see benchmark.h).
#include "runtime/benchmark.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "core/error.h"
#include "runtime/random_inputs.h"
#include "runtime/session.h"

namespace effdl::runtime {

uint64_t peakRssBytes() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<uint64_t>(ru.ru_maxrss) * 1024;
}

namespace {
double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  if (v.empty()) return 0;
  // Nearest rank.
  size_t k = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  return v[std::min(v.size() - 1, k == 0 ? 0 : k - 1)];
}
}  // namespace

BenchResult benchmark(const ir::Model& model, const BenchOptions& options) {
  if (options.iterations < 1) throwUsage("--iters must be at least 1");
  if (options.warmup < 0) throwUsage("--warmup must not be negative");
  using clock = std::chrono::steady_clock;
  auto inputs = makeRandomInputs(model, RandomInputOptions{options.seed, options.dims});
  auto t0 = clock::now();
  Session session(model, SessionOptions{options.threads});
  BenchResult r;
  r.buildMs = std::chrono::duration<double, std::milli>(clock::now() - t0).count();
  r.threads = session.threads();
  std::vector<NamedInput> named;
  for (const auto& [name, t] : inputs) {
    named.push_back({name, &t});
    r.inputShapes.emplace_back(name, t.dims());
  }
  // Views once: the timed loop measures the runtime, not input conversion or output copies.
  std::vector<RtTensor> views(session.inputs().size());
  std::vector<const RtTensor*> ptrs;
  for (size_t k = 0; k < session.inputs().size(); ++k) {
    const ir::Tensor* t = nullptr;
    for (const auto& n : named)
      if (n.name == session.inputs()[k]->name()) t = n.tensor;
    views[k] = RtTensor{t->dtype(), t->dims(), const_cast<uint8_t*>(t->data()), t->nbytes()};
    ptrs.push_back(&views[k]);
  }
  const size_t runs = static_cast<size_t>(options.warmup) + static_cast<size_t>(options.iterations);
  size_t done = 0;
  if (options.progress) options.progress(0, runs);
  for (int i = 0; i < options.warmup; ++i) {
    session.runViews(ptrs);
    if (options.progress) options.progress(++done, runs);
  }
  r.samplesMs.reserve(static_cast<size_t>(options.iterations));
  for (int i = 0; i < options.iterations; ++i) {
    auto s = clock::now();
    session.runViews(ptrs);
    r.samplesMs.push_back(std::chrono::duration<double, std::milli>(clock::now() - s).count());
    // Outside the timed span: drawing the progress line costs nothing that is measured.
    if (options.progress) options.progress(++done, runs);
  }
  r.p50Ms = percentile(r.samplesMs, 50);
  r.p90Ms = percentile(r.samplesMs, 90);
  r.p99Ms = percentile(r.samplesMs, 99);
  r.minMs = *std::min_element(r.samplesMs.begin(), r.samplesMs.end());
  double sum = 0;
  for (double x : r.samplesMs) sum += x;
  r.meanMs = sum / static_cast<double>(r.samplesMs.size());
  r.throughput = r.p50Ms > 0 ? 1000.0 / r.p50Ms : 0;
  r.peakRssBytes = peakRssBytes();
  r.activationPoolBytes = session.pool().capacityBytes();
  return r;
}

}  // namespace effdl::runtime
