// Every pass effdl has, in one table (no static-initialiser self-registration).
#include "passes/registry.h"

#include "passes/cleanup/cleanup.h"
#include "passes/cleanup/constants_to_initializers.h"
#include "passes/cleanup/dedup_initializers.h"
#include "passes/cleanup/eliminate_dead_code.h"
#include "passes/cleanup/fold_constants.h"
#include "passes/cleanup/eliminate_noop.h"
#include "passes/cleanup/fold_batchnorm.h"
#include "passes/cleanup/fold_shape_computations.h"
#include "passes/hash_embeddings/hash_embeddings.h"
#include "passes/quantize/quantize.h"
#include "passes/prune/prune.h"
#include "passes/prune/sparse_storage.h"

namespace effdl::passes {

const std::vector<PassInfo>& passRegistry() {
  static const std::vector<PassInfo> passes = {
      cleanupInfo(),
      eliminateDeadCodeInfo(),
      constantsToInitializersInfo(),
      eliminateNoopInfo(),
      dedupInitializersInfo(),
      foldBatchnormInfo(),
      foldShapeComputationsInfo(),
      foldConstantsInfo(),
      hashEmbeddingsInfo(),
      quantizeInfo(),
      pruneInfo(),
      sparseStorageInfo(),
  };
  return passes;
}

const PassInfo* findPass(const std::string& name) {
  for (const auto& p : passRegistry())
    if (p.name == name) return &p;
  return nullptr;
}

}  // namespace effdl::passes
