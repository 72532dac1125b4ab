// Shared by the hostile-model CLI tests: a small valid model to break, external-data setup, and
// a fixture that checks the failure contract (exit code, one line naming the file, no output).
#pragma once

#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "test_util.h"

namespace effdl::test {

inline constexpr int kUsage = 1, kInvalid = 2, kUnsupported = 3, kIo = 4;

// y = Add(x, w) with w a float[4] initializer.
inline onnx::ModelProto addModel() {
  onnx::ModelProto m;
  m.set_ir_version(8);
  auto* op = m.add_opset_import();
  op->set_domain("");
  op->set_version(17);
  auto* g = m.mutable_graph();
  g->set_name("g");
  auto vi = [](onnx::ValueInfoProto* v, const char* name) {
    v->set_name(name);
    auto* tt = v->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(onnx::TensorProto::FLOAT);
    tt->mutable_shape()->add_dim()->set_dim_value(4);
  };
  vi(g->add_input(), "x");
  vi(g->add_output(), "y");
  auto* w = g->add_initializer();
  w->set_name("w");
  w->set_data_type(onnx::TensorProto::FLOAT);
  w->add_dims(4);
  float vals[4] = {1, 2, 3, 4};
  w->set_raw_data(vals, sizeof vals);
  auto* n = g->add_node();
  n->set_op_type("Add");
  n->add_input("x");
  n->add_input("w");
  n->add_output("y");
  return m;
}

// addModel() at opset 6 with its initializer replaced by a Constant node, first in the graph, that
// makes `name`: a float tensor of `dims` filled with zeros. The Add (node 1) becomes Gemm 'gemm';
// the caller wires its inputs.
inline onnx::ModelProto gemm6WithConstant(const std::string& name, const std::vector<int64_t>& dims) {
  auto m = addModel();
  m.mutable_opset_import(0)->set_version(6);
  auto* g = m.mutable_graph();
  g->clear_initializer();
  auto* c = g->add_node();
  c->set_op_type("Constant");
  c->add_output(name);
  auto* a = c->add_attribute();
  a->set_name("value");
  a->set_type(onnx::AttributeProto::TENSOR);
  a->mutable_t()->set_data_type(onnx::TensorProto::FLOAT);
  int64_t n = 1;
  for (int64_t d : dims) {
    a->mutable_t()->add_dims(d);
    n *= d;
  }
  for (int64_t i = 0; i < n; ++i) a->mutable_t()->add_float_data(0.0f);
  g->mutable_node()->SwapElements(0, 1);
  g->mutable_node(1)->set_op_type("Gemm");
  g->mutable_node(1)->set_name("gemm");
  return m;
}

inline void makeExternal(onnx::ModelProto& m, const std::string& location, const std::string& offset = "",
                  const std::string& length = "") {
  auto* w = m.mutable_graph()->mutable_initializer(0);
  w->clear_raw_data();
  w->set_data_location(onnx::TensorProto::EXTERNAL);
  auto add = [&](const char* k, const std::string& v) {
    if (v.empty()) return;
    auto* e = w->add_external_data();
    e->set_key(k);
    e->set_value(v);
  };
  add("location", location);
  add("offset", offset);
  add("length", length);
}

class ModelErrors : public ::testing::Test {
 protected:
  TempDir dir;
  std::filesystem::path out() const { return dir / "out.onnx"; }
  std::filesystem::path write(const onnx::ModelProto& m, const std::string& name = "model.onnx") {
    writeFile(dir / name, m.SerializeAsString());
    return dir / name;
  }
  // Runs `effdl convert` and checks exit code, a one-line message naming the file, and no output;
  // `effdl optimize` (default pipeline) must fail the same way.
  void expectFailure(const std::filesystem::path& model, int code, const std::string& messagePart) {
    for (const char* command : {"convert", "optimize"}) {
      SCOPED_TRACE(command);
      auto r = runEffdl(std::string(command) + " '" + model.string() + "' -o '" + out().string() + "'");
      EXPECT_EQ(r.exitCode, code) << r.err;
      EXPECT_EQ(r.err.rfind("effdl: " + model.string(), 0), 0u) << r.err;
      EXPECT_NE(r.err.find(messagePart), std::string::npos) << r.err;
      EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "not one line: " << r.err;
      EXPECT_FALSE(std::filesystem::exists(out()));
      for (const auto& e : std::filesystem::directory_iterator(dir.path()))
        EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << "temp file left: " << e.path();
    }
  }
};

}  // namespace effdl::test
