// Session: input validation, thread setup, and output copies around a GraphExecutor.
#include "runtime/session.h"

#include "runtime/value_types.h"

#include <sched.h>

#include <thread>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace effdl::runtime {

int availableCores() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

Session::Session(const ir::Model& model, const SessionOptions& options) {
  threads_ = options.threads > 0 ? options.threads : availableCores();
  for (const auto* list : {&model.graph->inputs(), &model.graph->outputs()})
    for (const ir::Value* v : *list)
      if (classifyType(v->type()) == TypeClass::kUnsupported)
        throwUnsupported("'" + v->name() +
                         "' is a map, sparse tensor or nested sequence: effdl's runtime runs tensors, sequences of "
                         "tensors and optionals");
  executor_ = std::make_unique<GraphExecutor>(model, *model.graph, ExecOptions{threads_, options.fuseQdq, options.fuseConv, options.foldBitmaskDecode});
  const auto& ins = model.graph->inputs();
  for (size_t i = 0; i < ins.size(); ++i) {
    if (ins[i]->isInitializer()) continue;  // an overridable default: not asked for
    inputs_.push_back(ins[i]);
    inputPosition_.push_back(static_cast<int>(i));
  }
  for (const ir::Value* v : model.graph->outputs()) outputs_.push_back(v);
}

Session::~Session() = default;

void Session::checkInput(const ir::Value& v, const RtTensor& t, std::map<std::string, int64_t>& symbols) const {
  const ir::ValueType& type = v.type();
  const std::string what = "input '" + v.name() + "'";
  if (type.kind != ir::ValueType::Kind::kTensor) {
    if (type.kind == ir::ValueType::Kind::kOther && classifyType(type) != TypeClass::kTensor)
      throwUsage(what + " is a sequence or optional: pass it as a runtime::Value (Session::runValues)");
    return;
  }
  if (type.elemType != ir::DataType::kUndefined && type.elemType != t.dtype)
    throwUsage(what + ": expected " + std::string(ir::dtypeName(type.elemType)) + ", got " +
               std::string(ir::dtypeName(t.dtype)));
  if (!type.shape) return;
  const auto& dims = *type.shape;
  if (dims.size() != t.dims.size())
    throwUsage(what + ": expected rank " + std::to_string(dims.size()) + ", got shape " + shapeString(t.dims));
  for (size_t d = 0; d < dims.size(); ++d) {
    if (dims[d].value && *dims[d].value != t.dims[d])
      throwUsage(what + ": dim " + std::to_string(d) + " must be " + std::to_string(*dims[d].value) + ", got shape " +
                 shapeString(t.dims));
    if (!dims[d].value && !dims[d].param.empty()) {
      auto [it, fresh] = symbols.emplace(dims[d].param, t.dims[d]);
      if (!fresh && it->second != t.dims[d])
        throwUsage(what + ": dim '" + dims[d].param + "' is " + std::to_string(t.dims[d]) + " here but " +
                   std::to_string(it->second) + " in another input");
    }
  }
}

std::vector<const RtTensor*> Session::runViews(const std::vector<const RtTensor*>& inputs) {
  if (inputs.size() != inputs_.size())
    throwUsage("the model takes " + std::to_string(inputs_.size()) + " inputs, got " + std::to_string(inputs.size()));
  std::map<std::string, int64_t> symbols;
  std::vector<const RtTensor*> all(executor_->numInputs(), nullptr);
  for (size_t i = 0; i < inputs.size(); ++i) {
    const RtTensor& t = *inputs[i];
    int64_t n = 1;
    for (int64_t d : t.dims)
      if (d < 0 || __builtin_mul_overflow(n, d, &n)) throwUsage("input '" + inputs_[i]->name() + "': invalid shape");
    if (static_cast<uint64_t>(n) * ir::dtypeSize(t.dtype) != t.nbytes)
      throwUsage("input '" + inputs_[i]->name() + "': " + std::to_string(t.nbytes) + " bytes do not match shape " +
                 shapeString(t.dims));
    checkInput(*inputs_[i], t, symbols);
    all[static_cast<size_t>(inputPosition_[i])] = inputs[i];
  }
#ifdef _OPENMP
  omp_set_num_threads(threads_);
#endif
  return executor_->run(all);
}

