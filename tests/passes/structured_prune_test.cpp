// passes/prune/structured_prune.cpp on two-layer models small enough to check by hand: which
// channels the L1 and L2 norms drop, how producer rows/columns, biases and consumer rows are sliced,
// that one channel always stays, and the groups it leaves whole. Whole networks (residuals,
// depthwise, Flatten, Concat, digits CNN, resnet18) are in prune_channels_test.cpp.
#include <gtest/gtest.h>

#include "test_util.h"

namespace effdl::test {
namespace {

// w1 columns (the hidden channels): c0 = {3, 0} (L1 3, L2² 9), c1 = {2, 2} (L1 4, L2² 8),
// c2 = {5, 5}. w2's rows are the same channels.
constexpr const char* kMatMulPair = R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,2] x) => (float[1,2] y)
       <float[2,3] w1 = {3.0, 2.0, 5.0, 0.0, 2.0, 5.0}, float[3,2] w2 = {1.0, 2.0, 3.0, 4.0, 5.0, 6.0}>
    {
      h = MatMul (x, w1)
      r = Relu (h)
      y = MatMul (r, w2)
    })";

std::vector<float> valuesOf(const ir::Model& m, const std::string& name) {
  const ir::Value* v = m.graph->findValue(name);
  if (!v || !v->isInitializer()) {
    ADD_FAILURE() << "no initializer " << name;
    return {};
  }
  auto s = v->initializer().values<float>();
  return {s.begin(), s.end()};
}

std::vector<int64_t> dimsOf(const ir::Model& m, const std::string& name) {
  const ir::Value* v = m.graph->findValue(name);
  return v && v->isInitializer() ? v->initializer().dims() : std::vector<int64_t>{};
}

TEST(StructuredPrune, L2DropsTheChannelWithTheSmallestSumOfSquares) {
  auto m = parse(kMatMulPair);
  auto r = runPass(*m, "prune{mode=channels,sparsity=0.34,norm=l2}");
  EXPECT_EQ(valuesOf(*m, "w1_pruned"), (std::vector<float>{3, 5, 0, 5}));  // c1 gone
  EXPECT_EQ(dimsOf(*m, "w1_pruned"), (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(valuesOf(*m, "w2_pruned"), (std::vector<float>{1, 2, 5, 6}));
  EXPECT_EQ(r.counter("channels removed"), 1);
  EXPECT_EQ(r.counter("channel groups pruned"), 1);
  EXPECT_EQ(r.counter("layers pruned"), 1);
  // The group of y reaches the graph output and stays whole.
  EXPECT_EQ(r.declined.count("channel groups left whole (reach an output, an unknown op or an excluded layer)"), 1u);
  ASSERT_EQ(r.layers.size(), 1u);
  EXPECT_EQ(r.layers[0].second, (std::vector<double>{3, 2}));
  // The tensors of the pruned group carry the new width.
  auto hs = m->graph->findValue("r")->type().shape;
  ASSERT_TRUE(hs);
  EXPECT_EQ((*hs)[1].value, 2);
}

TEST(StructuredPrune, L1DropsTheChannelWithTheSmallestSumOfMagnitudes) {
  auto m = parse(kMatMulPair);
  runPass(*m, "prune{mode=channels,sparsity=0.34,norm=l1}");
  EXPECT_EQ(valuesOf(*m, "w1_pruned"), (std::vector<float>{2, 5, 2, 5}));  // c0 gone
  EXPECT_EQ(valuesOf(*m, "w2_pruned"), (std::vector<float>{3, 4, 5, 6}));
}

// Gemm with transB = 1 stores channels as rows; its bias is sliced with them. However large the
// fraction, one channel stays.
TEST(StructuredPrune, GemmTransBRowsAndBiasAndOneChannelAlwaysKept) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,2] x) => (float[1,1] y)
       <float[3,2] w1 = {1.0, 1.0, 9.0, 9.0, 2.0, 2.0}, float[3] b1 = {0.1, 0.2, 0.3},
        float[3,1] w2 = {1.0, 2.0, 3.0}>
    {
      h = Gemm <transB = 1> (x, w1, b1)
      y = MatMul (h, w2)
    })");
  auto r = runPass(*m, "prune{mode=channels,sparsity=0.9}");
  EXPECT_EQ(valuesOf(*m, "w1_pruned"), (std::vector<float>{9, 9}));
  EXPECT_EQ(dimsOf(*m, "w1_pruned"), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(valuesOf(*m, "b1_pruned"), (std::vector<float>{0.2f}));
  EXPECT_EQ(valuesOf(*m, "w2_pruned"), (std::vector<float>{2}));
  EXPECT_EQ(r.counter("channels removed"), 2);
}

TEST(StructuredPrune, ExcludedConsumerOrOutputOnlyGroupsLeaveTheModelAlone) {
  for (const std::string spec : {"prune{mode=channels,exclude-nodes=[w2]}", "prune{mode=channels,op-types=[Gemm]}"}) {
    auto m = parse(kMatMulPair);
    auto r = runPass(*m, spec);
    EXPECT_EQ(print(*m), canonical(kMatMulPair)) << spec;
    EXPECT_FALSE(r.changed) << spec;
    ASSERT_EQ(r.notes.size(), 1u) << spec;
    EXPECT_EQ(r.notes[0], "prune: no channel group to prune");
  }
}

}  // namespace
}  // namespace effdl::test
