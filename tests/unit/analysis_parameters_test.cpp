// Parameter statistics: counts, bytes, consumers, sparsity and external bytes on hand-made models.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "analysis/parameters.h"
#include "test_util.h"

namespace effdl::test {
namespace {

using analysis::computeParameterStats;
using analysis::ParameterStats;

const analysis::OpTypeTotal* findOp(const ParameterStats& s, const std::string& op) {
  for (const auto& o : s.byOpType)
    if (o.opType == op) return &o;
  return nullptr;
}

const analysis::DtypeTotal* findDtype(const ParameterStats& s, ir::DataType t) {
  for (const auto& d : s.byDtype)
    if (d.dtype == t) return &d;
  return nullptr;
}

TEST(AnalysisParameters, CountsInitializersAndConstantNodes) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2,2] x) => (float[3,1] y)
       <float[2,3] w = {1.0, 2.0, 0.0, 4.0, 5.0, 6.0}, float[3] b = {0.0, 0.0, 1.0}, int64[2] shape = {3, 2}>
    {
      c = Constant<value_float = 2.0>()
      axes1 = Constant<value_ints = [1]>()
      h = MatMul(x, w)
      hb = Add(h, b)
      hs = Mul(hb, c)
      r = Reshape(hs, shape)
      y = ReduceSum<keepdims = 1>(r, axes1)
    })");
  ParameterStats s = computeParameterStats(*m);
  // w 6 + b 3 + shape 2 + value_float 1 + value_ints 1
  EXPECT_EQ(s.tensors, 5);
  EXPECT_EQ(s.totalParams, 13);
  EXPECT_EQ(s.totalBytes, 24 + 12 + 16 + 4 + 8);

  const auto* f = findDtype(s, ir::DataType::kFloat);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->params, 10);
  EXPECT_EQ(f->bytes, 40);
  const auto* i64 = findDtype(s, ir::DataType::kInt64);
  ASSERT_NE(i64, nullptr);
  EXPECT_EQ(i64->params, 3);
  EXPECT_EQ(i64->bytes, 24);
  EXPECT_EQ(s.byDtype.front().dtype, ir::DataType::kFloat);  // most bytes first

  ASSERT_NE(findOp(s, "MatMul"), nullptr);
  EXPECT_EQ(findOp(s, "MatMul")->params, 6);
  EXPECT_EQ(findOp(s, "Add")->params, 3);
  EXPECT_EQ(findOp(s, "Mul")->params, 1);
  EXPECT_EQ(findOp(s, "Reshape")->bytes, 16);
  EXPECT_EQ(findOp(s, "ReduceSum")->params, 1);
  EXPECT_EQ(s.byOpType.front().opType, "MatMul");

  // Float elements: w 6 (one zero), b 3 (two zeros), c 1.
  EXPECT_EQ(s.floatElements, 10);
  EXPECT_EQ(s.floatZeros, 3);
  EXPECT_DOUBLE_EQ(s.sparsity(), 0.3);
  EXPECT_EQ(s.externalBytes, 0);
  EXPECT_EQ(s.uncountedConstants, 0);
}

TEST(AnalysisParameters, LargestTensorsInOrder) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2] x) => (float[2] y)
       <float[2] a = {1.0, 2.0}, float[2,2] big = {1.0, 2.0, 3.0, 4.0}, float[2] b = {1.0, 2.0}>
    {
      t = Add(x, a)
      u = MatMul(big, t)
      y = Add(u, b)
    })");
  analysis::ParameterOptions opts;
  opts.largestCount = 2;
  ParameterStats s = computeParameterStats(*m, opts);
  ASSERT_EQ(s.largest.size(), 2u);
  EXPECT_EQ(s.largest[0].name, "big");
  EXPECT_EQ(s.largest[0].bytes, 16);
  EXPECT_EQ(s.largest[0].dims, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(s.largest[0].consumer, "MatMul");
  EXPECT_EQ(s.largest[1].name, "a");  // equal sizes: by name
  EXPECT_EQ(s.largest[1].dtype, ir::DataType::kFloat);
}

