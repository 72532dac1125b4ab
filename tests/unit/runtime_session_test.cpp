// Session: inputs checked against the model (one error per mistake), outputs by graph order,
// buffers reused across runs, and an op without a kernel named when the session is built.
#include <gtest/gtest.h>

#include "core/error.h"
#include "runtime/random_inputs.h"
#include "runtime/run_failure.h"
#include "runtime/session.h"
#include "test_util.h"

namespace effdl::test {
namespace {

const char* kIdentity = R"(
  <ir_version: 8, opset_import: ["" : 17]>
  g (float[N,4] x, float[N,4] z) => (float[N,4] y, float[N,4] w) { y = Identity(x)  w = Identity(z) })";

ir::Tensor floats(std::vector<int64_t> dims) {
  int64_t n = 1;
  for (auto d : dims) n *= d;
  std::vector<float> v(static_cast<size_t>(n));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i);
  return ir::Tensor::fromVector(ir::DataType::kFloat, dims, v);
}

TEST(RuntimeSession, RunsAndReturnsOutputsInGraphOrder) {
  auto m = parse(kIdentity);
  runtime::Session s(*m, {1});
  auto x = floats({2, 4}), z = floats({2, 4});
  auto out = s.run({{"z", &z}, {"x", &x}});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(out[0].sameContent(x));
  EXPECT_EQ(out[1].dims(), (std::vector<int64_t>{2, 4}));
}

TEST(RuntimeSession, EmptyConstantsFoldAsPresentInputs) {
  // Concat of a constant and an empty constant folds when the session is built (an empty tensor
  // is an input, not an omitted one): only the Add runs per inference.
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[3] x) => (float[3] y) <float[2] a = {1, 2}, float[0] e = {}, float[1] b = {3}> {
      s = Concat<axis = 0>(a, e, b)
      y = Add(x, s)
    })");
  runtime::Session s(*m, {1});
  EXPECT_EQ(s.numKernels(), 1u);
  auto x = ir::Tensor::fromVector(ir::DataType::kFloat, {3}, std::vector<float>{10, 20, 30});
  auto out = s.run({{"x", &x}});
  auto v = out[0].values<float>();
  EXPECT_EQ(std::vector<float>(v.begin(), v.end()), (std::vector<float>{11, 22, 33}));
}

TEST(RuntimeSession, BadInputsAreUsageErrors) {
  auto m = parse(kIdentity);
  runtime::Session s(*m, {1});
  auto x = floats({2, 4}), z = floats({2, 4}), z3 = floats({3, 4}), rank3 = floats({1, 2, 4}), wide = floats({2, 5});
  auto ints = ir::Tensor::fromVector(ir::DataType::kInt64, {2, 4}, std::vector<int64_t>(8, 1));
  std::string msg;
  EXPECT_EQ(kindOf([&] { s.run({{"x", &x}, {"nope", &z}}); }, &msg), ErrorKind::kUsage);
  EXPECT_NE(msg.find("no input named 'nope'"), std::string::npos) << msg;
  EXPECT_EQ(kindOf([&] { s.run({{"x", &x}}); }, &msg), ErrorKind::kUsage);
  EXPECT_NE(msg.find("input 'z' is missing"), std::string::npos) << msg;
  EXPECT_EQ(kindOf([&] { s.run({{"x", &ints}, {"z", &z}}); }, &msg), ErrorKind::kUsage);
  EXPECT_NE(msg.find("expected float, got int64"), std::string::npos) << msg;
  EXPECT_EQ(kindOf([&] { s.run({{"x", &rank3}, {"z", &z}}); }, &msg), ErrorKind::kUsage);
  EXPECT_NE(msg.find("expected rank 2"), std::string::npos) << msg;
  EXPECT_EQ(kindOf([&] { s.run({{"x", &wide}, {"z", &z}}); }, &msg), ErrorKind::kUsage);
  EXPECT_NE(msg.find("dim 1 must be 4"), std::string::npos) << msg;
  EXPECT_EQ(kindOf([&] { s.run({{"x", &x}, {"z", &z3}}); }, &msg), ErrorKind::kUsage);
  EXPECT_NE(msg.find("dim 'N' is 3 here but 2 in another input"), std::string::npos) << msg;
}

