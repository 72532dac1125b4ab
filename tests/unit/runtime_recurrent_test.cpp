// RNN/GRU/LSTM kernels: values checked by hand on cases whose arithmetic is a running sum, and the
// errors for bad attributes and inputs. (ONNX's node cases and tests/data/recurrent, whose
// expected outputs come from ONNX Runtime, cover the rest through the conformance runner.)
#include <gtest/gtest.h>

#include "core/error.h"
#include "runtime/session.h"
#include "test_util.h"

namespace effdl::test {
namespace {

ir::Tensor floats(std::vector<int64_t> dims, std::vector<float> v) {
  return ir::Tensor::fromVector(ir::DataType::kFloat, dims, v);
}

std::vector<float> vals(const ir::Tensor& t) {
  auto s = t.values<float>();
  return {s.begin(), s.end()};
}

// RNN with hidden 1, W = R = 1, no bias and f = Affine(1, 0): H_t = H_{t-1} + x_t, a running sum.
std::unique_ptr<ir::Model> sumRnn(const std::string& direction, const std::string& extraInputs = "",
                                  const std::string& extraDecl = "") {
  return parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[4,2,1] X)" + extraDecl + R"() => (float[4,)" + std::string(direction == "bidirectional" ? "2" : "1") +
               R"(,2,1] Y, float[)" + std::string(direction == "bidirectional" ? "2" : "1") + R"(,2,1] Y_h)
      <float[)" + std::string(direction == "bidirectional" ? "2" : "1") + R"(,1,1] W = {)" +
               std::string(direction == "bidirectional" ? "1.0, 1.0" : "1.0") + R"(}, float[)" +
               std::string(direction == "bidirectional" ? "2" : "1") + R"(,1,1] R = {)" +
               std::string(direction == "bidirectional" ? "1.0, 1.0" : "1.0") + R"(}> {
      Y, Y_h = RNN<hidden_size = 1, direction = ")" + direction +
               R"(", activations = ["Affine"], activation_alpha = [1.0], activation_beta = [0.0]>(X, W, R)" +
               extraInputs + R"()
    })");
}

// X[t, b] = t + 1 for batch 0 and 10 (t + 1) for batch 1.
ir::Tensor xs() { return floats({4, 2, 1}, {1, 10, 2, 20, 3, 30, 4, 40}); }

TEST(RuntimeRecurrent, ForwardIsARunningSum) {
  auto m = sumRnn("forward");
  runtime::Session s(*m, {1});
  auto x = xs();
  auto out = s.run({{"X", &x}});
  EXPECT_EQ(vals(out[0]), (std::vector<float>{1, 10, 3, 30, 6, 60, 10, 100}));
  EXPECT_EQ(vals(out[1]), (std::vector<float>{10, 100}));
}

TEST(RuntimeRecurrent, ReverseSumsFromTheEnd) {
  auto m = sumRnn("reverse");
  runtime::Session s(*m, {1});
  auto x = xs();
  auto out = s.run({{"X", &x}});
  EXPECT_EQ(vals(out[0]), (std::vector<float>{10, 100, 9, 90, 7, 70, 4, 40}));
  EXPECT_EQ(vals(out[1]), (std::vector<float>{10, 100}));
}

TEST(RuntimeRecurrent, SequenceLensStopEachRowAndZeroTheRest) {
  // Batch 1 has length 2: forward sums 10, 30 then zeros; reverse walks t = 1, 0.
  auto m = sumRnn("bidirectional", ", , lens", ", int32[2] lens");
  runtime::Session s(*m, {1});
  auto x = xs();
  auto lens = ir::Tensor::fromVector(ir::DataType::kInt32, {2}, std::vector<int32_t>{4, 2});
  auto out = s.run({{"X", &x}, {"lens", &lens}});
  // Y is [seq, dir, batch, 1].
  EXPECT_EQ(vals(out[0]), (std::vector<float>{1, 10, 10, 30,  //
                                                        3, 30, 9, 20,   //
                                                        6, 0, 7, 0,     //
                                                        10, 0, 4, 0}));
  EXPECT_EQ(vals(out[1]), (std::vector<float>{10, 30, 10, 30}));
}

TEST(RuntimeRecurrent, BadSequenceLensIsARunError) {
  auto m = sumRnn("forward", ", , lens", ", int32[2] lens");
  runtime::Session s(*m, {1});
  auto x = xs();
  auto lens = ir::Tensor::fromVector(ir::DataType::kInt32, {2}, std::vector<int32_t>{4, 5});
  expectError([&] { s.run({{"X", &x}, {"lens", &lens}}); }, ErrorKind::kInvalidModel,
              "sequence_lens[1] = 5 is outside [0, 4]");
}

TEST(RuntimeRecurrent, UnknownActivationIsUnsupported) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[4,2,1] X, float[1,1,1] W, float[1,1,1] R) => (float[4,1,2,1] Y) {
      Y = RNN<hidden_size = 1, activations = ["Swish"]>(X, W, R)
    })");
  expectError([&] { runtime::Session s(*m); }, ErrorKind::kUnsupported, "(RNN, opset 17): activation function 'Swish'");
}

TEST(RuntimeRecurrent, WrongActivationCountIsInvalid) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[4,2,1] X, float[1,3,1] W, float[1,3,1] R) => (float[4,1,2,1] Y) {
      Y = GRU<hidden_size = 1, activations = ["Sigmoid", "Tanh", "Tanh"]>(X, W, R)
    })");
  expectError([&] { runtime::Session s(*m); }, ErrorKind::kInvalidModel, "3 activations, expected 2");
}

TEST(RuntimeRecurrent, WeightShapeMismatchIsARunError) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[4,2,3] X, float[1,4,2] W, float[1,4,1] R) => (float[4,1,2,1] Y) {
      Y = LSTM<hidden_size = 1>(X, W, R)
    })");
  runtime::Session s(*m, {1});
  auto x = floats({4, 2, 3}, std::vector<float>(24, 0.f));
  auto w = floats({1, 4, 2}, std::vector<float>(8, 0.f));
  auto r = floats({1, 4, 1}, std::vector<float>(4, 0.f));
  expectError([&] { s.run({{"X", &x}, {"W", &w}, {"R", &r}}); }, ErrorKind::kInvalidModel,
              "W has shape [1,4,2], expected [1,4,3]");
}

}  // namespace
}  // namespace effdl::test
