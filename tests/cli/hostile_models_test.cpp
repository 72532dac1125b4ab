// More malformed and hostile model classes (issue 9), beyond those of model_errors_test.cpp: each
// builds the file with the ONNX C++ types, and checks the exit code, a one-line message naming
// the file and the problem, and that neither convert nor optimize leaves an output file.
#include <gtest/gtest.h>

#include <chrono>
#include <onnx/onnx_pb.h>
#include <sys/stat.h>

#include <cstring>
#include <filesystem>

#include "cli/hostile_model.h"
#include "test_util.h"

namespace fs = std::filesystem;

namespace effdl::test {
namespace {

using HostileModels = ModelErrors;

onnx::TensorProto* weight(onnx::ModelProto& m) { return m.mutable_graph()->mutable_initializer(0); }

// y = Identity(s) where s is a float sparse initializer of dense shape `dims` with linear
// indices `indices` (values 1, 2, …).
onnx::ModelProto sparseModel(std::vector<int64_t> dims, std::vector<int64_t> indices, int indexRank = 1) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(17);
  auto* g = m.mutable_graph();
  g->set_name("g");
  auto* s = g->add_sparse_initializer();
  auto* v = s->mutable_values();
  v->set_name("s");
  v->set_data_type(onnx::TensorProto::FLOAT);
  const int64_t nnz = static_cast<int64_t>(indices.size()) / indexRank;
  v->add_dims(nnz);
  for (int64_t k = 0; k < nnz; ++k) v->add_float_data(static_cast<float>(k + 1));
  auto* ix = s->mutable_indices();
  ix->set_name("s_indices");
  ix->set_data_type(onnx::TensorProto::INT64);
  ix->add_dims(nnz);
  if (indexRank > 1) ix->add_dims(indexRank);
  for (int64_t i : indices) ix->add_int64_data(i);
  for (int64_t d : dims) s->add_dims(d);
  auto* n = g->add_node();
  n->set_op_type("Identity");
  n->add_input("s");
  n->add_output("y");
  auto* o = g->add_output();
  o->set_name("y");
  auto* st = o->mutable_type()->mutable_sparse_tensor_type();
  st->set_elem_type(onnx::TensorProto::FLOAT);
  for (int64_t d : dims) st->mutable_shape()->add_dim()->set_dim_value(d);
  return m;
}

// addModel() with Add replaced by a call to local function `name` in domain "local", which
// calls `callee` (another local function) unless callee is empty.
onnx::FunctionProto* addFunction(onnx::ModelProto& m, const std::string& name, const std::string& callee) {
  auto* f = m.add_functions();
  f->set_name(name);
  f->set_domain("local");
  f->add_input("a");
  f->add_input("b");
  f->add_output("c");
  auto* op = f->add_opset_import();
  op->set_version(17);
  auto* lo = f->add_opset_import();
  lo->set_domain("local");
  lo->set_version(1);
  auto* n = f->add_node();
  n->set_op_type(callee.empty() ? "Add" : callee);
  if (!callee.empty()) n->set_domain("local");
  n->add_input("a");
  n->add_input("b");
  n->add_output("c");
  return f;
}

onnx::ModelProto functionModel() {
  auto m = addModel();
  auto* lo = m.add_opset_import();
  lo->set_domain("local");
  lo->set_version(1);
  auto* n = m.mutable_graph()->mutable_node(0);
  n->set_op_type("f");
  n->set_domain("local");
  return m;
}

// --- versions and structure -----------------------------------------------------------------

TEST_F(HostileModels, NoIrVersion) {
  auto m = addModel();
  m.clear_ir_version();
  expectFailure(write(m), kInvalid, "no ir_version set");
}

TEST_F(HostileModels, NoGraph) {
  auto m = addModel();
  m.clear_graph();
  expectFailure(write(m), kInvalid, "the model has no graph");
}

TEST_F(HostileModels, OpsetImportedTwice) {
  auto m = addModel();
  m.add_opset_import()->set_version(13);
  expectFailure(write(m), kInvalid, "opset for domain '' imported twice");
}

TEST_F(HostileModels, OpsetZero) {
  auto m = addModel();
  m.mutable_opset_import(0)->set_version(0);
  expectFailure(write(m), kInvalid, "opset version 0 is not valid");
}

TEST_F(HostileModels, MlOpsetTooNew) {
  auto m = addModel();
  auto* ml = m.add_opset_import();
  ml->set_domain("ai.onnx.ml");
  ml->set_version(9);
  expectFailure(write(m), kUnsupported, "ai.onnx.ml opset 9 is above what effdl supports");
}

TEST_F(HostileModels, ProtobufNestedBeyondParserLimit) {
  // 200 levels of nested subgraphs exceed even protobuf's raised recursion limit: a parse error,
  // not a stack overflow.
  auto m = addModel();
  onnx::GraphProto inner;
  inner.set_name("leaf");
  for (int depth = 0; depth < 200; ++depth) {
    onnx::GraphProto outer;
    outer.set_name("level");
    auto* a = outer.add_node()->add_attribute();
    a->set_name("body");
    a->set_type(onnx::AttributeProto::GRAPH);
    *a->mutable_g() = std::move(inner);
    inner = std::move(outer);
  }
  auto* a = m.mutable_graph()->mutable_node(0)->add_attribute();
  a->set_name("deep");
  a->set_type(onnx::AttributeProto::GRAPH);
  *a->mutable_g() = std::move(inner);
  expectFailure(write(m), kInvalid, "nested too deeply");
}

TEST_F(HostileModels, ValueProducedTwice) {
  auto m = addModel();
  auto* n = m.mutable_graph()->add_node();
  n->set_op_type("Relu");
  n->add_input("x");
  n->add_output("y");
  expectFailure(write(m), kInvalid, "'y'");
}

TEST_F(HostileModels, UndefinedNodeInput) {
  auto m = addModel();
  m.mutable_graph()->mutable_node(0)->set_input(1, "nowhere");
  expectFailure(write(m), kInvalid, "node '' (Add) reads 'nowhere', which no graph input, initializer or node defines");
}

TEST_F(HostileModels, UndefinedInputOfShapeCrashedShapeInference) {
  // Found by fuzz_model: libonnx 1.12's shape inference segfaults on Shape of an undefined value.
  auto m = addModel();
  auto* n = m.mutable_graph()->add_node();
  n->set_op_type("Shape");
  n->set_name("s");
  n->add_input("undefined");
  n->add_output("shape");
  expectFailure(write(m), kInvalid, "node 's' (Shape) reads 'undefined'");
}

TEST_F(HostileModels, MissingRequiredAttributeCrashedShapeInference) {
  // Found by fuzz_model: libonnx 1.12's Scan-8 inference dereferences num_scan_inputs unchecked.
  auto m = addModel();
  m.mutable_opset_import(0)->set_version(8);
  auto* g = m.mutable_graph();
  auto* n = g->add_node();
  n->set_op_type("Scan");
  n->set_name("scan");
  n->add_input("");
  n->add_input("x");
  n->add_output("s");
  auto* a = n->add_attribute();
  a->set_name("body");
  a->set_type(onnx::AttributeProto::GRAPH);
  auto* b = a->mutable_g();
  b->set_name("body");
  *b->add_input() = g->input(0);
  *b->add_output() = g->input(0);
  expectFailure(write(m), kInvalid, "node 'scan' (Scan): Required attribute 'num_scan_inputs' is missing");
}

TEST_F(HostileModels, UndefinedValueInsideASubgraph) {
  // Names of enclosing graphs are visible in a subgraph; others are not.
  auto m = addModel();
  auto* g = m.mutable_graph();
  auto* c = g->add_initializer();
  c->set_name("c");
  c->set_data_type(onnx::TensorProto::BOOL);
  c->add_int32_data(1);
  g->mutable_node(0)->set_output(0, "t");
  auto* n = g->add_node();
  n->set_op_type("If");
  n->add_input("c");
  n->add_output("y");
  for (const char* branch : {"then_branch", "else_branch"}) {
    auto* a = n->add_attribute();
    a->set_name(branch);
    a->set_type(onnx::AttributeProto::GRAPH);
    auto* b = a->mutable_g();
    b->set_name(branch);
    auto* add = b->add_node();
    add->set_op_type("Add");
    add->set_name("inner");
    add->add_input("t");  // from the enclosing graph: fine
    add->add_input(std::string(branch) == "then_branch" ? "w" : "missing");
    add->add_output("r");
    *b->add_output() = g->output(0);
    b->mutable_output(0)->set_name("r");
  }
  expectFailure(write(m), kInvalid, "subgraph 'else_branch': node 'inner' (Add) reads 'missing'");
}

TEST_F(HostileModels, SubgraphReadsItsOwnNodeOutput) {
  // A cycle through a subgraph: the If's branch reads 'y', the If's own output.
  auto m = addModel();
  auto* g = m.mutable_graph();
  g->mutable_node(0)->set_output(0, "t");
  auto* n = g->add_node();
  n->set_op_type("If");
  n->add_input("c");
  n->add_output("y");
  for (const char* branch : {"then_branch", "else_branch"}) {
    auto* a = n->add_attribute();
    a->set_name(branch);
    a->set_type(onnx::AttributeProto::GRAPH);
    auto* b = a->mutable_g();
    b->set_name(branch);
    auto* add = b->add_node();
    add->set_op_type("Add");
    add->add_input("t");
    add->add_input("y");
    add->add_output("r");
    *b->add_output() = g->output(0);
    b->mutable_output(0)->set_name("r");
  }
  auto* c = g->add_initializer();
  c->set_name("c");
  c->set_data_type(onnx::TensorProto::BOOL);
  c->add_int32_data(1);
  expectFailure(write(m), kInvalid,
                "ONNX checker: Nodes in a graph must be topologically sorted, however input 'y' of node: name:  "
                "OpType: Add is not output of any previous nodes. (context: Bad node spec for node. Name:  OpType: If)");
}

TEST_F(HostileModels, RecursiveFunctions) {
  auto m = functionModel();
  addFunction(m, "f", "g");
  addFunction(m, "g", "f");
  expectFailure(write(m), kInvalid, "recursively (a cycle)");
}

TEST_F(HostileModels, SelfRecursiveFunction) {
  auto m = functionModel();
  addFunction(m, "f", "f");
  expectFailure(write(m), kInvalid, "function 'f' calls 'f' recursively");
}

TEST_F(HostileModels, NestingInsideFunctionBody) {
  // The depth limit also counts subgraphs inside function bodies.
  auto m = functionModel();
  auto* f = addFunction(m, "f", "");
  onnx::GraphProto inner;
  inner.set_name("leaf");
  for (int depth = 0; depth < 40; ++depth) {
    onnx::GraphProto outer;
    outer.set_name("level" + std::to_string(depth));
    auto* a = outer.add_node()->add_attribute();
    a->set_name("then_branch");
    a->set_type(onnx::AttributeProto::GRAPH);
    *a->mutable_g() = std::move(inner);
    inner = std::move(outer);
  }
  auto* a = f->mutable_node(0)->add_attribute();
  a->set_name("deep");
  a->set_type(onnx::AttributeProto::GRAPH);
  *a->mutable_g() = std::move(inner);
  expectFailure(write(m), kInvalid, "subgraphs nested deeper than effdl's limit of 32");
}

TEST_F(HostileModels, NamesThatAreNotUtf8InJsonOutput) {
  // Found by fuzz_model: JSON output threw on a producer name that is not UTF-8.
  auto m = addModel();
  m.set_producer_name("backend-t\xdfst");
  m.mutable_graph()->mutable_node(0)->set_name("n\xff");
  auto p = write(m);
  auto r = runEffdl("inspect --json '" + p.string() + "'");
  EXPECT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.out.find("backend-t\xef\xbf\xbdst"), std::string::npos) << "invalid bytes become U+FFFD";
}

