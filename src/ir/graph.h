// effdl's graph IR: Values know their producer and users, so rewrites are local edits
// (replaceAllUsesWith, insert, erase) instead of protobuf surgery. Nodes are kept in a
// topological order. A subgraph (If/Loop/Scan body) is a Graph of its own; a name it uses from
// an enclosing scope is a placeholder Value whose `outer()` is the enclosing Value, and the node
// holding the subgraph lists that Value among its implicit inputs.
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "ir/attribute.h"
#include "ir/tensor.h"
#include "ir/value_type.h"

namespace effdl::ir {

class Graph;
class Node;

// One use of a Value: input slot `index` of `node`, or (index == kImplicit) a capture by one of
// the node's subgraphs.
struct Use {
  static constexpr int kImplicit = -1;
  Node* node;
  int index;
  bool operator==(const Use&) const = default;
};

class Value {
 public:
  const std::string& name() const { return name_; }
  Graph* graph() const { return graph_; }
  const ValueType& type() const { return type_; }
  void setType(ValueType t) { type_ = std::move(t); }
  const std::string& docString() const { return docString_; }
  void setDocString(std::string s) { docString_ = std::move(s); }

  Node* producer() const { return producer_; }
  int producerOutput() const { return producerOutput_; }
  const std::vector<Use>& uses() const { return uses_; }
  bool hasUses() const { return !uses_.empty(); }

  bool isInitializer() const { return initializer_.has_value(); }
  const Tensor& initializer() const { return *initializer_; }
  bool isSparseInitializer() const { return sparse_.has_value(); }
  const SparseTensor& sparseInitializer() const { return *sparse_; }
  bool isGraphInput() const { return isGraphInput_; }
  bool isGraphOutput() const;
  // In a subgraph: the enclosing scope's value this placeholder stands for.
  Value* outer() const { return outer_; }
  // A constant: a dense initializer that is not also an overridable graph input.
  bool isConstant() const { return isInitializer() && !isGraphInput_; }
  // value_info was present for this intermediate value in the file (kept on save).
  bool hasValueInfo() const { return hasValueInfo_; }
  void setHasValueInfo(bool v) { hasValueInfo_ = v; }

 private:
  friend class Graph;
  friend class Node;
  std::string name_;
  Graph* graph_ = nullptr;
  ValueType type_;
  std::string docString_;
  Node* producer_ = nullptr;
  int producerOutput_ = -1;
  std::vector<Use> uses_;
  std::optional<Tensor> initializer_;
  std::optional<SparseTensor> sparse_;
  bool isGraphInput_ = false;
  bool hasValueInfo_ = false;
  bool dead_ = false;
  Value* outer_ = nullptr;
};

class Node {
 public:
  const std::string& opType() const { return opType_; }
  const std::string& domain() const { return domain_; }  // "" is the default ONNX domain
  const std::string& name() const { return name_; }
  void setName(std::string n) { name_ = std::move(n); }
  const std::string& docString() const { return docString_; }
  void setDocString(std::string s) { docString_ = std::move(s); }
  Graph* graph() const { return graph_; }

  // Inputs may be null: an omitted optional input ("" in ONNX).
  const std::vector<Value*>& inputs() const { return inputs_; }
  Value* input(size_t i) const { return i < inputs_.size() ? inputs_[i] : nullptr; }
  size_t numInputs() const { return inputs_.size(); }
  void setInput(size_t i, Value* v);
  void addInput(Value* v);
  // Drops trailing inputs from `count` on.
  void truncateInputs(size_t count);

  // Outputs may be null: an omitted optional output.
  const std::vector<Value*>& outputs() const { return outputs_; }
  Value* output(size_t i) const { return i < outputs_.size() ? outputs_[i] : nullptr; }
  size_t numOutputs() const { return outputs_.size(); }

