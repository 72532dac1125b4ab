// quantize: structure of each mode (golden ONNX text, weights chosen so the int8 values are exact
// to check by hand), static QDQ placement, determinism and errors. Numeric agreement with ONNX
// Runtime and accuracy are checked in tests/interop/quantize_ort.sh.
#include <gtest/gtest.h>

#include <optional>

#include "eval/sample_set.h"
#include "passes/pipeline.h"
#include "passes/registry.h"
#include "test_util.h"

namespace effdl::test {
namespace {

// Runs `spec` (optionally with `calib` samples, "random:N" or a folder, as --calib gives them)
// and returns the first pass's result.
passes::PassResult runFirst(ir::Model& m, const std::string& spec, const std::string& calib = "") {
  auto pipeline = passes::parsePipelineSpec(spec);
  std::optional<eval::SampleSet> samples;
  passes::PassContext ctx;
  if (!calib.empty()) {
    samples.emplace(eval::SampleSet::open(calib, 1 << 20, /*seed=*/7));
    ctx.calib = &*samples;
  }
  ctx.threads = 1;
  auto reports = passes::runPipeline(m, pipeline, ctx);
  return reports.front().result;
}

size_t countOf(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// ---------------------------------------------------------------- weight-only

// Per column n of w: s[n] = max_k |w[k, n]| / 127 = {1, 2, 4} / 127; 0.5 / (1/127) = 63.5 -> 64.
TEST(QuantizeWeightOnly, MatMulGetsPerChannelDequantizeLinear) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,2] x) => (float[1,3] y) <float[2,3] w = {1.0, 2.0, -4.0, 0.5, -1.0, 2.0}>
    {
      y = MatMul (x, w)
    })");
  auto r = runFirst(*m, "quantize{mode=weight-only},eliminate-dead");
  EXPECT_EQ(print(*m), canonical(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,2] x) => (float[1,3] y)
       <int8[2,3] w_q = {127, 127, -127, 64, -64, 64},
        float[3] w_scale = {0.00787401572, 0.0157480314, 0.0314960629}, int8[3] w_zp = {0, 0, 0}>
    {
      w_dq = DequantizeLinear <axis = 1> (w_q, w_scale, w_zp)
      y = MatMul (x, w_dq)
    })"));
  EXPECT_EQ(r.counter("weights int8 per channel"), 1);
}

// Rows {1,-2}, {0.5,0.25}, {4,8}: s = {2, 0.5, 8} / 127; only the gathered rows are dequantized.
TEST(QuantizeWeightOnly, GatherTableIsInt8PerRowDequantizedAfterTheGather) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (int64[2] ids) => (float[2,2] y) <float[3,2] t = {1.0, -2.0, 0.5, 0.25, 4.0, 8.0}>
    {
      y = Gather (t, ids)
    })");
  auto r = runFirst(*m, "quantize{mode=weight-only},eliminate-dead");
  EXPECT_EQ(print(*m), canonical(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (int64[2] ids) => (float[2,2] y)
       <int8[3,2] t_q = {64, -127, 127, 64, 64, 127},
        float[3,1] t_row_scale = {0.0157480314, 0.00393700786, 0.0629921257}>
    {
      t_rows_q = Gather (t_q, ids)
      t_rows_scale = Gather (t_row_scale, ids)
      t_rows_f = Cast <to = 1> (t_rows_q)
      y = Mul (t_rows_f, t_rows_scale)
    })"));
  EXPECT_EQ(r.counter("embedding tables int8 per row"), 1);
}

// Reduce-range: 7-bit weights, s[n] = max|w| / 63 (0.5 / float(1/63) is just under 31.5).
TEST(QuantizeWeightOnly, ReduceRangeUsesSevenBits) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,2] x) => (float[1,3] y) <float[2,3] w = {1.0, 2.0, -4.0, 0.5, -1.0, 2.0}>
    {
      y = MatMul (x, w)
    })");
  runFirst(*m, "quantize{mode=weight-only,reduce-range=true}");
  auto q = m->graph->findValue("w_q")->initializer().values<int8_t>();
  EXPECT_EQ(std::vector<int8_t>(q.begin(), q.end()), (std::vector<int8_t>{63, 63, -63, 31, -31, 31}));
}

