#include "eval/agreement.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "eval/tensor_values.h"
#include "ir/dtype.h"

namespace effdl::eval {
namespace {

double cosineOf(double dot, double a, double b) {
  if (a == 0 && b == 0) return 1.0;  // both all-zero: identical
  if (a == 0 || b == 0) return 0.0;
  return dot / (std::sqrt(a) * std::sqrt(b));
}

bool isLogitsLike(const ir::Tensor& t) { return ir::isFloatingPoint(t.dtype()) && t.rank() >= 1 && t.dims().back() >= 2; }

}  // namespace

std::vector<int64_t> argmaxLastAxis(const ir::Tensor& t) {
  std::vector<double> v = valuesAsDouble(t);
  int64_t cols = t.rank() == 0 ? 1 : t.dims().back();
  std::vector<int64_t> out;
  if (cols <= 0) return out;
  for (size_t r = 0; r + cols <= v.size(); r += static_cast<size_t>(cols))
    out.push_back(std::max_element(v.begin() + r, v.begin() + r + cols) - (v.begin() + r));
  return out;
}

AgreementAccumulator::AgreementAccumulator(std::vector<std::string> outputNames) {
  for (auto& n : outputNames) agreement_.outputs.push_back(OutputAgreement{std::move(n)});
  acc_.resize(agreement_.outputs.size());
}

void AgreementAccumulator::add(const std::vector<ir::Tensor>& reference, const std::vector<ir::Tensor>& candidate) {
  if (reference.size() != acc_.size() || candidate.size() != acc_.size())
    throwInternal("agreement: output counts differ");
  for (size_t o = 0; o < acc_.size(); ++o) {
    OutputAgreement& out = agreement_.outputs[o];
    const ir::Tensor &ref = reference[o], &cand = candidate[o];
    if (ref.dims() != cand.dims())
      throwInvalid("output '" + out.name + "' has a different shape in the optimized model");
    std::vector<double> a = valuesAsDouble(ref), b = valuesAsDouble(cand);
    double dot = 0, na = 0, nb = 0;
    for (size_t i = 0; i < a.size(); ++i) {
      double err = std::fabs(a[i] - b[i]);
      // NaN anywhere is a total disagreement unless both are NaN.
      if (std::isnan(err)) err = (std::isnan(a[i]) && std::isnan(b[i])) ? 0 : INFINITY;
      out.maxAbsError = std::max(out.maxAbsError, err);
      if (std::isfinite(a[i])) out.referenceScale = std::max(out.referenceScale, std::fabs(a[i]));
      dot += a[i] * b[i];
      na += a[i] * a[i];
      nb += b[i] * b[i];
    }
    Acc& acc = acc_[o];
    acc.dot += dot;
    acc.refNorm += na;
    acc.candNorm += nb;
    out.worstCosine = std::min(out.worstCosine, cosineOf(dot, na, nb));
    if (isLogitsLike(ref)) {
      auto ra = argmaxLastAxis(ref), ca = argmaxLastAxis(cand);
      for (size_t r = 0; r < ra.size(); ++r) acc.rowsAgree += ra[r] == ca[r];
      out.rows += static_cast<int64_t>(ra.size());
    }
  }
  agreement_.samples++;
}

Agreement AgreementAccumulator::result() const {
  Agreement r = agreement_;
  for (size_t o = 0; o < acc_.size(); ++o) {
    r.outputs[o].cosine = cosineOf(acc_[o].dot, acc_[o].refNorm, acc_[o].candNorm);
    if (r.outputs[o].rows > 0)
      r.outputs[o].top1Agreement = static_cast<double>(acc_[o].rowsAgree) / static_cast<double>(r.outputs[o].rows);
  }
  return r;
}

double Agreement::maxAbsError() const {
  double m = 0;
  for (const auto& o : outputs) m = std::max(m, o.maxAbsError);
  return m;
}

double Agreement::worstCosine() const {
  double m = 1;
  for (const auto& o : outputs) m = std::min(m, o.worstCosine);
  return m;
}

std::optional<double> Agreement::top1Agreement() const {
  std::optional<double> m;
  for (const auto& o : outputs)
    if (o.top1Agreement) m = m ? std::min(*m, *o.top1Agreement) : *o.top1Agreement;
  return m;
}

}  // namespace effdl::eval
