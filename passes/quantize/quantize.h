// The `quantize` pass (`effdl optimize --quantize static|dynamic|weight-only|fp16`): one pass,
// one mode per run, the modes in their own files (quantize_modes.h).
#pragma once

#include "passes/pass.h"
#include "passes/quantize/quantize_modes.h"

namespace effdl::passes {

class Quantize : public Pass {
 public:
  explicit Quantize(quant::QuantizeOptions o) : o_(std::move(o)) {}
  PassResult run(ir::Model& model, PassContext& ctx) override;

 private:
  quant::QuantizeOptions o_;
};

PassInfo quantizeInfo();

}  // namespace effdl::passes
