// passes/quantize/static_qdq.cpp: QDQ placement around Conv/MatMul with calibrated ranges, Relu
// folded into u8 ranges, int32 biases, int8-between ops, per-layer SQNR and auto-exclude.
#include <gtest/gtest.h>

#include "quantize_test_util.h"

namespace effdl::test {
namespace {

TEST(QuantizeStatic, QdqAroundConvWithReluFoldedInt32BiasAndFloatGraphOutput) {
  auto m = parse(kConvReluConv);
  auto r = runFirst(*m, "quantize{mode=static},eliminate-dead", "random:4");
  const std::string out = print(*m);
  // x and c (with r's range) are quantized; y is a graph output and stays float.
  EXPECT_EQ(countOf(out, "QuantizeLinear("), 2u) << out;
  EXPECT_EQ(countOf(out, "Relu"), 0u) << out;
  EXPECT_EQ(r.counter("Relu folded into the quantized range"), 1);
  // One DequantizeLinear per consumer of c (Flatten is dead and removed, so one) plus x's, two
  // weights and two int32 biases.
  EXPECT_EQ(countOf(out, "= DequantizeLinear"), 6u) << out;
  EXPECT_EQ(countOf(out, "int32[2] b1_q"), 1u) << out;
  EXPECT_EQ(countOf(out, "uint8 x_zp"), 1u) << out;
  EXPECT_EQ(countOf(out, "int8[2,1,1,1] w1_q = {127, -127}"), 1u) << out;
  EXPECT_EQ(r.counter("biases int32"), 2);
}

TEST(QuantizeStatic, SignedActivationsAreSymmetricAndKeepRelu) {
  auto m = parse(kConvReluConv);
  auto r = runFirst(*m, "quantize{mode=static,activation-type=s8},eliminate-dead", "random:2");
  const std::string out = print(*m);
  EXPECT_EQ(countOf(out, "Relu"), 1u) << out;
  EXPECT_EQ(countOf(out, "int8 x_zp = {0}"), 1u) << out;
}

TEST(QuantizeStatic, ReportsPerLayerSqnrAndAutoExcludeKeepsTheWorstLayersFloat) {
  auto m = parse(kConvReluConv);
  auto r = runFirst(*m, "quantize{mode=static}", "random:4");
  ASSERT_EQ(r.layerColumns, std::vector<std::string>{"sqnr_db"});
  ASSERT_EQ(r.layers.size(), 2u);  // the two Convs, named by their outputs
  EXPECT_EQ(r.layers[0].first, "c");
  EXPECT_EQ(r.layers[1].first, "y");
  for (const auto& [name, values] : r.layers) {
    EXPECT_GT(values[0], 10.0) << name;  // int8 keeps well above 10 dB on these weights
    EXPECT_LT(values[0], 200.0) << name;
  }
  const std::string worst = r.layers[0].second[0] < r.layers[1].second[0] ? "c" : "y";

  auto k = parse(kConvReluConv);
  auto rk = runFirst(*k, "quantize{mode=static,auto-exclude=1}", "random:4");
  EXPECT_EQ(rk.counter("layers kept float (--quantize-auto-exclude)"), 1);
  EXPECT_EQ(rk.counter("weights int8 per channel"), 1);
  // The excluded layer's weight stays a float initializer feeding its Conv directly.
  const std::string out = print(*k);
  EXPECT_NE(out.find(worst == "c" ? "_dq, w1, b1)" : "_dq_1, w2, b2)"), std::string::npos) << out;
}

TEST(QuantizeStatic, SameInputsGiveTheSameModel) {
  for (const char* method : {"minmax", "percentile", "entropy"}) {
    auto a = parse(kConvReluConv), b = parse(kConvReluConv);
    const std::string spec = std::string("quantize{mode=static,calib-method=") + method + "}";
    runFirst(*a, spec, "random:3");
    runFirst(*b, spec, "random:3");
    EXPECT_EQ(print(*a), print(*b)) << method;
  }
}

TEST(QuantizeStatic, WithoutCalibrationDataIsAUsageErrorNamingCalib) {
  auto m = parse(kConvReluConv);
  expectError([&] { runPass(*m, "quantize{mode=static}"); }, ErrorKind::kUsage, "--calib");
}


// MaxPool between two Convs stays int8 with its input's scale and zero point; a MatMul of two
// activations quantizes both inputs.
TEST(QuantizeStatic, MaxPoolKeepsItsInputScaleAndTwoActivationMatMulIsInt8) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,1,4,4] x, float[1,2,2,2] k) => (float[1,2,2,2] y)
       <float[2,1,1,1] w1 = {1.0, -0.5}, float[2,2,1,1] w2 = {1.0, 2.0, -1.0, 0.5}>
    {
      c = Conv (x, w1)
      p = MaxPool <kernel_shape = [2, 2], strides = [2, 2]> (c)
      d = Conv (p, w2)
      y = MatMul (d, k)
    })");
  auto r = runFirst(*m, "quantize{mode=static},eliminate-dead", "random:2");
  const std::string out = print(*m);
  EXPECT_EQ(r.counter("MaxPool kept int8"), 1);
  EXPECT_EQ(r.counter("MatMul of two activations int8"), 1);
  // x, c, p, d and k are quantized; y is a graph output and stays float.
  EXPECT_EQ(countOf(out, "= QuantizeLinear("), 5u) << out;
  auto scalar = [&](const std::string& name) {
    const ir::Value* v = m->graph->findValue(name);
    if (!v || !v->isInitializer()) return std::string("missing ") + name;
    const ir::Tensor& t = v->initializer();
    return std::string(reinterpret_cast<const char*>(t.data()), t.nbytes());
  };
  EXPECT_EQ(scalar("p_scale"), scalar("c_scale"));
  EXPECT_EQ(scalar("p_zp"), scalar("c_zp"));
  EXPECT_NE(scalar("d_scale"), scalar("c_scale"));
}

}  // namespace
}  // namespace effdl::test