size_t Session::inputIndex(const std::string& name) const {
  size_t k = 0;
  while (k < inputs_.size() && inputs_[k]->name() != name) ++k;
  if (k == inputs_.size()) {
    std::string all;
    for (const auto* v : inputs_) all += (all.empty() ? "" : ", ") + v->name();
    throwUsage("the model has no input named '" + name + "' (inputs: " + all + ")");
  }
  return k;
}

std::vector<ir::Tensor> Session::run(const std::vector<NamedInput>& named) {
  std::vector<RtTensor> views(inputs_.size());
  std::vector<const RtTensor*> ptrs(inputs_.size(), nullptr);
  for (const auto& in : named) {
    size_t k = inputIndex(in.name);
    if (ptrs[k]) throwUsage("input '" + in.name + "' given twice");
    views[k] = viewOf(*in.tensor);
    ptrs[k] = &views[k];
  }
  for (size_t k = 0; k < inputs_.size(); ++k)
    if (!ptrs[k]) throwUsage("input '" + inputs_[k]->name() + "' is missing");
  auto outs = runViews(ptrs);
  std::vector<ir::Tensor> result;
  result.reserve(outs.size());
  for (const RtTensor* t : outs) result.push_back(ownedCopy(*t));
  return result;
}

std::vector<Value> Session::runValues(const std::vector<NamedValue>& named) {
  std::vector<RtValue> values(executor_->numInputs());
  std::vector<bool> given(inputs_.size(), false);
  std::map<std::string, int64_t> symbols;
  for (const auto& in : named) {
    const size_t k = inputIndex(in.name);
    if (given[k]) throwUsage("input '" + in.name + "' given twice");
    given[k] = true;
    const Value& v = *in.value;
    const TypeClass want = classifyType(inputs_[k]->type());
    const std::string what = "input '" + in.name + "'";
    if (want == TypeClass::kTensor && v.kind != ValueKind::kTensor)
      throwUsage(what + ": expected a tensor, got a " + kindName(v.kind));
    if (want == TypeClass::kSequence && v.kind != ValueKind::kSequence)
      throwUsage(what + ": expected a sequence, got a " + kindName(v.kind));
    RtValue& r = values[static_cast<size_t>(inputPosition_[k])];
    r.kind = v.kind;
    r.seq = v.seq;
    if (v.kind == ValueKind::kTensor) {
      r.t = viewOf(v.tensor);
      if (want == TypeClass::kTensor) checkInput(*inputs_[k], r.t, symbols);
    }
  }
  for (size_t k = 0; k < inputs_.size(); ++k)
    if (!given[k]) throwUsage("input '" + inputs_[k]->name() + "' is missing");
  // Initializer-backed inputs not given keep their defaults.
  const auto& all = executor_->graph().inputs();
  for (size_t i = 0; i < all.size(); ++i)
    if (all[i]->isInitializer() && values[i].kind == ValueKind::kTensor && values[i].t.dtype == ir::DataType::kUndefined)
      values[i].t = viewOf(all[i]->initializer());
#ifdef _OPENMP
  omp_set_num_threads(threads_);
#endif
  auto outs = executor_->runValues(values);
  std::vector<Value> result;
  result.reserve(outs.size());
  for (const RtValue& o : outs) {
    if (o.kind == ValueKind::kTensor) result.push_back(Value::ofTensor(ownedCopy(o.t)));
    else if (o.kind == ValueKind::kSequence) result.push_back(Value::ofSequence(o.seq));
    else result.push_back(Value::none());
  }
  return result;
}

}  // namespace effdl::runtime
