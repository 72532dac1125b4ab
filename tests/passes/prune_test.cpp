// prune: exact sparsity per layer and globally, filters (exclusion, first/last, min-size), N:M
// groups, determinism, Wanda and reconstruction on calibration data, option errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "eval/sample_set.h"
#include "passes/pipeline.h"
#include "runtime/session.h"
#include "test_util.h"

namespace effdl::test {
namespace {

// n distinct deterministic values in (-1, 1) (no ties, none zero), as ONNX text.
std::string values(int n, unsigned seed) {
  std::string s;
  unsigned x = seed * 2654435761u + 12345u;
  for (int i = 0; i < n; ++i) {
    x = x * 1664525u + 1013904223u;
    const double v = (static_cast<double>(x >> 8) / 16777216.0) * 2.0 - 1.0;
    const double u = (v >= 0 ? 1 : -1) * (0.001 + std::fabs(v)) + 1e-7 * i;
    s += (i ? ", " : "") + std::to_string(u);
  }
  return s;
}

// Conv [8,4,3,3] (288) → Flatten → Gemm transB [16, 8·2·2=32] (512) → MatMul [16, 8] (128).
std::string model() {
  return R"(<ir_version: 8, opset_import: ["" : 17]>
    g (float[1,4,4,4] x) => (float[1,8] y)
       <float[8,4,3,3] wc = {)" + values(288, 1) + R"(}, float[8] bc = {)" + values(8, 2) + R"(},
        float[16,32] wg = {)" + values(512, 3) + R"(}, float[16] bg = {)" + values(16, 4) + R"(},
        float[16,8] wm = {)" + values(128, 5) + R"(}>
    {
      c = Conv <kernel_shape = [3, 3], strides = [2, 2], pads = [1, 1, 1, 1]> (x, wc, bc)
      r = Relu(c)
      f = Flatten(r)
      h = Gemm <transB = 1> (f, wg, bg)
      y = MatMul(h, wm)
    })";
}

std::vector<float> weights(const ir::Model& m, const std::string& name) {
  auto s = m.graph->findValue(name)->initializer().values<float>();
  return {s.begin(), s.end()};
}

int64_t zeros(const std::vector<float>& v) { return std::count(v.begin(), v.end(), 0.0f); }

TEST(Prune, EachLayerReachesTheSparsityAndDropsTheSmallest) {
  auto m = parse(model());
  auto before = parse(model());
  auto r = runPass(*m, "prune{keep-first-last=false,sparsity=0.7}");
  EXPECT_EQ(r.counter("layers pruned"), 3);
  for (auto [name, n] : {std::pair{"wc", 288}, {"wg", 512}, {"wm", 128}}) {
    auto w = weights(*m, name), orig = weights(*before, name);
    EXPECT_EQ(zeros(w), std::llround(0.7 * n)) << name;
    float maxDropped = 0, minKept = 1e9f;
    for (size_t i = 0; i < w.size(); ++i) {
      if (w[i] == 0) maxDropped = std::max(maxDropped, std::fabs(orig[i]));
      else {
        EXPECT_EQ(w[i], orig[i]);
        minKept = std::min(minKept, std::fabs(orig[i]));
      }
    }
    EXPECT_LT(maxDropped, minKept) << name;
  }
  // Biases are not weights to prune.
  EXPECT_EQ(zeros(weights(*m, "bc")), 0);
  ASSERT_EQ(r.layers.size(), 3u);
  EXPECT_DOUBLE_EQ(r.layers[1].second[2], 0.5 * 0 + static_cast<double>(std::llround(0.7 * 512)) / 512);
}

TEST(Prune, GlobalScopeUsesOneThreshold) {
  auto m = parse(model());
  auto before = parse(model());
  runPass(*m, "prune{keep-first-last=false,sparsity=0.6,scope=global}");
  int64_t z = 0;
  float maxDropped = 0, minKept = 1e9f;
  std::vector<int64_t> perLayer;
  for (const char* name : {"wc", "wg", "wm"}) {
    auto w = weights(*m, name), orig = weights(*before, name);
    perLayer.push_back(zeros(w));
    z += zeros(w);
    for (size_t i = 0; i < w.size(); ++i)
      (w[i] == 0 ? maxDropped : minKept) =
          w[i] == 0 ? std::max(maxDropped, std::fabs(orig[i])) : std::min(minKept, std::fabs(orig[i]));
  }
  EXPECT_EQ(z, std::llround(0.6 * (288 + 512 + 128)));
  EXPECT_LT(maxDropped, minKept);
}

TEST(Prune, ThresholdZeroesEverythingBelowIt) {
  auto m = parse(model());
  auto before = parse(model());
  runPass(*m, "prune{keep-first-last=false,threshold=0.25}");
  for (const char* name : {"wc", "wg", "wm"}) {
    auto w = weights(*m, name), orig = weights(*before, name);
    for (size_t i = 0; i < w.size(); ++i) EXPECT_EQ(w[i] == 0, std::fabs(orig[i]) < 0.25f) << name << i;
  }
}

TEST(Prune, FiltersLeaveLayersUntouched) {
  auto before = parse(model());
  {
    auto m = parse(model());
    auto r = runPass(*m, "prune{keep-first-last=false,sparsity=0.5,exclude-nodes=[wg]}");  // unnamed node: its weight's name
    EXPECT_EQ(weights(*m, "wg"), weights(*before, "wg"));
    EXPECT_EQ(zeros(weights(*m, "wc")), 144);
    EXPECT_EQ(r.declined["excluded by name"], 1);
  }
  for (const char* spec : {"prune{sparsity=0.5}", "prune{sparsity=0.5,keep-first-last=true}"}) {
    auto m = parse(model());
    auto r = runPass(*m, spec);  // by default the Conv reading x and the MatMul head stay dense
    EXPECT_EQ(weights(*m, "wc"), weights(*before, "wc")) << spec;
    EXPECT_EQ(weights(*m, "wm"), weights(*before, "wm")) << spec;
    EXPECT_EQ(zeros(weights(*m, "wg")), 256) << spec;
    EXPECT_EQ(r.declined["first/last layer kept dense"], 2) << spec;
  }
  {
    auto m = parse(model());
    runPass(*m, "prune{keep-first-last=false,sparsity=0.5,min-size=300,op-types=[Conv;Gemm]}");
    EXPECT_EQ(weights(*m, "wc"), weights(*before, "wc"));  // 288 < 300
    EXPECT_EQ(weights(*m, "wm"), weights(*before, "wm"));  // MatMul not listed
    EXPECT_EQ(zeros(weights(*m, "wg")), 256);
  }
}

// The text classifier's shape: embedding Gather → sum → Gemm → Relu → Gemm head. The Gather is
// the input layer, so the first Gemm is pruned; the head that computes the logits stays dense.
TEST(Prune, EmbeddingCountsAsTheFirstLayerAndTheHeadStaysDense) {
  const std::string text = R"(<ir_version: 8, opset_import: ["" : 17]>
    g (int64[1,3] ids) => (float[1,4] y)
       <float[10,8] emb = {)" + values(80, 6) + R"(}, float[16,8] w1 = {)" + values(128, 7) + R"(},
        float[4,16] w2 = {)" + values(64, 8) + R"(}, int64[1] ax = {1}>
    {
      e = Gather(emb, ids)
      m = ReduceSum(e, ax)
      s = Squeeze(m, ax)
      h = Gemm <transB = 1> (s, w1)
      r = Relu(h)
      y = Gemm <transB = 1> (r, w2)
    })";
  auto before = parse(text);
  auto m = parse(text);
  runPass(*m, "prune{sparsity=0.5}");
  EXPECT_EQ(zeros(weights(*m, "w1")), 64);
  EXPECT_EQ(weights(*m, "w2"), weights(*before, "w2"));
  EXPECT_EQ(weights(*m, "emb"), weights(*before, "emb"));  // Gather tables are never pruned
  auto all = parse(text);
  runPass(*all, "prune{sparsity=0.5,keep-first-last=false}");
  EXPECT_EQ(zeros(weights(*all, "w1")), 64);
  EXPECT_EQ(zeros(weights(*all, "w2")), 32);
}

