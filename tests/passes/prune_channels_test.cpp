// prune mode=channels: a residual block with a depthwise Conv and Flatten → Gemm keeps its
// coupled channels consistent and, when the removed channels are dead, its outputs; groups that
// reach a graph output stay whole; digits CNN and (if the zoo exists) resnet18 shrink and run.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "ir/onnx_import.h"
#include "runtime/session.h"
#include "test_util.h"

namespace effdl::test {
namespace {

// n values, with the rows listed in `deadRows` (of `rowSize` elements each) zero.
std::string values(int n, unsigned seed, int rowSize = 1, std::vector<int> deadRows = {}) {
  std::string s;
  unsigned x = seed * 2654435761u + 7u;
  for (int i = 0; i < n; ++i) {
    x = x * 1664525u + 1013904223u;
    double v = (static_cast<double>(x >> 8) / 16777216.0) - 0.5;
    if (std::find(deadRows.begin(), deadRows.end(), i / rowSize) != deadRows.end()) v = 0;
    s += (i ? ", " : "") + std::to_string(v);
  }
  return s;
}

// Channels 1 and 5 of the residual group are dead: zero rows in both producers (and bias).
std::string residualModel(const std::string& flatten = "Flatten(p)") {
  return R"(<ir_version: 8, opset_import: ["" : 17]>
    g (float[1,4,6,6] x) => (float[1,5] y)
       <float[8,4,3,3] w1 = {)" + values(288, 1, 36, {1, 5}) + R"(}, float[8] b1 = {)" + values(8, 2, 1, {1, 5}) + R"(},
        float[8,8,3,3] w2 = {)" + values(576, 3, 72, {1, 5}) + R"(}, float[1,8,1,1] sc = {)" + values(8, 4) + R"(},
        float[8,1,3,3] wd = {)" + values(72, 5) + R"(}, float[5,8] wg = {)" + values(40, 6) + R"(}, float[5] bg = {)" + values(5, 7) + R"(},
        int64[2] flat0 = {0, -1}, int64[2] flat1 = {1, -1}, int64[2] flat8 = {1, 8}>
    {
      c1 = Conv <kernel_shape = [3, 3], pads = [1, 1, 1, 1]> (x, w1, b1)
      r1 = Relu(c1)
      c2 = Conv <kernel_shape = [3, 3], pads = [1, 1, 1, 1]> (r1, w2)
      m = Mul(c2, sc)
      a = Add(m, r1)
      d = Conv <kernel_shape = [3, 3], pads = [1, 1, 1, 1], group = 8> (a, wd)
      p = GlobalAveragePool(d)
      f = )" + flatten + R"(
      y = Gemm <transB = 1> (f, wg, bg)
    })";
}

std::vector<float> run(const ir::Model& m, const std::vector<int64_t>& dims, uint32_t seed) {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  std::vector<float> x(static_cast<size_t>(n));
  for (auto& v : x) v = static_cast<float>((seed = seed * 1664525u + 1013904223u) >> 8) / 16777216.0f - 0.5f;
  ir::Tensor t = ir::Tensor::fromVector(ir::DataType::kFloat, dims, x);
  runtime::Session s(m, {});
  auto out = s.run({{m.graph->inputs()[0]->name(), &t}});
  auto v = out[0].values<float>();
  return {v.begin(), v.end()};
}

const std::vector<int64_t>& dimsOf(const ir::Model& m, const std::string& weightUser, size_t input = 1) {
  for (ir::Node* n : m.graph->nodes())
    if (n->output(0)->name() == weightUser) return n->input(input)->initializer().dims();
  static const std::vector<int64_t> none;
  ADD_FAILURE() << "no node " << weightUser;
  return none;
}

int64_t params(const ir::Model& m) {
  int64_t n = 0;
  for (const ir::Value* v : m.graph->initializers()) n += v->initializer().numel();
  return n;
}

TEST(PruneChannels, ResidualDepthwiseAndFlattenStayConsistent) {
  auto dense = parse(residualModel());
  auto m = parse(residualModel());
  auto r = runPass(*m, "prune{mode=channels,sparsity=0.25},cleanup");
  (void)r;
  // 25% of 8 channels: the two dead ones go from every member of the group.
  EXPECT_EQ(dimsOf(*m, "c1"), (std::vector<int64_t>{6, 4, 3, 3}));
  EXPECT_EQ(dimsOf(*m, "c1", 2), (std::vector<int64_t>{6}));
  EXPECT_EQ(dimsOf(*m, "c2"), (std::vector<int64_t>{6, 6, 3, 3}));
  EXPECT_EQ(dimsOf(*m, "m"), (std::vector<int64_t>{1, 6, 1, 1}));
  EXPECT_EQ(dimsOf(*m, "d"), (std::vector<int64_t>{6, 1, 3, 3}));
  EXPECT_EQ(dimsOf(*m, "y"), (std::vector<int64_t>{5, 6}));
  for (ir::Node* n : m->graph->nodes()) {
    if (n->output(0)->name() == "d") {
      EXPECT_EQ(n->attrInt("group", 0), 6);
    }
  }
  auto a = run(*dense, {1, 4, 6, 6}, 3), b = run(*m, {1, 4, 6, 6}, 3);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-5);
}