  std::vector<Attribute>& attributes() { return attributes_; }
  const std::vector<Attribute>& attributes() const { return attributes_; }
  const Attribute* attr(const std::string& name) const;
  Attribute* attr(const std::string& name);
  int64_t attrInt(const std::string& name, int64_t def) const;
  float attrFloat(const std::string& name, float def) const;
  std::string attrString(const std::string& name, const std::string& def) const;
  std::vector<int64_t> attrInts(const std::string& name) const;
  void setAttr(Attribute a);
  void removeAttr(const std::string& name);
  bool hasSubgraphs() const;

  // Values of enclosing scopes that this node's subgraphs read.
  const std::vector<Value*>& implicitInputs() const { return implicitInputs_; }

 private:
  friend class Graph;
  std::string opType_, domain_, name_, docString_;
  Graph* graph_ = nullptr;
  std::vector<Value*> inputs_;
  std::vector<Value*> outputs_;
  std::vector<Attribute> attributes_;
  std::vector<Value*> implicitInputs_;
  std::list<std::unique_ptr<Node>>::iterator pos_;
};

// Names are unique across a model and its subgraphs (ONNX requires SSA names per scope; one
// table for all scopes keeps fresh names from shadowing anything).
class NameTable {
 public:
  bool contains(const std::string& n) const { return names_.count(n) != 0; }
  void add(const std::string& n) { names_.insert(n); }
  void remove(const std::string& n) { names_.erase(n); }
  std::string fresh(const std::string& hint);

 private:
  std::unordered_set<std::string> names_;
  std::unordered_map<std::string, uint64_t> counters_;
};

class Graph {
 public:
  // A top-level graph owns its name table; a subgraph shares its parent's.
  explicit Graph(Graph* parent = nullptr, Node* ownerNode = nullptr);
  ~Graph();
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;

  const std::string& name() const { return name_; }
  void setName(std::string n) { name_ = std::move(n); }
  const std::string& docString() const { return docString_; }
  void setDocString(std::string s) { docString_ = std::move(s); }
  Graph* parent() const { return parent_; }
  Node* ownerNode() const { return ownerNode_; }
  NameTable& names() { return *names_; }

  // --- values ---
  // A new value named exactly `name` (must be unused) or, with fresh=true, a fresh name from it.
  Value* addValue(const std::string& name, bool fresh = false);
  Value* addInitializer(const std::string& name, Tensor t, bool fresh = false);
  Value* addSparseInitializer(const std::string& name, SparseTensor t);
  Value* addInput(const std::string& name, ValueType type);
  // A placeholder for `outer` (a value of an enclosing scope) in this subgraph.
  Value* addCapture(Value* outer);
  Value* findValue(const std::string& name) const;
  std::vector<Value*> values() const;  // live values, in creation order

  const std::vector<Value*>& inputs() const { return inputs_; }
  const std::vector<Value*>& outputs() const { return outputs_; }
  void addOutput(Value* v);
  void setOutput(size_t i, Value* v);
  // Keeps the first n outputs (undoes temporary addOutput calls, e.g. activation taps).
  void truncateOutputs(size_t n);
  void removeInput(Value* v);
  // Initializers in file order (plus those passes added).
  std::vector<Value*> initializers() const;
  std::vector<Value*> sparseInitializers() const;
  const std::vector<Value*>& captures() const { return captures_; }

  // Gives `v` (a value without a producer) constant data, or replaces its data; its type follows.
  void setInitializer(Value* v, Tensor t);
  // Replaces the dense data of initializer `v` by a sparse tensor (same name, type and uses).
  void setSparseInitializer(Value* v, SparseTensor t);
  // Drops the initializer data of `v` (it becomes a plain value, to be removed when unused).
  void removeInitializer(Value* v);

