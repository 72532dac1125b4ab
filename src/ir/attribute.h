// A node attribute. Subgraph attributes own their Graph; sparse-tensor and type-proto attributes
// are carried as serialized protos (no pass reads them).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ir/tensor.h"

namespace effdl::ir {

class Graph;

enum class AttrType {
  kUndefined = 0,
  kFloat = 1,
  kInt = 2,
  kString = 3,
  kTensor = 4,
  kGraph = 5,
  kFloats = 6,
  kInts = 7,
  kStrings = 8,
  kTensors = 9,
  kGraphs = 10,
  kSparseTensor = 11,
  kSparseTensors = 12,
  kTypeProto = 13,
  kTypeProtos = 14,
};

struct Attribute {
  Attribute();
  ~Attribute();
  Attribute(Attribute&&) noexcept;
  Attribute& operator=(Attribute&&) noexcept;

  std::string name;
  AttrType type = AttrType::kUndefined;
  std::string refAttrName;  // inside functions: refers to the caller's attribute
  std::string docString;
  float f = 0;
  int64_t i = 0;
  std::string s;
  Tensor t;
  std::unique_ptr<Graph> g;
  std::vector<float> floats;
  std::vector<int64_t> ints;
  std::vector<std::string> strings;
  std::vector<Tensor> tensors;
  std::vector<std::unique_ptr<Graph>> graphs;
  std::string opaque;  // serialized onnx::AttributeProto for sparse tensors and type protos

  static Attribute makeInt(std::string name, int64_t v);
  static Attribute makeFloat(std::string name, float v);
  static Attribute makeInts(std::string name, std::vector<int64_t> v);
  static Attribute makeString(std::string name, std::string v);
  static Attribute makeTensor(std::string name, Tensor v);
};

}  // namespace effdl::ir