// --- tensors --------------------------------------------------------------------------------

TEST_F(HostileModels, UnknownDataType) {
  auto m = addModel();
  weight(m)->set_data_type(99);
  expectFailure(write(m), kInvalid, "tensor 'w': unknown data type 99");
}

TEST_F(HostileModels, TypedFieldOfWrongType) {
  auto m = addModel();
  auto* w = weight(m);
  w->clear_raw_data();
  for (int i = 0; i < 4; ++i) w->add_int64_data(i);
  expectFailure(write(m), kInvalid, "tensor 'w': data is stored in a field that does not match its type float");
}

TEST_F(HostileModels, UnknownElementTypeOfAGraphOutput) {
  // Found by fuzz_model: a declared output type of 93 survived loading and broke the saved model.
  auto m = addModel();
  m.mutable_graph()->mutable_output(0)->mutable_type()->mutable_tensor_type()->set_elem_type(93);
  expectFailure(write(m), kInvalid, "value 'y': unknown element type 93");
}

TEST_F(HostileModels, GraphInputWithoutType) {
  // Found by fuzz_model: libonnx 1.12's shape inference segfaults on an input without a type.
  auto m = addModel();
  m.mutable_graph()->mutable_input(0)->clear_type();
  expectFailure(write(m), kInvalid, "graph input 'x' has no type");
}

