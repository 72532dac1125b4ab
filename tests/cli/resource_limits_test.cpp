// Files of a few hundred bytes that ask for 2^40 elements (ConstantOfShape, Expand, Tile, Range,
// a sparse initializer's dense shape) or 10^9 Loop trips: `effdl inspect` and `effdl optimize`
// (default pipeline, whose fold-constants runs the runtime's kernels) must answer each in under
// a second with a peak RSS under 200 MiB, folding skipped and said so. Time and RSS are the
// child's own (wait4), so other tests running in parallel do not count.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <vector>

#include "test_util.h"

extern char** environ;

namespace fs = std::filesystem;

namespace effdl::test {
namespace {

constexpr int64_t kHuge = int64_t{1} << 40;
constexpr double kMaxSeconds = 1.0;
constexpr long kMaxRssKiB = 200 * 1024;

struct Measured {
  int exitCode = -1;
  double seconds = 0;
  long maxRssKiB = 0;
  std::string out, err;
};

// Runs the effdl binary directly (no shell, so the RSS is effdl's) and waits for it with wait4.
Measured runMeasured(std::vector<std::string> args, const TempDir& tmp) {
  args.insert(args.begin(), EFFDL_BINARY);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string outPath = (tmp / "stdout").string(), errPath = (tmp / "stderr").string();
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, outPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, errPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  Measured m;
  pid_t pid = 0;
  auto start = std::chrono::steady_clock::now();
  int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    ADD_FAILURE() << "cannot start effdl: " << std::strerror(rc);
    return m;
  }
  int status = 0;
  struct rusage ru {};
  wait4(pid, &status, 0, &ru);
  m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  m.maxRssKiB = ru.ru_maxrss;
  m.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  m.out = readFile(outPath);
  m.err = readFile(errPath);
  return m;
}

onnx::TensorProto int64s(const std::string& name, std::vector<int64_t> values, bool scalar = false) {
  onnx::TensorProto t;
  t.set_name(name);
  t.set_data_type(onnx::TensorProto::INT64);
  if (!scalar) t.add_dims(static_cast<int64_t>(values.size()));
  for (int64_t v : values) t.add_int64_data(v);
  return t;
}

onnx::TensorProto floats(const std::string& name, std::vector<float> values, bool scalar = false) {
  onnx::TensorProto t;
  t.set_name(name);
  t.set_data_type(onnx::TensorProto::FLOAT);
  if (!scalar) t.add_dims(static_cast<int64_t>(values.size()));
  for (float v : values) t.add_float_data(v);
  return t;
}

// A model whose graph is `op(inputs…) -> big -> Relu -> z`, with float output z of `outDims`.
onnx::ModelProto bigOpModel(const std::string& op, std::vector<onnx::TensorProto> inits,
                            std::vector<int64_t> outDims) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(17);
  auto* g = m.mutable_graph();
  g->set_name("g");
  auto* n = g->add_node();
  n->set_op_type(op);
  for (auto& t : inits) {
    n->add_input(t.name());
    *g->add_initializer() = std::move(t);
  }
  n->add_output("big");
  auto* r = g->add_node();
  r->set_op_type("Relu");
  r->add_input("big");
  r->add_output("z");
  auto* o = g->add_output();
  o->set_name("z");
  auto* tt = o->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx::TensorProto::FLOAT);
  for (int64_t d : outDims) tt->mutable_shape()->add_dim()->set_dim_value(d);
  return m;
}

// v = Loop(trips, "", v0) with body v' = v + 1; then Relu.
onnx::ModelProto loopModel(int64_t trips) {
  onnx::ModelProto m = bigOpModel("Loop", {int64s("trips", {trips}, true)}, {1});
  auto* g = m.mutable_graph();
  auto* loop = g->mutable_node(0);
  loop->add_input("");
  loop->add_input("v0");
  *g->add_initializer() = floats("v0", {0.0f});
  onnx::GraphProto body;
  body.set_name("body");
  auto scalarInfo = [](onnx::ValueInfoProto* v, const char* name, int elem, bool vec) {
    v->set_name(name);
    auto* tt = v->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(elem);
    auto* shape = tt->mutable_shape();
    if (vec) shape->add_dim()->set_dim_value(1);
  };
  scalarInfo(body.add_input(), "i", onnx::TensorProto::INT64, false);
  scalarInfo(body.add_input(), "c", onnx::TensorProto::BOOL, false);
  scalarInfo(body.add_input(), "v", onnx::TensorProto::FLOAT, true);
  scalarInfo(body.add_output(), "c2", onnx::TensorProto::BOOL, false);
  scalarInfo(body.add_output(), "v2", onnx::TensorProto::FLOAT, true);
  *body.add_initializer() = floats("one", {1.0f});
  auto* add = body.add_node();
  add->set_op_type("Add");
  add->add_input("v");
  add->add_input("one");
  add->add_output("v2");
  auto* id = body.add_node();
  id->set_op_type("Identity");
  id->add_input("c");
  id->add_output("c2");
  auto* a = loop->add_attribute();
  a->set_name("body");
  a->set_type(onnx::AttributeProto::GRAPH);
  *a->mutable_g() = std::move(body);
  return m;
}

