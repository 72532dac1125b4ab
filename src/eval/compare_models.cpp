#include "eval/compare_models.h"

#include "core/error.h"
#include "eval/tensor_values.h"
#include "runtime/session.h"

namespace effdl::eval {
namespace {

std::vector<ir::Tensor> runSample(runtime::Session& s, const NamedInputs& inputs) {
  std::vector<runtime::NamedInput> named;
  for (const auto& [name, t] : inputs) named.push_back({name, &t});
  return s.run(named);
}

std::string names(const std::vector<const ir::Value*>& vs) {
  std::string r;
  for (const auto* v : vs) r += (r.empty() ? "" : ", ") + v->name();
  return r;
}

}  // namespace

Agreement compareModels(const ir::Model& reference, const ir::Model& candidate, const SampleSet& samples,
                        int threads) {
  runtime::Session ref(reference, {threads}), cand(candidate, {threads});
  if (names(ref.inputs()) != names(cand.inputs()) || names(ref.outputs()) != names(cand.outputs()))
    throwInvalid("the optimized model's inputs/outputs (" + names(cand.inputs()) + " → " + names(cand.outputs()) +
                 ") differ from the original's (" + names(ref.inputs()) + " → " + names(ref.outputs()) + ")");
  std::vector<std::string> outNames;
  for (const auto* v : ref.outputs()) outNames.push_back(v->name());
  AgreementAccumulator acc(outNames);
  for (size_t i = 0; i < samples.size(); ++i) {
    // Samples are shaped for the reference; the candidate has the same interface.
    NamedInputs inputs = samples.sample(i, reference);
    acc.add(runSample(ref, inputs), runSample(cand, inputs));
  }
  return acc.result();
}

Accuracy accuracy(const ir::Model& model, const ir::Tensor& x, const ir::Tensor& labels, int threads,
                  int64_t batch) {
  runtime::Session s(model, {threads});
  if (s.inputs().size() != 1)
    throwUsage("--eval-data: the model has " + std::to_string(s.inputs().size()) +
               " inputs; accuracy needs a single-input model");
  const ir::Value* in = s.inputs()[0];
  if (x.rank() < 1 || x.dims()[0] <= 0) throwUsage("--eval-data: expected an array of shape [N, ...]");
  const int64_t n = x.dims()[0];
  if (labels.rank() != 1 || labels.dims()[0] != n)
    throwUsage("--eval-labels: expected " + std::to_string(n) + " labels (shape [" + std::to_string(n) + "])");
  if (!ir::isInteger(labels.dtype())) throwUsage("--eval-labels: labels must be integers");
  const auto& type = in->type();
  if (!type.shape || type.shape->empty()) throwUsage("--eval-data: input '" + in->name() + "' has no batch dimension");
  const ir::Dim& d0 = (*type.shape)[0];
  int64_t step = d0.value ? *d0.value : std::min(batch, n);
  if (d0.value && n % step != 0)
    throwUsage("--eval-data: " + std::to_string(n) + " rows do not split into batches of " + std::to_string(step) +
               " (the model's fixed batch size)");
  std::vector<double> y = valuesAsDouble(labels);
  const size_t rowBytes = x.nbytes() / static_cast<size_t>(n);
  int64_t correct = 0;
  for (int64_t start = 0; start < n; start += step) {
    int64_t rows = std::min(step, n - start);
    std::vector<int64_t> dims = x.dims();
    dims[0] = rows;
    ir::Tensor chunk = ir::Tensor::fromBytes(x.dtype(), dims, x.data() + start * rowBytes, rows * rowBytes);
    std::vector<ir::Tensor> out = s.run({{in->name(), &chunk}});
    std::vector<int64_t> pred = argmaxLastAxis(out.at(0));
    if (static_cast<int64_t>(pred.size()) != rows)
      throwUsage("--eval-data: the model's first output has " + std::to_string(pred.size()) + " rows for " +
                 std::to_string(rows) + " samples; accuracy needs one row of scores per sample");
    for (int64_t r = 0; r < rows; ++r) correct += pred[r] == static_cast<int64_t>(y[start + r]);
  }
  return {static_cast<double>(correct) / static_cast<double>(n), n};
}

}  // namespace effdl::eval