// Blocks of 2 along K: {1,-2} s = 2/127, {0.5,0.25} s = 0.5/127. DequantizeLinear of opset 17
// has no blocks, so Cast/Mul/Reshape.
TEST(QuantizeWeightOnly, BlockSizeGivesOneScalePerBlockAlongK) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,4] x) => (float[1,1] y) <float[4,1] w = {1.0, -2.0, 0.5, 0.25}>
    {
      y = MatMul (x, w)
    })");
  auto r = runFirst(*m, "quantize{mode=weight-only,block-size=2},eliminate-dead");
  EXPECT_EQ(print(*m), canonical(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,4] x) => (float[1,1] y)
       <int8[1,2,2,1] w_q = {64, -127, 127, 64}, float[1,2,1,1] w_scale = {0.0157480314, 0.00393700786},
        int64[2] w_shape = {4, 1}>
    {
      w_f = Cast <to = 1> (w_q)
      w_blocks = Mul (w_f, w_scale)
      w_dq = Reshape (w_blocks, w_shape)
      y = MatMul (x, w_dq)
    })"));
  EXPECT_EQ(r.counter("weights int8 per block"), 1);
}

TEST(QuantizeWeightOnly, BlockSizeThatDoesNotDivideFallsBackToPerChannel) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,3] x) => (float[1,1] y) <float[3,1] w = {1.0, -2.0, 0.5}>
    {
      y = MatMul (x, w)
    })");
  auto r = runPass(*m, "quantize{mode=weight-only,block-size=2}");
  EXPECT_EQ(r.counter("weights int8 per channel"), 1);
  EXPECT_EQ(r.declined.count("block size does not divide the reduction axis: per-channel used"), 1u);
}

TEST(QuantizeWeightOnly, ExcludedNodesAndOpTypesStayFloat) {
  const char* text = R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,2] x, int64[1] ids) => (float[1,2] y, float[1,2] e)
       <float[2,2] w = {1.0, 2.0, 3.0, 4.0}, float[3,2] t = {1.0, 2.0, 3.0, 4.0, 5.0, 6.0}>
    {
      y = MatMul (x, w)
      e = Gather (t, ids)
    })";
  auto m = parse(text);
  auto r = runPass(*m, "quantize{mode=weight-only,exclude-op-types=[Gather;MatMul]}");
  EXPECT_EQ(print(*m), canonical(text));
  EXPECT_EQ(r.counter("nodes kept float (--quantize-exclude-op-types)"), 2);
  EXPECT_FALSE(r.changed);
}

TEST(QuantizeWeightOnly, KeepIoFloatKeepsTheFirstAndLastLayers) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,2] x) => (float[1,2] y)
       <float[2,2] w1 = {1.0, 2.0, 3.0, 4.0}, float[2,2] w2 = {1.0, 2.0, 3.0, 4.0},
        float[2,2] w3 = {1.0, 0.0, 0.0, 1.0}>
    {
      h = MatMul (x, w1)
      k = MatMul (h, w2)
      y = MatMul (k, w3)
    })");
  auto r = runFirst(*m, "quantize{mode=weight-only,keep-io-float=true}");
  EXPECT_EQ(r.counter("nodes kept float (--quantize-keep-io-float)"), 2);
  EXPECT_EQ(r.counter("weights int8 per channel"), 1);
  const std::string out = print(*m);
  EXPECT_NE(out.find("MatMul(x, w1)"), std::string::npos) << out;
  EXPECT_NE(out.find("MatMul(h, w2_dq)"), std::string::npos) << out;
  EXPECT_NE(out.find("MatMul(k, w3)"), std::string::npos) << out;
}

// ---------------------------------------------------------------- dynamic

// Gemm transB=1, alpha=2: W^T = {{1,-4},{2,0.5}}; columns {1,2}, {-4,0.5} -> s = {2, 4} / 127,
// times alpha in the output scale; C is added after.
TEST(QuantizeDynamic, GemmBecomesMatMulIntegerWithScaleArithmetic) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,2] x) => (float[1,2] y) <float[2,2] w = {1.0, 2.0, -4.0, 0.5}, float[2] c = {1.0, 2.0}>
    {
      y = Gemm <transB = 1, alpha = 2.0> (x, w, c)
    })");
  auto r = runFirst(*m, "quantize{mode=dynamic},eliminate-dead");
  EXPECT_EQ(print(*m), canonical(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,2] x) => (float[1,2] y)
       <float[2] c = {1.0, 2.0}, int8[2,2] w_q = {64, -127, 127, 16}, float[2] y_wscale = {0.0314960629, 0.0629921257}>
    {
      x_q, x_scale, x_zp = DynamicQuantizeLinear (x)
      y_i32 = MatMulInteger (x_q, w_q, x_zp)
      y_f = Cast <to = 1> (y_i32)
      y_scale = Mul (x_scale, y_wscale)
      y_deq = Mul (y_f, y_scale)
      y = Add (y_deq, c)
    })"));
  EXPECT_EQ(r.counter("Gemm -> MatMulInteger"), 1);
}