// z = Identity(s), s a sparse initializer of dense shape [2^20, 2^20] with one value.
onnx::ModelProto hugeSparseModel() {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(17);
  auto* g = m.mutable_graph();
  g->set_name("g");
  auto* s = g->add_sparse_initializer();
  *s->mutable_values() = floats("s", {1.0f});
  *s->mutable_indices() = int64s("s_indices", {kHuge - 1});
  s->add_dims(int64_t{1} << 20);
  s->add_dims(int64_t{1} << 20);
  auto* n = g->add_node();
  n->set_op_type("Identity");
  n->add_input("s");
  n->add_output("z");
  auto* o = g->add_output();
  o->set_name("z");
  auto* st = o->mutable_type()->mutable_sparse_tensor_type();
  st->set_elem_type(onnx::TensorProto::FLOAT);
  st->mutable_shape()->add_dim()->set_dim_value(int64_t{1} << 20);
  st->mutable_shape()->add_dim()->set_dim_value(int64_t{1} << 20);
  return m;
}

class ResourceLimits : public ::testing::Test {
 protected:
  TempDir dir;
  // Inspect and optimize the model within the time and memory budget. `skipNote` is what the
  // optimize report must say about the node it did not fold.
  void expectCheap(const onnx::ModelProto& m, const std::string& skipNote) {
    const fs::path model = dir / "model.onnx", out = dir / "out.onnx";
    const std::string bytes = m.SerializeAsString();
    ASSERT_LT(bytes.size(), 1024u) << "the point is a tiny file";
    writeFile(model, bytes);
    for (const char* command : {"inspect", "optimize"}) {
      SCOPED_TRACE(command);
      std::vector<std::string> args{command, model.string()};
      if (std::string(command) == "optimize") args.insert(args.end(), {"-o", out.string()});
      Measured r = runMeasured(args, dir);
      EXPECT_EQ(r.exitCode, 0) << r.err;
      EXPECT_LT(r.seconds, kMaxSeconds);
      EXPECT_LT(r.maxRssKiB, kMaxRssKiB);
      if (std::string(command) == "optimize") {
        EXPECT_NE(r.out.find(skipNote), std::string::npos) << r.out;
        EXPECT_TRUE(fs::exists(out));
        EXPECT_LT(fs::file_size(out), 4096u) << "nothing huge was folded into the output";
      }
    }
  }
};

TEST_F(ResourceLimits, ConstantOfShape) {
  expectCheap(bigOpModel("ConstantOfShape", {int64s("shape", {int64_t{1} << 20, int64_t{1} << 20})},
                         {int64_t{1} << 20, int64_t{1} << 20}),
              "result too large");
}

TEST_F(ResourceLimits, Expand) {
  expectCheap(bigOpModel("Expand", {floats("a", {1.0f}), int64s("shape", {int64_t{1} << 20, int64_t{1} << 20})},
                         {int64_t{1} << 20, int64_t{1} << 20}),
              "result too large");
}

TEST_F(ResourceLimits, Tile) {
  expectCheap(bigOpModel("Tile", {floats("a", {1.0f}), int64s("repeats", {kHuge})}, {kHuge}), "result too large");
}

TEST_F(ResourceLimits, Range) {
  expectCheap(bigOpModel("Range", {floats("start", {0.0f}, true), floats("limit", {static_cast<float>(kHuge)}, true),
                                   floats("delta", {1.0f}, true)},
                         {kHuge}),
              "result too large");
}

TEST_F(ResourceLimits, SparseInitializerWithHugeDenseShape) {
  expectCheap(hugeSparseModel(), "cleanup");
}

TEST_F(ResourceLimits, LoopOfABillionTrips) { expectCheap(loopModel(1'000'000'000), "Loop above the folding work budget kept"); }

TEST_F(ResourceLimits, MaxTensorBytesBoundsTheRuntime) {
  // Expand of a scalar to 2^20 floats (4 MiB) runs by default and is refused under 1 MiB.
  auto m = bigOpModel("Expand", {floats("a", {1.0f}), int64s("shape", {int64_t{1} << 20})}, {int64_t{1} << 20});
  const fs::path model = dir / "model.onnx";
  writeFile(model, m.SerializeAsString());
  Measured ok = runMeasured({"run", model.string(), "--random", "1"}, dir);
  EXPECT_EQ(ok.exitCode, 0) << ok.err;
  Measured r = runMeasured({"run", model.string(), "--random", "1", "--max-tensor-bytes", "1M"}, dir);
  EXPECT_NE(r.exitCode, 0);
  EXPECT_NE(r.err.find("exceeds the runtime's tensor size limit of 1048576"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

}  // namespace
}  // namespace effdl::test
