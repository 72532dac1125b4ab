// Doc strings that mark nodes a storage pass inserted, so cleanup passes leave them alone when a
// model is optimized again (folding an in-graph weight decode would undo the storage format).
#pragma once

namespace effdl::passes {

inline constexpr const char* kSparseDecodeDoc = "effdl:sparse-decode";

}  // namespace effdl::passes