// Reshape to [0, -1] or [N, -1] before the Gemm flattens as Flatten does; an explicit [1, 8]
// would be wrong after pruning, so that group stays whole.
TEST(PruneChannels, ReshapeBeforeGemmActsAsFlatten) {
  for (const char* reshape : {"Reshape(p, flat0)", "Reshape(p, flat1)"}) {
    auto dense = parse(residualModel(reshape));
    auto m = parse(residualModel(reshape));
    runPass(*m, "prune{mode=channels,sparsity=0.25},cleanup");
    EXPECT_EQ(dimsOf(*m, "y"), (std::vector<int64_t>{5, 6})) << reshape;
    EXPECT_EQ(dimsOf(*m, "c1"), (std::vector<int64_t>{6, 4, 3, 3})) << reshape;
    auto a = run(*dense, {1, 4, 6, 6}, 5), b = run(*m, {1, 4, 6, 6}, 5);
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-5) << reshape;
  }
  auto m = parse(residualModel("Reshape(p, flat8)"));
  runPass(*m, "prune{mode=channels,sparsity=0.25}");
  EXPECT_EQ(dimsOf(*m, "y"), (std::vector<int64_t>{5, 8}));
  EXPECT_EQ(dimsOf(*m, "c1"), (std::vector<int64_t>{8, 4, 3, 3}));
}

TEST(PruneChannels, GroupReachingAGraphOutputStaysWhole) {
  const std::string text = R"(<ir_version: 8, opset_import: ["" : 17]>
    g (float[1,4,6,6] x) => (float[1,8,6,6] y) <float[8,4,1,1] w = {)" + values(32, 1) + R"(}>
    { c = Conv <kernel_shape = [1, 1]> (x, w)  y = Relu(c) })";
  auto m = parse(text);
  auto r = runPass(*m, "prune{mode=channels,sparsity=0.5}");
  EXPECT_EQ(print(*m), canonical(text));
  EXPECT_EQ(r.declined.size(), 1u);
}

// Two Conv groups and the input joined by a channel Concat into one Conv: channels 1, 5 of the
// first group and 0, 3 of the second are dead, so pruning them keeps the outputs.
std::string concatModel(const std::string& head = "y = Conv <kernel_shape = [1, 1]> (cat, w3)") {
  return R"(<ir_version: 8, opset_import: ["" : 17]>
    g (float[1,4,6,6] x) => (float[1,5,6,6] y)
       <float[8,4,3,3] w1 = {)" + values(288, 1, 36, {1, 5}) + R"(}, float[8] b1 = {)" + values(8, 2, 1, {1, 5}) + R"(},
        float[6,4,1,1] w2 = {)" + values(24, 3, 4, {0, 3}) + R"(}, float[5,18,1,1] w3 = {)" + values(90, 4) + R"(}>
    {
      c1 = Conv <kernel_shape = [3, 3], pads = [1, 1, 1, 1]> (x, w1, b1)
      r1 = Relu(c1)
      c2 = Conv <kernel_shape = [1, 1]> (x, w2)
      cat = Concat <axis = -3> (r1, x, c2)
      )" + head + R"(
    })";
}

TEST(PruneChannels, ConcatShiftsTheConsumersChannelsByItsOffsets) {
  auto dense = parse(concatModel());
  auto m = parse(concatModel());
  auto r = runPass(*m, "prune{mode=channels,sparsity=0.25}");
  EXPECT_EQ(r.counter("concat consumers re-indexed"), 1);
  runPass(*m, "cleanup");
  EXPECT_EQ(dimsOf(*m, "c1"), (std::vector<int64_t>{6, 4, 3, 3}));
  EXPECT_EQ(dimsOf(*m, "c2"), (std::vector<int64_t>{4, 4, 1, 1}));
  EXPECT_EQ(dimsOf(*m, "y"), (std::vector<int64_t>{5, 14, 1, 1}));  // 6 + 4 (x, whole) + 4
  auto a = run(*dense, {1, 4, 6, 6}, 3), b = run(*m, {1, 4, 6, 6}, 3);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-5);
  // Between the Concat and the Conv, a Relu: not handled, so both groups stay whole.
  const std::string text = concatModel("z = Relu(cat)  y = Conv <kernel_shape = [1, 1]> (z, w3)");
  auto m2 = parse(text);
  auto r2 = runPass(*m2, "prune{mode=channels,sparsity=0.25}");
  EXPECT_EQ(r2.declined.size(), 1u);  // "channel groups left whole (reach ... an unknown op ...)"
  EXPECT_EQ(print(*m2), canonical(text));
}

TEST(PruneChannels, DigitsCnnShrinksAndRuns) {
  auto m = ir::loadModel(sourceDir() / "models/digits_cnn.onnx");
  const int64_t before = params(*m);
  runPass(*m, "cleanup,fold-batchnorm,prune{mode=channels,sparsity=0.3},cleanup");
  EXPECT_LT(params(*m), before * 55 / 100);
  EXPECT_EQ(run(*m, {1, 1, 8, 8}, 1).size(), 10u);
}

TEST(PruneChannels, Resnet18HalvesItsParameters) {
  const std::filesystem::path zoo = "/tmp/effdl-zoo/resnet18.onnx";
  if (!std::filesystem::exists(zoo)) GTEST_SKIP() << "no " << zoo << " (scripts/make_zoo.py writes it)";
  auto m = ir::loadModel(zoo);
  const int64_t before = params(*m);
  auto r = runPass(*m, "cleanup,fold-batchnorm,prune{mode=channels,sparsity=0.3},cleanup");
  EXPECT_LE(params(*m), before * 55 / 100);
  EXPECT_EQ(run(*m, {1, 3, 224, 224}, 1).size(), 1000u);
}

}  // namespace
}  // namespace effdl::test
