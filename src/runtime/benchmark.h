// Latency measurement of a model in effdl's runtime: session build time, then warm-up runs and
// timed runs on seeded random inputs; percentiles over the timed runs.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace effdl::runtime {

struct BenchOptions {
  int threads = 0;  // 0: all cores
  int warmup = 5;
  int iterations = 50;
  uint64_t seed = 0;
  std::map<std::string, int64_t> dims;  // symbolic dims (others 1)
  // Called with (0, warmup + iterations) before the first run and after each run, for a progress line.
  std::function<void(size_t done, size_t total)> progress;
};

struct BenchResult {
  int threads = 0;
  double buildMs = 0;
  double p50Ms = 0, p90Ms = 0, p99Ms = 0, minMs = 0, meanMs = 0;
  double throughput = 0;  // inferences per second at p50
  uint64_t peakRssBytes = 0;
  uint64_t activationPoolBytes = 0;  // what the runtime's buffer pool holds
  std::vector<double> samplesMs;
  std::vector<std::pair<std::string, std::vector<int64_t>>> inputShapes;
};

BenchResult benchmark(const ir::Model& model, const BenchOptions& options);

// The process's peak resident set size so far.
uint64_t peakRssBytes();

}  // namespace effdl::runtime
