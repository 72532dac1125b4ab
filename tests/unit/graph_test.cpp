// The IR's edit operations keep producers, users, outputs and captures consistent.
#include <gtest/gtest.h>

#include "core/error.h"
#include "ir/graph.h"
#include "test_util.h"

namespace effdl::test {
namespace {

TEST(Graph, ProducersAndUsesFromImport) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2] x) => (float[2] y) { t = Relu(x)  y = Add(t, t) })");
  ir::Graph& g = *m->graph;
  ir::Value* t = g.findValue("t");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->producer()->opType(), "Relu");
  EXPECT_EQ(t->uses().size(), 2u);
  EXPECT_TRUE(g.findValue("y")->isGraphOutput());
}

TEST(Graph, ReplaceGraphOutputKeepsItsName) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2] x) => (float[2] y) { t = Relu(x)  y = Identity(t) })");
  ir::Graph& g = *m->graph;
  ir::Value* y = g.findValue("y");
  ir::Value* t = g.findValue("t");
  ASSERT_TRUE(g.canReplaceAllUses(y, t));
  g.replaceAllUsesWith(y, t);
  g.eraseNode(y->producer());
  g.collectGarbage();
  EXPECT_EQ(print(*m), canonical(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2] x) => (float[2] y) { y = Relu(x) })"));
}

TEST(Graph, CannotReplaceOutputWithInput) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2] x) => (float[2] y) { y = Identity(x) })");
  ir::Graph& g = *m->graph;
  EXPECT_FALSE(g.canReplaceAllUses(g.findValue("y"), g.findValue("x")));
}

TEST(Graph, SortsUnsortedFileTopologically) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2] x) => (float[2] y) { t = Relu(x)  y = Neg(t) })");
  ir::Graph& g = *m->graph;
  auto nodes = g.nodes();
  g.moveBefore(nodes[1], nodes[0]);  // Neg before Relu: not topological
  g.sortTopologically();
  EXPECT_EQ(g.nodes()[0]->opType(), "Relu");
}

TEST(Graph, CaptureRedirectFollowsReplaceAllUses) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (bool cond, float[2] x) => (float[2] y)
    {
      c = Identity(x)
      y = If(cond) <
        then_branch = then_g () => (float[2] a) { a = Relu(c) },
        else_branch = else_g () => (float[2] b) { b = Neg(c) }
      >
    })");
  ir::Graph& g = *m->graph;
  ir::Value* c = g.findValue("c");
  ir::Value* x = g.findValue("x");
  ir::Node* ifNode = g.findValue("y")->producer();
  ASSERT_EQ(ifNode->implicitInputs().size(), 1u);
  g.replaceAllUsesWith(c, x);
  EXPECT_EQ(ifNode->implicitInputs()[0], x);
  g.eraseNode(c->producer());
  std::string out = print(*m);
  EXPECT_NE(out.find("a = Relu(x)"), std::string::npos) << out;
  EXPECT_NE(out.find("b = Neg(x)"), std::string::npos) << out;
}

TEST(Graph, FreshNamesNeverCollide) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2] x) => (float[2] y) { y_1 = Relu(x)  y = Neg(y_1) })");
  ir::Graph& g = *m->graph;
  ir::Value* v = g.addValue("y", /*fresh=*/true);
  EXPECT_NE(v->name(), "y");
  EXPECT_NE(v->name(), "y_1");
}

}  // namespace
}  // namespace effdl::test
