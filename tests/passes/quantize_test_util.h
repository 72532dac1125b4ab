// Helpers of the quantize pass tests (quantize_test.cpp and one test file per mode):
// run a pipeline with calibration samples, expect no change, count occurrences, a Conv-Relu-Conv model.
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "eval/sample_set.h"
#include "passes/pipeline.h"
#include "test_util.h"

namespace effdl::test {

// Runs `spec` (optionally with `calib` samples, "random:N" or a folder, as --calib gives them)
// and returns the first pass's result.
inline passes::PassResult runFirst(ir::Model& m, const std::string& spec, const std::string& calib = "") {
  auto pipeline = passes::parsePipelineSpec(spec);
  std::optional<eval::SampleSet> samples;
  passes::PassContext ctx;
  if (!calib.empty()) {
    samples.emplace(eval::SampleSet::open(calib, 1 << 20, /*seed=*/7));
    ctx.calib = &*samples;
  }
  ctx.threads = 1;
  auto reports = passes::runPipeline(m, pipeline, ctx);
  return reports.front().result;
}

// Runs `spec` on the model of `text` and expects it to print as before, not marked changed.
inline passes::PassResult runExpectingNoChange(const std::string& text, const std::string& spec) {
  auto m = parse(text);
  auto r = runFirst(*m, spec);
  EXPECT_EQ(print(*m), canonical(text)) << spec;
  EXPECT_FALSE(r.changed) << spec;
  return r;
}

inline size_t countOf(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// Two Convs with a Relu between them (and a dead Flatten that eliminate-dead removes).
inline constexpr const char* kConvReluConv = R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,1,4,4] x) => (float[1,2,4,4] y)
       <float[2,1,1,1] w1 = {1.0, -0.5}, float[2] b1 = {0.25, 0.5},
        float[2,2,1,1] w2 = {1.0, 2.0, -1.0, 0.5}, float[2] b2 = {0.0, 1.0}>
    {
      c = Conv (x, w1, b1)
      r = Relu (c)
      f = Flatten (r)
      y = Conv (r, w2, b2)
    })";

}  // namespace effdl::test
