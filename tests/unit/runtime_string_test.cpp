// String tensors in the runtime: Cast to and from string (ONNX's rules: shortest round-trip
// floats, NaN/INF spellings, whole-string parsing) and StringNormalizer (stopwords, case change,
// the empty-result rule, locales refused).
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "runtime/session.h"
#include "test_util.h"

namespace effdl::test {
namespace {

ir::Tensor strings(std::vector<int64_t> dims, std::vector<std::string> v) { return ir::Tensor::fromStrings(dims, v); }

TEST(RuntimeString, CastFloatToStringAndBack) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[5] x) => (string[5] s, float[5] back) {
      s = Cast<to = 8>(x)
      back = Cast<to = 1>(s)
    })");
  runtime::Session session(*m, {1});
  const float inf = INFINITY;
  auto x = ir::Tensor::fromVector(ir::DataType::kFloat, {5}, std::vector<float>{0.039187793f, -2.0f, 1e20f, inf, -inf});
  for (int run = 0; run < 2; ++run) {
    auto out = session.run({{"x", &x}});
    EXPECT_EQ(out[0].strings(), (std::vector<std::string>{"0.039187793", "-2", "1e+20", "INF", "-INF"}));
    EXPECT_TRUE(out[1].sameContent(x));
  }
  // A fraction is not an integer: the whole string must parse.
  auto toInt = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[5] x) => (int32[5] i) { s = Cast<to = 8>(x)  i = Cast<to = 6>(s) })");
  runtime::Session intSession(*toInt, {1});
  expectError([&] { intSession.run({{"x", &x}}); }, ErrorKind::kInvalidModel, "element 0 ('0.039187793') is not a number");
}

TEST(RuntimeString, ConstantNodesOfStrings) {
  // value_strings, value_string and a string tensor value.
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2] x) => (string[2] a, string b, string[1] t) {
      a = Constant<value_strings = ["ab", "c"]>()
      b = Constant<value_string = "xyz">()
      t = Constant<value = string[1] {"tt"}>()
    })");
  runtime::Session session(*m, {1});
  auto x = ir::Tensor::fromVector(ir::DataType::kFloat, {2}, std::vector<float>{1, 2});
  for (int run = 0; run < 2; ++run) {
    auto out = session.run({{"x", &x}});
    EXPECT_EQ(out[0].strings(), (std::vector<std::string>{"ab", "c"}));
    EXPECT_EQ(out[1].strings(), (std::vector<std::string>{"xyz"}));
    EXPECT_EQ(out[2].strings(), (std::vector<std::string>{"tt"}));
  }
}

TEST(RuntimeString, CastStringToNumbers) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (string[4] s) => (float[4] f, int8[4] i) {
      f = Cast<to = 1>(s)
      i = Cast<to = 3>(s)
    })");
  runtime::Session session(*m, {1});
  // NaN is a float, not an int8.
  auto s = strings({4}, {"NaN", "+INF", "-inf", " 12"});
  expectError([&] { session.run({{"s", &s}}); }, ErrorKind::kInvalidModel, "element 0 ('NaN') is not a number");
  auto nums = strings({4}, {"1", "-300", "300", " 7"});
  auto out = session.run({{"s", &nums}});
  auto f = out[0].values<float>();
  EXPECT_EQ(std::vector<float>(f.begin(), f.end()), (std::vector<float>{1, -300, 300, 7}));
  auto i = out[1].values<int8_t>();
  EXPECT_EQ(std::vector<int8_t>(i.begin(), i.end()), (std::vector<int8_t>{1, -128, 127, 7}));  // saturated
  auto bad = strings({4}, {"1", "2x", "3", "4"});
  expectError([&] { session.run({{"s", &bad}}); }, ErrorKind::kInvalidModel, "element 1 ('2x') is not a number");
}

TEST(RuntimeString, CastSpecialFloatsFromStrings) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (string[4] s) => (float[4] f) { f = Cast<to = 1>(s) })");
  runtime::Session session(*m, {1});
  auto s = strings({4}, {"NaN", "+INF", "-inf", "INF"});
  auto out = session.run({{"s", &s}});
  auto f = out[0].values<float>();
  EXPECT_TRUE(std::isnan(f[0]));
  EXPECT_EQ(f[1], INFINITY);
  EXPECT_EQ(f[2], -INFINITY);
  EXPECT_EQ(f[3], INFINITY);
}

TEST(RuntimeString, StringNormalizerStopwordsAndCase) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (string[1,4] x) => (string[1,N] y) {
      y = StringNormalizer<case_change_action = "UPPER", stopwords = ["monday"]>(x)
    })");
  runtime::Session session(*m, {1});
  auto x = strings({1, 4}, {"Monday", "tuesday", "grüße", "MONDAY"});
  auto out = session.run({{"x", &x}});
  EXPECT_EQ(out[0].dims(), (std::vector<int64_t>{1, 2}));
  // Case-insensitive by default; non-ASCII letters are mapped too (C.UTF-8's simple mapping).
  EXPECT_EQ(out[0].strings(), (std::vector<std::string>{"TUESDAY", "GRÜßE"}));
  auto all = strings({1, 4}, {"monday", "Monday", "MONDAY", "monday"});
  out = session.run({{"x", &all}});
  EXPECT_EQ(out[0].dims(), (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(out[0].strings(), (std::vector<std::string>{""}));
}

TEST(RuntimeString, StringNormalizerRefusesOtherLocales) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (string[2] x) => (string[N] y) { y = StringNormalizer<case_change_action = "LOWER", locale = "tr_TR">(x) })");
  expectError([&] { runtime::Session s(*m, {1}); }, ErrorKind::kUnsupported, "locale 'tr_TR'");
}

TEST(RuntimeString, TensorKernelRefusesStrings) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (string[2] x) => (string[2,1] y) { shape = Constant<value = int64[2] {2, 1}>()  y = Reshape(x, shape) })");
  runtime::Session session(*m, {1});
  auto x = strings({2}, {"a", "b"});
  expectError([&] { session.run({{"x", &x}}); }, ErrorKind::kUnsupported, "does not handle string tensors");
}

}  // namespace
}  // namespace effdl::test
