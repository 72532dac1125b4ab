// Sequence and optional values in the runtime: the Sequence* kernels, Optional*, Identity and Loop
// carrying them, Session::runValues, and the errors when a value of the wrong kind reaches a kernel
// or the session's boundary.
#include <gtest/gtest.h>

#include <onnx/onnx_pb.h>

#include "core/error.h"
#include "ir/onnx_import.h"
#include "runtime/session.h"
#include "test_util.h"

namespace effdl::test {
namespace {

// ONNX 1.12's text parser reads no seq()/optional() types in a graph's signature, so models with
// sequence or optional inputs and outputs are built as protos.
onnx::TypeProto tensorType(int elem, std::vector<int64_t> dims = {}) {
  onnx::TypeProto t;
  t.mutable_tensor_type()->set_elem_type(elem);
  auto* shape = t.mutable_tensor_type()->mutable_shape();
  for (int64_t d : dims) shape->add_dim()->set_dim_value(d);
  return t;
}
onnx::TypeProto seqType(int elem, std::vector<int64_t> dims = {}) {
  onnx::TypeProto t;
  *t.mutable_sequence_type()->mutable_elem_type() = tensorType(elem, std::move(dims));
  return t;
}
onnx::TypeProto optType(const onnx::TypeProto& inner) {
  onnx::TypeProto t;
  *t.mutable_optional_type()->mutable_elem_type() = inner;
  return t;
}
struct NodeSpec {
  std::string op;
  std::vector<std::string> inputs, outputs;
  const onnx::TypeProto* typeAttr = nullptr;  // Optional's `type`
};
std::unique_ptr<ir::Model> build(const std::vector<NodeSpec>& nodes,
                                 const std::vector<std::pair<std::string, onnx::TypeProto>>& inputs,
                                 const std::vector<std::pair<std::string, onnx::TypeProto>>& outputs) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  auto* opset = m.add_opset_import();
  opset->set_domain("");
  opset->set_version(17);
  auto* g = m.mutable_graph();
  g->set_name("g");
  for (const auto& n : nodes) {
    auto* np = g->add_node();
    np->set_op_type(n.op);
    for (const auto& i : n.inputs) np->add_input(i);
    for (const auto& o : n.outputs) np->add_output(o);
    if (n.typeAttr) {
      auto* a = np->add_attribute();
      a->set_name("type");
      a->set_type(onnx::AttributeProto::TYPE_PROTO);
      *a->mutable_tp() = *n.typeAttr;
    }
  }
  for (const auto& [name, type] : inputs) {
    auto* v = g->add_input();
    v->set_name(name);
    *v->mutable_type() = type;
  }
  for (const auto& [name, type] : outputs) {
    auto* v = g->add_output();
    v->set_name(name);
    *v->mutable_type() = type;
  }
  std::string bytes = m.SerializeAsString();
  return ir::loadModelFromBytes(bytes.data(), bytes.size(), ".", "<proto>");
}
constexpr int kFloat = onnx::TensorProto::FLOAT;

using runtime::Value;
using runtime::ValueKind;

ir::Tensor floats(std::vector<int64_t> dims, float start = 0) {
  int64_t n = 1;
  for (auto d : dims) n *= d;
  std::vector<float> v(static_cast<size_t>(n));
  for (size_t i = 0; i < v.size(); ++i) v[i] = start + static_cast<float>(i);
  return ir::Tensor::fromVector(ir::DataType::kFloat, dims, v);
}

ir::Tensor int64s(std::vector<int64_t> dims, std::vector<int64_t> v) {
  return ir::Tensor::fromVector(ir::DataType::kInt64, dims, v);
}

std::vector<float> values(const ir::Tensor& t) {
  auto s = t.values<float>();
  return {s.begin(), s.end()};
}

TEST(RuntimeSequence, ConstructInsertEraseAtLength) {
  // [a, b] → insert c at 1 → [a, c, b] → erase -1 → [a, c]; at(0) is a, at(1) is c; length 2.
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2] a, float[2] b, float[2] c) => (float[2] first, float[2] second, int64 len) {
      s0 = SequenceConstruct(a, b)
      zero = Constant<value = int64 {0}>()
      one = Constant<value = int64 {1}>()
      s1 = SequenceInsert(s0, c, one)
      minus1 = Constant<value = int64 {-1}>()
      s = SequenceErase(s1, minus1)
      first = SequenceAt(s, zero)
      second = SequenceAt(s, one)
      len = SequenceLength(s)
    })");
  runtime::Session session(*m, {1});
  auto a = floats({2}, 0), b = floats({2}, 10), c = floats({2}, 20);
  for (int run = 0; run < 2; ++run) {  // a second run reuses the session's slots
    auto out = session.run({{"a", &a}, {"b", &b}, {"c", &c}});
    ASSERT_EQ(out.size(), 3u);
    EXPECT_EQ(values(out[0]), (std::vector<float>{0, 1}));
    EXPECT_EQ(values(out[1]), (std::vector<float>{20, 21}));
    EXPECT_EQ(out[2].values<int64_t>()[0], 2);
  }
}

