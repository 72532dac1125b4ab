// Structured pruning: removes whole Conv output channels and Gemm/MatMul output neurons with the
// lowest weight norm (L1 or L2), and shrinks every consumer to match (see structured_prune.cpp).
#pragma once

#include "passes/pass.h"
#include "passes/prune/prune_targets.h"

namespace effdl::passes::prune {

PassResult pruneChannels(ir::Model& model, double fraction, bool l1, const TargetFilter& filter);

}  // namespace effdl::passes::prune
