// quantize: what every mode shares (determinism, option errors, already quantized models, old
// opsets). Each mode's own structure is tested beside its file: weight_only_test.cpp,
// dynamic_test.cpp, fp16_test.cpp, static_qdq_test.cpp. Numeric agreement with ONNX Runtime and
// accuracy are checked in tests/interop/quantize_ort.sh.
#include <gtest/gtest.h>

#include "quantize_test_util.h"

namespace effdl::test {
namespace {

TEST(Quantize, EveryModeIsDeterministic) {
  for (const char* mode : {"weight-only", "dynamic", "fp16", "static"}) {
    auto a = parse(kConvReluConv), b = parse(kConvReluConv);
    const std::string spec = std::string("quantize{mode=") + mode + ",per-channel=false},eliminate-dead";
    runFirst(*a, spec, "random:2");
    runFirst(*b, spec, "random:2");
    EXPECT_EQ(print(*a), print(*b)) << mode;
    auto base = parse(kConvReluConv);
    runPass(*base, "eliminate-dead");
    if (std::string(mode) == "dynamic")
      EXPECT_EQ(print(*a), print(*base)) << "dynamic keeps Conv float";
    else
      EXPECT_NE(print(*a), print(*base)) << mode;
  }
}

TEST(Quantize, BadOptionsAreUsageErrors) {
  auto m = parse(kConvReluConv);
  expectError([&] { runPass(*m, "quantize{mode=int4}"); }, ErrorKind::kUsage, "int4");
  expectError([&] { runPass(*m, "quantize{percentile=20}"); }, ErrorKind::kUsage, "percentile");
  expectError([&] { runPass(*m, "quantize{block-size=1}"); }, ErrorKind::kUsage, "block-size");
}

TEST(Quantize, AlreadyQuantizedPartsAreLeftAsTheyAreAndSaid) {
  const char* text = R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,2] x) => (float[1,2] y) <int8[2,2] wq = {1, 2, 3, 4}, float s = {0.5}>
    {
      w = DequantizeLinear (wq, s)
      y = MatMul (x, w)
    })";
  auto r = runExpectingNoChange(text, "quantize{mode=weight-only}");
  ASSERT_EQ(r.notes.size(), 1u);
  EXPECT_NE(r.notes[0].find("already (partly) quantized: 1 quantization ops"), std::string::npos) << r.notes[0];
}

TEST(Quantize, OldOpsetIsUnsupported) {
  auto m = parse(R"(
    <ir_version: 7, opset_import: ["" : 11]>
    g (float[1,2] x) => (float[1,2] y) <float[2,2] w = {1.0, 2.0, 3.0, 4.0}>
    {
      y = MatMul (x, w)
    })");
  expectError([&] { runPass(*m, "quantize{mode=dynamic}"); }, ErrorKind::kUnsupported, "opset 11");
}

}  // namespace
}  // namespace effdl::test