TEST(RuntimeSequence, SplitThenConcatRoundTrips) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2,5] x, int64[2] split) => (float[2,5] y, float[2,5] stacked, int64 n) {
      s = SplitToSequence<axis = 1>(x, split)
      y = ConcatFromSequence<axis = 1>(s)
      rows = SplitToSequence<axis = 0, keepdims = 0>(x)
      stacked = ConcatFromSequence<axis = 0, new_axis = 1>(rows)
      n = SequenceLength(s)
    })");
  runtime::Session session(*m, {1});
  auto x = floats({2, 5});
  auto split = int64s({2}, {2, 3});
  auto out = session.run({{"x", &x}, {"split", &split}});
  EXPECT_TRUE(out[0].sameContent(x));
  EXPECT_TRUE(out[1].sameContent(x));
  EXPECT_EQ(out[2].values<int64_t>()[0], 2);
  auto bad = int64s({2}, {2, 2});
  expectError([&] { session.run({{"x", &x}, {"split", &bad}}); }, ErrorKind::kInvalidModel, "sum to 4");
}

TEST(RuntimeSequence, PositionOutOfRangeIsAnError) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2] a, int64 p) => (float[2] y) {
      s = SequenceConstruct(a, a)
      y = SequenceAt(s, p)
    })");
  runtime::Session session(*m, {1});
  auto a = floats({2});
  auto ok = int64s({}, {-2}), bad = int64s({}, {2});
  EXPECT_EQ(values(session.run({{"a", &a}, {"p", &ok}})[0]), values(a));
  expectError([&] { session.run({{"a", &a}, {"p", &bad}}); }, ErrorKind::kInvalidModel, "position 2 is out of range");
}

TEST(RuntimeSequence, EmptyAndTypedInsert) {
  auto m = parse(R"(
    <ir_version: 8, opset_import: ["" : 17]>
    g (int64[1] i) => (int64 n) {
      e = SequenceEmpty<dtype = 1>()
      s = SequenceInsert(e, i)
      n = SequenceLength(s)
    })");
  runtime::Session session(*m, {1});
  auto i = int64s({1}, {5});
  // The empty sequence holds floats: inserting an int64 tensor is refused.
  expectError([&] { session.run({{"i", &i}}); }, ErrorKind::kInvalidModel, "does not match the sequence's float");
}

TEST(RuntimeSequence, TensorOnlyRunRefusesASequenceOutput) {
  auto m = build({{"SequenceConstruct", {"a"}, {"s"}}}, {{"a", tensorType(kFloat, {2})}}, {{"s", seqType(kFloat, {2})}});
  runtime::Session session(*m, {1});
  auto a = floats({2});
  expectError([&] { session.run({{"a", &a}}); }, ErrorKind::kUnsupported, "graph output 's' is a sequence, not a tensor");
  Value va = Value::ofTensor(a);
  auto out = session.runValues({{"a", &va}});
  ASSERT_EQ(out[0].kind, ValueKind::kSequence);
  EXPECT_EQ(values(out[0].seq->items.at(0)), values(a));
}

TEST(RuntimeSequence, SessionChecksValueKinds) {
  auto m = build({{"Identity", {"s"}, {"y"}}}, {{"s", seqType(kFloat)}}, {{"y", seqType(kFloat)}});
  runtime::Session session(*m, {1});
  auto seq = std::make_shared<runtime::Sequence>();
  seq->elemType = ir::DataType::kFloat;
  seq->items.push_back(floats({3}));
  Value s = Value::ofSequence(seq), t = Value::ofTensor(floats({3}));
  auto out = session.runValues({{"s", &s}});
  ASSERT_EQ(out[0].kind, ValueKind::kSequence);
  EXPECT_EQ(values(out[0].seq->items[0]), values(seq->items[0]));
  expectError([&] { session.runValues({{"s", &t}}); }, ErrorKind::kUsage, "expected a sequence, got a tensor");
  auto x = floats({3});
  expectError([&] { session.run({{"s", &x}}); }, ErrorKind::kUsage, "is a sequence or optional");
}

TEST(RuntimeOptional, HasAndGetElement) {
  auto m = build({{"OptionalHasElement", {"o"}, {"has"}}, {"OptionalGetElement", {"o"}, {"y"}}},
                 {{"o", optType(tensorType(kFloat, {2}))}},
                 {{"has", tensorType(onnx::TensorProto::BOOL)}, {"y", tensorType(kFloat, {2})}});
  runtime::Session session(*m, {1});
  Value full = Value::ofTensor(floats({2}, 3)), none = Value::none();
  auto out = session.runValues({{"o", &full}});
  EXPECT_EQ(out[0].tensor.values<uint8_t>()[0], 1);
  EXPECT_EQ(values(out[1].tensor), (std::vector<float>{3, 4}));
  expectError([&] { session.runValues({{"o", &none}}); }, ErrorKind::kInvalidModel, "the optional input is empty");
}

TEST(RuntimeOptional, EmptyOptionalFromOptionalOp) {
  const onnx::TypeProto f = tensorType(kFloat, {2});
  auto m = build({{"Optional", {}, {"o"}, &f}, {"OptionalHasElement", {"o"}, {"has"}}, {"Identity", {"x"}, {"y"}}},
                 {{"x", f}}, {{"has", tensorType(onnx::TensorProto::BOOL)}, {"o", optType(f)}, {"y", f}});
  runtime::Session session(*m, {1});
  auto x = Value::ofTensor(floats({2}));
  auto out = session.runValues({{"x", &x}});
  EXPECT_EQ(out[0].tensor.values<uint8_t>()[0], 0);
  EXPECT_EQ(out[1].kind, ValueKind::kNone);
}

}  // namespace
}  // namespace effdl::test
