// ONNX import/export: what a load → save keeps (names, order, metadata, docstrings, subgraphs,
// unknown domains, value_info), and external data read through mmap and written back.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/error.h"
#include "ir/onnx_export.h"
#include "ir/onnx_import.h"
#include "test_util.h"

namespace fs = std::filesystem;

namespace effdl::test {
namespace {

const char* kModel = R"(
  <ir_version: 8, opset_import: ["" : 17, "com.example" : 1], producer_name: "unit",
   metadata_props: ["author" : "me", "license" : "mit"]>
  g (float[N,4] x, float[4] bias) => (float[N,4] y, float[N,4] z)
     <float[4] w = {1.0, 2.0, 3.0, 4.0}>
  {
    t = Mul(x, w)
    y = Add(t, bias)
    z = com.example.Custom <alpha = 0.5> (t)
  })";

TEST(OnnxIo, SaveLoadKeepsInterfaceMetadataAndUnknownDomains) {
  auto m = parse(kModel);
  TempDir dir;
  ir::saveModel(*m, dir / "m.onnx");
  auto back = ir::loadModel(dir / "m.onnx");
  EXPECT_EQ(print(*back), print(*m));
  ASSERT_EQ(back->metadata.size(), 2u);
  EXPECT_EQ(back->metadata[0].first, "author");
  EXPECT_EQ(back->metadata[1].second, "mit");
  EXPECT_EQ(back->producerName, "unit");
  EXPECT_EQ(back->graph->inputs()[0]->name(), "x");
  EXPECT_EQ(back->graph->inputs()[1]->name(), "bias");
  EXPECT_EQ(back->graph->outputs()[1]->name(), "z");
  // The symbolic dim survives.
  EXPECT_EQ((*back->graph->inputs()[0]->type().shape)[0].param, "N");
}

TEST(OnnxIo, SaveIsDeterministic) {
  auto m = parse(kModel);
  TempDir dir;
  ir::saveModel(*m, dir / "a.onnx");
  ir::saveModel(*m, dir / "b.onnx");
  EXPECT_EQ(readFile(dir / "a.onnx"), readFile(dir / "b.onnx"));
}

TEST(OnnxIo, AnIrVersion3ModelWithAConstantInitializerIsWrittenAsIrVersion4) {
  // Before IR 4 every initializer is also a graph input; a folded value is not one. Written as
  // IR 3 the model failed ONNX's checker when loaded back (found by fuzz_model).
  auto m = parse(R"(
    <ir_version: 3, opset_import: ["" : 8]>
    g (float[2,3] x) => (float[2,3] y)
    {
      s = Shape(x)
      y = Reshape(x, s)
    })");
  TempDir dir;
  ir::saveModel(*m, dir / "unchanged.onnx");
  EXPECT_EQ(ir::loadModel(dir / "unchanged.onnx")->irVersion, 3) << "nothing to change: kept";
  runPass(*m, "fold-shapes");
  ASSERT_FALSE(m->graph->initializers().empty());
  ir::saveModel(*m, dir / "folded.onnx");
  std::unique_ptr<ir::Model> back;
  ASSERT_NO_THROW(back = ir::loadModel(dir / "folded.onnx"));
  EXPECT_EQ(back->irVersion, 4);
}

TEST(OnnxIo, ExternalDataRoundTrip) {
  // Build a model whose single weight is 8 KiB so that it goes external.
  std::vector<float> vals(2048);
  for (size_t i = 0; i < vals.size(); ++i) vals[i] = static_cast<float>(i) * 0.25f;
  auto model = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2048] x, float[2048] w) => (float[2048] y) { y = Add(x, w) })");
  ir::Graph& g = *model->graph;
  ir::Value* w = g.findValue("w");
  g.setInitializer(w, ir::Tensor::fromVector(ir::DataType::kFloat, {2048}, vals));
  g.removeInput(w);
  TempDir dir;
  ir::SaveOptions so;
  so.externalData = ir::ExternalDataMode::kAlways;
  auto res = ir::saveModel(*model, dir / "ext.onnx", so);
  EXPECT_TRUE(fs::exists(dir / "ext.onnx.data"));
  EXPECT_EQ(res.externalBytes, 2048u * 4);
  auto back = ir::loadModel(dir / "ext.onnx");
  const ir::Tensor& t = back->graph->findValue("w")->initializer();
  EXPECT_TRUE(t.fromExternalData());
  ASSERT_EQ(t.nbytes(), vals.size() * 4);
  EXPECT_EQ(std::memcmp(t.data(), vals.data(), t.nbytes()), 0);
  // Saved again without external data, the weights come back inline and equal.
  ir::SaveOptions inl;
  inl.externalData = ir::ExternalDataMode::kNever;
  ir::saveModel(*back, dir / "inline.onnx", inl);
  auto again = ir::loadModel(dir / "inline.onnx");
  EXPECT_FALSE(again->graph->findValue("w")->initializer().fromExternalData());
  EXPECT_TRUE(again->graph->findValue("w")->initializer().sameContent(t));
}

TEST(OnnxIo, LoadFromBytesRejectsGarbage) {
  std::string junk = "\x0a\xff\xff\xff\xff\x0f";
  try {
    ir::loadModelFromBytes(junk.data(), junk.size(), ".", "junk.onnx");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidModel);
    EXPECT_NE(std::string(e.what()).find("junk.onnx: not an ONNX model"), std::string::npos) << e.what();
  }
}

TEST(OnnxIo, DimBindingSetsInputShape) {
  ir::LoadOptions o;
  o.dimBindings = {{"N", 3}};
  TempDir dir;
  ir::saveModel(*parse(kModel), dir / "m.onnx");
  auto m = ir::loadModel(dir / "m.onnx", o);
  auto shape = m->graph->findValue("y")->type().staticShape();
  ASSERT_TRUE(shape.has_value());
  EXPECT_EQ((*shape)[0], 3);
}

TEST(OnnxIo, UnknownDimBindingIsUsageError) {
  ir::LoadOptions o;
  o.dimBindings = {{"nope", 3}};
  TempDir dir;
  ir::saveModel(*parse(kModel), dir / "m.onnx");
  try {
    ir::loadModel(dir / "m.onnx", o);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUsage);
  }
}

}  // namespace
}  // namespace effdl::test
