// Every class of bad model gets a one-line message naming the file and the problem, the
// documented exit code, and no output file. Run through the binary (effdl convert and inspect).
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <filesystem>
#include <limits>

#include "cli/hostile_model.h"
#include "test_util.h"

namespace fs = std::filesystem;

namespace effdl::test {
namespace {

TEST_F(ModelErrors, GoodModelConverts) {
  auto p = write(addModel());
  auto r = runEffdl("convert '" + p.string() + "' -o '" + out().string() + "'");
  EXPECT_EQ(r.exitCode, 0) << r.err;
  EXPECT_TRUE(fs::exists(out()));
}

TEST_F(ModelErrors, MissingFile) { expectFailure(dir / "nope.onnx", kIo, "cannot open: No such file"); }

TEST_F(ModelErrors, NotAProtobuf) {
  writeFile(dir / "text.onnx", "this is not a model at all\n\xff\xff\xff");
  expectFailure(dir / "text.onnx", kInvalid, "not an ONNX model");
}

TEST_F(ModelErrors, EmptyFile) {
  writeFile(dir / "empty.onnx", "");
  expectFailure(dir / "empty.onnx", kInvalid, "empty file");
}

TEST_F(ModelErrors, TruncatedFile) {
  std::string bytes = addModel().SerializeAsString();
  writeFile(dir / "cut.onnx", bytes.substr(0, bytes.size() - 7));
  expectFailure(dir / "cut.onnx", kInvalid, "not an ONNX model");
}

TEST_F(ModelErrors, CheckerFailure) {
  auto m = addModel();
  m.mutable_graph()->mutable_node(0)->set_op_type("NoSuchOp");
  expectFailure(write(m), kInvalid, "ONNX checker: No Op registered for NoSuchOp");
}

TEST_F(ModelErrors, OpsetTooNew) {
  auto m = addModel();
  m.mutable_opset_import(0)->set_version(21);
  expectFailure(write(m), kUnsupported, "opset 21 is above what effdl supports (opset <= 17)");
}

TEST_F(ModelErrors, IrVersionTooNew) {
  auto m = addModel();
  m.set_ir_version(10);
  expectFailure(write(m), kUnsupported, "IR version 10 is above what effdl supports");
}

TEST_F(ModelErrors, UnknownDomainWithoutOpsetImport) {
  auto m = addModel();
  m.mutable_graph()->mutable_node(0)->set_domain("com.example");
  expectFailure(write(m), kInvalid, "uses domain 'com.example', which has no opset import");
}

TEST_F(ModelErrors, RawDataSizeMismatch) {
  auto m = addModel();
  m.mutable_graph()->mutable_initializer(0)->set_raw_data(std::string(12, '\0'));
  expectFailure(write(m), kInvalid, "tensor 'w': raw_data holds 12 bytes but its dims and type need 16");
}

TEST_F(ModelErrors, TypedDataCountMismatch) {
  auto m = addModel();
  auto* w = m.mutable_graph()->mutable_initializer(0);
  w->clear_raw_data();
  w->add_float_data(1);
  expectFailure(write(m), kInvalid, "tensor 'w': has 1 values but its dims call for 4");
}

TEST_F(ModelErrors, DimsProductOverflows) {
  auto m = addModel();
  auto* w = m.mutable_graph()->mutable_initializer(0);
  w->add_dims(int64_t{1} << 40);
  w->add_dims(int64_t{1} << 40);
  expectFailure(write(m), kInvalid, "tensor 'w': the product of its dims overflows");
}

TEST_F(ModelErrors, NegativeDim) {
  auto m = addModel();
  m.mutable_graph()->mutable_initializer(0)->set_dims(0, -4);
  expectFailure(write(m), kInvalid, "tensor 'w': negative dim -4");
}

TEST_F(ModelErrors, ExternalDataMissing) {
  auto m = addModel();
  makeExternal(m, "weights.bin");
  expectFailure(write(m), kIo, "external data 'weights.bin': file not found");
}

TEST_F(ModelErrors, ExternalDataAbsolutePath) {
  auto m = addModel();
  makeExternal(m, "/etc/passwd");
  expectFailure(write(m), kInvalid, "is an absolute path");
}

TEST_F(ModelErrors, ExternalDataDotDot) {
  auto m = addModel();
  makeExternal(m, "sub/../../secret.bin");
  fs::create_directories(dir / "sub");
  expectFailure(write(m), kInvalid, "contains '..'");
}

TEST_F(ModelErrors, ExternalDataSymlinkOut) {
  TempDir outside;
  writeFile(outside / "secret.bin", std::string(16, 'x'));
  fs::create_symlink(outside / "secret.bin", dir / "w.bin");
  auto m = addModel();
  makeExternal(m, "w.bin");
  expectFailure(write(m), kInvalid, "outside the model's folder");
}

TEST_F(ModelErrors, ExternalDataSymlinkedFolderOut) {
  TempDir outside;
  writeFile(outside / "w.bin", std::string(16, 'x'));
  fs::create_directory_symlink(outside.path(), dir / "data");
  auto m = addModel();
  makeExternal(m, "data/w.bin");
  expectFailure(write(m), kInvalid, "outside the model's folder");
}

TEST_F(ModelErrors, ExternalDataSymlinkAllowedWithDataRoot) {
  TempDir outside;
  writeFile(outside / "w.bin", std::string(16, '\0'));
  fs::create_symlink(outside / "w.bin", dir / "w.bin");
  auto m = addModel();
  makeExternal(m, "w.bin");
  auto p = write(m);
  auto r = runEffdl("convert '" + p.string() + "' -o '" + out().string() + "' --allow-data-root '" +
                    outside.path().string() + "'");
  EXPECT_EQ(r.exitCode, 0) << r.err;
}

TEST_F(ModelErrors, ExternalDataHardLink) {
  TempDir outside;
  writeFile(outside / "w.bin", std::string(16, 'x'));
  std::error_code ec;
  fs::create_hard_link(outside / "w.bin", dir / "w.bin", ec);
  if (ec) GTEST_SKIP() << "hard links across these folders are not possible here: " << ec.message();
  auto m = addModel();
  makeExternal(m, "w.bin");
  expectFailure(write(m), kInvalid, "hard links");
}

TEST_F(ModelErrors, ExternalDataRangeOutsideFile) {
  writeFile(dir / "w.bin", std::string(16, 'x'));
  auto m = addModel();
  makeExternal(m, "w.bin", "8", "16");
  expectFailure(write(m), kInvalid, "lie outside the file");
}

TEST_F(ModelErrors, ExternalDataWrongLength) {
  writeFile(dir / "w.bin", std::string(64, 'x'));
  auto m = addModel();
  makeExternal(m, "w.bin", "0", "32");
  expectFailure(write(m), kInvalid, "holds 32 bytes but the tensor's dims and type need 16");
}

TEST_F(ModelErrors, ExternalDataBadOffset) {
  writeFile(dir / "w.bin", std::string(64, 'x'));
  auto m = addModel();
  makeExternal(m, "w.bin", "-5");
  expectFailure(write(m), kInvalid, "offset '-5' is not a non-negative integer");
}

TEST_F(ModelErrors, SubgraphsNestedTooDeep) {
  // If nodes nested 40 deep in their then_branch; effdl's limit is 32.
  auto m = addModel();
  onnx::GraphProto leaf;
  leaf.set_name("leaf");
  leaf.add_output()->set_name("x");
  onnx::GraphProto inner = leaf;
  auto addIf = [&](onnx::GraphProto* g, const onnx::GraphProto& thenBranch, const std::string& out) {
    auto* n = g->add_node();
    n->set_op_type("If");
    n->add_input("c");
    n->add_output(out);
    auto* a = n->add_attribute();
    a->set_name("then_branch");
    a->set_type(onnx::AttributeProto::GRAPH);
    *a->mutable_g() = thenBranch;
    auto* b = n->add_attribute();
    b->set_name("else_branch");
    b->set_type(onnx::AttributeProto::GRAPH);
    *b->mutable_g() = leaf;
  };
  for (int depth = 0; depth < 40; ++depth) {
    onnx::GraphProto outer;
    outer.set_name("level" + std::to_string(depth));
    addIf(&outer, inner, "r" + std::to_string(depth));
    outer.add_output()->set_name("r" + std::to_string(depth));
    inner = std::move(outer);
  }
  addIf(m.mutable_graph(), inner, "z");
  auto* c = m.mutable_graph()->add_initializer();  // the condition every level reads
  c->set_name("c");
  c->set_data_type(onnx::TensorProto::BOOL);
  c->add_int32_data(1);
  expectFailure(write(m), kInvalid, "subgraphs nested deeper than effdl's limit of 32");
}

TEST_F(ModelErrors, GraphCycle) {
  auto m = addModel();
  auto* g = m.mutable_graph();
  g->mutable_node(0)->set_input(1, "z");
  auto* n = g->add_node();
  n->set_op_type("Relu");
  n->add_input("y");
  n->add_output("z");
  expectFailure(write(m), kInvalid, "the graph has a cycle through node");
}

TEST_F(ModelErrors, OutputWouldOverwriteInput) {
  auto p = write(addModel());
  auto before = readFile(p);
  auto r = runEffdl("convert '" + p.string() + "' -o '" + p.string() + "' --force");
  EXPECT_EQ(r.exitCode, kUsage) << r.err;
  EXPECT_NE(r.err.find("would overwrite the input"), std::string::npos) << r.err;
  EXPECT_EQ(readFile(p), before);
}

TEST_F(ModelErrors, ExistingOutputNeedsForce) {
  auto p = write(addModel());
  writeFile(out(), "keep me");
  auto r = runEffdl("convert '" + p.string() + "' -o '" + out().string() + "'");
  EXPECT_EQ(r.exitCode, kUsage) << r.err;
  EXPECT_NE(r.err.find("already exists; pass --force"), std::string::npos) << r.err;
  EXPECT_EQ(readFile(out()), "keep me");
  r = runEffdl("convert '" + p.string() + "' -o '" + out().string() + "' --force");
  EXPECT_EQ(r.exitCode, 0) << r.err;
}

TEST_F(ModelErrors, UnwritableOutputFolder) {
  // /proc refuses new files even to root, so this runs under any user.
  auto p = write(addModel());
  auto r = runEffdl("convert '" + p.string() + "' -o /proc/effdl-test-output.onnx");
  EXPECT_EQ(r.exitCode, kIo) << r.err;
  EXPECT_NE(r.err.find("/proc/effdl-test-output.onnx: cannot create a file in '/proc'"), std::string::npos) << r.err;
}

TEST_F(ModelErrors, MissingOutputFolder) {
  auto p = write(addModel());
  auto r = runEffdl("convert '" + p.string() + "' -o '" + (dir / "no" / "such" / "o.onnx").string() + "'");
  EXPECT_EQ(r.exitCode, kIo) << r.err;
  EXPECT_NE(r.err.find("does not exist"), std::string::npos) << r.err;
}

TEST_F(ModelErrors, ExtremeSliceStepsDoNotCrashShapeInference) {
  // libonnx's shape-data propagation crashes on these steps; the loader must not let it run them.
  for (int64_t step : {std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min()}) {
    auto m = addModel();
    auto* g = m.mutable_graph();
    auto addConst = [&](const char* name, int64_t v) {
      auto* t = g->add_initializer();
      t->set_name(name);
      t->set_data_type(onnx::TensorProto::INT64);
      t->add_dims(1);
      t->add_int64_data(v);
    };
    addConst("starts", 0);
    addConst("ends", step > 0 ? 4 : -1000);
    addConst("axes", 0);
    addConst("steps", step);
    auto* s = g->add_node();
    s->set_op_type("Shape");
    s->add_input("x");
    s->add_output("s");
    auto* sl = g->add_node();
    sl->set_op_type("Slice");
    for (const char* i : {"s", "starts", "ends", "axes", "steps"}) sl->add_input(i);
    sl->add_output("t");
    auto* o = g->add_output();
    o->set_name("t");
    o->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::INT64);
    auto p = write(m);
    auto r = runEffdl("inspect '" + p.string() + "'");
    EXPECT_TRUE(r.exitCode == 0 || r.exitCode == kInvalid) << "step " << step << ": exit " << r.exitCode << " " << r.err;
  }
}

}  // namespace
}  // namespace effdl::test