  // --- nodes ---
  size_t numNodes() const { return nodes_.size(); }
  // Nodes in the graph's (topological) order.
  std::vector<Node*> nodes() const;
  // Creates a node with fresh output values named from `outputHints` and inserts it before
  // `before` (or at the end when null). Inputs may be null (omitted).
  Node* createNode(const std::string& opType, const std::vector<Value*>& inputs,
                   const std::vector<std::string>& outputHints, Node* before = nullptr,
                   const std::string& domain = "");
  // Appends a node whose outputs are existing producer-less values (used by the importer).
  Node* appendNode(const std::string& opType, const std::string& domain, const std::string& name,
                   const std::vector<Value*>& inputs, const std::vector<Value*>& outputs);
  // Removes a node; its outputs must have no uses and not be graph outputs.
  void eraseNode(Node* n);
  void moveBefore(Node* n, Node* before);
  // Re-sorts the nodes topologically (stable). Throws kInvalidModel naming a node on a cycle.
  void sortTopologically();

  // Drops capture placeholders nothing in this subgraph uses any more; the owner node's implicit
  // inputs must then be refreshed by its graph.
  size_t removeUnusedCaptures();
  // Recomputes `n`'s implicit inputs from its subgraphs' captures (after editing a subgraph).
  void refreshImplicitInputs(Node* n);

  // --- rewrites ---
  // Whether every use of `from` (graph outputs included) can be redirected to `to` keeping the
  // graph's output names: false when `from` is a graph output and `to` cannot take its name.
  bool canReplaceAllUses(const Value* from, const Value* to) const;
  // Redirects every use of `from` to `to`. When `from` is a graph output, `to` takes its name
  // and type, so the model's interface is unchanged.
  void replaceAllUsesWith(Value* from, Value* to);
  // Removes values that have no producer, no uses and are not inputs/outputs/initializers.
  void collectGarbage();

  // Sparse value_info / quantization annotations we carry but do not interpret.
  std::vector<std::string>& opaqueQuantAnnotations() { return quantAnnotations_; }
  const std::vector<std::string>& opaqueQuantAnnotations() const { return quantAnnotations_; }

 private:
  friend class Node;
  Value* newValue(const std::string& name);
  void removeUse(Value* v, Node* n, int index);
  Node* insertNode(std::unique_ptr<Node> n, Node* before);

  std::string name_, docString_;
  Graph* parent_;
  Node* ownerNode_;
  std::unique_ptr<NameTable> ownNames_;
  NameTable* names_;
  std::list<std::unique_ptr<Node>> nodes_;
  std::vector<std::unique_ptr<Value>> values_;
  std::unordered_map<std::string, Value*> byName_;
  std::vector<Value*> inputs_, outputs_, initOrder_, sparseOrder_, captures_;
  std::vector<std::string> quantAnnotations_;
};

struct OpsetImport {
  std::string domain;
  int64_t version = 0;
  bool operator==(const OpsetImport&) const = default;
};

class Model {
 public:
  Model();
  int64_t irVersion = 8;
  std::vector<OpsetImport> opsets;
  std::string producerName, producerVersion, domain, docString;
  int64_t modelVersion = 0;
  std::vector<std::pair<std::string, std::string>> metadata;  // file order kept
  std::vector<std::string> opaqueFunctions;     // serialized onnx::FunctionProto
  std::vector<std::string> opaqueTrainingInfo;  // serialized onnx::TrainingInfoProto
  std::unique_ptr<Graph> graph;
  // Symbolic input dims that the loader bound to a value (--dim), for reports; not saved.
  std::vector<std::pair<std::string, int64_t>> boundDims;

  // Opset version imported for `domain` ("" and "ai.onnx" are the same), or nullopt.
  std::optional<int64_t> opsetFor(const std::string& domain) const;
  void setMetadata(const std::string& key, const std::string& value);
  const std::string* findMetadata(const std::string& key) const;
};

// Calls f on every node of g and of its subgraphs, depth first.
void forEachNodeRecursive(Graph& g, const std::function<void(Node&)>& f);
void forEachNodeRecursive(const Graph& g, const std::function<void(const Node&)>& f);

}  // namespace effdl::ir
