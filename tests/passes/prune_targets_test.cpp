// Which weights pruning may touch and how they are indexed (passes/prune/prune_targets.h): every
// layout seen as [outputs × reduction], element (r, c) at the right place of the stored tensor.
#include "passes/prune/prune_targets.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace effdl::test {
namespace {

using passes::prune::findTargets;
using passes::prune::Target;
using passes::prune::TargetFilter;

// n ones, as an ONNX text initializer's values.
std::string ones(int n) {
  std::string s = "{";
  for (int i = 0; i < n; ++i) s += i ? ", 1" : "1";
  return s + "}";
}

TargetFilter all() {
  TargetFilter f;
  f.opTypes = {"Conv", "Gemm", "MatMul"};
  return f;
}

TEST(PruneTargets, ViewsOfEveryLayoutIndexTheStoredElement) {
  auto m = parse(R"(<ir_version: 8, opset_import: ["" : 17]>
    g (float[1,4,5,5] x, float[2,3] a) => (float[1,6,3,3] c, float[2,5] gn, float[2,5] gt, float[2,5] mm)
       <float[6,2,3,3] wc = )" + ones(108) + R"(, float[3,5] wn = )" + ones(15) + R"(,
        float[5,3] wt = )" + ones(15) + R"(, float[3,5] wm = )" + ones(15) + R"(>
    {
      c = Conv <group = 2> (x, wc)
      gn = Gemm (a, wn)
      gt = Gemm <transB = 1> (a, wt)
      mm = MatMul(a, wm)
    })");
  std::map<std::string, int64_t> declined;
  std::vector<Target> t = findTargets(*m->graph, all(), declined);
  ASSERT_EQ(t.size(), 4u);
  EXPECT_TRUE(declined.empty());
  // Conv [6, 2, 3, 3], group 2: 6 rows of 2·9 columns; row 4 (group 1), column 10 (its input
  // channel 1, kernel element 1) multiplies input channel 2 + 1 = 3.
  EXPECT_EQ(t[0].view.rows, 6);
  EXPECT_EQ(t[0].view.cols, 18);
  EXPECT_EQ(t[0].view.kernel, 9);
  EXPECT_EQ(t[0].view.index(4, 10), 4 * 18 + 10);
  EXPECT_EQ(t[0].view.inputChannel(4, 10), 3);
  EXPECT_EQ(t[0].view.inputChannel(1, 10), 1);
  // Gemm B [K=3, N=5] (transB = 0) and MatMul W [3, 5]: row n, column k lives at k·5 + n.
  for (const Target* g : {&t[1], &t[3]}) {
    EXPECT_EQ(g->view.rows, 5);
    EXPECT_EQ(g->view.cols, 3);
    EXPECT_TRUE(g->view.transposed);
    EXPECT_EQ(g->view.index(4, 2), 2 * 5 + 4);
    EXPECT_EQ(g->view.inputChannel(4, 2), 2);
  }
  // Gemm B [N=5, K=3] with transB = 1: row-major as stored.
  EXPECT_FALSE(t[2].view.transposed);
  EXPECT_EQ(t[2].view.index(4, 2), 4 * 3 + 2);
}

TEST(PruneTargets, IneligibleWeightsAreDeclinedWithTheirReason) {
  auto m = parse(R"(<ir_version: 8, opset_import: ["" : 17]>
    g (float[3,2] a, float[2,3] at, float[2,4] wdyn) => (float[3,4] y1, float[3,4] y2, double[3,4] y3, float[3,4] y4, float[3,2] y5)
       <float[2,4] w = )" + ones(8) + R"(, float[2,4] w4 = )" + ones(8) + R"(, double[2,4] wd = )" + ones(8) + R"(, float[2,2] small = )" + ones(4) +
                R"(, double[3,2] ad = )" + ones(6) + R"(>
    {
      y1 = MatMul(a, wdyn)
      y2 = Gemm <transA = 1> (at, w)
      y3 = MatMul(ad, wd)
      y4 = MatMul(a, w4)
      y5 = MatMul(a, small)
    })");
  TargetFilter f = all();
  f.minSize = 5;
  std::map<std::string, int64_t> declined;
  std::vector<Target> t = findTargets(*m->graph, f, declined);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].node->output(0)->name(), "y4");
  EXPECT_EQ(declined["weight not a constant initializer"], 1);
  EXPECT_EQ(declined["Gemm transA"], 1);
  EXPECT_EQ(declined["weight not float32"], 1);
  EXPECT_EQ(declined["smaller than min-size"], 1);
}

TEST(PruneTargets, FirstAndLastLayersStayDenseAndAnEmbeddingCountsAsFirst) {
  // ids -> Gather(table) -> MatMul w1 -> MatMul w2 -> MatMul head: with an embedding in front,
  // w1 is not the first weighted layer, the head is the last.
  auto m = parse(R"(<ir_version: 8, opset_import: ["" : 17]>
    g (int64[2] ids, float[2,4] x) => (float[2,4] y, float[2,4] z)
       <float[10,4] table = )" + ones(40) + R"(, float[4,4] w1 = )" + ones(16) + R"(, float[4,4] w2 = )" +
                ones(16) + R"(, float[4,4] head = )" + ones(16) + R"(, float[4,4] wx = )" + ones(16) + R"(>
    {
      e = Gather(table, ids)
      h1 = MatMul(e, w1)
      h2 = MatMul(h1, w2)
      y = MatMul(h2, head)
      z = MatMul(x, wx)
    })");
  TargetFilter f = all();
  f.keepFirstLast = true;
  std::map<std::string, int64_t> declined;
  std::vector<Target> t = findTargets(*m->graph, f, declined);
  std::vector<std::string> names;
  for (const Target& x : t) names.push_back(x.weight->name());
  EXPECT_EQ(names, (std::vector<std::string>{"w1", "w2"}));
  EXPECT_EQ(declined["first/last layer kept dense"], 2);  // head (last) and wx (first and last)
}

}  // namespace
}  // namespace effdl::test