TEST_F(HostileModels, ConvWeightRankDiffersFromInput) {
  // Found by fuzz_model: libonnx 1.12's conv shape inference reads out of bounds here.
  auto m = addModel();
  auto* g = m.mutable_graph();
  auto* x = g->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape();
  x->clear_dim();
  for (int d : {1, 1, 3}) x->add_dim()->set_dim_value(d);
  auto* w = g->mutable_initializer(0);
  w->clear_dims();
  for (int d : {1, 1, 2, 2}) w->add_dims(d);
  g->mutable_node(0)->set_op_type("Conv");
  g->mutable_node(0)->set_name("conv");
  expectFailure(write(m), kInvalid, "node 'conv' (Conv): weight rank 4 differs from input rank 3");
}

TEST_F(HostileModels, GemmOfAVector) {
  // Found by fuzz_model: libonnx 1.12's Gemm inference reads dim 1 of a rank-1 B.
  auto m = addModel();
  auto* g = m.mutable_graph();
  auto* x = g->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape();
  x->clear_dim();
  for (int d : {2, 4}) x->add_dim()->set_dim_value(d);
  g->mutable_node(0)->set_op_type("Gemm");
  g->mutable_node(0)->set_name("gemm");
  expectFailure(write(m), kInvalid, "node 'gemm' (Gemm): input 'w' has rank 1; Gemm takes matrices");
}

