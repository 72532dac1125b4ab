// Session build folds sparse-storage's bitmask decode in one pass (runtime/bitmask_decode_fold.h):
// the weights it gives are bit-identical to running the decode node by node, and any chain that
// differs from the one it knows (an intermediate read elsewhere, another scan direction, indices
// out of range) is declined and folded node by node, with the same outcome as before.
#include <gtest/gtest.h>

#include <variant>

#include "core/error.h"
#include "runtime/session.h"
#include "test_util.h"

namespace effdl::test {
namespace {

// A [rows, cols] weight in which every second element is non-zero; y = x + w (x = 0 gives w).
std::string model(const std::string& weightType, const std::string& wrap, int rows = 36, int cols = 64) {
  const std::string shape = "[" + std::to_string(rows) + "," + std::to_string(cols) + "]";
  std::string vals;
  for (int i = 0; i < rows * cols; ++i) {
    const int v = i % 2 ? (i % 7) - 3 + (i % 7 == 3 ? 1 : 0) : 0;
    vals += (i ? ", " : "") + (weightType == "float" ? std::to_string(v * 0.25) : std::to_string(v));
  }
  return R"(<ir_version: 8, opset_import: ["" : 17]>
    g (float)" + shape + " x) => (float" + shape + " y) <" + weightType + shape + " q = {" + vals + R"(}>
    { )" + wrap + " y = Add(x, w) }";
}
std::string floatModel() { return model("float", "w = Identity(q)"); }
std::string int8Model() { return model("int8", "w = Cast <to = 1> (q)"); }

// The output for x = 0, or the error's text.
std::variant<std::vector<float>, std::string> run(const ir::Model& m, bool native, size_t* foldedOut = nullptr,
                                                  int threads = 1) {
  const std::vector<int64_t> dims = *m.graph->inputs()[0]->type().staticShape();
  std::vector<float> zeros(static_cast<size_t>(dims[0] * dims[1]), 0.0f);
  ir::Tensor x = ir::Tensor::fromVector(ir::DataType::kFloat, dims, zeros);
  runtime::SessionOptions o;
  o.threads = threads;
  o.foldBitmaskDecode = native;
  try {
    runtime::Session s(m, o);
    if (foldedOut) *foldedOut = s.bitmaskDecodesFolded();
    auto out = s.run({{"x", &x}});
    auto v = out[0].values<float>();
    return std::vector<float>(v.begin(), v.end());
  } catch (const Error& e) {
    return std::string(e.what());
  }
}

std::unique_ptr<ir::Model> encoded(const std::string& text) {
  auto m = parse(text);
  auto r = runPass(*m, "sparse-storage{format=bitmask}");
  EXPECT_EQ(r.counter("weights stored as bitmask"), 1);
  return m;
}

// The weight's decode node of type `op` whose first input a `from` node makes (the shared
// tables have a CumSum of their own).
ir::Node* nodeOf(ir::Model& m, const std::string& op, const std::string& from) {
  for (ir::Node* n : m.graph->nodes())
    if (n->opType() == op && n->input(0)->producer() && n->input(0)->producer()->opType() == from) return n;
  return nullptr;
}

TEST(RuntimeBitmaskDecode, OnePassGivesTheSameWeightsAsNodeByNode) {
  for (const std::string& text : {floatModel(), int8Model()}) {
    auto dense = parse(text);
    auto m = encoded(text);
    size_t native = 0, generic = 0;
    const auto a = run(*m, true, &native);
    const auto b = run(*m, false, &generic);
    EXPECT_EQ(native, 1u);
    EXPECT_EQ(generic, 0u);
    ASSERT_TRUE(std::holds_alternative<std::vector<float>>(a)) << std::get<std::string>(a);
    EXPECT_EQ(a, b);
    EXPECT_EQ(a, run(*dense, true));
  }
}

// 73728 elements (9216 mask bytes): above the threshold from which the decode splits its mask
// into chunks for threads; on 1 and 2 threads the same bytes as node by node.
TEST(RuntimeBitmaskDecode, ChunksOnTwoThreadsGiveTheSameWeights) {
  for (const std::string& text : {model("float", "w = Identity(q)", 256, 288), model("int8", "w = Cast <to = 1> (q)", 256, 288)}) {
    auto m = encoded(text);
    const auto generic = run(*m, false);
    ASSERT_TRUE(std::holds_alternative<std::vector<float>>(generic)) << std::get<std::string>(generic);
    for (int threads : {1, 2}) {
      size_t folded = 0;
      EXPECT_EQ(run(*m, true, &folded, threads), generic) << threads;
      EXPECT_EQ(folded, 1u);
    }
  }
}

TEST(RuntimeBitmaskDecode, AnIntermediateReadOutsideTheChainIsDeclined) {
  auto dense = parse(floatModel());
  auto m = encoded(floatModel());
  ir::Node* max = nodeOf(*m, "Max", "Add");
  ASSERT_NE(max, nullptr);
  // A second reader of Add's result: skipping the intermediate would starve it.
  m->graph->createNode("Identity", {max->input(0)}, {"extra"});
  size_t folded = 9;
  const auto a = run(*m, true, &folded);
  EXPECT_EQ(folded, 0u);
  EXPECT_EQ(a, run(*dense, true));
}

TEST(RuntimeBitmaskDecode, OtherScansAreDeclinedWithTheSameOutcome) {
  for (const char* attr : {"reverse", "exclusive"}) {
    auto m = encoded(floatModel());
    ir::Node* cumsum = nodeOf(*m, "CumSum", "Gather");
    ASSERT_NE(cumsum, nullptr);
    // reverse=1 does not match; exclusive=0 matches but shifts the last indices past the values,
    // which the one-pass decode leaves to Gather (that fails, and reports at inference).
    cumsum->setAttr(ir::Attribute::makeInt(attr, std::string(attr) == "reverse" ? 1 : 0));
    size_t folded = 9;
    const auto a = run(*m, true, &folded);
    EXPECT_EQ(folded, 0u) << attr;
    EXPECT_EQ(a, run(*m, false)) << attr;
  }
}

}  // namespace
}  // namespace effdl::test
