// sparse-storage: each encoding gives effdl's runtime the same weights (bit-identical outputs),
// survives a save/load round trip and a later cleanup, applies to int8 weights, and `auto` picks
// the smaller format.
#include <gtest/gtest.h>

#include "ir/onnx_export.h"
#include "ir/onnx_import.h"
#include "runtime/session.h"
#include "test_util.h"

namespace effdl::test {
namespace {

// A [rows, 64] weight in which every `period`-th element (from `phase`) is non-zero.
std::string weightValues(int rows, int period, bool intValues) {
  std::string s;
  for (int i = 0; i < rows * 64; ++i) {
    const int v = i % period == 1 % period ? (i % 7) - 3 + (i % 7 == 3 ? 1 : 0) : 0;
    s += (i ? ", " : "") + (intValues ? std::to_string(v) : std::to_string(v * 0.25));
  }
  return s;
}

// y = x + w: for x = 0 the output is the decoded weight itself, so the check is exact (a Gemm
// may take another kernel path for a computed weight than for a constant one).
std::string floatModel(int period) {
  return R"(<ir_version: 8, opset_import: ["" : 17]>
    g (float[36,64] x) => (float[36,64] y) <float[36,64] w = {)" + weightValues(36, period, false) + R"(}>
    { y = Add(x, w) })";
}

std::string int8Model(int rows = 36) {
  const std::string shape = "[" + std::to_string(rows) + ",64]";
  return R"(<ir_version: 8, opset_import: ["" : 17]>
    g (float)" + shape + R"( x) => (float)" + shape + R"( y) <int8)" + shape + R"( q = {)" + weightValues(rows, 4, true) + R"(}>
    { w = Cast <to = 1> (q)  y = Add(x, w) })";
}

std::vector<float> run(const ir::Model& m) {
  std::vector<float> x(36 * 64, 0.0f);
  ir::Tensor t = ir::Tensor::fromVector(ir::DataType::kFloat, {36, 64}, x);
  runtime::Session s(m, {});
  auto out = s.run({{"x", &t}});
  auto v = out[0].values<float>();
  return {v.begin(), v.end()};
}

std::unique_ptr<ir::Model> roundTrip(const ir::Model& m) {
  std::string bytes = ir::serializeModel(m);
  return ir::loadModelFromBytes(bytes.data(), bytes.size(), ".", "roundtrip");
}

TEST(SparseStorage, BitmaskDecodesToTheSameWeights) {
  auto dense = parse(floatModel(2));
  auto m = parse(floatModel(2));
  auto r = runPass(*m, "sparse-storage{format=bitmask}");
  EXPECT_EQ(r.counter("weights stored as bitmask"), 1);
  EXPECT_EQ(m->graph->findValue("w"), nullptr);  // the dense initializer is gone
  auto back = roundTrip(*m);
  EXPECT_EQ(run(*back), run(*dense));
  // 1152 kept floats + 2304 bits, plus the decode's nodes and names and the shared tables' (< 2 KiB).
  EXPECT_LT(ir::serializeModel(*m).size(), 1152 * 4 + 2304 / 8 + 2048);
  // Optimizing the encoded model again keeps the decode (fold-constants recognises it).
  const std::string printed = print(*back);
  runPass(*back, "cleanup");
  EXPECT_EQ(print(*back), printed);
  // effdl's runtime decodes once when the session is built: each inference runs the Add alone.
  EXPECT_EQ(runtime::Session(*back, {}).numKernels(), runtime::Session(*dense, {}).numKernels());
}

TEST(SparseStorage, CooIsASparseInitializer) {
  auto dense = parse(floatModel(2));
  auto m = parse(floatModel(2));
  runPass(*m, "sparse-storage{format=coo}");
  ASSERT_EQ(m->graph->sparseInitializers().size(), 1u);
  EXPECT_EQ(m->graph->sparseInitializers()[0]->name(), "w");
  auto back = roundTrip(*m);
  ASSERT_EQ(back->graph->sparseInitializers().size(), 1u);
  EXPECT_EQ(run(*back), run(*dense));
}

TEST(SparseStorage, Int8WeightsKeepTheirZeros) {
  auto dense = parse(int8Model());
  auto m = parse(int8Model());
  auto r = runPass(*m, "sparse-storage{format=bitmask}");
  EXPECT_EQ(r.counter("weights stored as bitmask"), 1);
  EXPECT_EQ(run(*roundTrip(*m)), run(*dense));
}

TEST(SparseStorage, AutoPicksTheSmallestAndSkipsDenseWeights) {
  {
    auto m = parse(floatModel(100));  // 1% non-zero: 12 B per kept value beats 1 bit per weight
    auto r = runPass(*m, "sparse-storage");
    EXPECT_EQ(r.counter("weights stored as coo"), 1);
  }
  {
    auto m = parse(floatModel(2));
    auto r = runPass(*m, "sparse-storage");
    EXPECT_EQ(r.counter("weights stored as bitmask"), 1);
    // 50% zeros save ~45% of the bytes: not enough when the load-time cost asks for 60%.
    auto m2 = parse(floatModel(2));
    auto r2 = runPass(*m2, "sparse-storage{bitmask-gain=0.6}");
    EXPECT_EQ(r2.declined["dense kept: no format smaller by enough"], 1);
  }
  {
    // 2304 int8 weights, 75% zeros: 865 B of values and mask plus the decode's nodes and the
    // shared tables (~0.9 KiB) beat 2304 B dense, and the file really is smaller.
    const std::string text = int8Model();
    auto m = parse(text);
    auto r = runPass(*m, "sparse-storage{bitmask-gain=0}");
    EXPECT_EQ(r.counter("weights stored as bitmask"), 1);
    EXPECT_LT(ir::serializeModel(*m).size(), ir::serializeModel(*parse(text)).size());
  }
  {
    // 1024 int8 weights, 75% zeros: 385 B of values and mask, but the decode and the tables
    // outweigh the 639 B saved, so auto keeps it dense; forcing bitmask does grow the file.
    const std::string text = int8Model(16);
    auto m = parse(text);
    auto r = runPass(*m, "sparse-storage{bitmask-gain=0}");
    EXPECT_EQ(r.declined["dense kept: no format smaller by enough"], 1);
    EXPECT_EQ(print(*m), canonical(text));
    auto forced = parse(text);
    runPass(*forced, "sparse-storage{format=bitmask}");
    EXPECT_GT(ir::serializeModel(*forced).size(), ir::serializeModel(*m).size());
  }
  {
    const std::string text = floatModel(2);
    auto m = parse(text);
    auto r = runPass(*m, "sparse-storage{min-sparsity=0.6}");  // 50% zeros
    EXPECT_EQ(r.declined["below min-sparsity"], 1);
    EXPECT_EQ(print(*m), canonical(text));
    auto m2 = parse(text);
    runPass(*m2, "sparse-storage{min-size=4096}");  // 2304 elements
    EXPECT_EQ(print(*m2), canonical(text));
  }
}

}  // namespace
}  // namespace effdl::test
