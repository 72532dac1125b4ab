// Refits a pruned layer so its outputs on the calibration inputs stay close to the original's.
//   Least squares (when a Gram matrix G = Σ z zᵀ, z = [x; 1], was gathered): for each output row r
//   with kept columns S, minimise ‖Z·[w_S; b] − Z·[w_orig; b_orig]‖², i.e. solve
//       (G_S'S' + λ·I) [w_S; b] = G_S'· [w_orig; b_orig]      S' = S ∪ {bias}  (bias only if present)
//   with a small ridge λ = 1e-6 · mean(diag G) for stability. Pruned weights stay exactly zero.
//   Bias correction (no Gram, or too large): b_r += Σ_c (w_orig − w_new)[r, c] · mean(x_c).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "passes/prune/activation_stats.h"

namespace effdl::passes::prune {

enum class RefitKind { kNone, kLeastSquares, kBiasCorrection };

// `weights` holds the pruned weights on entry (zeros where keep = 0), the refit ones on return;
// `bias` (one per row) is updated when present, or created for bias correction when `createBias`.
RefitKind refit(const Target& t, const LayerStats& s, const std::vector<float>& original,
                const std::vector<uint8_t>& keep, std::vector<float>& weights, std::optional<std::vector<float>>& bias,
                bool createBias);

}  // namespace effdl::passes::prune
