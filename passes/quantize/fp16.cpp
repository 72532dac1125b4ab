// --quantize fp16 (see quantize_modes.h).
#include "core/error.h"
#include "passes/quantize/quantize_modes.h"

namespace effdl::passes::quant {

PassResult quantizeFp16(ir::Model&, const QuantizeOptions&, const NodeFilter&) {
  throwUnsupported("quantize: mode fp16 is not implemented yet");
}

}  // namespace effdl::passes::quant
