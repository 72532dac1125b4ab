// constants-to-initializers: golden before/after in ONNX text syntax.
#include <gtest/gtest.h>

#include "ir/verify.h"
#include "passes/registry.h"
#include "test_util.h"

namespace effdl::test {
namespace {

// Runs one pass and returns its statistics (declines included).
TEST(ConstantsToInitializers, TensorConstantKeepsItsName) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2] x) => (float[2] y)
    {
      c = Constant <value = float[2] {1.0, 2.0}> ()
      y = Add(x, c)
    })");
  auto r = runPass(*m, "constants-to-initializers");
  EXPECT_EQ(print(*m), canonical(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2] x) => (float[2] y)
       <float[2] c = {1.0, 2.0}>
    {
      y = Add(x, c)
    })"));
  EXPECT_EQ(r.counter("constants converted"), 1);
  EXPECT_TRUE(r.changed);
  ir::Value* c = m->graph->findValue("c");
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(c->isConstant());
  EXPECT_EQ(c->type().elemType, ir::DataType::kFloat);
  ASSERT_TRUE(c->type().staticShape());
  EXPECT_EQ(*c->type().staticShape(), (std::vector<int64_t>{2}));
}

TEST(ConstantsToInitializers, EveryValueAttributeForm) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2,3] x) => (float[2,3] y, float[3,2] z, string[2] so, string so1)
    {
      f = Constant <value_float = 1.5> ()
      fs = Constant <value_floats = [1.0, 2.0, 3.0]> ()
      i = Constant <value_int = 6> ()
      is = Constant <value_ints = [3, 2]> ()
      s = Constant <value_string = "one"> ()
      ss = Constant <value_strings = ["a", "b"]> ()
      a = Add(x, f)
      y = Mul(a, fs)
      r = Reshape(x, is)
      ci = Cast <to = 1> (i)
      z = Add(r, ci)
      so = Identity(ss)
      so1 = Identity(s)
    })");
  auto r = runPass(*m, "constants-to-initializers");
  EXPECT_EQ(r.counter("constants converted"), 6);
  EXPECT_EQ(m->graph->numNodes(), 7u);
  auto value = [&](const char* name) -> const ir::Tensor& {
    ir::Value* v = m->graph->findValue(name);
    EXPECT_TRUE(v && v->isConstant()) << name;
    return v->initializer();
  };
  EXPECT_EQ(value("f").dims(), std::vector<int64_t>{});
  EXPECT_EQ(value("f").values<float>()[0], 1.5f);
  EXPECT_EQ(value("fs").dims(), std::vector<int64_t>{3});
  EXPECT_EQ(value("fs").values<float>()[2], 3.0f);
  EXPECT_EQ(value("i").dtype(), ir::DataType::kInt64);
  EXPECT_EQ(value("i").dims(), std::vector<int64_t>{});
  EXPECT_EQ(value("i").values<int64_t>()[0], 6);
  EXPECT_EQ(value("is").dims(), std::vector<int64_t>{2});
  EXPECT_EQ(value("s").dtype(), ir::DataType::kString);
  EXPECT_EQ(value("s").strings(), std::vector<std::string>{"one"});
  EXPECT_EQ(value("ss").dims(), std::vector<int64_t>{2});
  EXPECT_EQ(value("ss").strings(), (std::vector<std::string>{"a", "b"}));
  // Not compared as text: the printer writes rank-0 tensors as "float[]", which ONNX text
  // syntax reads as "rank unknown" (a scalar is "float"), so scalars do not read back.
  std::string out = print(*m);
  EXPECT_EQ(out.find("Constant"), std::string::npos) << out;
  EXPECT_NO_THROW(ir::verifyModel(*m, /*strict=*/true));
}

TEST(ConstantsToInitializers, DeclinesConstantThatIsAGraphOutput) {
  const char* text = R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2] x) => (float[2] y, float[2] c)
    {
      c = Constant <value = float[2] {1.0, 2.0}> ()
      y = Add(x, c)
    })";
  auto m = parse(text);
  auto r = runPass(*m, "constants-to-initializers");
  EXPECT_EQ(print(*m), canonical(text));
  EXPECT_EQ(r.declined["Constant output is a graph output"], 1);
  EXPECT_FALSE(r.changed);
}