TEST(QuantizeDynamic, SharedInputIsQuantizedOnceAndConvStaysFloat) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,1,2,2] x, float[1,2] h) => (float[1,1,2,2] c, float[1,2] a, float[1,2] b)
       <float[1,1,1,1] k = {1.0}, float[2,2] w = {1.0, 2.0, 3.0, 4.0}, float[2,2] v = {1.0, 0.0, 0.0, 1.0}>
    {
      c = Conv (x, k)
      a = MatMul (h, w)
      b = MatMul (h, v)
    })");
  auto r = runPass(*m, "quantize{mode=dynamic}");
  const std::string out = print(*m);
  EXPECT_EQ(countOf(out, "DynamicQuantizeLinear"), 1u);
  EXPECT_EQ(countOf(out, "MatMulInteger"), 2u);
  EXPECT_EQ(countOf(out, "Conv"), 1u);
  EXPECT_EQ(r.counter("activations quantized at run time"), 1);
  ASSERT_GE(r.notes.size(), 1u);
  EXPECT_NE(r.notes[0].find("1 Conv/ConvTranspose kept float"), std::string::npos);
  // The last note says whether this CPU has int8 dot products (VNNI) or not.
  EXPECT_NE(r.notes.back().find("this CPU has "), std::string::npos);
}

// ---------------------------------------------------------------- fp16

// MatMul runs in fp16 (W stored as fp16: 1, 2, -4, 0.5 are exact), Softmax stays fp32, and the
// graph's float32 interface is unchanged: Casts at the edges, the output Cast takes its name.
TEST(QuantizeFp16, Fp16RegionWithCastsAtTheEdgesAndSoftmaxKeptFp32) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,2] x) => (float[1,2] z, float[1,2] y) <float[2,2] w = {1.0, 2.0, -4.0, 0.5}>
    {
      y = MatMul (x, w)
      z = Softmax (y)
    })");
  auto r = runFirst(*m, "quantize{mode=fp16},eliminate-dead");
  // libonnx's parser cannot read float16 literals: compare the printed text, then the bits.
  EXPECT_EQ(print(*m), R"(<
  ir_version: 8,
  opset_import: ["" : 17]
>
g (float[1,2] x) => (float[1,2] z, float[1,2] y)
   <float16[2,2] w_fp16 = {...}>
{
  x_fp16 = Cast <to = 10> (x)
  y_replaced = MatMul(x_fp16, w_fp16)
  y_fp32 = Cast <to = 1> (y_replaced)
  z = Softmax(y_fp32)
  y = Cast <to = 1> (y_replaced)
}
)");
  const ir::Value* w = m->graph->findValue("w_fp16");
  ASSERT_TRUE(w && w->isInitializer());
  auto bits = w->initializer().values<uint16_t>();
  EXPECT_EQ(std::vector<uint16_t>(bits.begin(), bits.end()), (std::vector<uint16_t>{0x3C00, 0x4000, 0xC400, 0x3800}));

  EXPECT_EQ(r.counter("nodes computed in fp16"), 1);
  EXPECT_EQ(r.declined.count("Softmax kept fp32 (precision)"), 1u);
}

TEST(QuantizeFp16, ConstantsBeyondTheFp16RangeKeepTheirNodeFp32) {
  const char* text = R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,2] x) => (float[1,2] y) <float[2,2] w = {1.0, 2.0, 70000.0, 0.5}>
    {
      y = MatMul (x, w)
    })";
  auto m = parse(text);
  auto r = runFirst(*m, "quantize{mode=fp16}");
  EXPECT_EQ(print(*m), canonical(text));
  EXPECT_EQ(r.declined.count("constant beyond fp16 range"), 1u);
}

// ---------------------------------------------------------------- static

constexpr const char* kConvReluConv = R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,1,4,4] x) => (float[1,2,4,4] y)
       <float[2,1,1,1] w1 = {1.0, -0.5}, float[2] b1 = {0.25, 0.5},
        float[2,2,1,1] w2 = {1.0, 2.0, -1.0, 0.5}, float[2] b2 = {0.0, 1.0}>
    {
      c = Conv (x, w1, b1)
      r = Relu (c)
      f = Flatten (r)
      y = Conv (r, w2, b2)
    })";

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

TEST(QuantizeStatic, WithoutCalibrationDataIsAUsageErrorNamingCalib) {
  auto m = parse(kConvReluConv);
  expectError([&] { runPass(*m, "quantize{mode=static}"); }, ErrorKind::kUsage, "--calib");
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
  auto m = parse(text);
  auto r = runFirst(*m, "quantize{mode=weight-only}");
  EXPECT_EQ(print(*m), canonical(text));
  EXPECT_FALSE(r.changed);
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