TEST(RuntimeSession, MissingKernelNamedAtBuild) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17, "com.example" : 1]>
    g (float[2] x) => (float[2] y) { y = com.example.Mystery(x) })");
  std::string msg;
  EXPECT_EQ(kindOf([&] { runtime::Session s(*m); }, &msg), ErrorKind::kUnsupported);
  EXPECT_NE(msg.find("(com.example.Mystery, opset 1): no kernel in effdl's runtime"), std::string::npos) << msg;
}

TEST(RuntimeSession, BuffersAreReusedAcrossRuns) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[64] x) => (float[64] y) { a = Identity(x)  b = Identity(a)  c = Identity(b)  y = Identity(c) })");
  runtime::Session s(*m, {1});
  auto x = floats({64});
  s.run({{"x", &x}});
  size_t capacity = s.pool().capacityBytes();
  for (int i = 0; i < 5; ++i) s.run({{"x", &x}});
  EXPECT_EQ(s.pool().capacityBytes(), capacity);
  // A chain of in-place ops needs one buffer, not four.
  EXPECT_LE(capacity, 2 * 64 * sizeof(float) + 128);
}

TEST(RuntimeSession, UnreadOutputsAreNotWanted) {
  // TopK's indices (int64, 32 KiB) feed nothing: the executor tells the kernel they are not
  // wanted, the kernel skips them and does not fail for leaving them unset.
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[4096] x, int64[1] k) => (float[4096] v) { v, i = TopK(x, k) })");
  runtime::Session s(*m, {1});
  auto x = floats({4096});
  auto k = ir::Tensor::fromVector(ir::DataType::kInt64, {1}, std::vector<int64_t>{4096});
  auto out = s.run({{"x", &x}, {"k", &k}});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].values<float>()[0], 4095.f);
  EXPECT_LT(s.pool().capacityBytes(), 4096 * sizeof(int64_t));
}

TEST(RandomInputs, DeterministicAndWithinGatherTable) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (int64[B,16] ids, float[B,3] f, float[50,4] table) => (float[B,16,4] y, float[B,3] g2)
    { c = Cast <to = 7> (ids)  y = Gather(table, c)  g2 = Identity(f) })");
  runtime::RandomInputOptions o;
  o.seed = 7;
  o.dims["B"] = 5;
  auto a = runtime::makeRandomInputs(*m, o);
  auto b = runtime::makeRandomInputs(*m, o);
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a[0].second.dims(), (std::vector<int64_t>{5, 16}));
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(a[i].second.sameContent(b[i].second));
  for (int64_t id : a[0].second.values<int64_t>()) {
    EXPECT_GE(id, 0);
    EXPECT_LT(id, 50);
  }
  for (float v : a[1].second.values<float>()) {
    EXPECT_GE(v, -1.0f);
    EXPECT_LT(v, 1.0f);
  }
  o.seed = 8;
  EXPECT_FALSE(runtime::makeRandomInputs(*m, o)[1].second.sameContent(a[1].second));
}

TEST(RuntimeSession, InvalidWhenRunTellsAnInvalidModelFromOtherFailures) {
  // libonnx's inference lets a Reshape of 2 elements to [3] pass; the kernel finds it invalid.
  auto bad = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2] x) => (float[3] y) <int64[1] s = {3}> { y = Reshape(x, s) })");
  auto why = runtime::invalidWhenRun(*bad);
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("cannot give shape [3] to an input of shape [2]"), std::string::npos) << *why;
  // A model that runs, and one that fails for another reason (no kernel), are not "invalid".
  EXPECT_FALSE(runtime::invalidWhenRun(*parse(kIdentity)).has_value());
  auto unknown = parse(R"(
    <ir_version: 8, opset_import: ["" : 17, "com.example" : 1]>
    g (float[2] x) => (float[2] y) { y = com.example.Mystery(x) })");
  EXPECT_FALSE(runtime::invalidWhenRun(*unknown).has_value());
}

}  // namespace
}  // namespace effdl::test
