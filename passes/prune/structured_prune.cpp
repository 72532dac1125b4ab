// Structured channel pruning; see the header.
#include "passes/prune/structured_prune.h"

#include "core/error.h"

namespace effdl::passes::prune {

PassResult pruneChannels(ir::Model&, double, bool, const TargetFilter&) {
  throwUnsupported("prune: mode=channels is not implemented yet");
}

}  // namespace effdl::passes::prune
