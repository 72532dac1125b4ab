// What keeps huge models cheap: saving streams tensor bytes instead of building a serialized
// copy (and still writes the message protobuf reads), and pages of mapped weights can be dropped
// once read without changing the bytes.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <numeric>

#include "ir/onnx_export.h"
#include "ir/onnx_import.h"
#include "test_util.h"

namespace effdl::test {
namespace {

// Resident KiB of the mapping that holds `p` (the "Rss:" line of its /proc/self/smaps entry).
int64_t residentKiB(const void* p) {
  std::ifstream smaps("/proc/self/smaps");
  const auto addr = reinterpret_cast<uintptr_t>(p);
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    unsigned long lo = 0, hi = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx ", &lo, &hi) == 2 && line.find(':') > line.find(' ')) {
      inside = addr >= lo && addr < hi;
    } else if (inside && line.rfind("Rss:", 0) == 0) {
      return std::stoll(line.substr(4));
    }
  }
  return -1;
}

// A model with weights of several kinds: float and int8 initializers, a string tensor, a
// Constant node and a subgraph with an initializer of its own.
std::unique_ptr<ir::Model> mixedModel() {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17], producer_name: "unit", metadata_props: ["k" : "v"]>
    g (float[4] x, bool c) => (float[4] y, int8[3] q, string[2] s)
       <int8[3] q = {1, -2, 3}, string[2] s = {"a", "bc"}>
    {
      k = Constant <value = float[4] {0.5, 0.5, 0.5, 0.5}> ()
      t = Mul(x, k)
      y = If(c) <then_branch = th () => (float[4] o) <float[4] one = {1.0, 1.0, 1.0, 1.0}> { o = Add(t, one) },
                 else_branch = el () => (float[4] o) { o = Identity(t) }>
    })");
  std::vector<float> w(70000);
  std::iota(w.begin(), w.end(), 0.0f);
  m->graph->addInitializer("big", ir::Tensor::fromVector(ir::DataType::kFloat, {70000}, w));
  return m;
}

TEST(LargeModelIo, StreamedSaveIsTheSameMessage) {
  auto m = mixedModel();
  TempDir dir;
  auto res = ir::saveModel(*m, dir / "m.onnx", {});
  const std::string bytes = readFile(dir / "m.onnx");
  EXPECT_EQ(res.modelBytes, bytes.size());
  onnx::ModelProto parsed;
  ASSERT_TRUE(parsed.ParseFromString(bytes));
  // Re-serialized canonically, the streamed file is the message an in-memory export gives.
  EXPECT_EQ(parsed.SerializeAsString(), ir::serializeModel(*m));
  EXPECT_EQ(parsed.graph().initializer(0).name(), "q");
  EXPECT_EQ(parsed.graph().initializer(2).name(), "big");
  auto back = ir::loadModel(dir / "m.onnx");
  EXPECT_EQ(print(*back), print(*m));
}

TEST(LargeModelIo, MappedWeightsSurviveDroppedPagesAndInlineSave) {
  std::vector<float> w(1 << 20);  // 4 MiB
  for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(i % 1000) - 500.0f;
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1048576] x, float[1048576] w) => (float[1048576] y) { y = Add(x, w) })");
  ir::Graph& g = *m->graph;
  ir::Value* wv = g.findValue("w");
  g.setInitializer(wv, ir::Tensor::fromVector(ir::DataType::kFloat, {1 << 20}, w));
  g.removeInput(wv);
  TempDir dir;
  ir::SaveOptions ext;
  ext.externalData = ir::ExternalDataMode::kAlways;
  ir::saveModel(*m, dir / "ext.onnx", ext);

  auto back = ir::loadModel(dir / "ext.onnx");
  const ir::Tensor& t = back->graph->findValue("w")->initializer();
  ASSERT_NE(t.sourceFile(), nullptr);
  auto sum = [&t] {
    double s = 0;
    for (float v : t.values<float>()) s += v;
    return s;
  };
  const double expected = sum();  // maps the pages
  const int64_t before = residentKiB(t.data());
  EXPECT_GE(before, 4000);
  t.releasePages();
  EXPECT_LT(residentKiB(t.data()), 64) << "releasePages left the pages mapped";
  EXPECT_EQ(sum(), expected);  // the same bytes, faulted back in
  EXPECT_EQ(std::memcmp(t.data(), w.data(), t.nbytes()), 0);

  // Saved inline, the mapped bytes are copied file to file into raw_data.
  ir::SaveOptions inl;
  inl.externalData = ir::ExternalDataMode::kNever;
  ir::saveModel(*back, dir / "inline.onnx", inl);
  auto again = ir::loadModel(dir / "inline.onnx");
  const ir::Tensor& t2 = again->graph->findValue("w")->initializer();
  EXPECT_FALSE(t2.fromExternalData());
  ASSERT_EQ(t2.nbytes(), w.size() * 4);
  EXPECT_EQ(std::memcmp(t2.data(), w.data(), t2.nbytes()), 0);
}

TEST(LargeModelIo, ReleasingPagesOfOwnedTensorsIsANoOp) {
  std::vector<float> w = {1.0f, 2.0f};
  auto t = ir::Tensor::adopt(ir::DataType::kFloat, {2}, std::move(w));
  t.releasePages();
  EXPECT_EQ(t.values<float>()[1], 2.0f);
}

}  // namespace
}  // namespace effdl::test
