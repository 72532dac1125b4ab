// Graph edits that keep producer/user links, graph outputs and subgraph captures consistent.
#include "ir/graph.h"

#include <algorithm>
#include <queue>

#include "core/error.h"

namespace effdl::ir {

// ---------------------------------------------------------------- Attribute
Attribute::Attribute() = default;
Attribute::~Attribute() = default;
Attribute::Attribute(Attribute&&) noexcept = default;
Attribute& Attribute::operator=(Attribute&&) noexcept = default;

Attribute Attribute::makeInt(std::string name, int64_t v) {
  Attribute a;
  a.name = std::move(name);
  a.type = AttrType::kInt;
  a.i = v;
  return a;
}
Attribute Attribute::makeFloat(std::string name, float v) {
  Attribute a;
  a.name = std::move(name);
  a.type = AttrType::kFloat;
  a.f = v;
  return a;
}
Attribute Attribute::makeInts(std::string name, std::vector<int64_t> v) {
  Attribute a;
  a.name = std::move(name);
  a.type = AttrType::kInts;
  a.ints = std::move(v);
  return a;
}
Attribute Attribute::makeString(std::string name, std::string v) {
  Attribute a;
  a.name = std::move(name);
  a.type = AttrType::kString;
  a.s = std::move(v);
  return a;
}
Attribute Attribute::makeTensor(std::string name, Tensor v) {
  Attribute a;
  a.name = std::move(name);
  a.type = AttrType::kTensor;
  a.t = std::move(v);
  return a;
}

// ---------------------------------------------------------------- ValueType
std::optional<std::vector<int64_t>> ValueType::staticShape() const {
  if (kind != Kind::kTensor || !shape) return std::nullopt;
  std::vector<int64_t> r;
  r.reserve(shape->size());
  for (const Dim& d : *shape) {
    if (!d.value) return std::nullopt;
    r.push_back(*d.value);
  }
  return r;
}

// ---------------------------------------------------------------- Value
bool Value::isGraphOutput() const {
  const auto& outs = graph_->outputs();
  return std::find(outs.begin(), outs.end(), this) != outs.end();
}

// ---------------------------------------------------------------- Node
const Attribute* Node::attr(const std::string& name) const {
  for (const auto& a : attributes_)
    if (a.name == name) return &a;
  return nullptr;
}
Attribute* Node::attr(const std::string& name) {
  for (auto& a : attributes_)
    if (a.name == name) return &a;
  return nullptr;
}
int64_t Node::attrInt(const std::string& name, int64_t def) const {
  const Attribute* a = attr(name);
  return a && a->type == AttrType::kInt ? a->i : def;
}
float Node::attrFloat(const std::string& name, float def) const {
  const Attribute* a = attr(name);
  return a && a->type == AttrType::kFloat ? a->f : def;
}
std::string Node::attrString(const std::string& name, const std::string& def) const {
  const Attribute* a = attr(name);
  return a && a->type == AttrType::kString ? a->s : def;
}
std::vector<int64_t> Node::attrInts(const std::string& name) const {
  const Attribute* a = attr(name);
  return a && a->type == AttrType::kInts ? a->ints : std::vector<int64_t>{};
}
void Node::setAttr(Attribute a) {
  for (auto& x : attributes_) {
    if (x.name == a.name) {
      x = std::move(a);
      return;
    }
  }
  attributes_.push_back(std::move(a));
}
void Node::removeAttr(const std::string& name) {
  attributes_.erase(std::remove_if(attributes_.begin(), attributes_.end(),
                                   [&](const Attribute& a) { return a.name == name; }),
                    attributes_.end());
}
bool Node::hasSubgraphs() const {
  for (const auto& a : attributes_)
    if (a.g || !a.graphs.empty()) return true;
  return false;
}

void Node::setInput(size_t i, Value* v) {
  if (i >= inputs_.size()) inputs_.resize(i + 1, nullptr);
  if (Value* old = inputs_[i]) graph_->removeUse(old, this, static_cast<int>(i));
  inputs_[i] = v;
  if (v) v->uses_.push_back(Use{this, static_cast<int>(i)});
}

void Node::addInput(Value* v) { setInput(inputs_.size(), v); }

void Node::truncateInputs(size_t count) {
  while (inputs_.size() > count) {
    size_t i = inputs_.size() - 1;
    if (Value* old = inputs_[i]) graph_->removeUse(old, this, static_cast<int>(i));
    inputs_.pop_back();
  }
}

// ---------------------------------------------------------------- NameTable
std::string NameTable::fresh(const std::string& hint) {
  std::string base = hint.empty() ? std::string("v") : hint;
  if (!contains(base)) {
    add(base);
    return base;
  }
  uint64_t& c = counters_[base];
  for (;;) {
    std::string n = base + "_" + std::to_string(++c);
    if (!contains(n)) {
      add(n);
      return n;
    }
  }
}

// ---------------------------------------------------------------- Graph
Graph::Graph(Graph* parent, Node* ownerNode) : parent_(parent), ownerNode_(ownerNode) {
  if (parent) {
    names_ = parent->names_;
  } else {
    ownNames_ = std::make_unique<NameTable>();
    names_ = ownNames_.get();
  }
}

Graph::~Graph() = default;

Value* Graph::newValue(const std::string& name) {
  auto v = std::make_unique<Value>();
  v->name_ = name;
  v->graph_ = this;
  Value* raw = v.get();
  values_.push_back(std::move(v));
  if (!name.empty()) byName_[name] = raw;
  return raw;
}

Value* Graph::addValue(const std::string& name, bool fresh) {
  if (fresh) return newValue(names_->fresh(name));
  if (name.empty()) throwInternal("addValue: empty name");
  if (byName_.count(name)) throwInvalid("value name '" + name + "' is defined twice in graph '" + name_ + "'");
  names_->add(name);
  return newValue(name);
}

Value* Graph::addInitializer(const std::string& name, Tensor t, bool fresh) {
  Value* v = addValue(name, fresh);
  std::vector<Dim> dims;
  for (int64_t d : t.dims()) dims.push_back(Dim::known(d));
  v->type_ = ValueType::tensor(t.dtype(), std::move(dims));
  v->initializer_ = std::move(t);
  initOrder_.push_back(v);
  return v;
}

Value* Graph::addSparseInitializer(const std::string& name, SparseTensor t) {
  Value* v = addValue(name);
  std::vector<Dim> dims;
  for (int64_t d : t.dims) dims.push_back(Dim::known(d));
  v->type_ = ValueType::tensor(t.values.dtype(), std::move(dims));
  v->sparse_ = std::move(t);
  sparseOrder_.push_back(v);
  return v;
}

Value* Graph::addInput(const std::string& name, ValueType type) {
  Value* v = findValue(name);
  if (v && v->isInitializer() && !v->isGraphInput_) {
    // IR < 4: an input may also be an initializer (a default the caller can override).
  } else {
    v = addValue(name);
  }
  v->type_ = std::move(type);
  v->isGraphInput_ = true;
  inputs_.push_back(v);
  return v;
}

Value* Graph::addCapture(Value* outer) {
  Value* v = newValue(outer->name());
  v->outer_ = outer;
  v->type_ = outer->type();
  captures_.push_back(v);
  return v;
}

Value* Graph::findValue(const std::string& name) const {
  auto it = byName_.find(name);
  return it == byName_.end() ? nullptr : it->second;
}

std::vector<Value*> Graph::values() const {
  std::vector<Value*> r;
  for (const auto& v : values_)
    if (!v->dead_) r.push_back(v.get());
  return r;
}

void Graph::addOutput(Value* v) { outputs_.push_back(v); }
void Graph::setOutput(size_t i, Value* v) { outputs_.at(i) = v; }
void Graph::truncateOutputs(size_t n) {
  if (n < outputs_.size()) outputs_.resize(n);
}

void Graph::removeInput(Value* v) {
  inputs_.erase(std::remove(inputs_.begin(), inputs_.end(), v), inputs_.end());
  v->isGraphInput_ = false;
}

std::vector<Value*> Graph::initializers() const {
  std::vector<Value*> r;
  for (Value* v : initOrder_)
    if (!v->dead_ && v->initializer_) r.push_back(v);
  return r;
}

std::vector<Value*> Graph::sparseInitializers() const {
  std::vector<Value*> r;
  for (Value* v : sparseOrder_)
    if (!v->dead_ && v->sparse_) r.push_back(v);
  return r;
}

void Graph::setInitializer(Value* v, Tensor t) {
  if (v->producer_) throwInternal("setInitializer: '" + v->name_ + "' is produced by a node");
  std::vector<Dim> dims;
  for (int64_t d : t.dims()) dims.push_back(Dim::known(d));
  v->type_ = ValueType::tensor(t.dtype(), std::move(dims));
  if (!v->initializer_) initOrder_.push_back(v);
  v->initializer_ = std::move(t);
}

void Graph::setSparseInitializer(Value* v, SparseTensor t) {
  if (v->producer_) throwInternal("setSparseInitializer: '" + v->name_ + "' is produced by a node");
  std::vector<Dim> dims;
  for (int64_t d : t.dims) dims.push_back(Dim::known(d));
  v->type_ = ValueType::tensor(t.values.dtype(), std::move(dims));
  v->initializer_.reset();
  initOrder_.erase(std::remove(initOrder_.begin(), initOrder_.end(), v), initOrder_.end());
  if (!v->sparse_) sparseOrder_.push_back(v);
  v->sparse_ = std::move(t);
}

void Graph::removeInitializer(Value* v) {
  v->initializer_.reset();
  v->sparse_.reset();
  initOrder_.erase(std::remove(initOrder_.begin(), initOrder_.end(), v), initOrder_.end());
  sparseOrder_.erase(std::remove(sparseOrder_.begin(), sparseOrder_.end(), v), sparseOrder_.end());
}

std::vector<Node*> Graph::nodes() const {
  std::vector<Node*> r;
  r.reserve(nodes_.size());
  for (const auto& n : nodes_) r.push_back(n.get());
  return r;
}

Node* Graph::insertNode(std::unique_ptr<Node> n, Node* before) {
  n->graph_ = this;
  Node* raw = n.get();
  auto where = before ? before->pos_ : nodes_.end();
  raw->pos_ = nodes_.insert(where, std::move(n));
  return raw;
}

Node* Graph::createNode(const std::string& opType, const std::vector<Value*>& inputs,
                        const std::vector<std::string>& outputHints, Node* before,
                        const std::string& domain) {
  auto n = std::make_unique<Node>();
  n->opType_ = opType;
  n->domain_ = domain;
  Node* raw = insertNode(std::move(n), before);
  for (Value* v : inputs) raw->addInput(v);
  for (size_t i = 0; i < outputHints.size(); ++i) {
    Value* out = addValue(outputHints[i], /*fresh=*/true);
    out->producer_ = raw;
    out->producerOutput_ = static_cast<int>(i);
    raw->outputs_.push_back(out);
  }
  return raw;
}

Node* Graph::appendNode(const std::string& opType, const std::string& domain, const std::string& name,
                        const std::vector<Value*>& inputs, const std::vector<Value*>& outputs) {
  auto n = std::make_unique<Node>();
  n->opType_ = opType;
  n->domain_ = domain;
  n->name_ = name;
  Node* raw = insertNode(std::move(n), nullptr);
  for (Value* v : inputs) raw->addInput(v);
  for (size_t i = 0; i < outputs.size(); ++i) {
    Value* out = outputs[i];
    if (out) {
      out->producer_ = raw;
      out->producerOutput_ = static_cast<int>(i);
    }
    raw->outputs_.push_back(out);
  }
  return raw;
}

void Graph::removeUse(Value* v, Node* n, int index) {
  auto& u = v->uses_;
  auto it = std::find(u.begin(), u.end(), Use{n, index});
  if (it != u.end()) u.erase(it);
}

void Graph::eraseNode(Node* n) {
  for (Value* out : n->outputs_) {
    if (!out) continue;
    if (out->hasUses() || out->isGraphOutput())
      throwInternal("eraseNode: output '" + out->name() + "' of node '" + n->name() + "' is still used");
  }
  for (size_t i = 0; i < n->inputs_.size(); ++i)
    if (n->inputs_[i]) removeUse(n->inputs_[i], n, static_cast<int>(i));
  for (Value* v : n->implicitInputs_) removeUse(v, n, Use::kImplicit);
  for (Value* out : n->outputs_) {
    if (!out) continue;
    out->producer_ = nullptr;
    out->dead_ = true;
  }
  nodes_.erase(n->pos_);
}

void Graph::moveBefore(Node* n, Node* before) {
  auto owned = std::move(*n->pos_);
  nodes_.erase(n->pos_);
  insertNode(std::move(owned), before);
}

namespace {
void collectCaptures(const Graph& g, std::vector<Value*>& out) {
  for (Value* c : g.captures())
    if (std::find(out.begin(), out.end(), c->outer()) == out.end()) out.push_back(c->outer());
}
}  // namespace

size_t Graph::removeUnusedCaptures() {
  size_t removed = 0;
  std::vector<Value*> keep;
  for (Value* c : captures_) {
    if (c->hasUses() || c->isGraphOutput()) {
      keep.push_back(c);
    } else {
      c->dead_ = true;
      auto it = byName_.find(c->name_);
      if (it != byName_.end() && it->second == c) byName_.erase(it);
      ++removed;
    }
  }
  captures_ = std::move(keep);
  return removed;
}

void Graph::refreshImplicitInputs(Node* n) {
  for (Value* v : n->implicitInputs_) removeUse(v, n, Use::kImplicit);
  n->implicitInputs_.clear();
  std::vector<Value*> caps;
  for (const auto& a : n->attributes_) {
    if (a.g) collectCaptures(*a.g, caps);
    for (const auto& g : a.graphs) collectCaptures(*g, caps);
  }
  for (Value* v : caps) {
    n->implicitInputs_.push_back(v);
    v->uses_.push_back(Use{n, Use::kImplicit});
  }
}

void Graph::sortTopologically() {
  // Kahn's algorithm, picking the earliest node in the current order first (stable).
  std::unordered_map<Node*, size_t> index;
  std::vector<Node*> order = nodes();
  for (size_t i = 0; i < order.size(); ++i) index[order[i]] = i;
  std::vector<size_t> pending(order.size(), 0);
  auto depsOf = [&](Node* n, const std::function<void(Node*)>& f) {
    for (Value* v : n->inputs_)
      if (v && v->producer_ && v->producer_->graph_ == this) f(v->producer_);
    for (Value* v : n->implicitInputs_)
      if (v->producer_ && v->producer_->graph_ == this) f(v->producer_);
  };
  for (size_t i = 0; i < order.size(); ++i) depsOf(order[i], [&](Node*) { ++pending[i]; });
  std::unordered_map<Node*, std::vector<Node*>> dependents;
  for (Node* n : order) depsOf(n, [&](Node* p) { dependents[p].push_back(n); });
  std::priority_queue<size_t, std::vector<size_t>, std::greater<>> ready;
  for (size_t i = 0; i < order.size(); ++i)
    if (pending[i] == 0) ready.push(i);
  std::vector<size_t> sorted;
  while (!ready.empty()) {
    size_t i = ready.top();
    ready.pop();
    sorted.push_back(i);
    for (Node* d : dependents[order[i]])
      if (--pending[index[d]] == 0) ready.push(index[d]);
  }
  if (sorted.size() != order.size()) {
    for (size_t i = 0; i < order.size(); ++i) {
      if (pending[i] != 0) {
        const Node* n = order[i];
        throwInvalid("graph '" + name_ + "' has a cycle through node '" + n->name() + "' (" + n->opType() + ")");
      }
    }
  }
  std::list<std::unique_ptr<Node>> newList;
  std::vector<std::unique_ptr<Node>> owned;
  owned.reserve(order.size());
  for (auto& up : nodes_) owned.push_back(std::move(up));
  nodes_.clear();
  for (size_t i : sorted) {
    Node* n = owned[i].get();
    n->pos_ = nodes_.insert(nodes_.end(), std::move(owned[i]));
  }
}

bool Graph::canReplaceAllUses(const Value* from, const Value* to) const {
  if (from == to) return false;
  if (!from->isGraphOutput()) return true;
  // `to` must be able to take `from`'s output name.
  return to->graph_ == this && to->producer_ != nullptr && !to->isGraphOutput() && !to->isGraphInput_ &&
         !to->isInitializer() && to->outer_ == nullptr;
}

void Graph::replaceAllUsesWith(Value* from, Value* to) {
  if (!canReplaceAllUses(from, to))
    throwInternal("replaceAllUsesWith: '" + from->name() + "' is a graph output that '" + to->name() +
                  "' cannot replace");
  std::vector<Use> uses = from->uses_;
  for (const Use& u : uses) {
    if (u.index == Use::kImplicit) {
      // Point the subgraph placeholders at `to`, then rebuild the node's implicit inputs.
      std::function<void(Graph&)> repoint = [&](Graph& g) {
        for (Value* c : g.captures_)
          if (c->outer_ == from) c->outer_ = to;
      };
      for (auto& a : u.node->attributes_) {
        if (a.g) repoint(*a.g);
        for (auto& g : a.graphs) repoint(*g);
      }
      u.node->graph_->refreshImplicitInputs(u.node);
    } else {
      u.node->setInput(static_cast<size_t>(u.index), to);
    }
  }
  if (from->isGraphOutput()) {
    // `to` takes over the output name so the model's interface does not change.
    std::string outName = from->name_;
    byName_.erase(outName);
    from->name_ = names_->fresh(outName + "_replaced");
    byName_[from->name_] = from;
    byName_.erase(to->name_);
    to->name_ = outName;
    byName_[outName] = to;
    to->type_ = from->type_;
    to->docString_ = from->docString_;
    for (auto& o : outputs_)
      if (o == from) o = to;
  }
}

void Graph::collectGarbage() {
  std::vector<std::unique_ptr<Value>> keep;
  keep.reserve(values_.size());
  for (auto& v : values_) {
    bool unused = v->dead_ || (!v->producer_ && v->uses_.empty() && !v->isGraphInput_ && !v->initializer_ &&
                               !v->sparse_ && !v->outer_ && !v->isGraphOutput());
    if (unused) {
      auto it = byName_.find(v->name_);
      if (it != byName_.end() && it->second == v.get()) byName_.erase(it);
      continue;
    }
    keep.push_back(std::move(v));
  }
  values_ = std::move(keep);
}

// ---------------------------------------------------------------- Model
Model::Model() : graph(std::make_unique<Graph>()) {}

std::optional<int64_t> Model::opsetFor(const std::string& d) const {
  auto norm = [](const std::string& s) { return s == "ai.onnx" ? std::string() : s; };
  for (const auto& o : opsets)
    if (norm(o.domain) == norm(d)) return o.version;
  return std::nullopt;
}

void Model::setMetadata(const std::string& key, const std::string& value) {
  for (auto& kv : metadata) {
    if (kv.first == key) {
      kv.second = value;
      return;
    }
  }
  metadata.emplace_back(key, value);
}

const std::string* Model::findMetadata(const std::string& key) const {
  for (const auto& kv : metadata)
    if (kv.first == key) return &kv.second;
  return nullptr;
}

void forEachNodeRecursive(Graph& g, const std::function<void(Node&)>& f) {
  for (Node* n : g.nodes()) {
    f(*n);
    for (auto& a : n->attributes()) {
      if (a.g) forEachNodeRecursive(*a.g, f);
      for (auto& sg : a.graphs) forEachNodeRecursive(*sg, f);
    }
  }
}

void forEachNodeRecursive(const Graph& g, const std::function<void(const Node&)>& f) {
  for (const Node* n : g.nodes()) {
    f(*n);
    for (const auto& a : n->attributes()) {
      if (a.g) forEachNodeRecursive(static_cast<const Graph&>(*a.g), f);
      for (const auto& sg : a.graphs) forEachNodeRecursive(static_cast<const Graph&>(*sg), f);
    }
  }
}

}  // namespace effdl::ir