TEST(AnalysisParameters, SharedWeightsAndIdentityChains) {
  // `e` is read by Gather and MatMul (tied embedding): shared. `w` reaches its MatMul through an
  // Identity (how exporters deduplicate): counted to MatMul. `spare` has no reader.
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (int64[2] ids) => (float[2,4] y)
       <float[4,3] e = {1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0},
        float[3,3] w = {1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0}, float[1] spare = {1.0}>
    {
      emb = Gather(e, ids)
      wi = Identity(w)
      h = MatMul(emb, wi)
      et = Transpose(e)
      y = MatMul(h, et)
    })");
  ParameterStats s = computeParameterStats(*m);
  ASSERT_NE(findOp(s, ParameterStats::kSharedOp), nullptr);
  EXPECT_EQ(findOp(s, ParameterStats::kSharedOp)->params, 12);
  EXPECT_EQ(findOp(s, "MatMul")->params, 9);
  EXPECT_EQ(findOp(s, ParameterStats::kUnusedOp)->params, 1);
  EXPECT_EQ(findOp(s, "Gather"), nullptr);
  EXPECT_EQ(findOp(s, "Identity"), nullptr);
}

TEST(AnalysisParameters, CountsWeightsInsideSubgraphs) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (bool cond, float[2] x) => (float[2] y)
       <float[2] outer = {1.0, 2.0}>
    {
      y = If(cond) <
        then_branch = then_g () => (float[2] a) <float[2] inner = {0.0, 0.0}> { a = Mul(x, inner) },
        else_branch = else_g () => (float[2] b) { b = Add(x, outer) }
      >
    })");
  ParameterStats s = computeParameterStats(*m);
  EXPECT_EQ(s.tensors, 2);
  EXPECT_EQ(s.totalParams, 4);
  // `outer` is read only by the Add inside the else branch.
  EXPECT_EQ(findOp(s, "Add")->params, 2);
  EXPECT_EQ(findOp(s, "Mul")->params, 2);
  EXPECT_EQ(s.floatZeros, 2);
}

TEST(AnalysisParameters, BatchNormStatisticsAreReportedApart) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,2,2,2] x) => (float[1,2,2,2] y)
       <float[2] s = {1.0, 1.0}, float[2] bias = {0.0, 0.0}, float[2] mean = {0.5, 0.5}, float[2] var = {1.0, 2.0}>
    {
      y = BatchNormalization(x, s, bias, mean, var)
    })");
  ParameterStats s = computeParameterStats(*m);
  EXPECT_EQ(s.totalParams, 8);
  EXPECT_EQ(s.batchNormStatisticsParams, 4);
  EXPECT_EQ(findOp(s, "BatchNormalization")->params, 8);
}