TEST(Prune, IsDeterministic) {
  auto a = parse(model()), b = parse(model());
  runPass(*a, "prune{keep-first-last=false,sparsity=0.5,scope=global}");
  runPass(*b, "prune{keep-first-last=false,sparsity=0.5,scope=global}");
  EXPECT_EQ(print(*a), print(*b));
}

// Counts non-zeros in each block of m input channels (per output row and kernel position).
void expectNofM(const std::vector<float>& w, int64_t rows, int64_t channels, int64_t kernel, bool transposed,
                int64_t n, int64_t m) {
  const int64_t cols = channels * kernel;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t k = 0; k < kernel; ++k)
      for (int64_t c0 = 0; c0 < channels; c0 += m) {
        int64_t nz = 0;
        for (int64_t j = 0; j < m; ++j) {
          const int64_t c = (c0 + j) * kernel + k;
          nz += w[static_cast<size_t>(transposed ? c * rows + r : r * cols + c)] != 0;
        }
        EXPECT_EQ(nz, n) << "row " << r << " kernel " << k << " block " << c0;
      }
}

TEST(Prune, NofMKeepsExactlyNInEveryGroupOfM) {
  auto m = parse(model());
  runPass(*m, "prune{keep-first-last=false,mode=2:4}");
  expectNofM(weights(*m, "wc"), 8, 4, 9, false, 2, 4);
  expectNofM(weights(*m, "wg"), 16, 32, 1, false, 2, 4);
  expectNofM(weights(*m, "wm"), 8, 16, 1, true, 2, 4);
  auto m2 = parse(model());
  auto r = runPass(*m2, "prune{keep-first-last=false,mode=1:8}");
  EXPECT_EQ(r.declined["input channels not a multiple of M"], 1);  // the Conv has 4 input channels
  expectNofM(weights(*m2, "wg"), 16, 32, 1, false, 1, 8);
}