TEST_F(HostileModels, DeclaredOutputShapeContradictedOnceFolded) {
  // Found by fuzz_model: 'log_prob' is declared [3] but is Reshape(…, Shape(x)) = [3,5], which
  // libonnx sees only after cleanup folds Shape(x); the saved model then failed to load back.
  // Convert does not fold, so only optimize can tell; it must blame the input, not itself.
  const auto model = sourceDir() / "tests/fuzz/regressions/model/declared-shape-contradicted-after-folding";
  auto r = runEffdl("optimize '" + model.string() + "' -o '" + out().string() + "' --no-measure");
  EXPECT_EQ(r.exitCode, kInvalid) << r.err;
  EXPECT_EQ(r.err.rfind("effdl: " + model.string() + ": ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("declares graph output 'log_prob' with shape [3], but it computes [3,5]"), std::string::npos)
      << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_FALSE(fs::exists(out()));
}

TEST_F(HostileModels, DeclaredOutputKindContradictedOnceTheInputsTypeIsKept) {
  // Found by fuzz_model: graph input '0' is float[3] and also a graph output declared float[2];
  // libonnx took the [2], Split's split (2, 1) then failed its inference quietly, and nobody
  // checked Split's output '1', declared a sparse tensor. effdl keeps the input's [3], Split
  // infers, and the saved model failed to load ("type case mismatch"): the input's fault.
  const auto model = sourceDir() / "tests/fuzz/regressions/model/split-output-declared-sparse";
  auto r = runEffdl("optimize '" + model.string() + "' -o '" + out().string() + "' --no-measure");
  EXPECT_EQ(r.exitCode, kInvalid) << r.err;
  EXPECT_EQ(r.err.rfind("effdl: " + model.string() + ": ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("a declared graph output or value_info type is wrong"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("type case mismatch"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_FALSE(fs::exists(out()));
}

TEST_F(HostileModels, GemmOfAVectorFromAConstantNode) {
  // Found by fuzz_model: B is a Constant node's [1] tensor, so no declaration gives its rank;
  // libonnx 1.12's Gemm-6 inference then read past its dims (SIGSEGV). Rank pre-inference finds it.
  auto m = gemm6WithConstant("w", {1});
  auto* g = m.mutable_graph();
  g->mutable_node(1)->add_input("w");  // Gemm-6 takes C too
  for (auto* v : {g->mutable_input(0), g->mutable_output(0)}) {
    auto* s = v->mutable_type()->mutable_tensor_type()->mutable_shape();
    s->clear_dim();
    s->add_dim()->set_dim_value(1);
    s->add_dim()->set_dim_value(4);
  }
  expectFailure(write(m), kInvalid, "node 'gemm' (Gemm): input 'w' has rank 1; Gemm takes matrices");
}

TEST_F(HostileModels, GemmOfAConstantScalarWhoseOutputTypeClashes) {
  // Found by fuzz_model: A is a Constant scalar and the output is declared uint16. The rank
  // pre-inference's Identity stand-in for Gemm passed float to that output; the clash ended its
  // inference with no ranks found, and libonnx's Gemm-6 inference then crashed on the scalar.
  auto m = gemm6WithConstant("s", {});
  auto* g = m.mutable_graph();
  auto* n = g->mutable_node(1);
  n->set_input(0, "s");
  n->set_input(1, "x");
  n->add_input("s");
  g->mutable_output(0)->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::UINT16);
  g->mutable_output(0)->mutable_type()->mutable_tensor_type()->clear_shape();
  for (int64_t d : {3, 4}) g->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape()->add_dim()->set_dim_value(d);
  g->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim()->DeleteSubrange(0, 1);
  expectFailure(write(m), kInvalid, "node 'gemm' (Gemm): input 's' has rank 0; Gemm takes matrices");
}

TEST_F(HostileModels, InputThatFailsWhenRunIsOptimizedAndFailsTheSameWay) {
  // Found by fuzz_model (an expanded LayerNormalization with mutated constants): cleanup folds a
  // Slice past the shape's start into an empty vector, which libonnx's data propagation took for
  // a scalar, and the optimized model did not load. It loads now; like the input, it fails when
  // run (a ConstantOfShape of 2^31 elements), with the same one-line error.
  const std::filesystem::path model =
      std::filesystem::path(EFFDL_SOURCE_DIR) / "tests/fuzz/regressions/model/concat-of-folded-scalar-input-fails-at-run";
  auto r = runEffdl("optimize '" + model.string() + "' -o '" + out().string() + "' --bench-iters 0 -q");
  EXPECT_EQ(r.exitCode, 0) << r.err;
  ASSERT_TRUE(std::filesystem::exists(out()));
  auto runInput = runEffdl("run '" + model.string() + "' --random 0");
  auto runOutput = runEffdl("run '" + out().string() + "' --random 0");
  EXPECT_EQ(runInput.exitCode, kInvalid) << runInput.err;
  EXPECT_EQ(runOutput.exitCode, kInvalid) << runOutput.err;
  EXPECT_NE(runOutput.err.find("exceeds the runtime's tensor size limit"), std::string::npos) << runOutput.err;
  EXPECT_EQ(runOutput.err, runInput.err);
}

TEST_F(HostileModels, SparseGraphInputIntoAConv) {
  // Found by fuzz_model: ConvTranspose's W declared as a sparse tensor input; libonnx's inference
  // read it as a dense tensor type and crashed.
  auto m = addModel();
  auto* g = m.mutable_graph();
  g->clear_initializer();
  auto* w = g->add_input();
  w->set_name("w");
  auto* st = w->mutable_type()->mutable_sparse_tensor_type();
  st->set_elem_type(onnx::TensorProto::FLOAT);
  for (int64_t d : {1, 1, 3}) st->mutable_shape()->add_dim()->set_dim_value(d);
  auto* n = g->mutable_node(0);
  n->set_op_type("ConvTranspose");
  n->set_name("deconv");
  for (auto* v : {g->mutable_input(0), g->mutable_output(0)}) {
    auto* s = v->mutable_type()->mutable_tensor_type()->mutable_shape();
    s->clear_dim();
    for (int64_t d : {1, 1, 4}) s->add_dim()->set_dim_value(d);
  }
  expectFailure(write(m), kInvalid, "node 'deconv' (ConvTranspose): input 'w' is declared as a sparse tensor, which ConvTranspose does not take");
}

TEST_F(HostileModels, GraphOutputThatIsTheInputWithAnotherType) {
  // Found by fuzz_model: input '0' is also a graph output declared as a sparse tensor; effdl wrote
  // that type back over the input's, and the saved model did not load.
  auto m = addModel();
  m.mutable_graph()->mutable_node(0)->set_input(0, "w");  // y = w + w: nothing reads x
  auto* o = m.mutable_graph()->add_output();
  o->set_name("x");
  o->mutable_type()->mutable_sparse_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
  o->mutable_type()->mutable_sparse_tensor_type()->mutable_shape()->add_dim()->set_dim_value(4);
  expectFailure(write(m), kInvalid, "graph output 'x' is the graph input of that name, declared with another type");
}

TEST_F(HostileModels, GraphInputDeclaredTwice) {
  // Found by fuzz_model: two graph inputs named '1' (a ConvTranspose weight [3,4,3,3] and a bias
  // [4]); libonnx's inference read the second's type for the weight and crashed.
  auto m = addModel();
  *m.mutable_graph()->add_input() = m.graph().input(0);
  m.mutable_graph()->mutable_input(1)->mutable_type()->mutable_tensor_type()->mutable_shape()->add_dim()->set_dim_value(2);
  expectFailure(write(m), kInvalid, "graph input 'x' is defined twice (names must be assigned once)");
}

TEST_F(HostileModels, InitializerDeclaredTwiceOrRedefinedByANode) {
  auto m = addModel();
  *m.mutable_graph()->add_initializer() = m.graph().initializer(0);
  expectFailure(write(m), kInvalid, "initializer 'w' is defined twice");
  auto m2 = addModel();
  m2.mutable_graph()->mutable_node(0)->set_output(0, "w");
  m2.mutable_graph()->mutable_output(0)->set_name("w");
  expectFailure(write(m2), kInvalid, "value 'w' is defined twice");
}

TEST_F(HostileModels, SamePaddedPoolOverAHugeDim) {
  // Found by fuzz_text: libonnx 1.12 pads SAME_* by subtracting the stride from the input size
  // in a loop; a dim of 5.6e10 hung the loader.
  auto m = addModel();
  auto* g = m.mutable_graph();
  for (auto* v : {g->mutable_input(0), g->mutable_output(0)}) {
    auto* s = v->mutable_type()->mutable_tensor_type()->mutable_shape();
    s->clear_dim();
    for (int64_t d : {int64_t{1}, int64_t{1}, int64_t{5}, int64_t{56666666666}}) s->add_dim()->set_dim_value(d);
  }
  g->clear_initializer();
  auto* n = g->mutable_node(0);
  n->set_op_type("MaxPool");
  n->set_name("pool");
  n->mutable_input()->RemoveLast();
  auto* a = n->add_attribute();
  a->set_name("auto_pad");
  a->set_type(onnx::AttributeProto::STRING);
  a->set_s("SAME_UPPER");
  for (const char* name : {"kernel_shape", "strides"}) {
    auto* k = n->add_attribute();
    k->set_name(name);
    k->set_type(onnx::AttributeProto::INTS);
    k->add_ints(2);
    k->add_ints(2);
  }
  expectFailure(write(m), kInvalid, "node 'pool' (MaxPool): input 'x' has dim 56666666666 with auto_pad SAME_*");
  // The same with MaxPool's second output (Indices): the pre-inference stands in for both.
  auto* indices = m.mutable_graph()->mutable_node(0);
  indices->add_output("i");
  auto* io = m.mutable_graph()->add_output();
  *io = m.graph().output(0);
  io->set_name("i");
  io->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::INT64);
  const auto t0 = std::chrono::steady_clock::now();
  expectFailure(write(m), kInvalid, "node 'pool' (MaxPool): input 'x' has dim 56666666666 with auto_pad SAME_*");
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 10.0)
      << "libonnx's padding loop ran (it takes ~50 s on this dim)";
}

TEST_F(HostileModels, PoolWithZeroStride) {
  // Found by fuzz_text: libonnx 1.12's pool inference divides by the stride (SIGFPE).
  auto m = addModel();
  auto* g = m.mutable_graph();
  auto* x = g->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape();
  x->clear_dim();
  for (int d : {1, 1, 8, 8}) x->add_dim()->set_dim_value(d);
  auto* n = g->mutable_node(0);
  n->set_op_type("MaxPool");
  n->set_name("pool");
  n->mutable_input()->RemoveLast();
  for (const char* name : {"kernel_shape", "strides"}) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    a->add_ints(std::string(name) == "strides" ? 0 : 3);
    a->add_ints(3);
  }
  expectFailure(write(m), kInvalid, "node 'pool' (MaxPool): attribute 'strides' has 0; it must be positive");
}

