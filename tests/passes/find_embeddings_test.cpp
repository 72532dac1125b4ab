// Which Gathers are embedding lookups (passes/hash_embeddings/find_embeddings.h): 2-D float
// initializer tables read with run-time integer ids, grouped per table, with the ids' graph input
// traced through shape-only ops, other readers listed, and the reasons a lookup is declined.
#include "passes/hash_embeddings/find_embeddings.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace effdl::test {
namespace {

TEST(FindEmbeddings, GroupsLookupsPerTableAndTracesIdsThroughShapeOps) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (int32[2,3] ids, int64[3] other) => (float[6,2] a, float[3,2] b, float[3,4] c)
       <float[5,2] t = {1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0}, int64[1] flat = {-1},
        float[4,4] u = {1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0}>
    {
      i64 = Cast <to = 7> (ids)
      r = Reshape (i64, flat)
      a = Gather (t, r)
      b = Gather (t, other)
      c = Gather (u, other)
    })");
  std::vector<std::string> declined;
  auto tables = passes::findEmbeddingTables(*m->graph, &declined);
  EXPECT_TRUE(declined.empty());
  ASSERT_EQ(tables.size(), 2u);
  const auto& t = tables[0];
  EXPECT_EQ(t.table->name(), "t");
  EXPECT_EQ(t.rows, 5);
  EXPECT_EQ(t.dim, 2);
  EXPECT_EQ(t.bytes, 5u * 2u * sizeof(float));
  ASSERT_EQ(t.gathers.size(), 2u);
  EXPECT_EQ(t.gathers[0]->output(0)->name(), "a");
  EXPECT_EQ(t.gathers[1]->output(0)->name(), "b");
  EXPECT_EQ(t.idsSource, "ids") << "the first lookup's ids, through Cast and Reshape";
  EXPECT_TRUE(t.otherUses.empty());
  EXPECT_EQ(tables[1].table->name(), "u");
  EXPECT_EQ(tables[1].idsSource, "other");
}

TEST(FindEmbeddings, IdsComputedByOtherOpsHaveNoSource) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (int64[3] ids) => (float[3,2] a) <float[4,2] t = {1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0}, int64 one = {1}>
    {
      shifted = Add (ids, one)
      a = Gather (t, shifted)
    })");
  auto tables = passes::findEmbeddingTables(*m->graph);
  ASSERT_EQ(tables.size(), 1u);
  EXPECT_EQ(tables[0].idsSource, "");
}

TEST(FindEmbeddings, TiedReadersAreOtherUses) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (int64[3] ids, float[1,2] h) => (float[3,2] a, float[1,4] logits, float[2,4] tt)
       <float[4,2] t = {1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0}>
    {
      a = Gather (t, ids)
      tt = Transpose (t)
      logits = MatMul (h, tt)
    })");
  auto tables = passes::findEmbeddingTables(*m->graph);
  ASSERT_EQ(tables.size(), 1u);
  ASSERT_EQ(tables[0].otherUses.size(), 1u);
  EXPECT_EQ(tables[0].otherUses[0].node->opType(), "Transpose");
  EXPECT_EQ(tables[0].gathers.size(), 1u);
}

TEST(FindEmbeddings, DeclinesOtherAxesAndConstantIdsAndSkipsOtherTables) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (int64[2] ids) => (float[4,2] a, float[2,2] b, float[2,2,2] c, float[2,2] d)
       <float[4,2] t = {1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0}, int64[2] pos = {0, 1},
        float[2,2,2] cube = {1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0}, int64[1] shp = {2}>
    {
      a = Gather <axis = 1> (t, ids)
      pr = Reshape (pos, shp)
      b = Gather (t, pr)
      c = Gather (cube, ids)
      d = Gather (t, ids)
    })");
  std::vector<std::string> declined;
  auto tables = passes::findEmbeddingTables(*m->graph, &declined);
  EXPECT_EQ(declined, (std::vector<std::string>{"Gather axis is not 0", "indices are constant"}));
  // The 3-D table is not a candidate at all (not declined); only `d` is a lookup.
  ASSERT_EQ(tables.size(), 1u);
  ASSERT_EQ(tables[0].gathers.size(), 1u);
  EXPECT_EQ(tables[0].gathers[0]->output(0)->name(), "d");
  // The declined Gathers still read the table: they count as other uses.
  EXPECT_EQ(tables[0].otherUses.size(), 2u);
}

}  // namespace
}  // namespace effdl::test