TEST(Prune, BadOptionsAreUsageErrors) {
  auto m = parse(model());
  expectError([&] { runPass(*m, "prune{keep-first-last=false,mode=4:2}"); }, ErrorKind::kUsage, "N:M");
  expectError([&] { runPass(*m, "prune{keep-first-last=false,mode=sparse}"); }, ErrorKind::kUsage, "mode must be");
  expectError([&] { runPass(*m, "prune{keep-first-last=false,sparsity=1.0}"); }, ErrorKind::kUsage, "sparsity");
  expectError([&] { runPass(*m, "prune{keep-first-last=false,method=wanda}"); }, ErrorKind::kUsage, "--calib");
  expectError([&] { runPass(*m, "prune{keep-first-last=false,op-types=[Add]}"); }, ErrorKind::kUsage, "op-types");
}

// Runs `spec` with 64 seeded random calibration samples.
void runWithCalib(ir::Model& m, const std::string& spec) {
  auto calib = eval::SampleSet::open("random:64", 1 << 20, 7);
  passes::PassContext ctx;
  ctx.calib = &calib;
  passes::runPipeline(m, passes::parsePipelineSpec(spec), ctx);
}

std::vector<float> run(ir::Model& m, const ir::Tensor& x) {
  runtime::Session s(m, {});
  auto out = s.run({{"x", &x}});
  auto v = out[0].values<float>();
  return {v.begin(), v.end()};
}

// Real layers see correlated inputs: here an excluded MatMul maps 8 inputs to 32 features of
// rank 8, which the pruned Gemm reads. Kept weights can then stand in for dropped ones.
std::string correlatedModel() {
  return R"(<ir_version: 8, opset_import: ["" : 17]>
    g (float[4,8] x) => (float[4,16] y)
       <float[8,32] mix = {)" + values(256, 6) + R"(}, float[16,32] wg = {)" + values(512, 3) + R"(},
        float[16] bg = {)" + values(16, 4) + R"(}>
    {
      h = MatMul(x, mix)
      y = Gemm <transB = 1> (h, wg, bg)
    })";
}

TEST(Prune, WandaAndReconstructionKeepOutputsCloser) {
  auto dense = parse(correlatedModel());
  auto mag = parse(correlatedModel()), wanda = parse(correlatedModel()), rec = parse(correlatedModel());
  runPass(*mag, "prune{keep-first-last=false,sparsity=0.7,exclude-nodes=[mix]}");
  runWithCalib(*wanda, "prune{keep-first-last=false,sparsity=0.7,method=wanda,exclude-nodes=[mix]}");
  runWithCalib(*rec, "prune{keep-first-last=false,sparsity=0.7,method=wanda,reconstruct=true,exclude-nodes=[mix]}");
  // Wanda zeroes exactly 70% of each row; reconstruction keeps those zeros.
  EXPECT_EQ(zeros(weights(*wanda, "wg")), std::llround(0.7 * 32) * 16);
  EXPECT_EQ(zeros(weights(*rec, "wg")), zeros(weights(*wanda, "wg")));
  // Held-out inputs (another seed than the calibration samples).
  auto test = eval::SampleSet::open("random:8", 1 << 20, 99);
  double eMag = 0, eWanda = 0, eRec = 0;
  for (size_t i = 0; i < test.size(); ++i) {
    auto in = test.sample(i, *dense);
    auto ref = run(*dense, in[0].second);
    auto err = [&](ir::Model& m) {
      auto o = run(m, in[0].second);
      double e = 0;
      for (size_t k = 0; k < o.size(); ++k) e += (o[k] - ref[k]) * (o[k] - ref[k]);
      return e;
    };
    eMag += err(*mag);
    eWanda += err(*wanda);
    eRec += err(*rec);
  }
  std::printf("squared error: magnitude %.4g, wanda %.4g, wanda+reconstruct %.4g\n", eMag, eWanda, eRec);
  EXPECT_LT(eRec, 1e-3 * eMag);  // rank-8 inputs: 10 kept weights per row fit exactly
}

}  // namespace
}  // namespace effdl::test