TEST_F(HostileModels, DataInTwoFields) {
  auto m = addModel();
  for (int i = 0; i < 4; ++i) weight(m)->add_float_data(1.0f);
  expectFailure(write(m), kInvalid, "tensor 'w': data is given in more than one field");
}

TEST_F(HostileModels, NoDataForElements) {
  auto m = addModel();
  weight(m)->clear_raw_data();
  expectFailure(write(m), kInvalid, "tensor 'w': has no data for its 4 elements");
}

TEST_F(HostileModels, StringCountMismatch) {
  auto m = addModel();
  auto* t = m.mutable_graph()->add_initializer();
  t->set_name("names");
  t->set_data_type(onnx::TensorProto::STRING);
  t->add_dims(3);
  t->add_string_data("a");
  expectFailure(write(m), kInvalid, "tensor 'names': has 1 strings but its dims call for 3");
}

TEST_F(HostileModels, ByteSizeOverflows) {
  // 2^61 doubles: the element count fits in int64, the byte count does not.
  auto m = addModel();
  auto* w = weight(m);
  w->set_data_type(onnx::TensorProto::DOUBLE);
  w->set_dims(0, int64_t{1} << 61);
  expectFailure(write(m), kInvalid, "tensor 'w': its byte size overflows");
}

TEST_F(HostileModels, SegmentedTensor) {
  auto m = addModel();
  weight(m)->mutable_segment()->set_begin(0);
  expectFailure(write(m), kUnsupported, "segmented tensors are not supported");
}

