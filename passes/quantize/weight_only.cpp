// --quantize weight-only: int8 weights (per channel, or per block with --quantize-block-size)
// dequantized in front of the float op, and int8 embedding tables dequantized after the Gather.
//   Before:  y = MatMul(x, W)
//   After:   y = MatMul(x, DequantizeLinear <axis = 1> (Wq, s, 0))        s[n] = max_k |W[k, n]| / 127
// Compute stays float: this mode shrinks files. ONNX Runtime does not fold the DequantizeLinear
// of weights, so it runs slower than fp32 there (NOTES); the pass says so in its notes.
#include "passes/quantize/quantize_modes.h"
#include "passes/quantize/weight_rewrite.h"

namespace effdl::passes::quant {

PassResult quantizeWeightOnly(ir::Model& model, const QuantizeOptions& o, const NodeFilter& f) {
  PassResult r;
  ir::Graph& g = *model.graph;
  WeightRewriter w(g, {o.perChannel, o.reduceRange, o.blockSize}, r);
  for (ir::Node* n : g.nodes()) {
    if (!isDefaultDomain(*n)) continue;
    const std::string& op = n->opType();
    if (op == "Gather") {
      if (f.eligible(*n, r) && floatConstant(n->input(0))) w.quantizeGather(*n);
      continue;
    }
    if (op != "Conv" && op != "ConvTranspose" && op != "Gemm" && op != "MatMul") continue;
    const ir::Tensor* wt = floatConstant(n->input(1));
    if (!wt) {
      r.decline(op + " weight not a float constant");
      continue;
    }
    auto layout = weightLayout(*n, *wt);
    if (!layout) {
      r.decline(op + " weight layout not supported");
      continue;
    }
    if (!f.eligible(*n, r)) continue;
    w.dequantizeWeight(*n, *layout);
  }
  g.collectGarbage();
  r.changed = r.counter("weights int8 per channel") + r.counter("weights int8 per tensor") +
                  r.counter("weights int8 per block") + r.counter("embedding tables int8 per row") >
              0;
  if (r.changed)
    r.notes.push_back(
        "weight-only: compute stays float (smaller file; ONNX Runtime does not fold the weight "
        "DequantizeLinear, so expect it slower than fp32 there)");
  return r;
}

}  // namespace effdl::passes::quant
