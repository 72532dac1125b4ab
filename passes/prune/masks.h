// Which weights to zero, given a score per weight (|w| for magnitude, |w|·‖X‖ for Wanda).
// Deterministic: ties are broken by position, so the same scores give the same mask.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "passes/prune/prune_targets.h"

namespace effdl::passes::prune {

// keep[i] = 0 for the `count` lowest scores (ties: lower index first), 1 otherwise.
std::vector<uint8_t> dropLowest(std::span<const float> scores, int64_t count);

// Per output row of `view`: the round(sparsity · cols) lowest scores of each row are dropped
// (Wanda compares weights within one output, as its paper does).
std::vector<uint8_t> dropLowestPerRow(std::span<const float> scores, const WeightView& view, double sparsity);

// N:M on the reduction axis: for each row and kernel position, input channels in blocks of m
// keep their n highest scores. The channel count per group must be a multiple of m (the caller
// checks; blockable() tells).
std::vector<uint8_t> keepNofM(std::span<const float> scores, const WeightView& view, int64_t n, int64_t m);
bool blockable(const WeightView& view, int64_t m);

}  // namespace effdl::passes::prune