TEST_F(HostileModels, ConstantAttributeRawSizeMismatch) {
  // Tensors inside attributes are checked like initializers.
  auto m = addModel();
  auto* g = m.mutable_graph();
  g->mutable_node(0)->set_input(1, "c");
  auto* n = g->add_node();
  n->set_op_type("Constant");
  n->add_output("c");
  auto* a = n->add_attribute();
  a->set_name("value");
  a->set_type(onnx::AttributeProto::TENSOR);
  *a->mutable_t() = *weight(m);
  a->mutable_t()->set_raw_data(std::string(1000, '\0'));
  g->mutable_node()->SwapElements(0, 1);
  expectFailure(write(m), kInvalid, "attribute 'value': tensor 'w': raw_data holds 1000 bytes");
}

TEST_F(HostileModels, HugeDimsWithTinyPayload) {
  // Dims of 2^40 floats with 16 bytes of raw data: refused before anything is allocated.
  auto m = addModel();
  weight(m)->set_dims(0, int64_t{1} << 40);
  expectFailure(write(m), kInvalid, "raw_data holds 16 bytes but its dims and type need 4398046511104");
}

// --- sparse initializers --------------------------------------------------------------------

TEST_F(HostileModels, SparseIndexOutOfRange) {
  expectFailure(write(sparseModel({4, 4}, {3, 16})), kInvalid, "sparse tensor 's': index 16 is out of range");
}