TEST(AnalysisParameters, SparseFloat16AndExternalTensors) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2] x) => (float[2] y) { y = Relu(x) })");
  ir::Graph& g = *m->graph;
  // Sparse: 10 dense elements, 2 stored (one of them zero), int64 linear indices.
  ir::SparseTensor st;
  st.dims = {10};
  st.values = ir::Tensor::fromVector(ir::DataType::kFloat, {2}, std::vector<float>{0.0f, 3.0f});
  st.indices = ir::Tensor::fromVector(ir::DataType::kInt64, {2}, std::vector<int64_t>{1, 7});
  g.addSparseInitializer("sp", std::move(st));
  // float16 +0, -0, 1.0, +0: three zeros.
  g.addInitializer("half", ir::Tensor::fromVector(ir::DataType::kFloat16, {4},
                                                  std::vector<uint16_t>{0x0000, 0x8000, 0x3c00, 0x0000}));
  ir::Tensor ext = ir::Tensor::fromVector(ir::DataType::kFloat, {3}, std::vector<float>{1.0f, 2.0f, 3.0f});
  ext.setFromExternalData(true);
  g.addInitializer("ext", std::move(ext));

  ParameterStats s = computeParameterStats(*m);
  EXPECT_EQ(s.tensors, 3);
  EXPECT_EQ(s.totalParams, 2 + 4 + 3);
  EXPECT_EQ(s.totalBytes, (8 + 16) + 8 + 12);
  const auto* i64 = findDtype(s, ir::DataType::kInt64);
  ASSERT_NE(i64, nullptr);
  EXPECT_EQ(i64->params, 0);  // indices are storage, not parameters
  EXPECT_EQ(i64->bytes, 16);
  EXPECT_EQ(findDtype(s, ir::DataType::kFloat)->bytes, 8 + 12);
  EXPECT_EQ(findDtype(s, ir::DataType::kFloat16)->bytes, 8);
  EXPECT_EQ(s.floatElements, 10 + 4 + 3);
  EXPECT_EQ(s.floatZeros, (8 + 1) + 3);
  EXPECT_EQ(s.externalBytes, 12);
  EXPECT_EQ(s.externalTensors, 1);
  EXPECT_EQ(findOp(s, ParameterStats::kUnusedOp)->tensors, 3);
  for (const auto& w : s.largest)
    if (w.name == "sp") {
      EXPECT_EQ(w.source, analysis::WeightSource::kSparseInitializer);
      EXPECT_EQ(w.dims, std::vector<int64_t>{10});
      EXPECT_EQ(w.params, 2);
    }
}

// The zero count runs in vector clones (AVX2/AVX-512 in GCC builds): every length across the
// vector widths, with -0, NaN, infinities and denormals, against a count element by element.
TEST(AnalysisParameters, ZeroCountMatchesAScalarCountAtEveryLength) {
  const float special[] = {0.0f, -0.0f, 1.0f, std::numeric_limits<float>::quiet_NaN(),
                           std::numeric_limits<float>::infinity(), std::numeric_limits<float>::min() / 2, 0.0f};
  for (int n = 1; n <= 70; ++n) {
    auto m = parse(R"(
      <ir_version: 8, opset_import: ["" : 17]>
      g (float[2] x) => (float[2] y) { y = Relu(x) })");
    std::vector<float> f(static_cast<size_t>(n));
    std::vector<double> d(f.size());
    std::vector<uint16_t> h(f.size());  // bfloat16: the upper half of the float
    int64_t expected = 0;
    for (size_t i = 0; i < f.size(); ++i) {
      f[i] = special[(i * 5 + static_cast<size_t>(n)) % 7];
      d[i] = static_cast<double>(f[i]);
      uint32_t bits;
      std::memcpy(&bits, &f[i], 4);
      h[i] = static_cast<uint16_t>(bits >> 16);
      if (f[i] == 0.0f) ++expected;
    }
    m->graph->addInitializer("f", ir::Tensor::fromVector(ir::DataType::kFloat, {n}, f));
    m->graph->addInitializer("d", ir::Tensor::fromVector(ir::DataType::kDouble, {n}, d));
    m->graph->addInitializer("h", ir::Tensor::fromVector(ir::DataType::kBfloat16, {n}, h));
    ParameterStats s = computeParameterStats(*m);
    EXPECT_EQ(s.floatElements, 3 * n);
    EXPECT_EQ(s.floatZeros, 3 * expected) << "length " << n;
  }
}

TEST(AnalysisParameters, ConstantTensorAttribute) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2] x) => (float[2] y)
    {
      k = Constant<value = float[2] {0.0, 4.0}>()
      y = Mul(x, k)
    })");
  ParameterStats s = computeParameterStats(*m);
  EXPECT_EQ(s.totalParams, 2);
  EXPECT_EQ(s.totalBytes, 8);
  ASSERT_EQ(s.largest.size(), 1u);
  EXPECT_EQ(s.largest[0].name, "k");
  EXPECT_EQ(s.largest[0].source, analysis::WeightSource::kConstantNode);
  EXPECT_EQ(s.largest[0].consumer, "Mul");
  EXPECT_EQ(s.floatZeros, 1);
}

}  // namespace
}  // namespace effdl::test