TEST(ConstantsToInitializers, DeclinesSparseConstant) {
  // The text parser cannot write sparse tensors: build the attribute through the IR.
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2] x) => (float[2] y) { y = Relu(x) })");
  ir::Node* n = m->graph->createNode("Constant", {}, {"sp"});
  ir::Attribute a;
  a.name = "sparse_value";
  a.type = ir::AttrType::kSparseTensor;
  a.opaque = "opaque";
  n->attributes().push_back(std::move(a));
  auto r = runPass(*m, "constants-to-initializers");
  EXPECT_EQ(r.declined["sparse Constant kept"], 1);
  EXPECT_EQ(m->graph->numNodes(), 2u);
  EXPECT_FALSE(m->graph->findValue("sp")->isInitializer());
  EXPECT_FALSE(r.changed);
}

TEST(ConstantsToInitializers, ConvertsInsideSubgraphs) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (bool cond, float[2] x) => (float[2] y)
    {
      y = If(cond) <
        then_branch = then_g () => (float[2] a) {
          c = Constant <value = float[2] {1.0, 2.0}> ()
          a = Add(x, c)
        },
        else_branch = else_g () => (float[2] b) { b = Identity(x) }
      >
    })");
  auto r = runPass(*m, "constants-to-initializers");
  EXPECT_EQ(r.counter("constants converted"), 1);
  EXPECT_EQ(print(*m), canonical(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (bool cond, float[2] x) => (float[2] y)
    {
      y = If(cond) <
        then_branch = then_g () => (float[2] a) <float[2] c = {1.0, 2.0}> { a = Add(x, c) },
        else_branch = else_g () => (float[2] b) { b = Identity(x) }
      >
    })"));
  // The initializer belongs to the branch, not to the main graph.
  EXPECT_TRUE(m->graph->initializers().empty());
  EXPECT_NO_THROW(ir::verifyModel(*m, /*strict=*/true));
}

TEST(ConstantsToInitializers, OuterConstantReadBySubgraph) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (bool cond, float[2] x) => (float[2] y)
    {
      c = Constant <value = float[2] {1.0, 2.0}> ()
      y = If(cond) <
        then_branch = then_g () => (float[2] a) { a = Add(x, c) },
        else_branch = else_g () => (float[2] b) { b = Identity(x) }
      >
    })");
  runPass(*m, "constants-to-initializers");
  EXPECT_EQ(print(*m), canonical(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (bool cond, float[2] x) => (float[2] y)
       <float[2] c = {1.0, 2.0}>
    {
      y = If(cond) <
        then_branch = then_g () => (float[2] a) { a = Add(x, c) },
        else_branch = else_g () => (float[2] b) { b = Identity(x) }
      >
    })"));
  ir::Node* ifNode = m->graph->findValue("y")->producer();
  ASSERT_EQ(ifNode->implicitInputs().size(), 2u);  // x and c
  EXPECT_TRUE(m->graph->findValue("c")->isConstant());
  EXPECT_NO_THROW(ir::verifyModel(*m, /*strict=*/true));
}

TEST(ConstantsToInitializers, ConvertsInIrVersion3Too) {
  // IR 3 lists every initializer among the graph inputs; the writer raises the model to IR 4
  // instead of changing its interface (onnx_io_test), so the conversion happens all the same.
  auto m = parse(R"(
    <ir_version: 3, opset_import: ["" : 8]>
    g (float[2] x) => (float[2] y)
    {
      c = Constant <value = float[2] {1.0, 2.0}> ()
      y = Add(x, c)
    })");
  auto r = runPass(*m, "constants-to-initializers");
  EXPECT_EQ(r.counter("constants converted"), 1);
  EXPECT_TRUE(m->graph->findValue("c")->isConstant());
  EXPECT_FALSE(m->graph->findValue("c")->isGraphInput());
}

TEST(ConstantsToInitializers, LeavesOtherDomainsAndModelsWithoutConstantsAlone) {
  const char* text = R"(
    <ir_version: 8, opset_import: ["" : 17, "custom" : 1]>
    g (float[2] x) => (float[2] y)
    {
      c = custom.Constant <value = float[2] {1.0, 2.0}> ()
      y = Add(x, x)
    })";
  auto m = parse(text);
  auto r = runPass(*m, "constants-to-initializers");
  EXPECT_EQ(print(*m), canonical(text));
  EXPECT_TRUE(r.counters.empty());
  EXPECT_TRUE(r.declined.empty());
  EXPECT_FALSE(r.changed);
}

}  // namespace
}  // namespace effdl::test