TEST_F(HostileModels, SparseNegativeIndex) {
  expectFailure(write(sparseModel({4, 4}, {-1})), kInvalid, "sparse tensor 's': index -1 is out of range");
}

TEST_F(HostileModels, SparseIndicesUnsorted) {
  expectFailure(write(sparseModel({4, 4}, {5, 2})), kInvalid, "sparse tensor 's': indices are not sorted and unique");
}

TEST_F(HostileModels, SparseCoordinateOutOfRange) {
  expectFailure(write(sparseModel({4, 4}, {0, 1, 2, 4}, 2)), kInvalid, "index 4 is out of range for dim 1");
}

TEST_F(HostileModels, SparseIndicesWrongShape) {
  // Two values, but indices of shape [1, 2]: neither [NNZ] nor [NNZ, rank].
  auto m = sparseModel({4, 4}, {1, 2});
  auto* ix = m.mutable_graph()->mutable_sparse_initializer(0)->mutable_indices();
  ix->set_dims(0, 1);
  ix->add_dims(2);
  expectFailure(write(m), kInvalid, "sparse tensor 's': indices shape must be [NNZ] or [NNZ, rank]");
}

TEST_F(HostileModels, SparseDenseDimsOverflow) {
  expectFailure(write(sparseModel({int64_t{1} << 40, int64_t{1} << 40}, {1})), kInvalid,
                "sparse tensor 's': the product of its dense dims overflows");
}

// --- external data --------------------------------------------------------------------------

TEST_F(HostileModels, ExternalDataParentDir) {
  auto m = addModel();
  makeExternal(m, "../w.bin");
  expectFailure(write(m), kInvalid, "contains '..'");
}

TEST_F(HostileModels, ExternalDataOffsetPastEnd) {
  writeFile(dir / "w.bin", std::string(16, 'x'));
  auto m = addModel();
  makeExternal(m, "w.bin", "4096");
  expectFailure(write(m), kInvalid, "offset 4096 is past the end of the file (16 bytes)");
}

TEST_F(HostileModels, ExternalDataHugeLength) {
  writeFile(dir / "w.bin", std::string(16, 'x'));
  auto m = addModel();
  makeExternal(m, "w.bin", "0", "18446744073709551615");
  expectFailure(write(m), kInvalid, "lie outside the file");
}

TEST_F(HostileModels, ExternalDataLengthNotANumber) {
  writeFile(dir / "w.bin", std::string(16, 'x'));
  auto m = addModel();
  makeExternal(m, "w.bin", "0", "16abc");
  expectFailure(write(m), kInvalid, "length '16abc' is not a non-negative integer");
}

TEST_F(HostileModels, ExternalDataNulInLocation) {
  auto m = addModel();
  makeExternal(m, std::string("w.bin\0../../etc/passwd", 22));
  expectFailure(write(m), kInvalid, "tensor 'w': external data location contains a NUL byte");
}

TEST_F(HostileModels, ExternalDataIsAFolder) {
  fs::create_directory(dir / "data");
  auto m = addModel();
  makeExternal(m, "data");
  expectFailure(write(m), kIo, "external data 'data': " + fs::weakly_canonical(dir / "data").string() + ": not a regular file");
}

TEST_F(HostileModels, ExternalDataIsAFifo) {
  // Opening a FIFO for reading would block forever without a writer.
  ASSERT_EQ(::mkfifo((dir / "w.bin").c_str(), 0600), 0) << std::strerror(errno);
  auto m = addModel();
  makeExternal(m, "w.bin");
  expectFailure(write(m), kIo, "external data 'w.bin': " + fs::weakly_canonical(dir / "w.bin").string() + ": not a regular file");
}

TEST_F(HostileModels, ExternalDataWithoutLocation) {
  auto m = addModel();
  makeExternal(m, "");
  expectFailure(write(m), kInvalid, "external data without a location");
}

TEST_F(HostileModels, ExternalDataDotDotThroughSubfolder) {
  fs::create_directories(dir / "a");
  writeFile(dir / "w.bin", std::string(16, 'x'));
  auto m = addModel();
  makeExternal(m, "a/../../x/w.bin");
  expectFailure(write(m), kInvalid, "contains '..'");
}

TEST_F(HostileModels, ExternalSparseIndices) {
  auto m = sparseModel({4, 4}, {1});
  auto* ix = m.mutable_graph()->mutable_sparse_initializer(0)->mutable_indices();
  ix->clear_int64_data();
  ix->set_data_location(onnx::TensorProto::EXTERNAL);
  auto* e = ix->add_external_data();
  e->set_key("location");
  e->set_value("ix.bin");
  writeFile(dir / "ix.bin", std::string(8, '\0'));
  expectFailure(write(m), kUnsupported, "external sparse indices are not supported");
}

}  // namespace
}  // namespace effdl::test
